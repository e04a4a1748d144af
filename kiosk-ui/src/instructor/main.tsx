// The instructor console (/instructor): log in, then lessons (upload with progress, remove, start
// for N groups), the running lab with stop, the live class grid (stuck longest first), per group
// reset and join code, printable group cards with QR codes, ACL and mirror switches and a live
// capture per host interface, the Docker networks of the driver (networks.tsx), and the appliance's health. Live from /api/events `instructor` events.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CaptureView, CardsView, ClassHost, ClassView, LessonListItem, TaskStatus, ThrottleFlagsView, ThrottledView } from '../../../agent/web/api-types.js';
import '../shared/base.css';
import './instructor.css';
import { ApiFailure } from '../shared/api.js';
import { CAPTURE_SECONDS, CaptureLive } from '../shared/capture.js';
import { StatusIcon } from '../shared/icons.js';
import { AclHits, rowsOf, useAclCounters } from '../shared/acl-hits.js';
import { subscribe, type StreamState } from '../shared/live.js';
import { teacher, uploadLesson } from './api.js';
import { DockerNetworks } from './networks.js';
import { Dongles } from './dongles.js';
import { TrafficHistory } from './history.js';

const STATUS_TEXT: Record<TaskStatus, string> = { pass: 'Done', fail: 'Not yet', error: 'Check error', unknown: 'Not checked' };

export function duration(s: number): string {
  if (s < 60) return 'under 1 min';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

type Phase = { k: 'loading' } | { k: 'unconfigured'; hint: string } | { k: 'login'; error?: string } | { k: 'console' } | { k: 'cards' };

function App() {
  const [phase, setPhase] = useState<Phase>({ k: 'loading' });
  const check = () => teacher.session().then(
    (s) => setPhase(!s.configured ? { k: 'unconfigured', hint: s.hint ?? '' } : s.loggedIn ? { k: 'console' } : { k: 'login' }),
    () => setPhase({ k: 'login', error: 'Cannot reach the appliance.' }),
  );
  useEffect(() => { void check(); }, []);
  const loggedOut = () => setPhase({ k: 'login', error: 'Your session ended. Log in again.' });

  if (phase.k === 'loading') return <main class="i-center"><p role="status">Loading…</p></main>;
  if (phase.k === 'unconfigured') return <Unconfigured hint={phase.hint} />;
  if (phase.k === 'login') return <Login error={phase.error} onDone={() => setPhase({ k: 'console' })} />;
  if (phase.k === 'cards') return <Cards onBack={() => setPhase({ k: 'console' })} onLoggedOut={loggedOut} />;
  return <Console onCards={() => setPhase({ k: 'cards' })} onLoggedOut={loggedOut} onLogout={() => { void teacher.logout().finally(() => setPhase({ k: 'login' })); }} />;
}

function Unconfigured({ hint }: { hint: string }) {
  return (
    <main class="i-center">
      <div class="i-box">
        <p class="brand">dovelab</p>
        <h1>Instructor console</h1>
        <p role="alert" class="i-error">No instructor password is set on this appliance, so nobody can log in.</p>
        <p>On the appliance, run:</p>
        <pre class="i-pre">{hint}</pre>
      </div>
    </main>
  );
}

function Login({ error, onDone }: { error?: string; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [err, setErr] = useState(error);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!password) { setErr('Type the instructor password.'); return; }
    setBusy(true);
    try { await teacher.login(password); onDone(); } catch (x) {
      setErr(x instanceof ApiFailure ? (x.status === 403 ? 'Wrong password.' : x.message) : 'Login failed.');
    } finally { setBusy(false); }
  };
  return (
    <main class="i-center">
      <form class="i-box" onSubmit={submit} noValidate>
        <p class="brand">dovelab</p>
        <h1>Instructor console</h1>
        {err && <p class="i-error" role="alert">{err}</p>}
        <label for="pw">Password</label>
        <input id="pw" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <button class="primary i-wide" type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
    </main>
  );
}

interface Note { ok: boolean; text: string }

function Console({ onCards, onLoggedOut, onLogout }: { onCards: () => void; onLoggedOut: () => void; onLogout: () => void }) {
  const [view, setView] = useState<ClassView | null>(null);
  const [received, setReceived] = useState(Date.now());
  const [lessons, setLessons] = useState<LessonListItem[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [note, setNote] = useState<Note | null>(null);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [, setTick] = useState(0);

  const take = (v: ClassView) => { setView(v); setReceived(Date.now()); };
  const refresh = async () => {
    try {
      const [v, l] = await Promise.all([teacher.classView(), teacher.lessons()]);
      take(v); setLessons(l);
    } catch (e) { if (e instanceof ApiFailure && e.status === 401) onLoggedOut(); }
  };
  useEffect(() => {
    void refresh();
    const stop = subscribe({ instructor: take }, setStream);
    const t = setInterval(() => setTick((n) => n + 1), 15_000);
    return () => { stop(); clearInterval(t); };
  }, []);
  useEffect(() => {
    if (stream !== 'down') return;
    const t = setInterval(() => void refresh(), 10_000);
    return () => clearInterval(t);
  }, [stream]);

  /** One operation at a time; the page says what runs and then what came of it. */
  const run = async (label: string, fn: () => Promise<{ message: string } | unknown>) => {
    setBusy(label); setNote(null);
    try {
      const r = await fn();
      const message = (r as { message?: string } | undefined)?.message;
      setNote({ ok: true, text: message ?? `${label}: done` });
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) { onLoggedOut(); return; }
      setNote({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally { setBusy(null); void refresh(); }
  };

  const lab = view?.lab;
  return (
    <div class="i-page">
      <header class="i-top">
        <p class="brand">dovelab</p>
        <h1 class="i-title">Instructor console <span class="muted">· {view?.appliance ?? ''}</span></h1>
        {stream === 'down' && <span class="i-live off" role="status">Live updates lost: retrying</span>}
        <button class="secondary small" type="button" onClick={onLogout}>Log out</button>
      </header>
      {(busy || note) && (
        <div class={`i-note ${busy ? 'busy' : note!.ok ? 'ok' : 'bad'}`} role={note && !note.ok ? 'alert' : 'status'}>
          {busy ? <><span class="i-spin" aria-hidden="true" />{busy}… this may take a while.</> : note!.text}
          {!busy && <button class="linkish small" type="button" onClick={() => setNote(null)}>Dismiss</button>}
        </div>
      )}
      <main class="i-main">
        <div class="i-col wide">
          {!view ? <section class="card"><p role="status">Loading…</p></section> : lab ? (
            <>
              <section class="card i-lab" aria-labelledby="lab-h">
                <div>
                  <p class="i-kicker">Running lesson</p>
                  <h2 id="lab-h" class="i-lab-title">{lab.title}</h2>
                  <p class="muted i-meta">{lab.groups} groups · {view.tasks.length} tasks · started {new Date(lab.startedAt).toLocaleTimeString()}
                    {view.checkedAt && <> · checked {new Date(view.checkedAt).toLocaleTimeString()}</>}</p>
                </div>
                <div class="i-actions">
                  <button class="secondary" type="button" onClick={onCards}>Print group cards</button>
                  <button class="danger" type="button" disabled={!!busy} onClick={() => {
                    if (confirm(`Stop "${lab.title}"? Every group's hosts are removed.`)) void run('Stopping the lesson', teacher.stop);
                  }}>Stop lesson</button>
                </div>
              </section>
              <Grid view={view} ageS={Math.round((Date.now() - received) / 1000)} busy={!!busy} onReset={(g) => {
                if (confirm(`Reset group ${g}? Its hosts are recreated from the lesson and its switches put back.`)) void run(`Resetting group ${g}`, () => teacher.reset(g));
              }} />
              <Switches view={view} busy={!!busy} run={run} />
              <FullDiagram startedAt={lab.startedAt} />
            </>
          ) : (
            <section class="card" aria-labelledby="nolab-h">
              <h2 id="nolab-h" class="section-h">No lesson running</h2>
              <p>Start a lesson from the list: each group gets a join code for the student page.</p>
            </section>
          )}
          <TrafficHistory onLoggedOut={onLoggedOut} />
          <DockerNetworks onLoggedOut={onLoggedOut} />
          <Dongles onLoggedOut={onLoggedOut} />
        </div>
        <div class="i-col">
          <Lessons lessons={lessons} running={lab?.id} busy={!!busy} run={run} />
          {view && <Health view={view} />}
        </div>
      </main>
    </div>
  );
}

/** The whole lab (every group) drawn by the agent; loaded when asked for (it can be large). */
function FullDiagram({ startedAt }: { startedAt: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  useEffect(() => { setSvg(null); setErr(null); }, [startedAt]);
  const load = () => {
    setLoading(true);
    teacher.diagram().then((d) => { setSvg(d.svg); setErr(null); }, (e: unknown) => setErr(e instanceof Error ? e.message : String(e)))
      .finally(() => setLoading(false));
  };
  return (
    <section class="card" aria-labelledby="fd-h">
      <h2 id="fd-h" class="section-h">Wiring diagram</h2>
      <p>
        <button class="secondary small" type="button" onClick={load} disabled={loading}>
          {loading ? 'Drawing…' : svg ? 'Draw it again' : 'Show the whole lab'}
        </button>
      </p>
      {err && <p class="i-error" role="alert">{err}</p>}
      {svg && <div class="i-diagram" role="img" aria-label="Wiring diagram of every group" tabIndex={0} dangerouslySetInnerHTML={{ __html: svg }} />}
    </section>
  );
}

function Grid({ view, ageS, busy, onReset }: { view: ClassView; ageS: number; busy: boolean; onReset: (g: number) => void }) {
  return (
    <section class="card" aria-labelledby="grid-h">
      <h2 id="grid-h" class="section-h">Class progress <span class="i-sub">stuck longest first</span></h2>
      <div class="i-scroll">
        <table class="i-grid">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Join code</th>
              <th scope="col">Stuck for</th>
              {view.tasks.map((t) => <th scope="col" key={t.id} title={t.id}>{t.title}</th>)}
              <th scope="col"><span class="vh">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {view.groups.map((g) => (
              <tr key={g.group} data-group={g.group}>
                <th scope="row">Group {g.group}<div class="i-tally">{g.done}/{g.total} done</div></th>
                <td class="mono i-code">{g.code}</td>
                <td class="i-stuck">{g.stuckForS === undefined ? <span class="i-alldone">All done</span> : duration(g.stuckForS + ageS)}</td>
                {g.tasks.map((t) => (
                  <td key={t.id} class={`i-cell ${t.status}`} title={t.reason} data-task={t.id}>
                    <StatusIcon status={t.status} /><span>{STATUS_TEXT[t.status]}</span>
                  </td>
                ))}
                <td><button class="secondary small" type="button" disabled={busy} onClick={() => onReset(g.group)}>Reset<span class="vh"> group {g.group}</span></button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Per host interface of a group: the lesson's ACLs and mirrors as switches, and a capture. */
function Switches({ view, busy, run }: { view: ClassView; busy: boolean; run: (label: string, fn: () => Promise<unknown>) => Promise<void> }) {
  const [group, setGroup] = useState(1);
  const [seconds, setSeconds] = useState(30);
  const [capture, setCapture] = useState<{ view: CaptureView; label: string } | null>(null);
  const [starting, setStarting] = useState(false);
  const [capProblem, setCapProblem] = useState<string | null>(null);
  const groups = view.lab?.groups ?? 1;
  const g = Math.min(group, groups);
  const hosts: ClassHost[] = view.hosts.filter((h) => h.group === g || h.group === 0);
  const recording = capture?.view.state === 'recording';
  const counters = useAclCounters(teacher.aclCounters, view.acls.length > 0 && view.lab !== null);

  const startCapture = async (target: string, grp: number | undefined, label: string) => {
    if (starting) return;
    setStarting(true); setCapProblem(null);
    try {
      const v = await teacher.capture({ target, seconds, ...(grp ? { group: grp } : {}) });
      setCapture({ view: v, label });
    } catch (e) {
      setCapProblem(e instanceof ApiFailure ? e.message : 'The capture did not start.');
    } finally { setStarting(false); }
  };

  return (
    <section class="card" aria-labelledby="sw-h">
      <div class="section-head">
        <h2 id="sw-h" class="section-h">Switches and captures</h2>
        <div class="i-head-controls">
          <label class="i-inline">Group{' '}
            <select value={String(g)} onChange={(e) => setGroup(Number((e.target as HTMLSelectElement).value))}>
              {Array.from({ length: groups }, (_, i) => <option key={i} value={String(i + 1)}>{i + 1}</option>)}
            </select>
          </label>
          <label class="i-inline">Capture for{' '}
            <select value={String(seconds)} onChange={(e) => setSeconds(Number((e.target as HTMLSelectElement).value))}>
              {[...CAPTURE_SECONDS, 120, 300].map((n) => <option key={n} value={String(n)}>{n} s</option>)}
            </select>
          </label>
        </div>
      </div>
      <div class="i-scroll">
        <table class="i-sw">
          <thead><tr>
            <th scope="col">Interface</th>
            {view.acls.length > 0 && <th scope="col">ACLs (inbound)</th>}
            {view.mirrors.length > 0 && <th scope="col">Mirror</th>}
            <th scope="col">Capture</th>
          </tr></thead>
          <tbody>
            {hosts.flatMap((h) => h.interfaces.map((i) => {
              const target = `${h.name}.${i.name}`;
              const grp = h.group === 0 ? undefined : h.group;
              const label = `${target}${h.group === 0 ? ' (shared)' : ''}`;
              return (
                <tr key={`${h.group}-${target}`}>
                  <th scope="row"><span class="mono">{label}</span><div class="muted i-small">{i.ip} · {i.network}{h.running ? '' : ' · host down'}</div></th>
                  {view.acls.length > 0 && (
                    <td>
                      <div class="i-toggles" role="group" aria-label={`ACLs on ${label}`}>
                        {view.acls.map((a) => {
                          const on = i.acls.includes(a);
                          return (
                            <button key={a} type="button" class="i-toggle" aria-pressed={on} disabled={busy}
                              onClick={() => void run(`${on ? 'Removing' : 'Applying'} ACL ${a} on ${label} (group ${g})`,
                                () => teacher.acl({ target, acls: on ? i.acls.filter((x) => x !== a) : [...i.acls, a], ...(grp ? { group: grp } : {}) }))}>
                              <span class="i-dot" aria-hidden="true">{on ? '●' : '○'}</span>{a}<span class="vh"> on {label}</span>
                            </button>
                          );
                        })}
                      </div>
                      {i.acls.map((a) => <AclHits key={a} label={`${a} on ${label}`} rows={rowsOf(counters.rows, target, a, h.group)} hist={counters.hist} />)}
                    </td>
                  )}
                  {view.mirrors.length > 0 && (
                    <td>
                      <div class="i-toggles">
                        {view.mirrors.map((m) => {
                          const on = i.mirroredTo.includes(m);
                          return (
                            <button key={m} type="button" class="i-toggle" aria-pressed={on} disabled={busy}
                              onClick={() => void run(`Mirror of ${label} to ${m} ${on ? 'off' : 'on'}`, () => teacher.mirror({ on: !on, target, mirror: m, ...(grp ? { group: grp } : {}) }))}>
                              <span class="i-dot" aria-hidden="true">{on ? '●' : '○'}</span>{m}<span class="vh"> mirror of {label}</span>
                            </button>
                          );
                        })}
                      </div>
                    </td>
                  )}
                  <td>
                    <button type="button" class="secondary small" data-testid={`capture-start-${target}`} disabled={recording}
                      onClick={() => void startCapture(target, grp, grp ? `${target} (group ${grp})` : label)}>
                      Capture<span class="vh"> {label}</span>
                    </button>
                  </td>
                </tr>
              );
            }))}
          </tbody>
        </table>
      </div>
      {capProblem && <p class="i-error i-cap-error" role="alert">{capProblem}</p>}
      {capture && (
        <div class="i-cap" data-testid="capture">
          <h3 class="i-cap-h">Capture</h3>
          <CaptureLive key={capture.view.id} view={capture.view} label={capture.label} focusStop
            onView={(v) => setCapture((c) => (c && c.view.id === v.id ? { ...c, view: v } : c))} />
        </div>
      )}
    </section>
  );
}

function Lessons({ lessons, running, busy, run }: { lessons: LessonListItem[] | null; running?: string; busy: boolean; run: (label: string, fn: () => Promise<unknown>) => Promise<void> }) {
  const [groups, setGroups] = useState<Record<string, number>>({});
  const [progress, setProgress] = useState<number | null>(null);
  const file = useRef<HTMLInputElement>(null);
  const upload = async (e: Event) => {
    e.preventDefault();
    const f = file.current?.files?.[0];
    if (!f) return;
    setProgress(0);
    await run(`Uploading ${f.name}`, async () => {
      const r = await uploadLesson(f, setProgress);
      return { message: `Lesson "${r.title}" (${r.id}) installed${r.replaced ? `, replacing version ${r.replaced}` : ''}.` };
    });
    setProgress(null);
    if (file.current) file.current.value = '';
  };
  return (
    <section class="card" aria-labelledby="les-h">
      <h2 id="les-h" class="section-h">Lessons</h2>
      {!lessons ? <p role="status">Loading…</p> : (
        <ul class="i-lessons">
          {lessons.map((l) => {
            const n = groups[l.id] ?? l.groups?.default ?? 1;
            return (
              <li key={l.id} class={l.id === running ? 'running' : ''}>
                <div class="i-l-head">
                  <strong>{l.title}</strong>
                  <span class="muted i-small"> {l.id}{l.bundled ? ' · bundled' : ' · uploaded'}{l.minutes ? ` · ${l.minutes} min` : ''}{l.id === running ? ' · running' : ''}</span>
                </div>
                {l.error ? <p class="i-error i-small">This pack does not load: {l.error}</p> : (
                  <div class="i-l-act">
                    <label class="i-inline">Groups{' '}
                      <input type="number" min={1} max={l.groups?.max ?? 30} value={n} class="i-num"
                        onInput={(e) => setGroups({ ...groups, [l.id]: Number((e.target as HTMLInputElement).value) })} />
                    </label>
                    <button class="primary small" type="button" disabled={busy} onClick={() => {
                      if (running && !confirm('A lesson is running. Starting another replaces it. Continue?')) return;
                      void run(`Starting ${l.title} for ${n} groups`, () => teacher.start({ lesson: l.id, groups: n }));
                    }}>Start<span class="vh"> {l.title}</span></button>
                    {!l.bundled && (
                      <button class="linkish small" type="button" disabled={busy} onClick={() => {
                        if (confirm(`Remove the uploaded lesson "${l.title}"?`)) void run(`Removing ${l.id}`, () => teacher.remove(l.id));
                      }}>Remove<span class="vh"> {l.title}</span></button>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <form class="i-upload" onSubmit={upload}>
        <label for="pack">Upload a lesson pack (.zip or .tar.gz)</label>
        <input id="pack" type="file" accept=".zip,.tar.gz,.tgz" ref={file} />
        <button class="secondary small" type="submit" disabled={busy}>Upload</button>
        {progress !== null && <progress max={1} value={progress} aria-label="Upload progress">{Math.round(progress * 100)}%</progress>}
      </form>
    </section>
  );
}

function Health({ view }: { view: ClassView }) {
  const h = view.health;
  const disk = h.disk && `${Math.round(h.disk.usedFraction * 100)}% used, ${(h.disk.freeMb / 1024).toFixed(1)} GB free`;
  // The board's warnings are among the alarms too (the kiosk shows them): list each once, here.
  const warnings = (h.warnings ?? []).filter((w) => w.code !== 'disk' || !view.alarms.some((a) => /^disk /i.test(a)));
  const alarms = view.alarms.filter((a) => !warnings.some((w) => w.message === a));
  return (
    <section class="card" aria-labelledby="h-h">
      <h2 id="h-h" class="section-h">Appliance</h2>
      {alarms.length > 0 && <ul class="i-alarms" aria-label="Alarms">{alarms.map((a) => <li key={a}><strong>!</strong> {a}</li>)}</ul>}
      {warnings.length > 0 && <ul class="i-warnings" aria-label="Hardware warnings">{warnings.map((w) => <li key={w.code} data-code={w.code}><strong>!</strong> {w.message}</li>)}</ul>}
      <dl class="i-health">
        <dt>Load</dt><dd>{h.load.map((x) => x.toFixed(2)).join(' · ')} <span class="muted">({h.cpus} CPUs)</span></dd>
        <dt>Memory</dt><dd>{h.memory.availableMb} MB free of {h.memory.totalMb} MB</dd>
        {disk && <><dt>Disk</dt><dd>{disk}</dd></>}
        <dt>CPU temperature</dt><dd>{h.cpuTempC !== undefined ? `${h.cpuTempC} °C` : 'not available'}</dd>
        <dt>Power</dt><dd>{h.throttled ? throttleText(h.throttled) : 'not available (not a Raspberry Pi)'}</dd>
        <dt>Containers</dt><dd>{h.infra.docker ? Object.entries(h.infra.containers).map(([k, v]) => `${k} ${v}`).join(' · ') : 'Docker not answering'}</dd>
        <dt>Faucet switch</dt><dd>{h.infra.faucetError ? `not answering (${h.infra.faucetError})` : h.infra.faucetDpUp === undefined ? 'unknown' : h.infra.faucetDpUp ? 'connected' : 'NOT connected'}</dd>
        <dt>Dongles</dt><dd>{h.dongles.length ? h.dongles.map((d) => `${d.name} (${d.role}) ${d.present ? 'present' : 'missing'}`).join(' · ') : 'none configured'}</dd>
        {h.neighbours && <><dt>Other appliances</dt><dd>{h.neighbours.length
          ? h.neighbours.map((n, i) => <span key={n.url}>{i > 0 && ' · '}<a href={n.url}>{n.name}</a>{n.version ? ` (${n.version})` : ''}</span>)
          : 'none seen on this network'}</dd></>}
      </dl>
      <p class="muted i-small">Students join at {view.joinUrls.map((u) => u.replace(/^https?:\/\//, '').replace(/\/$/, '')).join(' or ')}</p>
    </section>
  );
}

const FLAG_NAMES: [keyof ThrottleFlagsView, string][] = [
  ['underVoltage', 'under-voltage'], ['throttled', 'throttled'], ['frequencyCapped', 'frequency capped'], ['softTempLimit', 'soft temperature limit'],
];
/** The firmware's throttling word in words: what holds now, what happened lately, and the word. */
function throttleText(t: ThrottledView): string {
  const now = FLAG_NAMES.filter(([k]) => t.now[k]).map(([, n]) => n);
  const past = FLAG_NAMES.filter(([k]) => t.occurred[k] && !t.now[k]).map(([, n]) => n);
  return `${now.length ? now.join(', ') : 'OK'}${past.length ? `; earlier: ${past.join(', ')}` : ''} (${t.raw})`;
}

function Cards({ onBack, onLoggedOut }: { onBack: () => void; onLoggedOut: () => void }) {
  const [cards, setCards] = useState<CardsView | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    teacher.cards().then(setCards, (e: unknown) => {
      if (e instanceof ApiFailure && e.status === 401) onLoggedOut(); else setErr(e instanceof Error ? e.message : String(e));
    });
  }, []);
  return (
    <div class="i-cards-page">
      <header class="i-top no-print">
        <p class="brand">dovelab</p>
        <h1 class="i-title">Group cards</h1>
        <button class="primary small" type="button" onClick={() => window.print()} disabled={!cards}>Print</button>
        <button class="secondary small" type="button" onClick={onBack}>Back to the console</button>
      </header>
      {err && <p class="i-error" role="alert">{err}</p>}
      {!cards && !err && <p role="status">Loading…</p>}
      {cards && (
        <main class="i-cards">
          {cards.cards.map((c) => (
            <article class="i-card" key={c.group} aria-label={`Group ${c.group} card`}>
              <p class="i-card-lesson">{cards.lesson}</p>
              <h2 class="i-card-group">Group {c.group}</h2>
              <div class="i-card-qr" role="img" aria-label={`QR code for ${c.url}`} dangerouslySetInnerHTML={{ __html: c.qrSvg }} />
              <p class="i-card-code"><span class="muted">Code</span> <span class="mono">{c.code}</span></p>
              <p class="i-card-url mono">{c.url}</p>
            </article>
          ))}
        </main>
      )}
    </div>
  );
}

render(<App />, document.getElementById('app')!);

// The Pi's own 800x480 screen: join URL + QR, lesson, per-group progress, alarms. No login, no
// secrets (the API's KioskView has none). Live from /api/events `kiosk` events; while the stream
// is down, polls /api/kiosk every 10 s.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ClassTrafficView, KioskView } from '../../../agent/web/api-types.js';
import '../shared/base.css';
import './kiosk.css';
import { api, call } from '../shared/api.js';
import { subscribe, type StreamState } from '../shared/live.js';
import { byteRate } from '../shared/graph-data.js';
import { Sparkline } from '../shared/sparkline.js';

const bare = (u: string) => u.replace(/^https?:\/\//, '').replace(/\/$/, '');

function Kiosk() {
  const [view, setView] = useState<KioskView | null>(null);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [pollFailed, setPollFailed] = useState(false);

  const poll = () => api.kiosk().then((v) => { setView(v); setPollFailed(false); }, () => setPollFailed(true));

  useEffect(() => {
    void poll();
    return subscribe({ kiosk: (v) => { setView(v); setPollFailed(false); } }, setStream);
  }, []);
  useEffect(() => {
    if (stream !== 'down') return;
    const t = setInterval(() => void poll(), 10_000);
    return () => clearInterval(t);
  }, [stream]);
  useEffect(() => { document.title = view ? `${view.appliance} — Dovelab` : 'Dovelab'; }, [view?.appliance]);

  if (!view) {
    return <main class="kiosk"><p class="k-wait" role="status">{pollFailed ? 'Waiting for the appliance…' : 'Starting…'}</p></main>;
  }
  const rows = view.progress;
  const density = rows.length > 12 ? 'dense' : rows.length > 6 ? 'two' : 'one';
  const shownAlarms = view.alarms.slice(0, 2);
  return (
    <main class={`kiosk${view.alarms.length ? ' has-alarms' : ''}`}>
      {view.alarms.length > 0 && (
        <section class="k-alarms" aria-label="Alarms" role="alert">
          <ul>
            {shownAlarms.map((a, i) => <li key={i}><span class="k-alarm-mark" aria-hidden="true">!</span>{a}</li>)}
          </ul>
          {view.alarms.length > shownAlarms.length && <p class="k-more">+{view.alarms.length - shownAlarms.length} more</p>}
        </section>
      )}
      <section class="k-join" aria-labelledby="k-join-h">
        <p class="k-name">{view.appliance}</p>
        <h2 id="k-join-h" class="k-join-h">Scan to join</h2>
        <div class="k-qr" role="img" aria-label={`QR code for ${view.joinUrls[1] ?? view.joinUrls[0] ?? ''}`} dangerouslySetInnerHTML={{ __html: view.qrSvg }} />
        <p class="k-or">or open</p>
        <ul class="k-urls">
          {view.joinUrls.map((u) => <li key={u}>{bare(u)}</li>)}
        </ul>
      </section>
      <section class="k-class" aria-labelledby="k-lesson">
        {view.lesson ? (
          <>
            <p class="k-kicker">Lesson</p>
            <h1 id="k-lesson" class="k-lesson">{view.lesson.title}</h1>
            <p class="k-meta">{view.lesson.groups} groups · {view.lesson.tasks} tasks each</p>
            <ol class={`k-groups ${density}`}>
              {rows.map((g) => {
                const pct = g.total ? Math.round((100 * g.done) / g.total) : 0;
                const all = g.total > 0 && g.done === g.total;
                return (
                  <li key={g.group} class={all ? 'k-g all' : 'k-g'}>
                    <span class="k-g-name">Group {g.group}</span>
                    <span
                      class="k-bar"
                      role="progressbar"
                      aria-label={`Group ${g.group}`}
                      aria-valuemin={0}
                      aria-valuemax={g.total}
                      aria-valuenow={g.done}
                      aria-valuetext={`${g.done} of ${g.total} tasks done`}
                    >
                      <span class="k-fill" style={{ width: `${pct}%` }} />
                    </span>
                    <span class="k-g-num">{g.done}/{g.total}{all && <span class="vh"> all done</span>}</span>
                  </li>
                );
              })}
            </ol>
          </>
        ) : (
          <>
            <h1 id="k-lesson" class="k-lesson">No lesson running</h1>
            <p class="k-meta">Your teacher starts the lesson. Then join with your group’s code.</p>
          </>
        )}
        {view.lesson && <ClassTraffic />}
        {(stream === 'down' && pollFailed) && <p class="k-offline" role="status">Connection to the appliance lost: retrying…</p>}
      </section>
    </main>
  );
}

const TRAFFIC_MS = 10_000;

/** The class's total traffic over the last 15 minutes: a sparkline and the rate now in words. */
function ClassTraffic() {
  const [v, setV] = useState<ClassTrafficView | null>(null);
  useEffect(() => {
    let dead = false;
    let t: ReturnType<typeof setInterval> | undefined;
    const load = () => call<ClassTrafficView>('GET', '/api/history/class?since=15m').then((x) => {
      if (dead) return;
      setV(x);
      if (x.unavailable) clearInterval(t); // no history on this appliance: stop asking
    }, () => { if (!dead) setV(null); });
    void load();
    t = setInterval(() => void load(), TRAFFIC_MS);
    return () => { dead = true; clearInterval(t); };
  }, []);
  if (!v || v.points.length < 2) return null;
  // What the hosts sent, added up: each packet between two hosts is counted once.
  const values = v.points.map((p) => p.txBps);
  const now = values[values.length - 1]!;
  const peak = Math.max(...values);
  return (
    <section class="k-traffic" aria-label="Class traffic" data-testid="class-traffic">
      <p class="k-traffic-text"><span class="k-traffic-h">Class traffic</span> <b>{byteRate(now)}</b><span class="vh"> · peak {byteRate(peak)} in 15 min</span></p>
      <Sparkline values={values} width={300} height={30} color="#4fb0ff" floor={1000} class="k-spark" stretch />
    </section>
  );
}

render(<Kiosk />, document.getElementById('app')!);

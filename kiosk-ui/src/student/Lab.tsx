// A joined student's view of the group's lab. Live: /api/events `group` events replace the view;
// while the stream is down we poll /api/group every 10 s.
import { useEffect, useState } from 'preact/hooks';
import type { GroupView } from '../../../agent/web/api-types.js';
import { api, ApiFailure } from '../shared/api.js';
import { subscribe, type StreamState } from '../shared/live.js';
import { Tasks } from './Tasks.js';
import { Switches } from './Switches.js';
import { Terminals } from './Terminals.js';
import { Capture } from './Capture.js';
import { Traffic } from './Traffic.js';

const ENDED = 'Your group session ended (the lesson was stopped or reset). Enter your group’s code again.';

export function Lab(props: { group: number; onLeft: (message?: string) => void }) {
  const [view, setView] = useState<GroupView | null>(null);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [problem, setProblem] = useState<string | null>(null);

  const load = () => api.group().then(
    (v) => { setView(v); setProblem(null); },
    (e) => {
      if (e instanceof ApiFailure && (e.status === 401 || e.status === 403)) props.onLeft(ENDED);
      else setProblem(e instanceof Error ? e.message : String(e));
    },
  );

  useEffect(() => {
    void load();
    // After the stream comes back, fetch once: what happened meanwhile (new checks, or the session
    // ended because the lesson stopped: then /api/group says 401) arrives with no event.
    let opens = 0;
    return subscribe({ group: (v) => { setView(v); setProblem(null); } }, (s) => {
      setStream(s);
      if (s === 'open' && opens++ > 0) void load();
    });
  }, []);

  useEffect(() => {
    if (stream !== 'down') return;
    const t = setInterval(() => void load(), 10_000);
    return () => clearInterval(t);
  }, [stream]);

  useEffect(() => {
    document.title = view ? `${view.lab.title} — Group ${view.group} — Dovelab` : 'Dovelab';
  }, [view?.lab.title, view?.group]);

  const leave = async () => {
    if (!confirm('Leave this group? You can join again with the code.')) return;
    try { await api.leave(); } catch { /* leaving locally is what matters */ }
    props.onLeft();
  };

  return (
    <div class="lab-page">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <div class="top-title">
          <p class="brand" aria-hidden="true">dovelab</p>
          <h1>{view?.lab.title ?? 'Loading lesson…'}</h1>
        </div>
        {view && view.tasks.length > 0 && (() => {
          const done = view.tasks.filter((t) => t.status === 'pass').length;
          return <a class={done === view.tasks.length ? 'tally-link all' : 'tally-link'} href="#tasks">{done}/{view.tasks.length} tasks done</a>;
        })()}
        <p class="group-badge">Group {view?.group ?? props.group}</p>
        <nav class="jump" aria-label="Sections">
          <a href="#lesson">Lesson</a>
          <a href="#diagram">Diagram</a>
          <a href="#terminals">Terminals</a>
          <a href="#tasks">Tasks</a>
          <a href="#traffic">Traffic</a>
        </nav>
        <button type="button" class="linkish leave" onClick={leave}>Leave group</button>
      </header>
      {(problem || stream === 'down') && (
        <p class="banner" role="status">
          {problem ?? 'Live updates paused: reconnecting…'}
        </p>
      )}
      <main id="main" class="lab" tabIndex={-1}>
        <div class="col col-read">
          <section id="lesson" class="card" aria-labelledby="lesson-h">
            <h2 id="lesson-h" class="section-h">Lesson</h2>
            {view
              ? <article class="readme" dangerouslySetInnerHTML={{ __html: view.readmeHtml }} />
              : <p role="status">Loading…</p>}
          </section>
          <section id="diagram" class="card" aria-labelledby="diagram-h">
            <h2 id="diagram-h" class="section-h">Wiring diagram</h2>
            {view && (
              <div
                class="diagram"
                role="region"
                aria-label="Wiring diagram (scrolls sideways on small screens)"
                tabIndex={0}
                dangerouslySetInnerHTML={{ __html: view.diagramSvg }}
              />
            )}
            {view && <p class="diagram-note">Swipe sideways to see all of it.</p>}
          </section>
        </div>
        <div class="col col-work">
          <Terminals hosts={view?.hosts ?? []} />
          {view && <Switches controls={view.controls ?? { acls: [], capture: [] }} onView={setView} />}
          {view && (view.controls?.capture ?? []).length > 0 && <Capture targets={view.controls.capture} />}
          <Tasks tasks={view?.tasks ?? []} checkedAt={view?.checkedAt} loaded={view !== null} />
          {view && <Traffic key={view.lab.startedAt} />}
        </div>
      </main>
    </div>
  );
}

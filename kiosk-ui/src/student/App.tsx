// The student page: join with a group code, then the group's lab (lesson, diagram, tasks, terminals).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure } from '../shared/api.js';
import { Join } from './Join.js';
import { Lab } from './Lab.js';

type Phase =
  | { k: 'loading' }
  | { k: 'join'; error?: string; code?: string }
  | { k: 'lab'; group: number };

export function App() {
  const [phase, setPhase] = useState<Phase>({ k: 'loading' });

  const join = async (code: string): Promise<void> => {
    try {
      const r = await api.join(code);
      setPhase({ k: 'lab', group: r.group });
    } catch (e) {
      setPhase({ k: 'join', code, error: e instanceof ApiFailure ? e.message : 'Joining failed. Try again.' });
    }
  };

  useEffect(() => {
    const url = new URL(location.href);
    const code = url.searchParams.get('code');
    if (code) {
      // A group card's link (/?code=ABCDEF): join, and keep the code out of the address bar and history.
      url.searchParams.delete('code');
      history.replaceState(null, '', url.pathname + url.search + url.hash);
      void join(code.trim().toUpperCase());
      return;
    }
    api.session().then(
      (s) => setPhase(s.group === null ? { k: 'join' } : { k: 'lab', group: s.group }),
      (e) => setPhase({ k: 'join', error: e instanceof ApiFailure ? e.message : String(e) }),
    );
  }, []);

  if (phase.k === 'loading') {
    return <main id="main" class="loading"><p role="status">Loading…</p></main>;
  }
  if (phase.k === 'join') {
    return <Join initialCode={phase.code ?? ''} error={phase.error} onJoin={join} />;
  }
  return (
    <Lab
      group={phase.group}
      onLeft={(message) => setPhase({ k: 'join', error: message })}
    />
  );
}

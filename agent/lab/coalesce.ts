// Runs one job at a time and coalesces triggers: at most one running and one pending, whatever the
// number of triggers. Triggers that arrive while a run is pending join it (their reasons are kept,
// once each). Pure scheduling, no I/O: the agent hands it its repair.

export interface Coalescer {
  /** Asks for a run for these reasons: starts one now, or joins the pending one. */
  trigger(...why: string[]): void;
  /** Resolves when nothing runs and nothing is pending. */
  idle(): Promise<void>;
  /** Drops the pending run, ignores later triggers, resolves when the running one has finished. */
  stop(): Promise<void>;
  /** What runs and what waits (for tests and status). */
  state(): { running: boolean; pending: string[] };
}

/** How the reasons of one run read in a log line: the first three, then how many more. */
export function describeReasons(why: string[], shown = 3): string {
  const head = why.slice(0, shown).join(', ');
  return why.length > shown ? `${head}, +${why.length - shown} more` : head;
}

/** `job` gets the reasons of its run; its errors are its own business (they never stop the loop). */
export function coalescer(job: (why: string[]) => Promise<void>): Coalescer {
  let running: Promise<void> | undefined;
  let pending: string[] | undefined;
  let stopped = false;
  let waiters: (() => void)[] = [];

  const settle = () => {
    if (running || pending) return;
    const w = waiters; waiters = [];
    for (const f of w) f();
  };
  const next = () => {
    const why = pending;
    pending = undefined;
    if (!why || stopped) { running = undefined; settle(); return; }
    running = (async () => { try { await job(why); } catch { /* the job logs its own failures */ } })().then(next);
  };

  return {
    trigger(...why: string[]) {
      if (stopped || why.length === 0) return;
      pending ??= [];
      for (const w of why) if (!pending.includes(w)) pending.push(w);
      if (!running) next();
    },
    idle() {
      if (!running && !pending) return Promise.resolve();
      return new Promise<void>((r) => waiters.push(r));
    },
    async stop() {
      stopped = true;
      pending = undefined;
      await running;
      settle();
    },
    state() { return { running: running !== undefined, pending: [...(pending ?? [])] }; },
  };
}

// Group commit: items submitted while a commit runs wait, and the next commit takes them all at
// once. One commit at a time; each item is answered by the commit that took it. Pure scheduling,
// no I/O, no timers: the driver hands it its switch changes (one Faucet reload for many verbs).

/** An item's verdict from its commit: fine, or its own error. */
export type Verdict = { ok: true } | { ok: false; error: unknown };

export interface GroupCommit<T> {
  /** Queues `item`; settles once a commit that took it has answered for it. */
  submit(item: T): Promise<void>;
  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void>;
  /** What runs and what waits (for tests and status). */
  state(): { running: boolean; pending: number };
}

/**
 * `commit` gets `take`, which hands over (once) everything waiting at that moment: the driver calls
 * it after it has the locks, so items that came in while it waited go in too. It returns one
 * verdict per item taken, in order. If it throws, the items it took get that error; if it threw
 * before taking any, so do the items that were waiting when it started (they waited on the same
 * failure), and later ones get a commit of their own.
 */
export function groupCommit<T>(commit: (take: () => T[]) => Promise<Verdict[]>): GroupCommit<T> {
  interface Entry { item: T; resolve: () => void; reject: (e: unknown) => void }
  let pending: Entry[] = [];
  let running = false;
  let waiters: (() => void)[] = [];

  const answer = (e: Entry, v: Verdict | undefined) => {
    if (!v) e.reject(new Error('group commit: no verdict for this item (a bug in the commit)'));
    else if (v.ok) e.resolve();
    else e.reject(v.error);
  };
  const next = () => {
    if (running) return;
    if (!pending.length) { const w = waiters; waiters = []; for (const f of w) f(); return; }
    running = true;
    const waiting = pending.length;
    let taken: Entry[] | undefined;
    const take = () => {
      if (taken) return [];
      taken = pending; pending = [];
      return taken.map((e) => e.item);
    };
    void (async () => {
      try {
        const verdicts = await commit(take);
        // A commit that took nothing would be run again and again: its items fail instead.
        if (!taken) throw new Error('group commit: the commit took nothing (a bug in the commit)');
        taken.forEach((e, i) => answer(e, verdicts[i]));
      } catch (error) {
        const failed = taken ?? pending.splice(0, waiting);
        for (const e of failed) e.reject(error);
      } finally {
        running = false;
        next();
      }
    })();
  };

  return {
    submit(item: T) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        next();
      });
    },
    idle() {
      if (!running && !pending.length) return Promise.resolve();
      return new Promise<void>((r) => waiters.push(r));
    },
    state() { return { running, pending: pending.length }; },
  };
}

/**
 * A change to a state: the next state and whether the switch must follow (a reconcile), or
 * undefined when there is nothing to do. It may throw: that error is its caller's alone.
 */
export type Change<S> = (state: S) => { state: S; reconcile: boolean } | undefined;

/** The changes applied in order to `state`; one that throws is left out with its error. */
export function foldChanges<S>(state: S, changes: Change<S>[]): { state: S; changed: boolean; reconcile: boolean; verdicts: Verdict[] } {
  let s = state;
  let changed = false;
  let reconcile = false;
  const verdicts = changes.map((c): Verdict => {
    try {
      const r = c(s);
      if (r) { s = r.state; changed = true; reconcile ||= r.reconcile; }
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { state: s, changed, reconcile, verdicts };
}

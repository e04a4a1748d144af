// Every call that can block gets a deadline; when it passes, the error names what hung.

export class DeadlineExceeded extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what}: no answer within ${ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`}`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms`; rejects with DeadlineExceeded then, even if
 * `fn` ignores the signal (its promise is left to settle on its own, never awaited again).
 */
export function withDeadline<T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { ac.abort(); reject(new DeadlineExceeded(what, ms)); }, ms);
  });
  const work = fn(ac.signal);
  // A rejection after the deadline must not become an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

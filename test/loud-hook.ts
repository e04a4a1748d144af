// uvu 0.5 swallows an error thrown in a before hook (its runner returns from `finally`): the file
// then shows "(0 / N)" in green and no reason. Wrapped hooks print the reason before it is lost;
// the runner still counts those tests as failed (total - passed).
export function loud<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => Promise<void> {
  return async (...a: A) => {
    try { await fn(...a); } catch (e) {
      console.error(`\n  before hook failed: ${(e as Error).stack ?? String(e)}\n`);
      throw e;
    }
  };
}

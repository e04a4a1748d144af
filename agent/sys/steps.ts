// Where a call's time goes: a request runs inside `timeSteps`, and code on its path marks the end
// of each step with `step(name)` (the time since the previous mark is that step's). Cheap and
// silent outside a timed request (no store: a mark is a no-op). For the driver's debug line.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

interface Marks { last: number; steps: [string, number][] }

const store = new AsyncLocalStorage<Marks>();

/** Runs `fn`, recording the steps it marks; steps of the same name add up. */
export async function timeSteps<T>(fn: () => Promise<T>): Promise<{ value: T; steps: Record<string, number> } | { error: unknown; steps: Record<string, number> }> {
  const m: Marks = { last: performance.now(), steps: [] };
  const out = (): Record<string, number> => {
    const r: Record<string, number> = {};
    for (const [k, v] of m.steps) r[k] = Math.round(((r[k] ?? 0) + v) * 10) / 10;
    return r;
  };
  try {
    const value = await store.run(m, fn);
    return { value, steps: out() };
  } catch (error) {
    return { error, steps: out() };
  }
}

/** Ends step `name` of the timed request this runs for (the time since its previous mark). */
export function step(name: string): void {
  const m = store.getStore();
  if (!m) return;
  const now = performance.now();
  m.steps.push([name, now - m.last]);
  m.last = now;
}

// Wall time and peak RSS of one process, from GNU time (`time` is installed by host-setup).
import { fileURLToPath } from 'node:url';
import { run } from '../agent/sys/run.js';

export const CLI = fileURLToPath(new URL('../agent/cli.js', import.meta.url));

/** One `node …` invocation (its exit code kept: some verbs answer 1 for "not running"). */
export async function timedNode(args: string[]): Promise<{ ms: number; maxRssKiB: number; code: number }> {
  const t0 = Date.now();
  const r = await run(['/usr/bin/env', 'time', '-f', 'MAXRSS %M', process.execPath, ...args], { timeoutMs: 600_000, allowFail: true });
  const maxRssKiB = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  if (!Number.isFinite(maxRssKiB)) throw new Error(`node ${args.join(' ')}: no peak RSS from time (exit ${r.code}): ${r.stderr.slice(-300)}`);
  return { ms: Date.now() - t0, maxRssKiB, code: r.code };
}

/** One `dovelab` invocation; a failure is an error naming the verb. */
export async function timed(args: string[]): Promise<{ ms: number; maxRssKiB: number }> {
  const r = await timedNode([CLI, ...args]);
  if (r.code !== 0) throw new Error(`dovelab ${args.join(' ')} exited ${r.code}`);
  return r;
}

// Every bench delivers its JSON whole, to a terminal, a pipe or a file: `process.exit()` right after
// `console.log` to a pipe drops what was not written yet (seen: a full run printing nothing).
import { writeAtomic } from '../agent/sys/files.js';

/**
 * Writes the result to stdout and waits until it is flushed; with `--out FILE` (or
 * DOVELAB_BENCH_OUT) also to that file, atomically. Call before `process.exit`.
 */
export async function emitJson(result: unknown, argv = process.argv, env = process.env): Promise<void> {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const k = argv.indexOf('--out');
  const out = k >= 0 ? argv[k + 1] : env.DOVELAB_BENCH_OUT;
  if (out) writeAtomic(out, text);
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
}

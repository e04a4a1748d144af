// Faucet and Gauge write their own logs (Python's logging, appending) into <logDir>/faucet, and
// nothing rotates them: a student's loop makes Faucet log every host move (8-11 MB a minute
// measured here), enough to fill a Pi's SD card in a lesson. A file past its cap keeps its tail
// (from a line start) in <file>.1 and is truncated; the writer appends at the new end (O_APPEND),
// so no restart is needed. Lines written between the copy and the truncation are lost: the cost
// of copy-and-truncate, as logrotate's copytruncate.
import { closeSync, fsyncSync, openSync, readSync, renameSync, statSync, truncateSync, writeSync } from 'node:fs';

export interface CapResult { file: string; bytes: number; kept: number }

/** Where the kept tail starts: after the first newline past `from` (a whole first line), or `from`. */
export function tailStart(chunk: Buffer): number {
  const nl = chunk.indexOf(0x0a);
  return nl < 0 ? 0 : nl + 1;
}

/** Caps each file at maxBytes, keeping its last keepBytes in <file>.1. Missing files are skipped. */
export function capLogs(files: readonly string[], maxBytes: number, keepBytes: number): CapResult[] {
  const out: CapResult[] = [];
  for (const file of files) {
    let size: number;
    try { size = statSync(file).size; } catch { continue; }
    if (size <= maxBytes) continue;
    const from = Math.max(0, size - keepBytes);
    const buf = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    try { readSync(fd, buf, 0, buf.length, from); } finally { closeSync(fd); }
    const tail = from > 0 ? buf.subarray(tailStart(buf)) : buf;
    const tmp = `${file}.1.tmp`;
    const w = openSync(tmp, 'w');
    try { writeSync(w, tail); fsyncSync(w); } finally { closeSync(w); }
    renameSync(tmp, `${file}.1`);
    truncateSync(file, 0);
    out.push({ file, bytes: size, kept: tail.length });
  }
  return out;
}

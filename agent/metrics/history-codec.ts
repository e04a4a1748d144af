// Traffic history, part 3 (pure): the on-disk format and what to expire.
// A segment file is JSON lines, appended in batches (about one a minute), each batch ended by
// a ["b", t] line and fsynced. Lines:
//   ["d", n, {id,key,owner,since,ofport,token}]   defines series number n for this segment
//   [n, minute, rxP, txP, rxB, txB]               traffic in that minute (minutes since the epoch;
//                                                 several lines of one minute add up)
//   [n, "c", t, rxP, txP, rxB, txB]               the incarnation's counters at time t (ms)
//   ["b", t]                                      end of a batch
// Only whole batches count: a batch torn by a power cut or kill -9 (no end line, a half line) is
// dropped as a whole, so at most the last batch is lost and nothing is counted twice.
import type { PortCounters, PortOwner } from './history-keys.js';
import { plus, ZERO, type Rollups, type SeriesInfo } from './history-rates.js';

/** A batch to append: series first used in this segment, minute rollups, checkpoints. */
export interface Batch {
  t: number;
  defs: { n: number; info: SeriesInfo }[];
  minutes: { n: number; minute: number; d: PortCounters }[];
  checkpoints: { n: number; t: number; c: PortCounters }[];
}

const counts = (c: PortCounters) => [c.rxPackets, c.txPackets, c.rxBytes, c.txBytes];

export function encodeBatch(b: Batch): string {
  const lines: string[] = [];
  for (const d of b.defs) lines.push(JSON.stringify(['d', d.n, d.info]));
  for (const m of b.minutes) lines.push(JSON.stringify([m.n, m.minute, ...counts(m.d)]));
  for (const c of b.checkpoints) lines.push(JSON.stringify([c.n, 'c', c.t, ...counts(c.c)]));
  lines.push(JSON.stringify(['b', b.t]));
  return `${lines.join('\n')}\n`;
}

/** What one or more segments hold. */
export interface Decoded {
  series: Map<string, SeriesInfo>;
  minutes: Rollups;
  /** The latest checkpoint of each series (by id). */
  checkpoints: Map<string, { t: number; c: PortCounters }>;
  /** Lines after the last whole batch (a torn batch), dropped. */
  droppedLines: number;
  /** Lines that were not what this format writes, inside whole batches (skipped). */
  badLines: number;
  lastBatch?: number;
}

export const emptyDecoded = (): Decoded => ({ series: new Map(), minutes: new Map(), checkpoints: new Map(), droppedLines: 0, badLines: 0 });

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const OWNER_KINDS = new Set(['host', 'container', 'uplink', 'acl']);

function asInfo(v: unknown): SeriesInfo | undefined {
  const o = v as SeriesInfo | null;
  if (!o || typeof o !== 'object' || typeof o.id !== 'string' || typeof o.key !== 'string' || !isNum(o.since) || !isNum(o.ofport) || typeof o.token !== 'string') return undefined;
  if (!o.owner || typeof o.owner !== 'object' || !OWNER_KINDS.has((o.owner as PortOwner).kind)) return undefined;
  if (o.owner.kind === 'acl' && (!o.owner.port || typeof o.owner.port !== 'object' || (o.owner.port.kind as string) === 'acl' || !OWNER_KINDS.has(o.owner.port.kind))) return undefined;
  return o;
}

/**
 * Decodes one segment's text into `into` (segments in order, oldest first). `filter` keeps only
 * the minutes of the series it accepts (definitions and checkpoints are always kept: they are small).
 */
export function decodeSegment(text: string, into: Decoded = emptyDecoded(), filter?: (id: string, minute: number) => boolean): Decoded {
  const local = new Map<number, SeriesInfo>();
  type Pending = () => void;
  let batch: Pending[] = [];
  let batchLines = 0;
  const lines = text.split('\n');
  // A file that does not end in a newline ends in a torn line: never parse it.
  if (lines[lines.length - 1] === '') lines.pop(); else if (lines.length) { lines.pop(); into.droppedLines++; }
  for (const line of lines) {
    batchLines++;
    let v: unknown;
    try { v = JSON.parse(line); } catch { into.badLines++; continue; }
    if (!Array.isArray(v)) { into.badLines++; continue; }
    if (v[0] === 'b' && isNum(v[1])) {
      for (const f of batch) f();
      batch = []; batchLines = 0;
      into.lastBatch = v[1];
      continue;
    }
    if (v[0] === 'd' && isNum(v[1])) {
      const info = asInfo(v[2]);
      if (!info) { into.badLines++; continue; }
      const n = v[1];
      // Definitions take effect at once (later lines of the same batch use them).
      local.set(n, info);
      batch.push(() => { into.series.set(info.id, info); });
      continue;
    }
    const info = isNum(v[0]) ? local.get(v[0]) : undefined;
    if (!info) { into.badLines++; continue; }
    if (v[1] === 'c' && v.length === 7 && v.slice(2).every(isNum)) {
      const [t, rxPackets, txPackets, rxBytes, txBytes] = v.slice(2) as number[];
      batch.push(() => {
        const prev = into.checkpoints.get(info.id);
        if (!prev || prev.t <= t!) into.checkpoints.set(info.id, { t: t!, c: { rxPackets: rxPackets!, txPackets: txPackets!, rxBytes: rxBytes!, txBytes: txBytes! } });
      });
      continue;
    }
    if (v.length === 6 && v.slice(1).every(isNum)) {
      const [minute, rxPackets, txPackets, rxBytes, txBytes] = v.slice(1) as number[];
      if (filter && !filter(info.id, minute!)) continue;
      batch.push(() => {
        let m = into.minutes.get(info.id);
        if (!m) into.minutes.set(info.id, (m = new Map()));
        m.set(minute!, plus(m.get(minute!) ?? ZERO, { rxPackets: rxPackets!, txPackets: txPackets!, rxBytes: rxBytes!, txBytes: txBytes! }));
      });
      continue;
    }
    into.badLines++;
  }
  into.droppedLines += batchLines;
  return into;
}

/** Segment file names: seg-<13-digit ms>.jsonl, so names sort by age. */
export const segmentName = (t: number) => `seg-${String(Math.max(0, Math.floor(t))).padStart(13, '0')}.jsonl`;
export const isSegmentName = (name: string) => /^seg-\d{13}\.jsonl$/.test(name);
export const segmentStart = (name: string) => Number(name.slice(4, 17));

/**
 * Which segments to delete so the store stays within `maxBytes`: the oldest first, never the one
 * being written (`current`). `segments` in any order.
 */
export function chooseExpired(segments: readonly { name: string; bytes: number }[], maxBytes: number, current?: string): string[] {
  const sorted = [...segments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let total = sorted.reduce((s, x) => s + x.bytes, 0);
  const out: string[] = [];
  for (const s of sorted) {
    if (total <= maxBytes) break;
    if (s.name === current) continue;
    out.push(s.name);
    total -= s.bytes;
  }
  return out;
}

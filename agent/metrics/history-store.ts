// Traffic history, part 4 (adapter): the store. The last hour of every series at full resolution
// (each scrape) in memory; minute rollups appended to segment files under <dataDir>/history in
// batches (about once a minute, fsynced: few writes for an SD card), a new segment at each start
// and past `segmentBytes`, the oldest segments deleted past `maxBytes`. A start reads the segments
// back (series, and the last counters of each, so a port whose counters went on is the same series).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../sys/files.js';
import { chooseExpired, decodeSegment, emptyDecoded, encodeBatch, isSegmentName, segmentName, segmentStart, type Batch, type Decoded } from './history-codec.js';
import { seriesKey, type OwnedCounters, type PortCounters } from './history-keys.js';
import { MINUTE_MS, plus, ratePoint, rollUp, step, ZERO, type Delta, type RatePoint, type Rollups, type SeriesInfo, type Track } from './history-rates.js';

export interface HistoryStoreOptions {
  dir: string;
  /** All segments together at most (oldest deleted first). */
  maxBytes: number;
  /** A segment is closed past this size. */
  segmentBytes: number;
  /** Full resolution kept in memory this long. */
  recentMs?: number;
  now?: () => number;
}

export interface SeriesSummary extends SeriesInfo { label?: string; lastSeen: number; current: boolean }

export interface SeriesData { info: SeriesInfo; lastSeen: number; points: RatePoint[]; resolution: { rawFrom?: number } }

/** What the read side needs (the web routes and the CLI). */
export interface HistoryReader {
  list(): SeriesSummary[];
  series(ids: readonly string[], since: number, until?: number): Promise<SeriesData[]>;
}

export interface StoreFacts { segments: number; bytes: number; batches: number; bytesWritten: number; droppedLines: number }

export class HistoryStore implements HistoryReader {
  private tracks = new Map<string, Track>();
  private catalog = new Map<string, SeriesInfo>();
  private lastSeen = new Map<string, number>();
  /** Per series, the last hour's deltas packed flat (t0, t1, rxP, txP, rxB, txB, …): doubles, no object per point. */
  private recent = new Map<string, number[]>();
  private pending: Rollups = new Map();
  private checkpointed = new Map<string, PortCounters>();
  private retired: Track[] = [];
  private segment: string | undefined;
  private segmentSize = 0;
  private numbers = new Map<string, number>();
  private prevT: number | undefined;
  private readonly recentMs: number;
  private readonly now: () => number;
  readonly facts: StoreFacts = { segments: 0, bytes: 0, batches: 0, bytesWritten: 0, droppedLines: 0 };

  constructor(private readonly o: HistoryStoreOptions) {
    this.recentMs = o.recentMs ?? 3_600_000;
    this.now = o.now ?? Date.now;
  }

  /** Reads what the segments hold: the series and the last counters of each (not the minutes). */
  load(): Decoded {
    mkdirSync(this.o.dir, { recursive: true });
    const d = emptyDecoded();
    const names = this.segmentNames();
    for (const name of names) decodeSegment(readFileSync(join(this.o.dir, name), 'utf8'), d, () => false);
    // The size on disk from the start (dovelab_history_store_bytes), not only after the first batch.
    this.facts.segments = names.length;
    this.facts.bytes = names.reduce((sum, name) => sum + statSync(join(this.o.dir, name)).size, 0);
    for (const info of d.series.values()) this.catalog.set(info.id, info);
    // The latest incarnation of each key, with its last counters, is where the next scrape carries on.
    for (const info of d.series.values()) {
      const cp = d.checkpoints.get(info.id);
      if (!cp) continue;
      this.lastSeen.set(info.id, cp.t);
      const cur = this.tracks.get(info.key);
      if (!cur || cur.info.since < info.since) this.tracks.set(info.key, { info, last: cp.c, t: cp.t });
      this.checkpointed.set(info.id, cp.c);
    }
    this.facts.droppedLines = d.droppedLines;
    return d;
  }

  /** One scrape's counters at time t. */
  record(seen: readonly OwnedCounters[], t: number = this.now()): Delta[] {
    const r = step(this.tracks, seen, t, this.prevT);
    // An incarnation that ended gets a last checkpoint with the next batch (when it was last seen).
    for (const info of r.started) { const old = this.tracks.get(info.key); if (old) this.retired.push(old); }
    this.prevT = t;
    this.tracks = r.tracks;
    for (const info of r.started) this.catalog.set(info.id, info);
    for (const { entry } of seen) { const tr = this.tracks.get(seriesKey(entry.owner)); if (tr) this.lastSeen.set(tr.info.id, t); }
    for (const d of r.deltas) {
      let list = this.recent.get(d.series);
      if (!list) this.recent.set(d.series, (list = []));
      list.push(d.t0, d.t1, d.d.rxPackets, d.d.txPackets, d.d.rxBytes, d.d.txBytes);
    }
    rollUp(this.pending, r.deltas);
    this.prune(t);
    return r.deltas;
  }

  private prune(t: number): void {
    for (const [id, list] of this.recent) {
      let k = 0;
      while (k < list.length && list[k + 1]! < t - this.recentMs) k += REC;
      if (k >= list.length) this.recent.delete(id); else if (k) list.splice(0, k);
    }
  }

  /** Appends what is new since the last batch (minutes and changed counters), fsynced; expires old segments. */
  flush(t: number = this.now()): number {
    const changed = [...this.retired, ...this.tracks.values()].filter((tr) => {
      const c = this.checkpointed.get(tr.info.id);
      return !c || c.rxPackets !== tr.last.rxPackets || c.txPackets !== tr.last.txPackets || c.rxBytes !== tr.last.rxBytes || c.txBytes !== tr.last.txBytes;
    });
    if (!changed.length && !this.pending.size) return 0;
    if (!this.segment || this.segmentSize >= this.o.segmentBytes) this.openSegment(t);
    const batch: Batch = { t, defs: [], minutes: [], checkpoints: [] };
    const numberOf = (id: string) => {
      let n = this.numbers.get(id);
      if (n === undefined) {
        n = this.numbers.size + 1;
        this.numbers.set(id, n);
        batch.defs.push({ n, info: this.catalog.get(id)! });
      }
      return n;
    };
    for (const [id, minutes] of this.pending) for (const [minute, d] of minutes) batch.minutes.push({ n: numberOf(id), minute, d });
    for (const tr of changed) batch.checkpoints.push({ n: numberOf(tr.info.id), t: tr.t, c: tr.last });
    const buf = Buffer.from(encodeBatch(batch));
    try {
      const fd = openSync(join(this.o.dir, this.segment!), 'a');
      try {
        for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
        fsyncSync(fd);
      } finally { closeSync(fd); }
    } catch (e) {
      // Half a batch may be in that file (a full disk): the next batch goes to a new segment, so the
      // half stays last in this one and is dropped on reading. What was pending is kept for it.
      this.segment = undefined;
      throw e;
    }
    this.segmentSize += buf.length;
    this.facts.batches++;
    this.facts.bytesWritten += buf.length;
    this.pending = new Map();
    this.retired = [];
    for (const tr of changed) this.checkpointed.set(tr.info.id, tr.last);
    this.expire();
    return buf.length;
  }

  private openSegment(t: number): void {
    let name = segmentName(t);
    const have = new Set(this.segmentNames());
    for (let k = t; have.has(name); k++) name = segmentName(k + 1);
    this.segment = name;
    this.segmentSize = 0;
    this.numbers = new Map();
    closeSync(openSync(join(this.o.dir, name), 'a'));
    fsyncDir(this.o.dir);
  }

  private segmentNames(): string[] {
    try { return readdirSync(this.o.dir).filter(isSegmentName).sort(); } catch { return []; }
  }

  private expire(): void {
    const segs = this.segmentNames().map((name) => ({ name, bytes: statSync(join(this.o.dir, name)).size }));
    const gone = chooseExpired(segs, this.o.maxBytes, this.segment);
    for (const name of gone) unlinkSync(join(this.o.dir, name));
    if (gone.length) fsyncDir(this.o.dir);
    const left = segs.filter((s) => !gone.includes(s.name));
    this.facts.segments = left.length;
    this.facts.bytes = left.reduce((s, x) => s + x.bytes, 0);
    // A series whose every segment expired is forgotten (unless it still runs).
    if (gone.length) {
      // Present at the last scrape: still running (it is written again with the next batch).
      const live = new Set([...this.tracks.values()].filter((tr) => tr.t === this.prevT).map((tr) => tr.info.id));
      const kept = emptyDecoded();
      for (const s of left) decodeSegment(readFileSync(join(this.o.dir, s.name), 'utf8'), kept, () => false);
      for (const id of [...this.catalog.keys()]) {
        if (kept.series.has(id) || live.has(id)) continue;
        this.catalog.delete(id); this.recent.delete(id); this.lastSeen.delete(id); this.checkpointed.delete(id);
        const key = id.slice(0, id.lastIndexOf('@'));
        if (this.tracks.get(key)?.info.id === id) this.tracks.delete(key);
      }
    }
  }

  /** Every series known (on disk or running), newest first. */
  list(): SeriesSummary[] {
    // Seen at the last scrape: still on the switch.
    const current = new Set([...this.tracks.values()].filter((tr) => tr.t === this.prevT).map((tr) => tr.info.id));
    return [...this.catalog.values()]
      .map((info) => ({ ...info, lastSeen: this.lastSeen.get(info.id) ?? info.since, current: current.has(info.id) }))
      .sort((a, b) => b.lastSeen - a.lastSeen || (a.id < b.id ? -1 : 1));
  }

  /**
   * Points of the given series since `since`: minute rollups (disk and the batch not yet written)
   * before the last hour, each scrape within it.
   */
  async series(ids: readonly string[], since: number, until: number = this.now()): Promise<SeriesData[]> {
    const want = new Set(ids.filter((id) => this.catalog.has(id)));
    if (!want.size) return [];
    const firstMinute = Math.floor(since / MINUTE_MS);
    const names = this.segmentNames();
    const d = emptyDecoded();
    for (let k = 0; k < names.length; k++) {
      const next = names[k + 1];
      if (next && segmentStart(next) < since) continue; // wholly before `since`
      if (segmentStart(names[k]!) > until) break;
      let text: string;
      try { text = await readFile(join(this.o.dir, names[k]!), 'utf8'); } catch { continue; } // expired meanwhile
      decodeSegment(text, d, (id, minute) => want.has(id) && minute >= firstMinute);
    }
    const out: SeriesData[] = [];
    for (const id of want) {
      const minutes = new Map(d.minutes.get(id) ?? []);
      for (const [m, c] of this.pending.get(id) ?? []) minutes.set(m, plus(minutes.get(m) ?? ZERO, c));
      const raw = unpack(this.recent.get(id) ?? []).filter((x) => x.t1 > since && x.t0 < until);
      const rawFrom = raw.length ? raw[0]!.t0 : undefined;
      const points: RatePoint[] = [];
      for (const [m, c] of [...minutes].sort((a, b) => a[0] - b[0])) {
        const t0 = m * MINUTE_MS;
        if (t0 < since - MINUTE_MS || t0 > until) continue;
        if (rawFrom !== undefined && t0 + MINUTE_MS > rawFrom) continue;
        points.push(ratePoint(t0, t0 + MINUTE_MS, c));
      }
      for (const x of raw) points.push(ratePoint(x.t0, x.t1, x.d));
      out.push({ info: this.catalog.get(id)!, lastSeen: this.lastSeen.get(id) ?? this.catalog.get(id)!.since, points, resolution: rawFrom === undefined ? {} : { rawFrom } });
    }
    return out;
  }
}

/** Numbers per delta in the packed recent lists. */
const REC = 6;
function unpack(list: readonly number[]): Omit<Delta, 'series'>[] {
  const out: Omit<Delta, 'series'>[] = [];
  for (let k = 0; k + REC <= list.length; k += REC) {
    out.push({ t0: list[k]!, t1: list[k + 1]!, d: { rxPackets: list[k + 2]!, txPackets: list[k + 3]!, rxBytes: list[k + 4]!, txBytes: list[k + 5]! } });
  }
  return out;
}

// Traffic history, part 2 (pure): counters -> deltas per series incarnation, and deltas -> minute
// rollups. A series incarnation is one owner's port from the moment it was first seen until the
// counters go backwards (the host was recreated, its veth is new) or the port changes hands (a new
// lab run, another Docker endpoint, another ofport): then a NEW series starts, so a graph never
// mixes what two hosts sent.
import { seriesKey, type OwnedCounters, type PortCounters, type PortOwner } from './history-keys.js';

/** What identifies one incarnation (and is written to disk when it starts). */
export interface SeriesInfo {
  /** `<key>@<since>`: unique, and sorts by key then time. */
  id: string;
  key: string;
  owner: PortOwner;
  /** When this incarnation was first seen (ms since the epoch). */
  since: number;
  ofport: number;
  /** Lab run or Docker endpoint: a change of hands at the same key starts a new incarnation. */
  token: string;
}

/** The last counters of an incarnation (what the next scrape is compared against). */
export interface Track { info: SeriesInfo; last: PortCounters; t: number }

/** Traffic of one incarnation between two scrapes (t0, t1]. */
export interface Delta { series: string; t0: number; t1: number; d: PortCounters }

export const ZERO: PortCounters = Object.freeze({ rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 });
const FIELDS = ['rxPackets', 'txPackets', 'rxBytes', 'txBytes'] as const;

export const seriesId = (key: string, since: number) => `${key}@${since}`;

const wentBack = (a: PortCounters, b: PortCounters) => FIELDS.some((f) => b[f] < a[f]);
const minus = (b: PortCounters, a: PortCounters): PortCounters =>
  ({ rxPackets: b.rxPackets - a.rxPackets, txPackets: b.txPackets - a.txPackets, rxBytes: b.rxBytes - a.rxBytes, txBytes: b.txBytes - a.txBytes });
export const isZero = (c: PortCounters) => FIELDS.every((f) => c[f] === 0);
export const plus = (a: PortCounters, b: PortCounters): PortCounters =>
  ({ rxPackets: a.rxPackets + b.rxPackets, txPackets: a.txPackets + b.txPackets, rxBytes: a.rxBytes + b.rxBytes, txBytes: a.txBytes + b.txBytes });

export interface StepResult {
  /** The tracks after this scrape (by series key: the current incarnation of each). */
  tracks: Map<string, Track>;
  /** One per incarnation that went on (zero too: an idle interval is a point of the graph). */
  deltas: Delta[];
  /** Incarnations that began at this scrape. */
  started: SeriesInfo[];
}

/**
 * One scrape at time `t` (`prevT`: the scrape before, if any). A key seen for the first time is
 * a baseline (its counters may hold traffic from before we looked: no delta). A key we know whose
 * counters went back starts a new incarnation whose counters counted from zero since the last
 * scrape; one whose port changed hands (lab run, endpoint, ofport) starts a new incarnation with a
 * baseline (those counters may be someone else's); all-zero counters of a known port are no news.
 * Tracks of ports not seen now are kept (the port may come back).
 */
export function step(tracks: ReadonlyMap<string, Track>, seen: readonly OwnedCounters[], t: number, prevT?: number): StepResult {
  const next = new Map(tracks);
  const deltas: Delta[] = [];
  const started: SeriesInfo[] = [];
  for (const { entry, counters } of seen) {
    const key = seriesKey(entry.owner);
    const old = tracks.get(key);
    const fresh = (): SeriesInfo => ({ id: seriesId(key, t), key, owner: entry.owner, since: t, ofport: entry.ofport, token: entry.token });
    if (!old) {
      const info = fresh();
      started.push(info);
      next.set(key, { info, last: counters, t });
      continue;
    }
    if (old.t >= t) continue; // the same (or an older) scrape again
    const changedHands = old.info.token !== entry.token || old.info.ofport !== entry.ofport;
    // All zeros tell nothing: a Gauge that just started shows zeros until its first poll (seen: the
    // counters then carry on), and a removed port's last word can be zeros. A recreated host is
    // seen once its counters move (below the old ones): a new series starts then.
    if (!changedHands && isZero(counters)) continue;
    // A rule's flows start from zero whenever Faucet re-adds them (the ACL switched off and on):
    // the same series goes on, counting from zero.
    const reset = wentBack(old.last, counters);
    if (changedHands || (reset && entry.owner.kind !== 'acl')) {
      const info = fresh();
      started.push(info);
      next.set(key, { info, last: counters, t });
      // Counters of the same owner's port that went back are a new veth's, counted from zero since
      // the last scrape: this owner's. A port that changed hands may still count for its previous
      // owner (the old veth, or another port's counters): a baseline, never a delta.
      if (!changedHands && !isZero(counters)) deltas.push({ series: info.id, t0: Math.max(prevT ?? old.t, old.t), t1: t, d: counters });
      continue;
    }
    const d = reset ? counters : minus(counters, old.last);
    next.set(key, { info: old.info, last: counters, t });
    deltas.push({ series: old.info.id, t0: old.t, t1: t, d });
  }
  return { tracks: next, deltas, started };
}

export const MINUTE_MS = 60_000;
export const minuteOf = (t: number) => Math.floor(t / MINUTE_MS);

/**
 * A delta spread over the minutes its interval (t0, t1] covers, in proportion to time (a gap of
 * an agent restart spreads over the gap, so totals stay right); integers, the remainders go to
 * the last minute so the pieces add up to the delta exactly.
 */
export function spreadDelta(t0: number, t1: number, d: PortCounters): { minute: number; d: PortCounters }[] {
  const first = minuteOf(t0);
  const last = minuteOf(Math.max(t0, t1 - 1));
  if (first === last || t1 <= t0) return [{ minute: last, d }];
  const out: { minute: number; d: PortCounters }[] = [];
  let given: PortCounters = ZERO;
  for (let m = first; m <= last; m++) {
    if (m === last) { out.push({ minute: m, d: minus(d, given) }); break; }
    const lo = Math.max(t0, m * MINUTE_MS);
    const hi = Math.min(t1, (m + 1) * MINUTE_MS);
    const share = (hi - lo) / (t1 - t0);
    const piece = { rxPackets: Math.floor(d.rxPackets * share), txPackets: Math.floor(d.txPackets * share), rxBytes: Math.floor(d.rxBytes * share), txBytes: Math.floor(d.txBytes * share) };
    given = plus(given, piece);
    if (!isZero(piece)) out.push({ minute: m, d: piece });
  }
  return out;
}

/** Minute rollups: series id -> minute -> summed deltas. */
export type Rollups = Map<string, Map<number, PortCounters>>;

/** Adds deltas into minute rollups (in place; returns it). */
export function rollUp(into: Rollups, deltas: readonly Delta[]): Rollups {
  for (const x of deltas) {
    if (isZero(x.d)) continue;
    let m = into.get(x.series);
    if (!m) into.set(x.series, (m = new Map()));
    for (const p of spreadDelta(x.t0, x.t1, x.d)) m.set(p.minute, plus(m.get(p.minute) ?? ZERO, p.d));
  }
  return into;
}

/** One point of a graph, from the INTERFACE's side (what `ip -s link` in the host shows): rx is what it received. */
export interface RatePoint { t: number; dt: number; rxPps: number; txPps: number; rxBps: number; txBps: number }

/**
 * The switch counts from its port's side (its rx is what the host sent): a point turns that around.
 * `t` is the interval's end, `dt` its length in seconds; rates are per second over it.
 */
export function ratePoint(t0: number, t1: number, d: PortCounters): RatePoint {
  const s = Math.max(t1 - t0, 1) / 1000;
  const r = (v: number) => Math.round((v / s) * 1000) / 1000;
  return { t: t1, dt: s, rxPps: r(d.txPackets), txPps: r(d.rxPackets), rxBps: r(d.txBytes), txBps: r(d.rxBytes) };
}

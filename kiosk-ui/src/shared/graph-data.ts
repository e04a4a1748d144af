// Traffic graphs, the pure part (no DOM, no uPlot): rates in words, points -> the columns a chart
// draws (with gaps where the host was away), live updates merged in, the instructor's picker,
// sparkline paths, and ACL hit counters polled into a short history. Unit-tested (graph-data.test.ts).
import type { AclCounterRow, HistoryPoint, HistorySeriesView } from '../../../agent/web/api-types.js';

/** The ranges a page offers: label and seconds. */
export const RANGES: readonly { label: string; value: string; s: number }[] = [
  { label: '5 min', value: '5m', s: 300 },
  { label: '15 min', value: '15m', s: 900 },
  { label: '1 hour', value: '1h', s: 3600 },
  { label: '6 hours', value: '6h', s: 6 * 3600 },
  { label: '24 hours', value: '24h', s: 86_400 },
];
export const DEFAULT_RANGE = '15m';
export const rangeSeconds = (value: string) => RANGES.find((r) => r.value === value)?.s ?? 900;

const trim = (v: number) => (v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, ''));

/** Bytes per second in words: `0 B/s`, `512 B/s`, `1.5 kB/s`, `12 MB/s` (1000s, as network people count). */
export function byteRate(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '0 B/s';
  if (v < 1000) return `${trim(v)} B/s`;
  if (v < 1e6) return `${trim(v / 1e3)} kB/s`;
  if (v < 1e9) return `${trim(v / 1e6)} MB/s`;
  return `${trim(v / 1e9)} GB/s`;
}

/** Packets per second in words: `0 packets/s`, `1 packet/s`, `2.5 packets/s`, `12k packets/s`. */
export function packetRate(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '0 packets/s';
  const n = v < 1000 ? trim(v) : v < 1e6 ? `${trim(v / 1e3)}k` : `${trim(v / 1e6)}M`;
  return `${n} ${n === '1' ? 'packet' : 'packets'}/s`;
}

/** An axis tick: short (`1.5k`, `12M`, `0.5`). */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1000) return trim(a) === '0' ? '0' : `${v < 0 ? '-' : ''}${trim(a)}`;
  if (a < 1e6) return `${v < 0 ? '-' : ''}${trim(a / 1e3)}k`;
  if (a < 1e9) return `${v < 0 ? '-' : ''}${trim(a / 1e6)}M`;
  return `${v < 0 ? '-' : ''}${trim(a / 1e9)}G`;
}

export type Measure = 'bytes' | 'packets';

/** uPlot's data: x in seconds, then rx and tx; `null` breaks the line where no point covers the time. */
export type Columns = [number[], (number | null)[], (number | null)[]];

/**
 * Points (any order, maybe of several incarnations) -> columns. A point covers (t - dt, t]; where
 * the next one starts more than its own length plus a scrape after the last ended (the host was
 * down or gone, the agent stopped), a null is put in so the line breaks instead of bridging.
 */
export function toColumns(points: readonly HistoryPoint[], measure: Measure): Columns {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const xs: number[] = []; const rx: (number | null)[] = []; const tx: (number | null)[] = [];
  let prevT: number | undefined;
  for (const p of sorted) {
    if (prevT !== undefined && p.t - p.dt * 1000 - prevT > Math.max(10_000, p.dt * 1000)) {
      xs.push((prevT + 1000) / 1000); rx.push(null); tx.push(null);
    }
    if (prevT !== undefined && p.t === prevT) continue; // the same time twice: keep the first
    xs.push(p.t / 1000);
    rx.push(measure === 'bytes' ? p.rxBps : p.rxPps);
    tx.push(measure === 'bytes' ? p.txBps : p.txPps);
    prevT = p.t;
  }
  return [xs, rx, tx];
}

/**
 * A live page's points after a poll: the old ones, then the fresh ones (a fresh point with the
 * time of an old one replaces it: the minute it belongs to may have grown), none before `from`.
 */
export function mergePoints(old: readonly HistoryPoint[], fresh: readonly HistoryPoint[], from: number): HistoryPoint[] {
  const byT = new Map<number, HistoryPoint>();
  for (const p of old) if (p.t >= from) byT.set(p.t, p);
  for (const p of fresh) if (p.t >= from) byT.set(p.t, p);
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/** The newest point, if any. */
export const lastPoint = (points: readonly HistoryPoint[]): HistoryPoint | undefined =>
  points.reduce<HistoryPoint | undefined>((m, p) => (!m || p.t > m.t ? p : m), undefined);

/**
 * The text alternative of an interface's graph: the latest rates (from the interface's side), the
 * peaks in the range (`within`: `in the last 15 min`, `while it ran`), and how old the latest
 * point is when it is not fresh.
 */
export function captionText(label: string, points: readonly HistoryPoint[], now: number, within: string): string {
  const last = lastPoint(points);
  if (!last) return `${label}: no traffic counted ${within}.`;
  const peakTx = Math.max(...points.map((p) => p.txBps));
  const peakRx = Math.max(...points.map((p) => p.rxBps));
  const age = Math.round((now - last.t) / 1000);
  const when = age > 30 ? `${ago(age)} ago` : 'now';
  return `${label} ${when}: sent ${byteRate(last.txBps)} (${packetRate(last.txPps)}), received ${byteRate(last.rxBps)} (${packetRate(last.rxPps)}). ` +
    `Peak ${within}: sent ${byteRate(peakTx)}, received ${byteRate(peakRx)}.`;
}

/** A duration in seconds in words: `45 s`, `12 min`, `3 h`, `2 days`. */
export function ago(s: number): string {
  if (s < 90) return `${Math.max(0, Math.round(s))} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** The series key (owner, without the incarnation): `host/lab/3/h2/eth0`. */
export const keyOf = (id: string) => (id.includes('@') ? id.slice(0, id.lastIndexOf('@')) : id);

/** A series in the instructor's picker. */
export interface PickItem { id: string; text: string; current: boolean }

const clock = (t: number) => new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/**
 * The picker: running series first (by label), then gone ones, newest gone first; a gone series
 * says when it ran, and a series with several incarnations says which one (`#2 of 3`).
 */
export function pickList(series: readonly HistorySeriesView[]): { running: PickItem[]; gone: PickItem[] } {
  const byKey = new Map<string, HistorySeriesView[]>();
  for (const s of series) { const k = keyOf(s.id); byKey.set(k, [...(byKey.get(k) ?? []), s]); }
  const nth = (s: HistorySeriesView) => {
    const all = (byKey.get(keyOf(s.id)) ?? []).slice().sort((a, b) => a.since - b.since);
    return all.length > 1 ? ` #${all.indexOf(s) + 1} of ${all.length}` : '';
  };
  const running = series.filter((s) => s.current).sort((a, b) => a.label.localeCompare(b.label, undefined, { numeric: true }))
    .map((s) => ({ id: s.id, text: `${s.label}${nth(s)}`, current: true }));
  const gone = series.filter((s) => !s.current).sort((a, b) => b.lastSeen - a.lastSeen || a.label.localeCompare(b.label))
    .map((s) => ({ id: s.id, text: `${s.label}${nth(s)} · ${clock(s.since)} – ${clock(s.lastSeen)}`, current: false }));
  return { running, gone };
}

/** The API's host parameter for a series' whole host (all its interfaces and incarnations) in a download. */
export function hostQuery(s: HistorySeriesView): string {
  const o = s.owner;
  // An ACL's series: every rule of that ACL on every port.
  if (o.kind === 'acl') return `host=${encodeURIComponent(o.acl)}`;
  if (o.kind === 'host') return `host=${encodeURIComponent(o.host)}&group=${o.group}&lab=${encodeURIComponent(o.lab)}`;
  if (o.kind === 'container') return `host=${encodeURIComponent(o.container.replace(/^\//, ''))}`;
  return `host=${encodeURIComponent(o.iface)}`;
}

/** The host's name as people say it: `g3-h2`, `web1`, `uplink up0`. */
export function hostName(s: HistorySeriesView): string {
  const o = s.owner;
  if (o.kind === 'acl') return `ACL ${o.acl}`;
  return o.kind === 'host' ? `${o.group ? `g${o.group}-` : ''}${o.host}` : o.kind === 'container' ? o.container.replace(/^\//, '') : `uplink ${o.iface}`;
}

/**
 * An SVG path (in a w×h box, y down) through the values, scaled to their maximum (at least `floor`
 * so a quiet line stays low); fewer than 2 values: ''. A straight line at the bottom for all zeros.
 */
export function sparkPath(values: readonly number[], w: number, h: number, floor = 1): string {
  if (values.length < 2) return '';
  const max = Math.max(floor, ...values);
  const dx = w / (values.length - 1);
  const pad = 1;
  return values.map((v, i) => `${i ? 'L' : 'M'}${(i * dx).toFixed(1)} ${(h - pad - (Math.max(0, v) / max) * (h - 2 * pad)).toFixed(1)}`).join(' ');
}

/** How many polls of ACL counters a page keeps (at 3 s: 2 minutes). */
export const ACL_KEEP = 40;

/** Per rule (group/target/acl/rule): the packets counted at each poll, oldest first. */
export type AclHistory = Map<string, { t: number; packets: number }[]>;

export const ruleKey = (r: AclCounterRow) => `${r.group}/${r.target}/${r.acl}/${r.rule}`;

/** Adds one poll's rows at time t (a new map); rules not in this poll are dropped (switched off). */
export function pushAclRows(hist: AclHistory, rows: readonly AclCounterRow[], t: number, keep = ACL_KEEP): AclHistory {
  const next: AclHistory = new Map();
  for (const r of rows) {
    const k = ruleKey(r);
    const old = hist.get(k) ?? [];
    // The switch's counters start again at 0 when an ACL is switched on again: start over too.
    const base = old.length && old[old.length - 1]!.packets > r.packets ? [] : old;
    next.set(k, [...base, { t, packets: r.packets }].slice(-keep));
  }
  return next;
}

/** Hits per poll interval (one fewer than the polls). */
export function hitsPerPoll(samples: readonly { t: number; packets: number }[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) out.push(Math.max(0, samples[i]!.packets - samples[i - 1]!.packets));
  return out;
}

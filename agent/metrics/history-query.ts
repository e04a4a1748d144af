// Traffic history, part 6 (pure): what a person asks for (`g3-h2.eth0`, `h2.eth0 --group 3`, a
// container's name, `up0`, `--since 2h`) -> series, and series -> CSV or JSON.
import type { PortOwner } from './history-keys.js';
import type { RatePoint, SeriesInfo } from './history-rates.js';

export class HistoryQueryError extends Error {}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`90s`, `10m`, `2h`, `7d`) or an ISO time. */
export function parseSince(text: string, now: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (Number.isFinite(t)) return t;
  }
  throw new HistoryQueryError(`--since ${JSON.stringify(text)}: expected a duration (30s, 10m, 2h, 7d) or an ISO time (2026-12-07T15:00:00Z)`);
}

export interface Target { name: string; iface?: string; group?: number; lab?: string }

/**
 * `host.iface` (or `gN-host.iface`, or a bare name) with an optional group -> what to match. A
 * `gN-` prefix is a group unless --group says otherwise (a host may be called g1-x: --group wins).
 */
export function parseTarget(text: string, group?: number, lab?: string): Target {
  const t = text.trim();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/.test(t)) throw new HistoryQueryError(`${JSON.stringify(text)}: expected host.interface (h1.eth0), a container's name or an uplink (up0)`);
  const dot = t.lastIndexOf('.');
  let name = dot > 0 ? t.slice(0, dot) : t;
  const iface = dot > 0 ? t.slice(dot + 1) : undefined;
  let g = group;
  const pre = /^g(\d+)-(.+)$/.exec(name);
  if (pre && g === undefined) { g = Number(pre[1]); name = pre[2]!; }
  return { name, ...(iface ? { iface } : {}), ...(g !== undefined ? { group: g } : {}), ...(lab ? { lab } : {}) };
}

/** Whether a series is the one asked for. */
export function matches(o: PortOwner, q: Target): boolean {
  // An ACL's series are asked for by the ACL's name (`web-only`, all its rules and ports; --group: that group's).
  if (o.kind === 'acl') return o.acl === q.name && q.iface === undefined && (q.group === undefined || (o.port.kind === 'host' && o.port.group === q.group)) && (q.lab === undefined || (o.port.kind === 'host' && o.port.lab === q.lab));
  if (o.kind === 'host') {
    return o.host === q.name && (q.iface === undefined || o.iface === q.iface) && (q.group === undefined || o.group === q.group) && (q.lab === undefined || o.lab === q.lab);
  }
  if (q.lab !== undefined || q.group !== undefined) return false;
  if (o.kind === 'container') return (o.container === q.name || o.container === `/${q.name}`) && (q.iface === undefined || o.iface === q.iface);
  return o.iface === q.name && q.iface === undefined;
}

/** A group's own: only its lesson hosts (never shared hosts, containers or uplinks). */
export const ofGroup = (o: PortOwner, group: number, lab: string) => o.kind === 'host' && o.group === group && o.lab === lab;

export interface ServedSeries { info: SeriesInfo; lastSeen: number; points: RatePoint[] }

const CSV_HEAD = 'series,lab,group,host,interface,time,seconds,rx_packets_per_s,tx_packets_per_s,rx_bytes_per_s,tx_bytes_per_s';
const cell = (v: string | number) => (typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** CSV: one row per point, from the interface's side (rx: what it received). */
export function toCsv(list: readonly ServedSeries[]): string {
  const rows = [CSV_HEAD];
  for (const s of list) {
    const o = s.info.owner.kind === 'acl' ? s.info.owner.port : s.info.owner;
    const [lab, group, host, iface] = o.kind === 'host' ? [o.lab, o.group, o.host, o.iface] : o.kind === 'container' ? [o.network, '', o.container, o.iface] : ['', '', 'uplink', o.iface];
    for (const p of s.points) rows.push([s.info.id, lab, group, host, iface, new Date(p.t).toISOString(), p.dt, p.rxPps, p.txPps, p.rxBps, p.txBps].map(cell).join(','));
  }
  return `${rows.join('\n')}\n`;
}

// Traffic history, part 1 (pure): who a switch port belongs to, in the names a person knows.
// Gauge labels its port counters with the port's name from the faucet.yaml it last loaded
// (`g1-h2-eth0`, `docker-<endpoint>`, `up0`), or with the bare OpenFlow port number for ports that
// config does not name. Gauge reloads when Faucet does (SIGHUP, and its stat reload as a backstop),
// but until it has, its names may be those of a lab that is gone: a name it keeps for a deleted
// port stays on its page with frozen counters, and a number of a port it has not read a name for
// may belong to anyone. So a scrape is read against the live faucet.yaml: a label is trusted only
// when Gauge's labels agree with that file (else the whole scrape waits for Gauge to reload), and
// a name maps only when faucet.yaml and the desired state give it the same ofport. A series is
// keyed by lesson, group, host and interface (or Docker network and container), never by an
// ofport that a later host reuses.
import type { DesiredState } from '../lab/desired.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import type { PluginState } from '../lab/plan-networks.js';
import type { Sample } from './prometheus.js';

/** The owner of a switch port. */
export type PortOwnerOfPort =
  | { kind: 'host'; lab: string; group: number; host: string; iface: string }
  | { kind: 'container'; network: string; container: string; iface: string }
  | { kind: 'uplink'; iface: string };

/**
 * Whose traffic a series is: a port's, or one ACL rule's hits on a port (`acl`: the lesson's name,
 * without Faucet's `lesson-`; `rule`: its index in the ACL, from 0, as the pages number them).
 */
export type PortOwner = PortOwnerOfPort | { kind: 'acl'; acl: string; rule: number; port: PortOwnerOfPort };

/** A port's owner now, and what changes when the port changes hands (lab run, Docker endpoint). */
export interface PortEntry { ofport: number; faucetName: string; owner: PortOwner; token: string }

export interface PortDirectory { byName: Map<string, PortEntry>; byOfport: Map<number, PortEntry> }

/** The key of a series without its incarnation: stable for as long as the names are. */
export function seriesKey(o: PortOwner): string {
  switch (o.kind) {
    case 'host': return `host/${o.lab}/${o.group}/${o.host}/${o.iface}`;
    case 'container': return `container/${o.network}/${o.container}/${o.iface}`;
    case 'uplink': return `uplink/${o.iface}`;
    case 'acl': return `acl/${o.acl}/${o.rule}/${seriesKey(o.port)}`;
  }
}

/** How people write it: `g1-h2.eth0 (first-switch)`, `web1.eth0 on office`, `uplink up0`. */
export function ownerLabel(o: PortOwner): string {
  switch (o.kind) {
    case 'host': return `${o.group ? `g${o.group}-` : ''}${o.host}.${o.iface} (${o.lab})`;
    case 'container': return `${o.container}.${o.iface} on ${o.network}`;
    case 'uplink': return `uplink ${o.iface}`;
    case 'acl': return `ACL ${o.acl} rule ${o.rule} on ${ownerLabel(o.port)}`;
  }
}

/** What the directory is made from: the desired state, the lab run (if any), the Docker networks. */
export interface DirectoryInput {
  desired: DesiredState;
  /** The running lab's `startedAt`: a new run of the same lesson starts new series. */
  labRun?: string;
  networks?: PluginState;
}

/**
 * Port name and ofport -> owner. Lab hosts, containers on Docker networks and uplinks; capture
 * ports, the mirror dongle and gateways are left out (copies of other ports' traffic, or plumbing).
 */
export function portDirectory(inp: DirectoryInput): PortDirectory {
  const out: PortEntry[] = [];
  const { desired } = inp;
  for (const p of desired.ports) {
    out.push({ ofport: p.ofport, faucetName: p.faucetName, token: `${desired.lab}@${inp.labRun ?? ''}`,
      owner: { kind: 'host', lab: desired.lab, group: p.group, host: p.host, iface: p.ifname } });
  }
  for (const p of desired.pluginPorts ?? []) {
    const net = inp.networks?.networks.find((n) => n.id === p.network);
    const ep = inp.networks?.endpoints.find((e) => e.id === p.endpoint);
    out.push({ ofport: p.ofport, faucetName: p.faucetName, token: p.endpoint,
      owner: { kind: 'container', network: net?.name ?? p.network.slice(0, 12), container: ep?.container ?? p.endpoint.slice(0, 12), iface: ep?.ifname ?? 'eth0' } });
  }
  for (const u of desired.uplinks) {
    if (u.role !== 'uplink') continue;
    out.push({ ofport: u.ofport, faucetName: u.iface, token: u.iface, owner: { kind: 'uplink', iface: u.iface } });
  }
  return { byName: new Map(out.map((e) => [e.faucetName, e])), byOfport: new Map(out.map((e) => [e.ofport, e])) };
}

/** One port's counters as the switch counts them (rx: what the port received, i.e. what the host sent). */
export interface PortCounters { rxPackets: number; txPackets: number; rxBytes: number; txBytes: number }

/** How often Gauge polls the switch's port counters (its port_stats watcher; gauge.yaml is ours). */
export const GAUGE_POLL_S = 5;

export const GAUGE_PORT_METRICS = ['of_port_rx_packets', 'of_port_tx_packets', 'of_port_rx_bytes', 'of_port_tx_bytes'] as const;
const FIELD: Record<(typeof GAUGE_PORT_METRICS)[number], keyof PortCounters> = {
  of_port_rx_packets: 'rxPackets', of_port_tx_packets: 'txPackets', of_port_rx_bytes: 'rxBytes', of_port_tx_bytes: 'txBytes',
};

/** A port's counters with the owner they belong to now. */
export interface OwnedCounters { entry: PortEntry; counters: PortCounters }

/** The ports one DP of a faucet.yaml names: ofport <-> name (Faucet's default name is the number). */
export interface FaucetPortNames { byNumber: Map<number, string>; byName: Map<string, number> }

/**
 * faucet.yaml text (already parsed) -> the ports of `dpName`. Interface keys are ofports (YAML
 * integers, as the agent emits them) or names with an explicit `number:`. Throws naming the field.
 */
export function faucetPortNames(doc: unknown, dpName: string): FaucetPortNames {
  const dps = (doc as { dps?: Record<string, { interfaces?: Record<string, { name?: unknown; number?: unknown }> }> } | null)?.dps;
  const dp = dps?.[dpName];
  if (!dp) throw new Error(`faucet.yaml: dps.${dpName}: missing`);
  const byNumber = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const [key, conf] of Object.entries(dp.interfaces ?? {})) {
    const number = /^\d+$/.test(key) ? Number(key) : Number(conf?.number);
    if (!Number.isInteger(number)) throw new Error(`faucet.yaml: dps.${dpName}.interfaces.${key}: no port number`);
    const name = typeof conf?.name === 'string' ? conf.name : key;
    byNumber.set(number, name);
    byName.set(name, number);
  }
  return { byNumber, byName };
}

/** Labels Gauge gives ports that no config names. */
const SPECIAL_PORTS = new Set(['LOCAL', 'CONTROLLER']);

/** One scrape of Gauge, read against the live faucet.yaml. */
export interface GaugeReading {
  /** Counters per owned port (empty when `lag` is set). */
  owned: OwnedCounters[];
  /** Why Gauge's labels cannot be trusted now (it has not yet loaded the live faucet.yaml). */
  lag?: string;
  /** Port samples of this bridge on the page at all (none: Gauge just (re)loaded and has not polled). */
  ports: number;
}

/**
 * Gauge's samples of one bridge -> counters per owned port. Gauge's labels must agree with the
 * live faucet.yaml: a name the file does not have, or a bare number of a port the file names, means
 * Gauge still runs an older config (its names may be another host's): then nothing is owned and
 * `lag` says why. A name maps to the directory entry of that name when faucet.yaml puts it on the
 * entry's ofport (else the desired state and the file are mid-change: skipped). Bare numbers (ports
 * faucet.yaml does not name), LOCAL, other bridges and half scrapes (a port missing one of the four
 * counters) are skipped.
 */
export function readGauge(samples: readonly Sample[], dir: PortDirectory, dpName: string, live: FaucetPortNames): GaugeReading {
  const found = new Map<PortEntry, Partial<PortCounters>>();
  const labels = new Set<string>();
  let lag: string | undefined;
  for (const s of samples) {
    const field = FIELD[s.name as keyof typeof FIELD];
    if (!field || s.labels.dp_name !== dpName || !Number.isFinite(s.value)) continue;
    const label = s.labels.port ?? '';
    labels.add(label);
    if (SPECIAL_PORTS.has(label)) continue;
    if (/^\d+$/.test(label)) {
      const named = live.byNumber.get(Number(label));
      if (named !== undefined && named !== label) lag ??= `Gauge shows port ${label} by number, faucet.yaml names it ${named}`;
      continue;
    }
    const ofport = live.byName.get(label);
    if (ofport === undefined) { lag ??= `Gauge names a port ${label}, which faucet.yaml does not have`; continue; }
    const entry = dir.byName.get(label);
    if (!entry || entry.ofport !== ofport) continue;
    const c = found.get(entry) ?? {};
    c[field] = s.value;
    found.set(entry, c);
  }
  if (lag) return { owned: [], lag, ports: labels.size };
  const owned: OwnedCounters[] = [];
  for (const [entry, c] of found) {
    if (c.rxPackets === undefined || c.txPackets === undefined || c.rxBytes === undefined || c.txBytes === undefined) continue;
    owned.push({ entry, counters: c as PortCounters });
  }
  return { owned: owned.sort((a, b) => a.entry.ofport - b.entry.ofport), ports: labels.size };
}

/** Faucet's name of a lesson ACL (`lesson-web-only`) -> the lesson's; the appliance's own (`dovelab-…`) are plumbing. */
const LESSON_ACL = 'lesson-';
const aclName = (faucetAcl: string): string | undefined =>
  faucetAcl.startsWith('dovelab-') ? undefined : faucetAcl.startsWith(LESSON_ACL) ? faucetAcl.slice(LESSON_ACL.length) : faucetAcl;

/**
 * ACL rule hits (from the switch's flow counters, mapped with the live faucet.yaml) -> counters per
 * (ACL, rule, port owner). A hit counts as what the port received (for an ACL on a port's way in:
 * what the host sent that the rule matched); only ports faucet.yaml and the directory put on the
 * same ofport, as for Gauge's counters. The appliance's own allow rules are left out.
 */
export function aclOwned(hits: readonly AclHit[], dir: PortDirectory, live: FaucetPortNames): OwnedCounters[] {
  const out: OwnedCounters[] = [];
  for (const h of hits) {
    const acl = aclName(h.acl);
    const entry = dir.byName.get(h.port);
    if (acl === undefined || !entry || entry.ofport !== h.ofport || live.byName.get(h.port) !== h.ofport) continue;
    if (entry.owner.kind === 'acl') continue;
    out.push({
      entry: { ofport: entry.ofport, faucetName: `${h.acl}#${h.rule}@${entry.faucetName}`, token: entry.token, owner: { kind: 'acl', acl, rule: h.rule, port: entry.owner } },
      counters: { rxPackets: h.packets, txPackets: 0, rxBytes: h.bytes, txBytes: 0 },
    });
  }
  return out;
}

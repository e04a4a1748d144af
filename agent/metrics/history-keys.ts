// Traffic history, part 1 (pure): who a switch port belongs to, in the names a person knows.
// Gauge labels its port counters with the port's name from faucet.yaml (`g1-h2-eth0`,
// `docker-<endpoint>`, `up0`), or with the bare OpenFlow port number when the port came after
// Gauge read its config (Gauge does not reload when Faucet does). Both are looked up here in a
// directory made from the desired state, so a series is keyed by lesson, group, host and
// interface (or Docker network and container), never by an ofport that a later host reuses.
import type { DesiredState } from '../lab/desired.js';
import type { PluginState } from '../lab/plan-networks.js';
import type { Sample } from './prometheus.js';

/** Whose traffic a series is. */
export type PortOwner =
  | { kind: 'host'; lab: string; group: number; host: string; iface: string }
  | { kind: 'container'; network: string; container: string; iface: string }
  | { kind: 'uplink'; iface: string };

/** A port's owner now, and what changes when the port changes hands (lab run, Docker endpoint). */
export interface PortEntry { ofport: number; faucetName: string; owner: PortOwner; token: string }

export interface PortDirectory { byName: Map<string, PortEntry>; byOfport: Map<number, PortEntry> }

/** The key of a series without its incarnation: stable for as long as the names are. */
export function seriesKey(o: PortOwner): string {
  switch (o.kind) {
    case 'host': return `host/${o.lab}/${o.group}/${o.host}/${o.iface}`;
    case 'container': return `container/${o.network}/${o.container}/${o.iface}`;
    case 'uplink': return `uplink/${o.iface}`;
  }
}

/** How people write it: `g1-h2.eth0 (first-switch)`, `web1.eth0 on office`, `uplink up0`. */
export function ownerLabel(o: PortOwner): string {
  switch (o.kind) {
    case 'host': return `${o.group ? `g${o.group}-` : ''}${o.host}.${o.iface} (${o.lab})`;
    case 'container': return `${o.container}.${o.iface} on ${o.network}`;
    case 'uplink': return `uplink ${o.iface}`;
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

export const GAUGE_PORT_METRICS = ['of_port_rx_packets', 'of_port_tx_packets', 'of_port_rx_bytes', 'of_port_tx_bytes'] as const;
const FIELD: Record<(typeof GAUGE_PORT_METRICS)[number], keyof PortCounters> = {
  of_port_rx_packets: 'rxPackets', of_port_tx_packets: 'txPackets', of_port_rx_bytes: 'rxBytes', of_port_tx_bytes: 'txBytes',
};

/** A port's counters with the owner they belong to now. */
export interface OwnedCounters { entry: PortEntry; counters: PortCounters }

/**
 * Gauge's samples of one bridge -> counters per owned port. A `port` label is a faucet.yaml name
 * or (for ports Gauge has not read a name for) an OpenFlow port number; LOCAL and ports nobody
 * owns are skipped. A port missing one of the four counters is skipped (half a scrape).
 */
export function ownedCounters(samples: readonly Sample[], dir: PortDirectory, dpName: string): OwnedCounters[] {
  // A port may show under both labels (its number from before Gauge read its name, frozen, beside
  // its name): the name's counters win.
  const byName = new Map<PortEntry, Partial<PortCounters>>();
  const byNumber = new Map<PortEntry, Partial<PortCounters>>();
  for (const s of samples) {
    const field = FIELD[s.name as keyof typeof FIELD];
    if (!field || s.labels.dp_name !== dpName || !Number.isFinite(s.value)) continue;
    const label = s.labels.port ?? '';
    const named = dir.byName.get(label);
    const entry = named ?? (/^\d+$/.test(label) ? dir.byOfport.get(Number(label)) : undefined);
    if (!entry) continue;
    const into = named ? byName : byNumber;
    const c = into.get(entry) ?? {};
    c[field] = s.value;
    into.set(entry, c);
  }
  const found = new Map(byNumber);
  for (const [entry, c] of byName) found.set(entry, c);
  const out: OwnedCounters[] = [];
  for (const [entry, c] of found) {
    if (c.rxPackets === undefined || c.txPackets === undefined || c.rxBytes === undefined || c.txBytes === undefined) continue;
    out.push({ entry, counters: c as PortCounters });
  }
  return out.sort((a, b) => a.entry.ofport - b.entry.ofport);
}

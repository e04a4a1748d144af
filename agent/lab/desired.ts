// Topology + groups -> desired network state (hosts, ports, VLANs, Faucet DP). Pure.
import { createHash } from 'node:crypto';
import type { Topology } from '../lesson/schema.js';
import { ALLOW_ALL, allowAll, IDLE_PORT, IDLE_VLAN, type FaucetModel } from '../net/faucet/model.js';

export interface PlanSettings {
  lab: string;
  groups: number;
  bridge: string;
  dpId: number;
  defaultImage: string;
}

export interface DesiredHost {
  /** g1-h1, or h1 for a host of a shared network only (group 0). */
  key: string;
  container: string;
  group: number;
  host: string;
  image: string;
  hostname: string;
}

export interface DesiredPort {
  ofport: number;
  /** Host-side veth end, the OVS port name: dl<ofport>. */
  hostEnd: string;
  /** Port name in faucet.yaml (and Gauge's metrics): g1-h1-eth0. */
  faucetName: string;
  container: string;
  group: number;
  host: string;
  ifname: string;
  mac: string;
  address: string | undefined;
  dhcp: boolean;
  vlan: string;
  vid: number;
}

export interface DesiredState {
  lab: string;
  hosts: DesiredHost[];
  ports: DesiredPort[];
  faucet: FaucetModel;
}

export class PlanError extends Error {}

/** Group N's VLANs are N*100+k, so 30 groups stay well below the reserved VLAN 4094. */
export const MAX_GROUPS = 30;

/** Ports 1..49: uplinks and mirrors; 50..99: shared hosts; group N: N*100+1 .. N*100+99. */
export const ofportFor = (group: number, index: number) => (group === 0 ? 49 + index : group * 100 + index);
export const hostEndName = (ofport: number) => `dl${ofport}`;
export const HOST_END_PATTERN = 'dl+';
export const containerName = (key: string) => `dovelab-${key}`;
export const hostKey = (group: number, host: string) => (group === 0 ? host : `g${group}-${host}`);

/** Locally administered unicast MAC, stable for lab/group/host/interface. */
export function stableMac(lab: string, group: number, host: string, ifname: string): string {
  const h = createHash('sha256').update(`${lab}/${group}/${host}/${ifname}`).digest();
  return ['0e', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** VLAN id of a network for a group: literal for shared networks, N*100+k per group. */
function vidFor(t: Topology, network: string, group: number): number {
  const net = t.networks[network];
  if (!net) throw new PlanError(`unknown network ${network}`);
  if (net.shared) {
    if (net.vlan === undefined) throw new PlanError(`networks.${network}: a shared network needs a literal vlan`);
    return net.vlan;
  }
  const perGroup = Object.entries(t.networks).filter(([, n]) => !n.shared).map(([name]) => name);
  return group * 100 + perGroup.indexOf(network) + 1;
}

export function planDesired(t: Topology, s: PlanSettings): DesiredState {
  if (!Number.isInteger(s.groups) || s.groups < 1 || s.groups > MAX_GROUPS) throw new PlanError(`groups: ${s.groups} not in 1..${MAX_GROUPS}`);
  const hosts: DesiredHost[] = [];
  const ports: DesiredPort[] = [];
  const vlans = new Map<string, number>();
  const hostNames = Object.keys(t.hosts);
  // A host whose interfaces are all on shared networks exists once (group 0); others per group.
  const isShared = (h: string) => Object.values(t.hosts[h]!.interfaces).every((i) => t.networks[i.network]?.shared);
  const groupsOf = (h: string) => (isShared(h) ? [0] : Array.from({ length: s.groups }, (_, i) => i + 1));
  const indexIn = new Map<number, number>();
  for (const h of hostNames) {
    const spec = t.hosts[h]!;
    for (const g of groupsOf(h)) {
      const key = hostKey(g, h);
      const container = containerName(key);
      hosts.push({ key, container, group: g, host: h, image: spec.image ?? s.defaultImage, hostname: key });
      for (const [ifname, iface] of Object.entries(spec.interfaces)) {
        const index = (indexIn.get(g) ?? 0) + 1;
        indexIn.set(g, index);
        if (index > 99 || (g === 0 && index > 50)) throw new PlanError(`group ${g}: too many interfaces`);
        const ofport = ofportFor(g, index);
        const net = t.networks[iface.network]!;
        const vlan = net.shared ? iface.network : `g${g}-${iface.network}`;
        const vid = vidFor(t, iface.network, g);
        vlans.set(vlan, vid);
        ports.push({
          ofport, hostEnd: hostEndName(ofport), faucetName: `${key}-${ifname}`, container, group: g, host: h, ifname,
          mac: (iface.mac ?? stableMac(s.lab, g, h, ifname)).toLowerCase(),
          address: iface.ip === 'dhcp' || iface.ip === 'none' ? undefined : iface.ip,
          dhcp: iface.ip === 'dhcp', vlan, vid,
        });
      }
    }
  }
  const seenVid = new Map<number, string>();
  for (const [name, vid] of vlans) {
    const other = seenVid.get(vid);
    if (other) throw new PlanError(`VLAN ${vid} would be used by both ${other} and ${name}`);
    if (vid === IDLE_VLAN.vid) throw new PlanError(`VLAN ${vid} (${name}) is reserved by Dovelab`);
    seenVid.set(vid, name);
  }
  // An explicit MAC is copied into every group; MACs only need to be unique per VLAN (as on a switch).
  const seenMac = new Map<string, string>();
  for (const p of ports) {
    const other = seenMac.get(`${p.vid}/${p.mac}`);
    if (other) throw new PlanError(`MAC ${p.mac} used by both ${other} and ${p.faucetName} in VLAN ${p.vid}`);
    seenMac.set(`${p.vid}/${p.mac}`, p.faucetName);
  }
  const faucet: FaucetModel = {
    dp: {
      name: s.bridge, dpId: s.dpId, description: `Dovelab lab ${s.lab}`,
      interfaces: [...ports.map((p) => ({
        number: p.ofport, name: p.faucetName, description: `${p.host} ${p.ifname} (group ${p.group})`,
        native_vlan: p.vlan, acls_in: [ALLOW_ALL],
      })), { ...IDLE_PORT }],
    },
    vlans: [...[...vlans].map(([name, vid]) => ({ name, vid })), { ...IDLE_VLAN }],
    acls: { [ALLOW_ALL]: allowAll() },
  };
  return { lab: s.lab, hosts, ports, faucet };
}

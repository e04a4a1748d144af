// Topology + groups (+ live overrides) -> desired network state: hosts, ports, uplinks, mirrors,
// VLANs, ACLs and the Faucet DP. Pure.
import { createHash } from 'node:crypto';
import type { Topology } from '../lesson/schema.js';
import type { HostLimits } from './adapters.js';
import { ALLOW_ALL, allowAll, DP_DESCRIPTION, idlePort, IDLE_VLAN, type FaucetAclRule, type FaucetInterface, type FaucetModel } from '../net/faucet/model.js';
import { compileAcl } from './acl.js';
import { effectiveSysctls, splitSysctls } from '../lesson/sysctl.js';
import { planHubs } from './plan-hubs.js';

/** Live changes on top of the lesson, kept with the lab's state on disk. */
export interface LabOverrides {
  /** Port (faucet name, e.g. g1-h2-eth0) -> lesson ACL names; replaces the lesson's `apply`. */
  acls?: Record<string, string[]>;
  /** Mirror name -> ports (faucet names) it copies; replaces the lesson's `from`. */
  mirrors?: Record<string, string[]>;
  /** Ports (faucet names) being captured from the browser -> until when (ISO); see lab/capture.ts. */
  captures?: Record<string, string>;
}

export interface PlanSettings {
  lab: string;
  groups: number;
  bridge: string;
  dpId: number;
  defaultImage: string;
  overrides?: LabOverrides;
  /** The lab's copy of its lesson pack: where `files:` sources are read from. */
  packDir?: string;
  /** Per-host limits: the appliance's default, and the most a lesson may ask for. */
  limits?: { default: HostLimits; max: HostLimits };
  /** Now (ms since the epoch): captures past their end copy nothing. Default: none copy anything. */
  now?: number;
}

/** Used when no limits are given (tests, tools): the appliance config's defaults. */
export const DEFAULT_LIMITS: { default: HostLimits; max: HostLimits } = {
  default: { pids: 256, memory_mb: 256, cpus: 1 },
  max: { pids: 2048, memory_mb: 2048, cpus: 2 },
};

export interface DesiredHost {
  /** g1-h1, or h1 for a host of a shared network only (group 0). */
  key: string;
  container: string;
  group: number;
  host: string;
  image: string;
  hostname: string;
  /** Set when the container is made (namespace-wide: net.ipv4.ip_forward, net.ipv4.conf.all.*, …). */
  sysctl: Record<string, string>;
  /** Interface name -> its sysctls (net.ipv6.conf.eth0.*), set once that interface is wired. */
  ifaceSysctl?: Record<string, Record<string, string>>;
  startup: string | undefined;
  /** Path inside the host -> absolute path of the file in the lab's pack. */
  files: Record<string, string>;
  limits: HostLimits;
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
  gateway: string | undefined;
  dhcp: boolean;
  vlan: string;
  vid: number;
  /** Lesson ACL names applied to what this interface sends. */
  acls: string[];
}

/** A dongle (or any existing interface of the appliance) on the bridge. */
export interface DesiredUplink {
  role: 'uplink' | 'mirror';
  name: string;
  iface: string;
  ofport: number;
  native: string | undefined;
  tagged: string[];
  /** Mirror only: OpenFlow ports whose traffic (both directions) it copies. */
  mirrors: number[];
  /** Whose it is when not the lesson's (a Docker network: 'docker'); recorded on the OVS port. */
  owner?: string;
}

/**
 * A group's capture port: output_only from the lab's start (so adding a source is a warm change),
 * a veth whose other end sits in the agent's own netns, where tcpdump records what it mirrors.
 */
export interface DesiredCapture {
  group: number;
  ofport: number;
  /** OVS port (root netns): dl<ofport>, like the hosts' ends (same hardening and firewall). */
  hostEnd: string;
  /** The end in the agent's capture netns (CAPTURE_NETNS, or `netns`). */
  peer: string;
  faucetName: string;
  /** OpenFlow ports being captured now (both directions copied). */
  mirrors: number[];
  /** Docker networks' mirror port: 'docker' (kept across lessons), in its own netns. */
  owner?: 'docker';
  netns?: string;
}

export interface DesiredState {
  lab: string;
  hosts: DesiredHost[];
  ports: DesiredPort[];
  uplinks: DesiredUplink[];
  /** Absent in states made before captures existed (and in teardown): none. */
  captures?: DesiredCapture[];
  /** Ports of containers on Docker networks of the driver (lab/plan-networks.ts). */
  pluginPorts?: DesiredPluginPort[];
  /** Spare ports of Docker networks that no container holds now: veth pair and OVS port ready (lab/plan-networks.ts). */
  slots?: DesiredSlot[];
  /** Gateway ports of nat/routed Docker networks (lab/plan-gateways.ts); absent: none. */
  gateways?: DesiredGateway[];
  faucet: FaucetModel;
}

/** A container's interface on a Docker network of the driver (lab/plan-networks.ts). */
export interface DesiredPluginPort {
  ofport: number; hostEnd: string; faucetName: string; network: string; endpoint: string; vid: number; vlan: string; acls: string[]; mac: string;
  /** A spare port the container took: the same OVS port (same ids) as while it waited (DesiredSlot). */
  slot?: boolean;
}

/**
 * A spare port of a Docker network waiting for a container: its veth pair made ahead (the host end
 * on the bridge, the peer down in the root netns for Docker to move in), so a container that takes
 * it needs no link, OVS or Faucet change at CreateEndpoint and Join.
 */
export interface DesiredSlot { ofport: number; hostEnd: string; peer: string; network: string; mtu: number }

/** A port published on the appliance's addresses (`docker run -p H:C`), DNATed to a container. */
export interface DesiredPublished {
  proto: 'tcp' | 'udp';
  /** Only this appliance address (`-p IP:H:C`); absent: every address of the appliance. */
  hostIp?: string;
  hostPort: number;
  /** The container's address (no prefix) and port. */
  ip: string;
  port: number;
  endpoint: string;
}

/**
 * A nat/routed network's gateway: a veth pair, `portEnd` on the bridge in the network's VLAN,
 * `addrEnd` in the root netns with the IPAM gateway address; the host routes (and for nat
 * masquerades) what the containers send it.
 */
export interface DesiredGateway {
  network: string;
  mode: 'nat' | 'routed';
  vid: number;
  vlan: string;
  ofport: number;
  /** OVS port (gp<vid>) and the address end (gw<vid>): never dl*, which the lab firewall drops. */
  portEnd: string;
  addrEnd: string;
  /** The IPAM gateway (CIDR) and its subnet (CIDR, network address). */
  address: string;
  subnet: string;
  mac: string;
  mtu: number;
  faucetName: string;
  acls: string[];
  published: DesiredPublished[];
}

/** The agent's own netns for capture ports: nothing else lives there. */
export const CAPTURE_NETNS = 'dovelab-cap';
/** Where `dovelab.mirror=true` copies go when the appliance has no mirror dongle: `tcpdump -i docker-mirror` in it. */
export const DOCKER_MIRROR_NETNS = 'dovelab-mirror';
/** Group N's capture port is its last port number (N*100+99); the shared hosts' is 99. */
export const captureOfport = (group: number) => (group === 0 ? 99 : group * 100 + 99);

export class PlanError extends Error {}

/** Group N's VLANs are N*100+k, so 30 groups stay well below the reserved VLAN 4094. */
export const MAX_GROUPS = 30;

/** Ports 1..49: uplinks and mirrors; 50..98: shared hosts; group N: N*100+1 .. N*100+98 (…99: capture). */
export const ofportFor = (group: number, index: number) => (group === 0 ? 49 + index : group * 100 + index);
export const hostEndName = (ofport: number) => `dl${ofport}`;
export const HOST_END_PATTERN = 'dl+';
export const containerName = (key: string) => `dovelab-${key}`;
export const hostKey = (group: number, host: string) => (group === 0 ? host : `g${group}-${host}`);
/** Faucet's name for a lesson ACL (namespaced so it cannot clash with ours). */
export const faucetAclName = (acl: string) => `lesson-${acl}`;

/** Locally administered unicast MAC, stable for lab/group/host/interface. */
export function stableMac(lab: string, group: number, host: string, ifname: string): string {
  const h = createHash('sha256').update(`${lab}/${group}/${host}/${ifname}`).digest();
  return ['0e', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The host's sysctls over the lesson's defaults (ip_forward 0 unless set), split into those set at creation and per interface. */
function hostSysctls(t: Topology, own: Record<string, number | string> | undefined): Pick<DesiredHost, 'sysctl' | 'ifaceSysctl'> {
  const { atCreate, byInterface } = splitSysctls(effectiveSysctls(t.defaults?.sysctl, own));
  return { sysctl: atCreate, ...(Object.keys(byInterface).length ? { ifaceSysctl: byInterface } : {}) };
}

const perGroupNetworks = (t: Topology) => Object.entries(t.networks).filter(([, n]) => !n.shared).map(([name]) => name);

/** A host whose interfaces are all on shared networks exists once (group 0); others per group. */
export const isSharedHost = (t: Topology, h: string) =>
  !t.hosts[h]?.per_group && Object.values(t.hosts[h]?.interfaces ?? {}).every((i) => t.networks[i.network]?.shared);

/** The container of a lesson host in a group (shared hosts exist once). */
export const containerOf = (t: Topology, host: string, group: number) => containerName(hostKey(isSharedHost(t, host) ? 0 : group, host));

/** Faucet VLAN name and id of a network in a group: literal for shared networks, N*100+k per group. */
export function vlanOf(t: Topology, network: string, group: number): { vlan: string; vid: number } {
  const net = t.networks[network];
  if (!net) throw new PlanError(`unknown network ${network}`);
  if (net.shared) {
    if (net.vlan === undefined) throw new PlanError(`networks.${network}: a shared network needs a literal vlan`);
    return { vlan: network, vid: net.vlan };
  }
  return { vlan: `g${group}-${network}`, vid: group * 100 + perGroupNetworks(t).indexOf(network) + 1 };
}

/** All VLANs a network stands for: one if shared, one per group otherwise. */
const vlansOfNetwork = (t: Topology, network: string, groups: number) =>
  t.networks[network]?.shared ? [vlanOf(t, network, 0)] : Array.from({ length: groups }, (_, i) => vlanOf(t, network, i + 1));

function planHostsAndPorts(t: Topology, s: PlanSettings): { hosts: DesiredHost[]; ports: DesiredPort[] } {
  const hosts: DesiredHost[] = [];
  const ports: DesiredPort[] = [];
  const indexIn = new Map<number, number>();
  for (const [h, spec] of Object.entries(t.hosts)) {
    const groups = isSharedHost(t, h) ? [0] : Array.from({ length: s.groups }, (_, i) => i + 1);
    for (const g of groups) {
      const key = hostKey(g, h);
      const container = containerName(key);
      hosts.push({
        key, container, group: g, host: h, image: spec.image ?? s.defaultImage, hostname: key,
        ...hostSysctls(t, spec.sysctl),
        startup: spec.startup,
        files: Object.fromEntries(Object.entries(spec.files ?? {}).map(([dest, src]) => [dest, `${s.packDir ?? '.'}/${src}`])),
        limits: hostLimits(h, spec.resources, s.limits ?? DEFAULT_LIMITS),
      });
      for (const [ifname, iface] of Object.entries(spec.interfaces)) {
        const index = (indexIn.get(g) ?? 0) + 1;
        indexIn.set(g, index);
        // The last number of each range is the group's capture port.
        if (index > 98 || (g === 0 && index > 49)) throw new PlanError(`group ${g}: more than ${g === 0 ? 49 : 98} interfaces`);
        const ofport = ofportFor(g, index);
        const faucetName = `${key}-${ifname}`;
        ports.push({
          ofport, hostEnd: hostEndName(ofport), faucetName, container, group: g, host: h, ifname,
          mac: (iface.mac ?? stableMac(s.lab, g, h, ifname)).toLowerCase(),
          address: iface.ip === 'dhcp' || iface.ip === 'none' ? undefined : iface.ip,
          gateway: iface.gateway,
          dhcp: iface.ip === 'dhcp',
          ...vlanOf(t, iface.network, g),
          acls: s.overrides?.acls?.[faucetName] ?? t.apply[`${h}.${ifname}`] ?? [],
        });
      }
    }
  }
  return { hosts, ports };
}

/** The appliance's default, raised where the lesson asks for more, never above the maximum. */
function hostLimits(h: string, asked: Topology['hosts'][string]['resources'], l: { default: HostLimits; max: HostLimits }): HostLimits {
  const out = { ...l.default };
  for (const k of ['pids', 'memory_mb', 'cpus'] as const) {
    const want = asked?.[k];
    if (want === undefined) continue;
    if (want > l.max[k]) throw new PlanError(`hosts.${h}.resources.${k}: ${want} is more than this appliance allows (at most ${l.max[k]})`);
    out[k] = Math.max(out[k], want);
  }
  return out;
}

/** Ports of lesson mirror sources (`host` or `host.iface`) in every group. */
export function mirrorSourcePorts(ports: DesiredPort[], from: string[]): DesiredPort[] {
  return ports.filter((p) => from.some((f) => {
    const [host, ifname] = f.split('.');
    return p.host === host && (ifname === undefined || p.ifname === ifname);
  }));
}

function planUplinks(t: Topology, s: PlanSettings, ports: DesiredPort[]): DesiredUplink[] {
  const out: DesiredUplink[] = [];
  let ofport = 1;
  for (const [name, u] of Object.entries(t.uplinks)) {
    if (u.network !== undefined) {
      const vlans = vlansOfNetwork(t, u.network, s.groups);
      if (vlans.length > 1) {
        throw new PlanError(`uplinks.${name}.network: an untagged uplink carries one network, but "${u.network}" is per group ` +
          `(${vlans.length} groups = ${vlans.length} VLANs): make it a trunk (networks: [${u.network}]) or the network shared`);
      }
      out.push({ role: 'uplink', name, iface: u.interface, ofport: ofport++, native: vlans[0]!.vlan, tagged: [], mirrors: [] });
    } else {
      const native = u.native === undefined ? undefined : vlansOfNetwork(t, u.native, s.groups);
      if (native && native.length > 1) throw new PlanError(`uplinks.${name}.native: "${u.native}" is per group; a trunk has one native VLAN`);
      const tagged = (u.networks ?? []).flatMap((n) => vlansOfNetwork(t, n, s.groups).map((v) => v.vlan));
      out.push({ role: 'uplink', name, iface: u.interface, ofport: ofport++, native: native?.[0]?.vlan, tagged, mirrors: [] });
    }
  }
  const byName = new Map(ports.map((p) => [p.faucetName, p]));
  for (const [name, m] of Object.entries(t.mirrors)) {
    const live = s.overrides?.mirrors?.[name];
    const sources = live ? live.map((n) => byName.get(n)).filter((p): p is DesiredPort => !!p) : mirrorSourcePorts(ports, m.from);
    out.push({ role: 'mirror', name, iface: m.interface, ofport: ofport++, native: undefined, tagged: [], mirrors: sources.map((p) => p.ofport).sort((a, b) => a - b) });
  }
  if (ofport > 50) throw new PlanError('more than 49 uplinks and mirrors');
  return out;
}

/** One capture port per group that has hosts; it copies the ports captured now (unexpired). */
function planCaptures(s: PlanSettings, ports: DesiredPort[]): DesiredCapture[] {
  const now = s.now ?? Number.NaN;
  const live = new Set(Object.entries(s.overrides?.captures ?? {}).filter(([, until]) => Date.parse(until) > now).map(([p]) => p));
  const groups = [...new Set(ports.map((p) => p.group))].sort((a, b) => a - b);
  return groups.map((g) => {
    const ofport = captureOfport(g);
    return {
      group: g, ofport, hostEnd: hostEndName(ofport), peer: `cap${ofport}`, faucetName: `dovelab-capture-${g}`,
      mirrors: ports.filter((p) => p.group === g && live.has(p.faucetName)).map((p) => p.ofport).sort((a, b) => a - b),
    };
  });
}

function planFaucet(t: Topology, s: PlanSettings, ports: DesiredPort[], uplinks: DesiredUplink[], captures: DesiredCapture[]): FaucetModel {
  const vlans = new Map<string, number>();
  for (const p of ports) vlans.set(p.vlan, p.vid);
  for (const [n] of Object.entries(t.networks)) for (const v of vlansOfNetwork(t, n, s.groups)) {
    // Networks used only by uplinks still need their VLANs.
    if (uplinks.some((u) => u.native === v.vlan || u.tagged.includes(v.vlan))) vlans.set(v.vlan, v.vid);
  }
  const seenVid = new Map<number, string>();
  for (const [name, vid] of vlans) {
    const other = seenVid.get(vid);
    if (other) throw new PlanError(`VLAN ${vid} would be used by both ${other} and ${name}`);
    if (vid === IDLE_VLAN.vid) throw new PlanError(`VLAN ${vid} (${name}) is reserved by Dovelab`);
    seenVid.set(vid, name);
  }
  const acls: Record<string, FaucetAclRule[]> = { [ALLOW_ALL]: allowAll() };
  // Every lesson ACL is defined from the start, so applying one later only swaps a port's list.
  const used = new Set([...Object.keys(t.acls), ...ports.flatMap((p) => p.acls)]);
  for (const name of used) {
    const rules = t.acls[name];
    if (!rules) throw new PlanError(`ACL "${name}" is not defined in the lesson (known: ${Object.keys(t.acls).join(', ') || 'none'})`);
    acls[faucetAclName(name)] = compileAcl(rules);
  }
  // Hub networks: their ports' lists end in the hub's output rule instead (lab/plan-hubs.ts).
  const hubVlans = new Set(Object.keys(t.networks).filter((n) => t.networks[n]!.kind === 'hub').flatMap((n) => vlansOfNetwork(t, n, s.groups).map((v) => v.vlan)));
  for (const u of uplinks) {
    const on = [u.native, ...u.tagged].find((v) => v !== undefined && hubVlans.has(v));
    if (on) throw new PlanError(`uplinks.${u.name}: ${on} is a hub network (kind: hub), which an uplink cannot carry yet: make it a switch network`);
  }
  const hubs = planHubs(hubVlans, ports, [...uplinks.filter((u) => u.role === 'mirror'), ...captures], t.acls, faucetAclName);
  Object.assign(acls, hubs.acls);
  // Every port carries an ACL list ending in allow, so applying or removing ACLs is a warm swap.
  const interfaces: FaucetInterface[] = [
    ...uplinks.map((u): FaucetInterface => u.role === 'mirror'
      ? { number: u.ofport, name: u.iface, description: `mirror ${u.name}`, output_only: true, mirror: u.mirrors }
      : { number: u.ofport, name: u.iface, description: `uplink ${u.name}`, native_vlan: u.native, tagged_vlans: u.tagged, acls_in: [ALLOW_ALL] }),
    ...ports.map((p): FaucetInterface => ({
      number: p.ofport, name: p.faucetName, description: `${p.host} ${p.ifname}${p.group ? ` (group ${p.group})` : ''}`,
      native_vlan: p.vlan, acls_in: hubs.aclsIn.get(p.ofport) ?? [...p.acls.map(faucetAclName), ALLOW_ALL],
    })),
    ...captures.map((c): FaucetInterface => ({
      number: c.ofport, name: c.faucetName, description: `capture${c.group ? ` (group ${c.group})` : ' (shared hosts)'}`, output_only: true, mirror: c.mirrors,
    })),
    idlePort(),
  ];
  return {
    dp: { name: s.bridge, dpId: s.dpId, description: DP_DESCRIPTION, interfaces },
    vlans: [...[...vlans].map(([name, vid]) => ({ name, vid })), { ...IDLE_VLAN }],
    acls,
  };
}

export function planDesired(t: Topology, s: PlanSettings): DesiredState {
  if (!Number.isInteger(s.groups) || s.groups < 1 || s.groups > MAX_GROUPS) throw new PlanError(`groups: ${s.groups} not in 1..${MAX_GROUPS}`);
  const { hosts, ports } = planHostsAndPorts(t, s);
  // An explicit MAC is copied into every group; MACs only need to be unique per VLAN (as on a switch).
  const seenMac = new Map<string, string>();
  for (const p of ports) {
    const other = seenMac.get(`${p.vid}/${p.mac}`);
    if (other) throw new PlanError(`MAC ${p.mac} used by both ${other} and ${p.faucetName} in VLAN ${p.vid}`);
    seenMac.set(`${p.vid}/${p.mac}`, p.faucetName);
  }
  const uplinks = planUplinks(t, s, ports);
  const captures = planCaptures(s, ports);
  return { lab: s.lab, hosts, ports, uplinks, captures, faucet: planFaucet(t, s, ports, uplinks, captures) };
}

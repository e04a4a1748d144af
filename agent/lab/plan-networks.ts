// Docker networks of the driver (`docker network create -d dovelab`) on the appliance's one bridge
// and one Faucet DP, beside the lesson's: a network is a VLAN, its containers' interfaces are
// ports, its bridged-in interfaces are uplinks. Pure: the networks' state -> additions to the
// desired state, with every clash (VLAN, port number, interface) a clear error.
import type { AclRule } from '../lesson/schema.js';
import { ALLOW_ALL, EGRESS_ALLOW, egressAllow, IDLE_VLAN, type FaucetInterface, type FaucetVlan } from '../net/faucet/model.js';
import { BUILTIN_ACLS, compileApplianceAcls } from './appliance-acls.js';
import { DOCKER_MIRROR_NETNS, hostEndName, PlanError, type DesiredCapture, type DesiredGateway, type DesiredPluginPort, type DesiredSlot, type DesiredState, type DesiredUplink } from './desired.js';
import { checkPublished, gatewayInterface, planGateway, type PublishedPort } from './plan-gateways.js';

/** Endpoint ports of driver networks: 4001.. (lesson ports end at 3099, uplinks at 49). */
export const PLUGIN_OFPORT_FIRST = 4001;
export const PLUGIN_OFPORT_LAST = 8999;

export interface NetworkUplink { iface: string; ofport?: number; acls: string[]; vlan?: number }

/** A driver network as recorded when it was made (options already checked). */
export interface PluginNetwork {
  id: string;
  /** Docker's name for it, once known (Docker does not send it with CreateNetwork). */
  name?: string;
  vid: number;
  mode: 'flat' | 'nat' | 'routed';
  dhcp: boolean;
  mtu: number;
  tagged: boolean;
  uplinks: NetworkUplink[];
  defaultAcls: string[];
  /** IPAM gateway (CIDR) Docker gave the network, if any. */
  gateway?: string;
  /** nat/routed: the gateway port's ACLs (nat_acl) and MAC (ovs_local_mac; absent: one from the id). */
  natAcls?: string[];
  gatewayMac?: string;
  /** ovs.bridge.vlan_out_acl: ACLs of frames leaving the network's ports (the VLAN's egress ACLs). */
  vlanOutAcls?: string[];
  /** The options as given (for `docker network inspect`-free restores and for people). */
  options: Record<string, string>;
  createdAt: string;
  /**
   * Spare ports: numbers Faucet's config already has as ports of this network (its VLAN, its
   * default ACLs), with no OVS port and no container. A container without ACL or mirror labels of
   * its own takes one at CreateEndpoint, so its Join changes nothing in Faucet's config (no reload).
   */
  spares?: number[];
  /** How many spares the network keeps (ovs.bridge.preallocate_ports; absent: none). */
  pool?: number;
}

export interface PluginEndpoint {
  id: string;
  network: string;
  ofport: number;
  /** Root-netns end (the OVS port) and the end Docker moves into the container. */
  hostEnd: string;
  peer: string;
  mac: string;
  address?: string;
  acls: string[];
  /** Copied to a mirror: true for the appliance's mirror dongle, or a mirror's name (a lesson mirror or a mirror dongle). */
  mirror?: string | true;
  /** Where acls/mirror came from: the container's labels, or a change from the console/CLI. */
  policy?: 'labels' | 'console';
  /** On the bridge (Join done) or only made (CreateEndpoint). */
  joined: boolean;
  /** Its port number was one of the network's spares: Faucet knows the port by its number (slotName), not by the endpoint. */
  slot?: boolean;
  /** Ports published on the appliance's addresses (`-p`, nat/routed), from Join; cleared at Leave. */
  published?: PublishedPort[];
  container?: string;
  /** The container's netns (Join's SandboxKey), its interface there, and its DHCP client. */
  sandbox?: string;
  ifname?: string;
  dhcpPid?: number;
}

export interface PluginState { networks: PluginNetwork[]; endpoints: PluginEndpoint[] }

export const emptyPluginState = (): PluginState => ({ networks: [], endpoints: [] });

/** Faucet's VLAN name of a driver network. */
// By id: the name is learnt only at the first Join, and renaming a VLAN would be a cold start.
export const networkVlanName = (n: PluginNetwork) => `docker-${n.id.slice(0, 12)}`;
/** The OVS port of an endpoint, and the end Docker renames to eth0, eth1 … */
export const endpointLinks = (ofport: number) => ({ hostEnd: hostEndName(ofport), peer: `dp${ofport}` });


/** VLAN ids the lesson (or anything else in `desired`) already uses. */
export const usedVids = (desired: DesiredState) => new Set(desired.faucet.vlans.map((v) => v.vid));

/**
 * The VLAN for a new network: the one asked for if free; else (none asked) 100 (Dovesnap's
 * default) if free, else the lowest free from 3100 up (lesson groups use N*100+k up to 3099),
 * then below 100, then anything free.
 */
export function chooseVid(asked: number | undefined, taken: Set<number>, option = 'dovelab.vlan'): number {
  if (asked !== undefined) {
    if (asked === IDLE_VLAN.vid) throw new PlanError(`${option}: VLAN ${asked} is reserved by Dovelab`);
    if (taken.has(asked)) throw new PlanError(`${option}: VLAN ${asked} is already used by another network on this appliance (a network is a VLAN; choose another)`);
    return asked;
  }
  const ranges: [number, number][] = [[100, 100], [3100, 4093], [2, 99], [101, 3099]];
  for (const [lo, hi] of ranges) for (let v = lo; v <= hi; v++) if (!taken.has(v)) return v;
  throw new PlanError('no free VLAN left on this appliance');
}

/** The lowest endpoint port number not in use. */
export function freeOfport(state: PluginState, desired: DesiredState): number {
  return freeOfports(state, desired, 1)[0]!;
}

/** The `count` lowest endpoint port numbers not in use (endpoints, spares, anything in `desired`). */
export function freeOfports(state: PluginState, desired: DesiredState, count: number): number[] {
  const used = new Set([...state.endpoints.map((e) => e.ofport), ...state.networks.flatMap((n) => n.spares ?? []),
    ...desired.faucet.dp.interfaces.map((i) => i.number)]);
  const out: number[] = [];
  for (let p = PLUGIN_OFPORT_FIRST; p <= PLUGIN_OFPORT_LAST && out.length < count; p++) if (!used.has(p)) out.push(p);
  if (out.length < count) throw new PlanError('no free port numbers left for containers');
  return out;
}

/** Faucet's name of a spare port, kept when a container takes it (a rename would be a change). */
export const slotName = (ofport: number) => `docker-port-${ofport}`;

/**
 * Whether joining (or leaving) changes nothing on the switch or in the firewall: the endpoint holds a
 * spare (its OVS port and Faucet port are there whether joined or not), copies to no mirror (a
 * mirror lists joined ports only) and publishes no ports (its network's firewall), now or before.
 */
export const slotInPlace = (ep: PluginEndpoint, published: readonly unknown[] = []) =>
  !!ep.slot && !ep.mirror && !published.length && !ep.published?.length;

/** Whether an endpoint with these ACLs and mirror may take a spare of `n` (its port is then exactly the spare). */
export const fitsSpare = (n: PluginNetwork, acls: string[], mirror: unknown) =>
  !mirror && JSON.stringify(acls) === JSON.stringify(n.defaultAcls);

/** `state` with `n`'s lowest spare taken out, and its number; undefined when it has none. */
export function takeSpare(state: PluginState, network: string): { state: PluginState; ofport: number } | undefined {
  const n = state.networks.find((x) => x.id === network);
  const spares = [...(n?.spares ?? [])].sort((a, b) => a - b);
  if (!n || !spares.length) return undefined;
  const [ofport, ...rest] = spares as [number, ...number[]];
  return { ofport, state: { ...state, networks: state.networks.map((x) => (x === n ? { ...n, spares: rest } : x)) } };
}

/** `state` with `ofport` (a slot endpoint's number, the endpoint gone) back among its network's spares. */
export function returnSpare(state: PluginState, network: string, ofport: number): PluginState {
  return { ...state, networks: state.networks.map((n) => (n.id === network && !(n.spares ?? []).includes(ofport) ? { ...n, spares: [...(n.spares ?? []), ofport].sort((a, b) => a - b) } : n)) };
}

/** How many spares each network lacks (its pool minus what it has); empty when none lacks any. */
export function sparesMissing(state: PluginState): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of state.networks) {
    const lack = (n.pool ?? 0) - (n.spares ?? []).length;
    if (lack > 0) out.set(n.id, lack);
  }
  return out;
}

/** `state` with every network's spares topped up to its pool (free numbers from `desired`); undefined when none lacks any. */
export function refillSpares(state: PluginState, desired: DesiredState): PluginState | undefined {
  const missing = sparesMissing(state);
  if (!missing.size) return undefined;
  const total = [...missing.values()].reduce((a, b) => a + b, 0);
  const free = freeOfports(state, desired, total);
  return { ...state, networks: state.networks.map((n) => {
    const k = missing.get(n.id);
    return k ? { ...n, spares: [...(n.spares ?? []), ...free.splice(0, k)].sort((a, b) => a - b) } : n;
  }) };
}

/** What the networks are planned against besides their own state: the appliance's ACLs and mirror dongles. */
export interface NetworkEnv {
  /** ACL name -> rules (built-ins and the appliance's ACL file). */
  acls: Record<string, AclRule[]>;
  /** Interfaces with the role mirror, in the appliance config's order (the first is `true`'s). */
  mirrorDongles: string[];
}

/**
 * `desired` (a lesson's, or the idle appliance's) plus the driver networks: their VLANs, their
 * joined endpoints as ports, their bridged-in interfaces as uplinks, their ACLs and mirrors.
 * Throws PlanError on a clash or on an ACL or mirror the appliance does not have.
 */
export function withNetworks(desired: DesiredState, state: PluginState, env: NetworkEnv = { acls: BUILTIN_ACLS, mirrorDongles: [] }): DesiredState {
  if (!state.networks.length) return { ...desired, pluginPorts: [], slots: [] };
  const faucet = structuredClone(desired.faucet);
  const vids = new Map(faucet.vlans.map((v) => [v.vid, v.name]));
  const numbers = new Map(faucet.dp.interfaces.map((i) => [i.number, i.name]));
  const ifaces = new Map(desired.uplinks.map((u) => [u.iface, `${u.role} ${u.name}`]));
  const take = (n: number, who: string) => {
    const other = numbers.get(n);
    if (other !== undefined) throw new PlanError(`${who}: port number ${n} is already used by ${other}`);
    numbers.set(n, who);
  };
  const uplinks: DesiredUplink[] = [...desired.uplinks];
  const trunks = new Map<string, { iface: string; ofport?: number; native?: string; tagged: string[]; acls: string[]; names: string[]; ids: string[] }>();
  const ports: DesiredPluginPort[] = [];
  const slots: DesiredSlot[] = [];
  const slot = (n: PluginNetwork, ofport: number): DesiredSlot => ({ ofport, ...endpointLinks(ofport), network: n.id, mtu: n.mtu });
  const interfaces: FaucetInterface[] = [];
  const gateways: DesiredGateway[] = [];
  for (const n of state.networks) {
    const vlan = networkVlanName(n);
    const clash = vids.get(n.vid);
    if (clash !== undefined) throw new PlanError(`network ${n.name ?? n.id}: VLAN ${n.vid} is already used by ${clash}`);
    vids.set(n.vid, `network ${n.name ?? n.id.slice(0, 12)}`);
    // Faucet's text names networks by id: Docker tells the name only later, and a changed text is a reload.
    faucet.vlans.push({
      name: vlan, vid: n.vid, description: `docker network ${n.id.slice(0, 12)}`,
      // Ends in allow like every port's list: changing the ACLs before it stays a warm swap.
      ...(n.vlanOutAcls?.length ? { acls_out: [...n.vlanOutAcls.map(pluginAclName), EGRESS_ALLOW] } : {}),
    });
    const gw = planGateway(n, vlan, state.endpoints);
    if (gw) {
      take(gw.ofport, gw.faucetName);
      gateways.push(gw);
      interfaces.push(gatewayInterface(gw, pluginAclName, `docker network ${n.id.slice(0, 12)}`));
    }
    for (const p of n.spares ?? []) {
      take(p, `spare port ${p} of network ${n.name ?? n.id.slice(0, 12)}`);
      interfaces.push(slotInterface(n, p, n.defaultAcls));
      slots.push(slot(n, p));
    }
    for (const u of n.uplinks) {
      const other = ifaces.get(u.iface);
      if (other) throw new PlanError(`network ${n.name ?? n.id}: interface ${u.iface} is already used by ${other}`);
      // A per-port VLAN (add_ports' 4th field) is its own VLAN on that port only.
      let native: string | undefined = n.tagged ? undefined : vlan;
      if (u.vlan !== undefined && u.vlan !== n.vid) {
        const name = `${vlan}-${u.iface}`;
        if (vids.has(u.vlan)) throw new PlanError(`network ${n.name ?? n.id}: ${u.iface}'s VLAN ${u.vlan} is already used by ${vids.get(u.vlan)}`);
        vids.set(u.vlan, `${u.iface} of network ${n.name ?? n.id.slice(0, 12)}`);
        faucet.vlans.push({ name, vid: u.vlan, description: `${u.iface} of docker network ${n.name ?? n.id.slice(0, 12)}` });
        native = name;
      }
      // Several networks may share a trunk: one port, their VLANs tagged, at most one untagged.
      const trunk = trunks.get(u.iface);
      const who = `network ${n.name ?? n.id.slice(0, 12)}`;
      if (!trunk) {
        trunks.set(u.iface, { iface: u.iface, ofport: u.ofport, native, tagged: native === undefined ? [vlan] : [], acls: [...u.acls], names: [who], ids: [n.id.slice(0, 12)] });
        continue;
      }
      if (native !== undefined && trunk.native !== undefined) throw new PlanError(`${who}: ${u.iface} already carries ${trunk.names.join(', ')} untagged; only one network may (make them tagged: dovelab.tagged=true)`);
      if (u.ofport !== undefined && trunk.ofport !== undefined && u.ofport !== trunk.ofport) throw new PlanError(`${who}: ${u.iface} is at port ${trunk.ofport} for ${trunk.names.join(', ')}, not ${u.ofport}`);
      trunk.ofport ??= u.ofport;
      if (native !== undefined) trunk.native = native; else trunk.tagged.push(vlan);
      trunk.acls.push(...u.acls.filter((a) => !trunk.acls.includes(a)));
      trunk.names.push(who);
      trunk.ids.push(n.id.slice(0, 12));
    }
  }
  // Numbers asked for first; the others from 49 down, away from the lesson's (1 up), so a lesson
  // coming or going does not renumber them.
  const ordered = [...trunks.values()].sort((a, b) => Number(a.ofport === undefined) - Number(b.ofport === undefined));
  for (const t of ordered) {
    let ofport = t.ofport;
    if (ofport === undefined) {
      ofport = 49;
      while (ofport > 0 && numbers.has(ofport)) ofport--;
      if (ofport === 0) throw new PlanError(`${t.names[0]}: no free port number for ${t.iface} in 1..49`);
    }
    take(ofport, `uplink ${t.iface}`);
    // Named after the interface, so a network joining or leaving a trunk does not remake the port.
    uplinks.push({ role: 'uplink', name: `docker-${t.iface}`, iface: t.iface, ofport, native: t.native, tagged: t.tagged, mirrors: [], owner: 'docker' });
    interfaces.push({ number: ofport, name: t.iface, description: `uplink of docker network ${t.ids.join(', ')}`, native_vlan: t.native, tagged_vlans: t.tagged, acls_in: [...t.acls.map(pluginAclName), ALLOW_ALL] });
  }
  for (const e of state.endpoints) {
    const n = state.networks.find((x) => x.id === e.network);
    if (!n) continue;
    // A spare taken keeps its Faucet port from CreateEndpoint to DeleteEndpoint, joined or not.
    if (!e.joined && !e.slot) continue;
    const vlan = networkVlanName(n);
    const faucetName = e.slot ? slotName(e.ofport) : `docker-${e.id.slice(0, 12)}`;
    take(e.ofport, faucetName);
    if (e.joined) ports.push({ ofport: e.ofport, hostEnd: e.hostEnd, faucetName, network: n.id, endpoint: e.id, vid: n.vid, vlan, acls: e.acls, mac: e.mac, ...(e.slot ? { slot: true } : {}) });
    // Taken, not joined (yet, or any more): its veth waits beside the bridge as a spare's does.
    else slots.push(slot(n, e.ofport));
    interfaces.push(e.slot ? slotInterface(n, e.ofport, e.acls)
      : { number: e.ofport, name: faucetName, description: `${e.container ?? 'container'} on ${n.name ?? n.id.slice(0, 12)}`, native_vlan: vlan, acls_in: [...e.acls.map(pluginAclName), ALLOW_ALL] });
  }
  faucet.dp.interfaces.push(...interfaces);
  faucet.acls = { ...faucet.acls, ...networkAcls(state, env, interfaces, faucet.vlans) };
  if (faucet.vlans.some((v) => v.acls_out?.length)) faucet.acls[EGRESS_ALLOW] = egressAllow();
  const dockerMirror = mirrorEndpoints(state, env, ports, uplinks, faucet.dp.interfaces, numbers);
  checkPublished(gateways);
  return {
    ...desired, uplinks, faucet, pluginPorts: ports, slots, gateways,
    ...(dockerMirror ? { captures: [...(desired.captures ?? []), dockerMirror] } : {}),
  };
}

/** Faucet definitions of the appliance ACLs the networks' ports use; an unknown one is a PlanError. */
function networkAcls(state: PluginState, env: NetworkEnv, interfaces: FaucetInterface[], vlans: FaucetVlan[]) {
  const used = new Set<string>();
  for (const a of [...interfaces.flatMap((i) => i.acls_in ?? []), ...vlans.flatMap((v) => v.acls_out ?? [])]) {
    if (a.startsWith(APPLIANCE_PREFIX)) used.add(a.slice(APPLIANCE_PREFIX.length));
  }
  for (const a of used) {
    if (!env.acls[a]) {
      const who = state.endpoints.find((e) => e.acls.includes(a))?.container ?? state.networks.find((n) => n.defaultAcls.includes(a) || (n.vlanOutAcls ?? []).includes(a) || n.uplinks.some((u) => u.acls.includes(a)))?.name;
      throw new PlanError(`ACL ${a}${who ? ` (used by ${who})` : ''} is not one of the appliance's (known: ${Object.keys(env.acls).sort().join(', ')})`);
    }
  }
  return Object.fromEntries(Object.entries(compileApplianceAcls(env.acls, used)).map(([k, v]) => [pluginAclName(k), v]));
}

/** The Docker networks' mirror port when the appliance has no mirror dongle (Faucet's name, and its end's in DOCKER_MIRROR_NETNS). */
export const DOCKER_MIRROR = 'docker-mirror';

/** The highest port number in 1..49 not taken (the networks' own uplinks and mirrors count down from 49). */
function freeLowPort(numbers: Map<number, string>, who: string, what: string): number {
  let ofport = 49;
  while (ofport > 0 && numbers.has(ofport)) ofport--;
  if (ofport === 0) throw new PlanError(`dovelab.mirror of ${who}: no free port number for ${what} in 1..49`);
  numbers.set(ofport, `mirror ${what}`);
  return ofport;
}

/**
 * Endpoints with a mirror: their ports join the mirror's list. `true` is the appliance's first mirror
 * dongle, or, with none, the networks' mirror port (a veth into DOCKER_MIRROR_NETNS, for tcpdump
 * there); a name is a lesson mirror or a mirror dongle. A dongle no lesson mirror uses becomes the
 * networks' own output-only port (numbered from 49 down, like their uplinks). Returns the mirror
 * port when one is wanted.
 */
function mirrorEndpoints(state: PluginState, env: NetworkEnv, ports: DesiredPluginPort[], uplinks: DesiredUplink[], interfaces: FaucetInterface[], numbers: Map<number, string>): DesiredCapture | undefined {
  let dockerMirror: DesiredCapture | undefined;
  for (const p of ports) {
    const e = state.endpoints.find((x) => x.id === p.endpoint);
    if (!e?.mirror) continue;
    const who = e.container ?? `endpoint ${e.id.slice(0, 12)}`;
    const wanted = e.mirror === true ? env.mirrorDongles[0] ?? DOCKER_MIRROR : e.mirror;
    if (wanted === DOCKER_MIRROR && !env.mirrorDongles.includes(wanted)) {
      if (!dockerMirror) {
        const ofport = freeLowPort(numbers, who, DOCKER_MIRROR);
        dockerMirror = { group: 0, owner: 'docker', netns: DOCKER_MIRROR_NETNS, ofport, hostEnd: hostEndName(ofport), peer: DOCKER_MIRROR, faucetName: DOCKER_MIRROR, mirrors: [] };
      }
      dockerMirror.mirrors = [...new Set([...dockerMirror.mirrors, p.ofport])].sort((a, b) => a - b);
      continue;
    }
    let m = uplinks.find((u) => u.role === 'mirror' && (u.name === wanted || u.iface === wanted));
    if (!m) {
      if (!env.mirrorDongles.includes(wanted)) {
        const names = [...uplinks.filter((u) => u.role === 'mirror').map((u) => u.name), ...env.mirrorDongles, ...(env.mirrorDongles.length ? [] : [DOCKER_MIRROR])];
        throw new PlanError(`dovelab.mirror of ${who}: no mirror named ${wanted} (mirrors here: ${[...new Set(names)].join(', ') || 'none'})`);
      }
      const other = uplinks.find((u) => u.iface === wanted);
      if (other) throw new PlanError(`dovelab.mirror of ${who}: ${wanted} is used as ${other.role} ${other.name}`);
      const ofport = freeLowPort(numbers, who, wanted);
      m = { role: 'mirror', name: `docker-${wanted}`, iface: wanted, ofport, native: undefined, tagged: [], mirrors: [], owner: 'docker' };
      uplinks.push(m);
      interfaces.push({ number: ofport, name: wanted, description: 'mirror of Docker networks', output_only: true, mirror: [] });
    } else {
      // Lesson mirrors come with the desired state: copy before changing.
      const i = uplinks.indexOf(m);
      m = { ...m, mirrors: [...m.mirrors] };
      uplinks[i] = m;
    }
    m.mirrors = [...new Set([...m.mirrors, p.ofport])].sort((a, b) => a - b);
  }
  // The Faucet side of every mirror whose list changed.
  for (const u of uplinks) {
    if (u.role !== 'mirror') continue;
    const i = interfaces.find((x) => x.number === u.ofport);
    if (i) i.mirror = u.mirrors;
  }
  if (dockerMirror) {
    interfaces.push({ number: dockerMirror.ofport, name: DOCKER_MIRROR, description: `mirror of Docker networks (tcpdump -i ${DOCKER_MIRROR} in netns ${DOCKER_MIRROR_NETNS})`, output_only: true, mirror: dockerMirror.mirrors });
  }
  return dockerMirror;
}

/** A spare port (or a container's port that was one): the same text whoever holds it, so taking it is no change for Faucet. */
const slotInterface = (n: PluginNetwork, ofport: number, acls: string[]): FaucetInterface => ({
  number: ofport, name: slotName(ofport), description: `port of docker network ${n.id.slice(0, 12)}`,
  native_vlan: networkVlanName(n), acls_in: [...acls.map(pluginAclName), ALLOW_ALL],
});

const APPLIANCE_PREFIX = 'appliance-';

/** Faucet's name of an appliance ACL used by driver networks (namespaced like lesson ACLs). */
export const pluginAclName = (acl: string) => `${APPLIANCE_PREFIX}${acl}`;

/** `dovelab status` lines for the Docker networks: VLAN, uplinks, containers and their leases. Pure. */
export function formatDockerNetworks(st: PluginState, leases: Record<string, { ip: string; hostname: string } | undefined>): string {
  if (!st.networks.length) return '';
  const out = ['docker networks (driver dovelab):'];
  for (const n of st.networks) {
    const ups = n.uplinks.map((u) => `${u.iface}${u.vlan !== undefined ? ` (vlan ${u.vlan})` : ''}`).join(', ');
    // nat/routed: the appliance is the network's gateway (flat networks have none of ours).
    const gw = n.mode !== 'flat' && n.gateway ? `  gateway ${n.gateway}` : '';
    out.push(`  ${n.name ?? n.id.slice(0, 12)}  vlan ${n.vid}  ${n.mode}${n.dhcp ? ', dhcp' : ''}${n.tagged ? ', tagged' : ''}${gw}${ups ? `  uplinks: ${ups}` : ''}`);
    for (const e of st.endpoints.filter((x) => x.network === n.id)) {
      const lease = leases[e.id];
      const published = (e.published ?? []).map((p) => `${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}->${p.port}/${p.proto}`).join(', ');
      out.push(`    ${(e.container ?? `endpoint ${e.id.slice(0, 12)}`).padEnd(20)} ${e.ifname ?? ''.padEnd(0)} ${e.mac}  ofport ${e.ofport}${e.joined ? '' : ' (not joined)'}` +
        (lease ? `  lease ${lease.ip} (${lease.hostname})` : n.dhcp && e.joined ? '  no lease yet' : '') + (published ? `  published ${published}` : ''));
    }
  }
  return out.join('\n');
}

// Docker network driver (issue 9): the `-o` options of `docker network create -d dovelab|dovesnap`
// and the container labels, parsed and checked. Pure: no I/O, nothing decided about which
// interfaces or VLANs are free (the caller does that with the appliance's facts).
//
// Two spellings for each thing: ours (dovelab.*) and Dovesnap's (ovs.bridge.*, dovesnap.faucet.*),
// so Dovesnap's command lines run unchanged. Dovesnap's semantics and defaults are kept (Go's
// ParseBool words, mode flat|nat|routed, VLAN 100 first, MTU 1500, the `net:value/other` form,
// add_ports as `if[/ofport[/acl[/vlan]]]`), with one deliberate difference: where Dovesnap falls
// back to a default on a bad number or reads a bad boolean as false, this throws a
// NetworkOptionError naming the option and the value. Nothing is ever a silent default.
//
// Every value that leaves this module is checked against a narrow form (ACL names from the known
// set, Linux interface names, mirror names, MACs, numbers), and the Faucet emitter escapes what
// it writes, so option values never reach faucet.yaml unescaped.
import { IDLE_VLAN } from '../net/faucet/model.js';

/** A bad option or label; `option` is its key (the message starts with it too). */
export class NetworkOptionError extends Error {
  constructor(readonly option: string, detail: string) {
    super(`${option}: ${detail}`);
    this.name = 'NetworkOptionError';
  }
}

export type NetworkMode = 'flat' | 'nat' | 'routed';
export const NETWORK_MODES: readonly NetworkMode[] = ['flat', 'nat', 'routed'];

/** Dovesnap's defaults (ovs_config.go): VLAN 100 is only where the caller starts looking for a free one. */
export const DEFAULT_VLAN = 100;
export const DEFAULT_MTU = 1500;
export const MTU_RANGE = [68, 9216] as const;
/** OpenFlow port numbers a port may ask for (Faucet's range: 0xff00 and up are reserved). */
export const OFPORT_RANGE = [1, 0xfeff] as const;
/** More preallocated ports than this is a typo, not a plan. */
export const MAX_PREALLOCATE = 4096;

/** A value as shown in a message: quoted (control characters escaped), long ones cut. */
const q = (v: string) => JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);

// ---------------------------------------------------------------------------------------------
// Small parsers, each throwing NetworkOptionError(option, …)

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Go's strconv.ParseBool, exactly: 1 t T TRUE true True / 0 f F FALSE false False; anything else (also '') throws. */
export function parseGoBool(option: string, value: string): boolean {
  if (GO_TRUE.includes(value)) return true;
  if (GO_FALSE.includes(value)) return false;
  throw new NetworkOptionError(option, `${q(value)} is not a boolean (true/false, 1/0, t/f, TRUE/FALSE, True/False)`);
}

/** Go's ParseUint(s, 10, …) digits (no sign, no spaces, no '_'), then a range. */
function parseUintIn(option: string, value: string, what: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new NetworkOptionError(option, `${q(value)} is not ${what} (${min}..${max})`);
  return n;
}

/** A VLAN id: 1..4094, but not Dovelab's idle VLAN (4094), which is in the bridge's Faucet config already. */
function parseVlan(option: string, value: string): number {
  const vid = parseUintIn(option, value, 'a VLAN', 1, 4094);
  if (vid === IDLE_VLAN.vid) throw new NetworkOptionError(option, `${q(value)}: VLAN ${vid} is reserved by Dovelab (its idle VLAN); use 1..4093`);
  return vid;
}

/**
 * Why `name` is not a Linux interface name, or undefined. The kernel's rule (dev_valid_name):
 * 1..15 bytes, not '.' or '..', no '/', ':' or whitespace. Also refused here: control characters,
 * and a leading '-', which tools like ovs-vsctl or ip would read as an option.
 */
export function badIfname(name: string): string | undefined {
  const rule = "1..15 bytes; no '/', ':', whitespace or control characters; not '.', '..' or starting with '-'";
  if (name === '') return `an empty interface name (${rule})`;
  if (new TextEncoder().encode(name).length > 15) return `${q(name)} is too long for an interface name (${rule})`;
  if (name === '.' || name === '..' || name.startsWith('-') || /[/:\s\p{Cc}]/u.test(name)) {
    return `${q(name)} is not a Linux interface name (${rule})`;
  }
  return undefined;
}

function checkIfname(option: string, name: string): string {
  const why = badIfname(name);
  if (why) throw new NetworkOptionError(option, why);
  return name;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A unicast, nonzero MAC written as six ':'-separated hex bytes; returned lowercase. */
function parseUnicastMac(option: string, value: string): string {
  if (!MAC.test(value)) throw new NetworkOptionError(option, `${q(value)} is not a MAC (six hex bytes, e.g. 0e:01:00:00:00:23)`);
  const mac = value.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new NetworkOptionError(option, `${q(value)} is a multicast MAC; an interface needs a unicast one (first byte even)`);
  if (mac === '00:00:00:00:00:00') throw new NetworkOptionError(option, `${q(value)} is the all-zero MAC`);
  return mac;
}

/** OpenFlow datapath id: '0x' + 1..16 hex digits, nonzero (Dovesnap fails on 0 too). */
function parseDpid(option: string, value: string): bigint {
  if (!/^0[xX][0-9a-fA-F]{1,16}$/.test(value)) throw new NetworkOptionError(option, `${q(value)} is not a datapath id (0x and 1..16 hex digits, e.g. 0x1)`);
  const id = BigInt(value);
  if (id === 0n) throw new NetworkOptionError(option, `${q(value)}: a datapath id must not be zero`);
  return id;
}

const HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

/** OpenFlow controllers: a comma list of tcp:host:port (or ssl:host:port). */
function parseControllers(option: string, value: string): string[] {
  return value.split(',').map((c) => {
    const m = /^(tcp|ssl):(.+):([0-9]+)$/.exec(c);
    const port = m ? Number(m[3]) : NaN;
    if (!m || !HOST.test(m[2]!) || !(port >= 1 && port <= 65535)) {
      throw new NetworkOptionError(option, `${q(c)} is not a controller (tcp:host:port, e.g. tcp:127.0.0.1:6653)`);
    }
    return c;
  });
}

/** A mirror name in a label: a lesson mirror or a dongle name. */
const MIRROR_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

// ---------------------------------------------------------------------------------------------
// Dovesnap's per-network form: `default/net1:value1/net2:value2`

/**
 * Dovesnap's getStrForNetwork, exactly: split `value` on '/'; an item without ':' sets the
 * default, an item `net:val` sets the value when `net` is `network`; later items win; '' if
 * nothing applies. (Dovesnap skips items with two ':' or more; parsers here refuse them first.)
 */
export function forNetwork(value: string, network: string | undefined): string {
  let out = '';
  for (const item of value.split('/')) {
    const pair = item.split(':');
    if (pair.length === 1) out = pair[0]!;
    else if (pair.length === 2 && network !== undefined && pair[0] === network) out = pair[1]!;
  }
  return out;
}

/**
 * Checks every item of a network-form value (also those for other networks), each value with
 * `check`, then resolves it for `network`. An item with more than one ':' or an empty network
 * name is refused (Dovesnap would skip it without a word).
 */
function resolveNetForm(option: string, value: string, network: string | undefined, check: (v: string) => void): string {
  for (const item of value.split('/')) {
    const pair = item.split(':');
    if (pair.length > 2 || (pair.length === 2 && pair[0] === '')) {
      throw new NetworkOptionError(option, `${q(item)} is neither a value nor network:value (in ${q(value)})`);
    }
    check(pair[pair.length - 1]!);
  }
  return forNetwork(value, network);
}

/** A comma list of ACL names, each in `known`; '' is none. Duplicates are dropped. */
function parseAclList(option: string, value: string, known: readonly string[]): string[] {
  if (value === '') return [];
  const out: string[] = [];
  for (const acl of value.split(',')) {
    if (!known.includes(acl)) {
      const list = known.length ? `known: ${[...known].sort().join(', ')}` : 'no ACLs are defined';
      throw new NetworkOptionError(option, `${acl === '' ? 'an empty ACL name' : `unknown ACL ${q(acl)}`} in ${q(value)} (${list})`);
    }
    if (!out.includes(acl)) out.push(acl);
  }
  return out;
}

/** ACLs in the network form (`acl[,acl]` or `net:acl[,acl]/…`), every item checked, resolved for `network`. */
function parseNetAcls(option: string, value: string, network: string | undefined, known: readonly string[]): string[] {
  const v = resolveNetForm(option, value, network, (item) => parseAclList(option, item, known));
  return parseAclList(option, v, known);
}

// ---------------------------------------------------------------------------------------------
// add_ports / dovelab.uplink

/** An interface bridged into the network. */
export interface UplinkPort {
  iface: string;
  /** OpenFlow port asked for; undefined: any free one (Dovesnap: absent, '' or 0). */
  ofport?: number;
  /** ACLs on what comes in from it (the third field, network form, resolved). */
  acls: string[];
  /** The port's own VLAN instead of the network's (the fourth field). */
  vlan?: number;
}

/**
 * Dovesnap's add_ports: a comma list of `if[/ofport[/acl[/vlan]]]`. Empty ofport and ACL fields
 * are allowed ('odstest1/1//20', 'if///20'); ofport 0 means "any" as in Dovesnap (a plain
 * add-port); the ACL field is network form (`if/1/testnet:denyall`). '' is no ports.
 * ACL names must be in `acls`. An interface or an OpenFlow port given twice is an error.
 */
export function parseAddPorts(option: string, value: string, network: string | undefined, acls: readonly string[]): UplinkPort[] {
  if (value === '') return [];
  const ports: UplinkPort[] = [];
  for (const item of value.split(',')) {
    const f = item.split('/');
    if (f.length > 4) throw new NetworkOptionError(option, `${q(item)} has more than 4 fields (if[/ofport[/acl[/vlan]]])`);
    const [iface, ofportText = '', aclText = '', vlanText = ''] = f as [string, ...string[]];
    const why = badIfname(iface);
    if (why) throw new NetworkOptionError(option, `${q(item)}: ${why}`);
    const port: UplinkPort = { iface, acls: [] };
    // Dovesnap: '' or 0 asks for no particular port (a plain add-port).
    if (ofportText !== '' && ofportText !== '0') {
      port.ofport = parseUintIn(option, ofportText, 'an OpenFlow port', OFPORT_RANGE[0], OFPORT_RANGE[1]);
    }
    if (aclText !== '') port.acls = parseNetAcls(option, aclText, network, acls);
    if (vlanText !== '') port.vlan = parseVlan(option, vlanText);
    if (ports.some((p) => p.iface === iface)) throw new NetworkOptionError(option, `interface ${iface} is given twice`);
    const same = port.ofport !== undefined && ports.find((p) => p.ofport === port.ofport);
    if (same) throw new NetworkOptionError(option, `${iface} and ${same.iface} both ask for OpenFlow port ${port.ofport}`);
    ports.push(port);
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------
// Network options

export interface NetworkOptions {
  /** The network's VLAN (the wire VLAN on tagged uplinks); undefined: the caller picks a free one (100 first). */
  vlan?: number;
  mode: NetworkMode;
  /** Addresses from the real network's DHCP server (flat, internal, no IPAM: checked here). */
  dhcp: boolean;
  /** For every veth of the network, not only the bridge. */
  mtu: number;
  /** From dovelab.uplink and/or ovs.bridge.add_ports (merged). */
  uplinks: UplinkPort[];
  /** The uplinks carry this network tagged. */
  tagged: boolean;
  /** Ports without an ACL label. */
  defaultAcls: string[];
  /** The gateway port's ACLs (nat and routed). */
  natAcls: string[];
  /** ACLs on what leaves the network's VLAN (Faucet egress pipeline). */
  vlanOutAcls: string[];
  preallocatePorts: number;
  /** MAC of the network's gateway port (ovs_local_mac), nat and routed. */
  macForGateway?: string;
  /** Accepted-but-differs notes, each starting with its option. */
  warnings: string[];
}

export interface NetworkOptionsContext {
  /** The Docker network's name (the form `net:value`); CreateNetwork does not carry it, so it may be unknown. */
  network?: string;
  /** The appliance's one OVS bridge, its dp_id and its controllers: Dovesnap's per-network ones are compared to these. */
  bridge: string;
  dpId: number;
  controllers: string[];
  /** Known ACL names. */
  acls: string[];
  /** `--internal` was given. */
  internal: boolean;
  /** The network has IP config (an IPAM pool/gateway): false with `--ipam-driver null`. */
  hasIpam: boolean;
}

/** Ours and Dovesnap's name of each option both know. */
const PAIRED = {
  vlan: ['dovelab.vlan', 'ovs.bridge.vlan'],
  uplink: ['dovelab.uplink', 'ovs.bridge.add_ports'],
  dhcp: ['dovelab.dhcp', 'ovs.bridge.dhcp'],
  mode: ['dovelab.mode', 'ovs.bridge.mode'],
  defaultAcl: ['dovelab.default_acl', 'ovs.bridge.default_acl'],
  mtu: ['dovelab.mtu', 'ovs.bridge.mtu'],
} as const;

/**
 * Options only one side has. What is done with each of Dovesnap's own:
 * - nat_acl: honoured (the gateway port's ACLs); vlan_out_acl: honoured (the VLAN's egress ACLs), warning: a cold start when Faucet's egress pipeline goes on or off.
 * - preallocate_ports: the network's spare Faucet ports (joins without a reload); the shared bridge numbers them itself (warning when > 0).
 * - ovs_local_mac: honoured as the gateway port's MAC (warning in flat mode: there is none).
 * - userspace: warning when true: the shared bridge keeps the kernel datapath; switching is the same.
 * - lbport: warning: mirrors go to the mirror dongle or the agent's capture port, not a loopback patch.
 * - dpid, controller, name: checked, warning when they differ from the appliance's bridge.
 * - mirror_tunnel_vid: warning: it only matters with Dovesnap's stack mirroring, which we do not do
 *   (Dovesnap ignores it without that too).
 * - bind_interface: warning: Dovesnap stores it and never uses it.
 * - add_copro_ports: ERROR when non-empty: a coprocessor port (Faucet `coprocessor: vlan_vid`)
 *   carries traffic the user relies on, and ignoring it would leave that interface off the
 *   network; we cannot build it.
 */
const SINGLE = [
  'dovelab.tagged',
  'ovs.bridge.vlan_out_acl', 'ovs.bridge.nat_acl', 'ovs.bridge.preallocate_ports', 'ovs.bridge.lbport',
  'ovs.bridge.ovs_local_mac', 'ovs.bridge.userspace', 'ovs.bridge.dpid', 'ovs.bridge.controller',
  'ovs.bridge.name', 'ovs.bridge.mirror_tunnel_vid', 'ovs.bridge.bind_interface', 'ovs.bridge.add_copro_ports',
] as const;

export const KNOWN_NETWORK_OPTIONS: readonly string[] = [...Object.values(PAIRED).flat(), ...SINGLE];

/**
 * The `-o` options of a network (Docker's `com.docker.network.generic` map), checked and with
 * defaults. Throws NetworkOptionError for an unknown key, a value that is not a string, a bad
 * value, our name and Dovesnap's for the same thing disagreeing, or a combination Dovesnap
 * refuses (DHCP) or that cannot work (nat/routed without IP config).
 */
export function parseNetworkOptions(generic: Record<string, unknown>, ctx: NetworkOptionsContext): NetworkOptions {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(generic)) {
    if (!KNOWN_NETWORK_OPTIONS.includes(key)) {
      throw new NetworkOptionError(key, `unknown option (known: ${KNOWN_NETWORK_OPTIONS.join(', ')})`);
    }
    if (typeof value !== 'string') throw new NetworkOptionError(key, `expected a string value, got ${value === null ? 'null' : typeof value}`);
    raw[key] = value;
  }
  const has = (key: string) => Object.hasOwn(raw, key);
  const warnings: string[] = [];

  /**
   * The value of a paired option: each given name parsed (unset: undefined), the two compared.
   * Returns the value and the name it came from (for later messages).
   */
  function paired<T>(names: readonly [string, string], parse: (option: string, value: string) => T | undefined, same: (a: T, b: T) => boolean = (a, b) => a === b): { value?: T; option: string } {
    const [ours, theirs] = names;
    const a = has(ours) ? parse(ours, raw[ours]!) : undefined;
    const b = has(theirs) ? parse(theirs, raw[theirs]!) : undefined;
    if (a !== undefined && b !== undefined && !same(a, b)) {
      throw new NetworkOptionError(ours, `${q(raw[ours]!)} disagrees with ${theirs}=${q(raw[theirs]!)}: give one of them`);
    }
    if (a !== undefined) return { value: a, option: ours };
    if (b !== undefined) return { value: b, option: theirs };
    return { option: has(ours) || !has(theirs) ? ours : theirs };
  }
  const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

  const vlan = paired(PAIRED.vlan, parseVlan);
  const mode = paired(PAIRED.mode, (option, v): NetworkMode | undefined => {
    if (v === '') return undefined; // Dovesnap: '' is the default
    if (!(NETWORK_MODES as readonly string[]).includes(v)) throw new NetworkOptionError(option, `${q(v)} is not a valid mode (flat, nat or routed)`);
    return v as NetworkMode;
  });
  const dhcp = paired(PAIRED.dhcp, parseGoBool);
  const mtu = paired(PAIRED.mtu, (o, v) => parseUintIn(o, v, 'an MTU', MTU_RANGE[0], MTU_RANGE[1]));
  const defaultAcls = paired(PAIRED.defaultAcl, (o, v) => parseNetAcls(o, v, ctx.network, ctx.acls), sameList);
  const tagged = has('dovelab.tagged') ? parseGoBool('dovelab.tagged', raw['dovelab.tagged']!) : false;

  // Uplinks: the two lists merged; an interface in both must say the same in both.
  const [upOurs, upTheirs] = PAIRED.uplink;
  const ours = has(upOurs) ? parseAddPorts(upOurs, raw[upOurs]!, ctx.network, ctx.acls) : [];
  const theirs = has(upTheirs) ? parseAddPorts(upTheirs, raw[upTheirs]!, ctx.network, ctx.acls) : [];
  const uplinks = [...ours];
  for (const p of theirs) {
    const o = ours.find((u) => u.iface === p.iface);
    if (!o) {
      const clash = p.ofport !== undefined && ours.find((u) => u.ofport === p.ofport);
      if (clash) throw new NetworkOptionError(upOurs, `${clash.iface} and ${upTheirs}'s ${p.iface} both ask for OpenFlow port ${p.ofport}`);
      uplinks.push(p);
    } else if (o.ofport !== p.ofport || o.vlan !== p.vlan || !sameList(o.acls, p.acls)) {
      throw new NetworkOptionError(upOurs, `${p.iface} is given differently in ${upOurs}=${q(raw[upOurs]!)} and ${upTheirs}=${q(raw[upTheirs]!)}`);
    }
  }
  if (tagged) {
    const perPort = uplinks.find((u) => u.vlan !== undefined);
    if (perPort) throw new NetworkOptionError('dovelab.tagged', `the uplinks carry the network's VLAN tagged, but ${perPort.iface} asks for its own VLAN ${perPort.vlan}`);
    if (uplinks.length === 0) warnings.push('dovelab.tagged: no uplinks (dovelab.uplink or ovs.bridge.add_ports): nothing carries the network tagged');
  }

  const opt = (key: (typeof SINGLE)[number]) => (has(key) ? raw[key]! : undefined);
  const modeValue = mode.value ?? 'flat';
  const gatewayPort = modeValue !== 'flat';

  const natAclText = opt('ovs.bridge.nat_acl');
  const natAcls = natAclText === undefined ? [] : parseNetAcls('ovs.bridge.nat_acl', natAclText, ctx.network, ctx.acls);
  if (natAcls.length && !gatewayPort) warnings.push('ovs.bridge.nat_acl: no effect in flat mode: the network has no gateway port');
  const vlanOutText = opt('ovs.bridge.vlan_out_acl');
  const vlanOutAcls = vlanOutText === undefined ? [] : parseNetAcls('ovs.bridge.vlan_out_acl', vlanOutText, ctx.network, ctx.acls);
  // Faucet's egress pipeline is a cold change of the one DP every lab shares: applied, and said.
  if (vlanOutAcls.length) warnings.push(`ovs.bridge.vlan_out_acl: ${vlanOutAcls.join(',')} on frames leaving the network's ports; Faucet's egress pipeline goes on while a network has one (and off after the last): each time the switch restarts its flows, and every lab's traffic stops for 1-2 s`);

  const preText = opt('ovs.bridge.preallocate_ports');
  const preallocatePorts = preText === undefined ? 0 : parseUintIn('ovs.bridge.preallocate_ports', preText, 'a number of ports', 0, MAX_PREALLOCATE);
  if (preallocatePorts > 0) {
    warnings.push(`ovs.bridge.preallocate_ports: ${preallocatePorts} spare ports kept in Faucet's config for containers to join without a reload; the shared bridge ${ctx.bridge} numbers them itself (not Dovesnap's lowest free port upwards)`);
  }

  const localMacText = opt('ovs.bridge.ovs_local_mac');
  const macForGateway = localMacText === undefined || localMacText === '' ? undefined : parseUnicastMac('ovs.bridge.ovs_local_mac', localMacText);
  if (macForGateway && !gatewayPort) warnings.push('ovs.bridge.ovs_local_mac: no effect in flat mode: the network has no gateway port');

  const userspace = opt('ovs.bridge.userspace');
  if (userspace !== undefined && parseGoBool('ovs.bridge.userspace', userspace)) {
    warnings.push(`ovs.bridge.userspace: the shared bridge ${ctx.bridge} keeps the kernel datapath (no datapath_type=netdev, no ethtool tx off in containers)`);
  }

  const lbport = opt('ovs.bridge.lbport');
  if (lbport !== undefined) {
    const n = parseUintIn('ovs.bridge.lbport', lbport, 'an OpenFlow port', OFPORT_RANGE[0], OFPORT_RANGE[1]);
    warnings.push(`ovs.bridge.lbport: ${n} is not used: mirrored traffic goes to the mirror dongle or the agent's capture port, not a loopback patch port`);
  }

  const dpid = opt('ovs.bridge.dpid');
  if (dpid !== undefined) {
    const id = parseDpid('ovs.bridge.dpid', dpid);
    if (id !== BigInt(ctx.dpId)) {
      warnings.push(`ovs.bridge.dpid: ${dpid} is not used: the appliance uses one bridge (${ctx.bridge}) for all networks, with dp_id 0x${ctx.dpId.toString(16)}`);
    }
  }

  const controller = opt('ovs.bridge.controller');
  if (controller !== undefined && controller !== '') {
    const list = parseControllers('ovs.bridge.controller', controller);
    const norm = (l: readonly string[]) => [...new Set(l)].sort().join(',');
    if (norm(list) !== norm(ctx.controllers)) {
      warnings.push(`ovs.bridge.controller: ${q(controller)} is not used: the appliance's bridge ${ctx.bridge} is controlled by ${ctx.controllers.join(',') || '(none)'}`);
    }
  }

  const name = opt('ovs.bridge.name');
  if (name !== undefined && name !== '') {
    checkIfname('ovs.bridge.name', name);
    if (name !== ctx.bridge) warnings.push(`ovs.bridge.name: ${q(name)} is not used: the appliance's bridge is ${ctx.bridge}`);
  }

  const tunnel = opt('ovs.bridge.mirror_tunnel_vid');
  if (tunnel !== undefined) {
    parseUintIn('ovs.bridge.mirror_tunnel_vid', tunnel, 'a VLAN', 1, 4094);
    warnings.push('ovs.bridge.mirror_tunnel_vid: not used: it only matters with Dovesnap\'s stack mirroring');
  }

  const bind = opt('ovs.bridge.bind_interface');
  if (bind !== undefined && bind !== '') {
    checkIfname('ovs.bridge.bind_interface', bind);
    warnings.push('ovs.bridge.bind_interface: not used (Dovesnap stores it and does not use it either)');
  }

  const copro = opt('ovs.bridge.add_copro_ports');
  if (copro !== undefined && copro !== '') {
    parseAddPorts('ovs.bridge.add_copro_ports', copro, ctx.network, ctx.acls);
    throw new NetworkOptionError('ovs.bridge.add_copro_ports', 'coprocessor ports are not supported: the interfaces would not be on the network (use ovs.bridge.add_ports or dovelab.uplink for plain ports)');
  }

  // Dovesnap's DHCP rules, in its order, with its words.
  if (dhcp.value) {
    if (modeValue !== 'flat') throw new NetworkOptionError(dhcp.option, 'network must be flat when DHCP in use');
    if (ctx.hasIpam) throw new NetworkOptionError(dhcp.option, 'network must not have IP config when DHCP in use');
    if (!ctx.internal) throw new NetworkOptionError(dhcp.option, 'network must be internal when DHCP in use');
  }
  if (gatewayPort && !ctx.hasIpam) {
    throw new NetworkOptionError(mode.option, `${modeValue} needs the network's IP config for its gateway (not --ipam-driver null)`);
  }

  const out: NetworkOptions = {
    mode: modeValue,
    dhcp: dhcp.value ?? false,
    mtu: mtu.value ?? DEFAULT_MTU,
    uplinks,
    tagged,
    defaultAcls: defaultAcls.value ?? [],
    natAcls,
    vlanOutAcls,
    preallocatePorts,
    warnings,
  };
  if (vlan.value !== undefined) out.vlan = vlan.value;
  if (macForGateway !== undefined) out.macForGateway = macForGateway;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Container labels

export interface EndpointLabels {
  /** The port's ACLs; undefined: the network's default ACLs. */
  acls?: string[];
  /** Mirror this port: true (the default mirror: the mirror dongle, or the agent's capture port) or a named mirror. */
  mirror?: string | true;
  /** 1..5 bytes, lowercase, ':'-separated (e.g. 0e:99), for every interface of the container on this network. */
  macPrefix?: string;
}

const LABELS = {
  acl: ['dovelab.acl', 'dovesnap.faucet.portacl'],
  mirror: ['dovelab.mirror', 'dovesnap.faucet.mirror'],
  macPrefix: ['dovelab.mac_prefix', 'dovesnap.faucet.mac_prefix'],
} as const;
const KNOWN_LABELS: readonly string[] = Object.values(LABELS).flat();

/** A MAC prefix: 1..5 hex bytes, either 'aabb' or 'aa:bb'; returned as 'aa:bb'. */
function parseMacPrefix(option: string, value: string): string {
  if (!/^([0-9a-f]{2}){1,5}$/i.test(value) && !/^[0-9a-f]{2}(:[0-9a-f]{2}){0,4}$/i.test(value)) {
    throw new NetworkOptionError(option, `${q(value)} is not a MAC prefix (1..5 hex bytes, e.g. 0e:99)`);
  }
  const prefix = (value.replaceAll(':', '').toLowerCase().match(/../g) ?? []).join(':');
  if (parseInt(prefix.slice(0, 2), 16) & 1) throw new NetworkOptionError(option, `${q(value)} would make multicast MACs (the first byte must be even)`);
  return prefix;
}

/** A mirror value: a Go boolean (true: mirror, false: none) or a mirror name; '' is none. */
function parseMirror(option: string, value: string): string | true | undefined {
  if (value === '') return undefined;
  if (GO_TRUE.includes(value)) return true;
  if (GO_FALSE.includes(value)) return undefined;
  if (!MIRROR_NAME.test(value)) throw new NetworkOptionError(option, `${q(value)} is neither a boolean nor a mirror name (letters, digits, _ . -; at most 15)`);
  return value;
}

/**
 * A container's labels for its interface on `network`: ACLs (dovelab.acl / dovesnap.faucet.portacl),
 * mirroring (dovelab.mirror / dovesnap.faucet.mirror), MAC prefix (dovelab.mac_prefix /
 * dovesnap.faucet.mac_prefix). ACL and mirror values take the network form (Dovesnap's; ours too,
 * harmlessly), the MAC prefix does not. Ours and Dovesnap's disagreeing is an error. Other labels
 * are ignored (the dovelab.* namespace holds Dovelab's own bookkeeping labels), except an unknown
 * dovesnap.faucet.* label, which is an error (most likely a typo that would drop an ACL).
 */
export function parseEndpointLabels(labels: Record<string, string>, network: string | undefined, acls: readonly string[]): EndpointLabels {
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith('dovesnap.faucet.') && !KNOWN_LABELS.includes(key)) {
      throw new NetworkOptionError(key, `unknown label (known: ${KNOWN_LABELS.filter((k) => k.startsWith('dovesnap.')).join(', ')})`);
    }
    if (KNOWN_LABELS.includes(key) && typeof value !== 'string') throw new NetworkOptionError(key, 'expected a string value');
  }
  const has = (k: string) => Object.hasOwn(labels, k);
  function paired<T>(names: readonly [string, string], parse: (option: string, value: string) => T | undefined, same: (a: T, b: T) => boolean = (a, b) => a === b): T | undefined {
    const [ours, theirs] = names;
    const a = has(ours) ? parse(ours, labels[ours]!) : undefined;
    const b = has(theirs) ? parse(theirs, labels[theirs]!) : undefined;
    if (a !== undefined && b !== undefined && !same(a, b)) {
      throw new NetworkOptionError(ours, `${q(labels[ours]!)} disagrees with ${theirs}=${q(labels[theirs]!)}: give one of them`);
    }
    return a ?? b;
  }

  const aclList = paired(LABELS.acl, (o, v) => {
    const list = parseNetAcls(o, v, network, acls);
    return list.length ? list : undefined;
  }, (a, b) => a.length === b.length && a.every((x, i) => x === b[i]));
  const mirror = paired(LABELS.mirror, (o, v) => parseMirror(o, resolveNetForm(o, v, network, (item) => void parseMirror(o, item))));
  const macPrefix = paired(LABELS.macPrefix, parseMacPrefix);

  const out: EndpointLabels = {};
  if (aclList !== undefined) out.acls = aclList;
  if (mirror !== undefined) out.mirror = mirror;
  if (macPrefix !== undefined) out.macPrefix = macPrefix;
  return out;
}

/**
 * Overwrites the leading bytes of `mac` with `prefix` (1..5 bytes, 'aa:bb' or 'aabb'), as
 * Dovesnap's mustPrefixMAC. Throws NetworkOptionError ('mac_prefix') for a bad MAC or prefix, or
 * when the result is not a valid unicast MAC.
 */
export function applyMacPrefix(mac: string, prefix: string): string {
  if (!MAC.test(mac)) throw new NetworkOptionError('mac_prefix', `${q(mac)} is not a MAC (six hex bytes)`);
  const p = parseMacPrefix('mac_prefix', prefix).split(':');
  const bytes = mac.toLowerCase().split(':');
  bytes.splice(0, p.length, ...p);
  return parseUnicastMac('mac_prefix', bytes.join(':'));
}

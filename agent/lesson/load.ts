// Reads and validates a lesson topology file; errors name the file, the path and the reason.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { aclProblems } from '../lab/acl.js';
import { TopologySchema, type Topology } from './schema.js';

/** One thing wrong: a dotted path inside the document and what is wrong and expected there. */
export type Problem = { path: string; message: string };

export class LessonError extends Error {
  constructor(readonly file: string, readonly problems: Problem[]) {
    super(problems.map((p) => `${file}: ${p.path || '(top)'}: ${p.message}`).join('\n'));
  }
}

export function lessonFile(path: string): string {
  return statSync(path).isDirectory() ? join(path, 'lesson.yaml') : path;
}

export function parseTopology(text: string, file: string): Topology {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    throw new LessonError(file, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? '' })));
  }
  const parsed = TopologySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new LessonError(file, zodProblems(parsed.error.issues));
  }
  const problems = crossCheck(parsed.data);
  if (problems.length) throw new LessonError(file, problems);
  return parsed.data;
}

interface ZodIssueLike { path: PropertyKey[]; message: string; code?: string; issues?: ZodIssueLike[] }

/** zod issues -> path + reason; a bad record key reports why the key is bad. */
export function zodProblems(issues: readonly ZodIssueLike[]): Problem[] {
  return issues.map((i) => {
    const inner = i.code === 'invalid_key' ? i.issues?.[0]?.message : undefined;
    return { path: i.path.map(String).join('.'), message: inner ?? i.message };
  });
}

/** Dotted quad -> 32-bit number; undefined if not an IPv4 address. */
function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((v, p) => v * 256 + Number(p), 0);
}
const sameSubnet = (a: number, b: number, prefix: number) => Math.floor(a / 2 ** (32 - prefix)) === Math.floor(b / 2 ** (32 - prefix));
const quad = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
const known = (names: string[]) => `known: ${names.join(', ') || 'none'}`;

/**
 * Rules that span fields (references, clashes, prerequisites). Returns every problem found, in
 * document order; an empty list means the topology can be planned (group-count rules aside:
 * an untagged uplink of a per-group network with groups > 1 is the planner's to refuse).
 */
export function crossCheck(t: Topology): Problem[] {
  const out: Problem[] = [];
  const say = (path: string, message: string) => out.push({ path, message });
  const networkNames = Object.keys(t.networks);
  const hostNames = Object.keys(t.hosts);
  const isNetwork = (n: string) => Object.hasOwn(t.networks, n);
  const unknownNetwork = (n: string) => `unknown network "${n}" (${known(networkNames)})`;

  // Networks: a shared network has its own literal VLAN; per-group ones get N*100+k.
  const perGroup = Object.entries(t.networks).filter(([, n]) => !n.shared).map(([n]) => n);
  const vids = new Map<number, string>();
  for (const [n, net] of Object.entries(t.networks)) {
    const at = `networks.${n}.vlan`;
    if (!net.shared) {
      if (net.vlan !== undefined) say(at, 'vlan is only for shared networks; per-group networks get N*100+k (add shared: true, or drop vlan)');
      continue;
    }
    if (net.vlan === undefined) { say(at, 'a shared network needs a vlan (1..4093): one VLAN id for all groups and on uplinks'); continue; }
    if (net.vlan >= 4094) { say(at, `VLAN ${net.vlan} is reserved (shared networks use 1..4093)`); continue; }
    const other = vids.get(net.vlan);
    if (other) say(at, `VLAN ${net.vlan} is already used by network "${other}"`);
    else vids.set(net.vlan, n);
    const k = net.vlan - 100;
    if (k >= 1 && k <= perGroup.length) {
      say(at, `VLAN ${net.vlan} is group 1's VLAN of per-group network "${perGroup[k - 1]}" (per-group networks get N*100+k): pick another`);
    }
  }

  // Hosts: network references; per network, explicit MACs and static addresses are unique.
  const macs = new Map<string, string>();
  const addrs = new Map<string, string>();
  for (const [h, host] of Object.entries(t.hosts)) {
    let gatewayOf: string | undefined;
    for (const [i, iface] of Object.entries(host.interfaces)) {
      const at = `hosts.${h}.interfaces.${i}`;
      if (!isNetwork(iface.network)) say(`${at}.network`, unknownNetwork(iface.network));
      if (iface.mac !== undefined) {
        const mac = iface.mac.toLowerCase();
        const other = macs.get(`${iface.network}/${mac}`);
        if (parseInt(mac.slice(0, 2), 16) % 2 === 1) say(`${at}.mac`, `${mac} is a multicast MAC (first octet odd): an interface needs a unicast one, e.g. 0e:00:00:00:01:02`);
        else if (mac === '00:00:00:00:00:00') say(`${at}.mac`, '00:00:00:00:00:00 is not a usable interface MAC');
        else if (other) say(`${at}.mac`, `MAC ${mac} is already used by ${other} on network "${iface.network}"`);
        else macs.set(`${iface.network}/${mac}`, `${h}.${i}`);
      }
      let own: { addr: number; prefix: number } | undefined;
      if (iface.ip !== 'dhcp' && iface.ip !== 'none') {
        const [a, p] = iface.ip.split('/');
        own = { addr: ipv4(a!)!, prefix: Number(p) };
        const other = addrs.get(`${iface.network}/${a}`);
        if (other) say(`${at}.ip`, `${a} is already the address of ${other} on network "${iface.network}"`);
        else addrs.set(`${iface.network}/${a}`, `${h}.${i}`);
      }
      if (iface.gateway !== undefined) {
        const gw = ipv4(iface.gateway);
        const subnet = own && `${quad(Math.floor(own.addr / 2 ** (32 - own.prefix)) * 2 ** (32 - own.prefix))}/${own.prefix}`;
        if (!own) say(`${at}.gateway`, `a gateway needs a static ip, but this interface has ip: ${iface.ip}${iface.ip === 'dhcp' ? ' (DHCP brings its own default route)' : ''}`);
        else if (gw === undefined) say(`${at}.gateway`, `expected an IPv4 address (four numbers 0..255), got ${iface.gateway}`);
        else if (gw === own.addr) say(`${at}.gateway`, `${iface.gateway} is this interface's own address: the gateway is another host (a router) in ${subnet}`);
        else if (!sameSubnet(gw, own.addr, own.prefix)) say(`${at}.gateway`, `${iface.gateway} is outside ${subnet}, this interface's subnet: a gateway must be reachable on it`);
        else if (gatewayOf) say(`${at}.gateway`, `${h} already has its default route via ${gatewayOf}: a host has one gateway`);
        else gatewayOf = `${i} (${iface.gateway})`;
      }
    }
  }
  const interfacesOf = (h: string) => Object.keys(t.hosts[h]!.interfaces);
  /** host or host.interface: why it names nothing, or undefined if it does. */
  const badPort = (ref: string, interfaceRequired: boolean): string | undefined => {
    const dot = ref.indexOf('.');
    const h = dot < 0 ? ref : ref.slice(0, dot);
    if (dot < 0 && interfaceRequired) return `expected host.interface, e.g. ${hostNames[0] ?? 'h1'}.eth0`;
    if (!Object.hasOwn(t.hosts, h)) return `unknown host "${h}" (${known(hostNames)})`;
    const i = ref.slice(dot + 1);
    if (dot >= 0 && !Object.hasOwn(t.hosts[h]!.interfaces, i)) return `host "${h}" has no interface "${i}" (it has: ${interfacesOf(h).join(', ') || 'none'})`;
    return undefined;
  };

  // Uplinks and mirrors: one role per appliance interface; networks exist; native only on trunks.
  const dongles = new Map<string, string>();
  const claim = (path: string, iface: string, owner: string) => {
    const other = dongles.get(iface);
    if (other) say(path, `interface ${iface} is already used by ${other}: one uplink or mirror per interface`);
    else dongles.set(iface, owner);
  };
  for (const [u, up] of Object.entries(t.uplinks)) {
    const at = `uplinks.${u}`;
    claim(`${at}.interface`, up.interface, `uplink "${u}"`);
    if (up.network !== undefined && !isNetwork(up.network)) say(`${at}.network`, unknownNetwork(up.network));
    const seen = new Set<string>();
    (up.networks ?? []).forEach((n, k) => {
      if (!isNetwork(n)) say(`${at}.networks.${k}`, unknownNetwork(n));
      else if (seen.has(n)) say(`${at}.networks.${k}`, `network "${n}" is listed twice`);
      seen.add(n);
    });
    if (up.native !== undefined) {
      if (up.networks === undefined) say(`${at}.native`, 'native is only for trunks (networks: [...]); an access uplink (network) is untagged already');
      else if (!isNetwork(up.native)) say(`${at}.native`, unknownNetwork(up.native));
      else if (up.networks.includes(up.native)) say(`${at}.native`, `network "${up.native}" is also listed in networks: on one uplink a network is either tagged or native (untagged)`);
    }
  }
  for (const [m, mirror] of Object.entries(t.mirrors)) {
    const at = `mirrors.${m}`;
    claim(`${at}.interface`, mirror.interface, `mirror "${m}"`);
    mirror.from.forEach((ref, k) => {
      const why = badPort(ref, false);
      if (why) { say(`${at}.from.${k}`, why); return; }
      const j = mirror.from.findIndex((r, jj) => jj < k && (r === ref || r.split('.')[0] === ref || ref.split('.')[0] === r));
      if (j >= 0) say(`${at}.from.${k}`, mirror.from[j] === ref ? `listed twice (also entry ${j})` : `overlaps entry ${j} (${mirror.from[j]}): list a host, or some of its interfaces, not both`);
    });
  }

  // ACLs: reserved names, matches a switch can take; apply names existing ports and ACLs.
  for (const [a, rules] of Object.entries(t.acls)) {
    if (a.startsWith('dovelab')) say(`acls.${a}`, 'ACL names starting with "dovelab" are reserved for Dovelab\'s own ACLs');
    for (const p of aclProblems(rules)) say(`acls.${a}.${p.index}.match.${p.field}`, p.message);
  }
  const aclNames = Object.keys(t.acls);
  for (const [key, names] of Object.entries(t.apply)) {
    const why = badPort(key, true);
    if (why) say(`apply.${key}`, why);
    names.forEach((n, k) => {
      if (!Object.hasOwn(t.acls, n)) say(`apply.${key}.${k}`, `unknown ACL "${n}" (${known(aclNames)})`);
      else if (names.indexOf(n) < k) say(`apply.${key}.${k}`, `ACL "${n}" is listed twice`);
    });
  }
  return out;
}

export function loadTopology(path: string): Topology {
  const file = lessonFile(path);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new LessonError(file, [{ path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseTopology(text, file);
}

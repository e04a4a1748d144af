// Health: the Pi firmware's throttling word decoded (real values 0x50005, 0x0, 0x80008), the
// warning thresholds each side of their edge, the readers on Pi 4 and Pi 5 fixture trees
// (test/fixtures/sysfs-health) and on a stand-in vcgencmd, and the console's HealthView.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  THRESHOLDS, decodeThrottled, healthWarnings, parseThrottled, readHardwareHealth, readMemory, readThrottled, throttledFile,
  type HardwareHealth,
} from '../../agent/hardware/health.js';
import { readHealth } from '../../agent/web/health.js';

const FIX = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/sysfs-health');
const NONE = { underVoltage: false, frequencyCapped: false, throttled: false, softTempLimit: false };
const CALM: Omit<HardwareHealth, 'load' | 'cpus'> = {
  memory: { totalMb: 3796, availableMb: 2100 }, disk: { usedFraction: 0.42, freeMb: 17_000, path: '/var/lib/dovelab' }, cpuTempC: 55.1,
  throttled: decodeThrottled(0, 'vcgencmd'),
};
const codes = (h: Omit<HardwareHealth, 'load' | 'cpus'>) => healthWarnings(h).map((w) => w.code);

test('throttled word: 0x50005 under-voltage and throttled now and earlier; 0x0 nothing; 0x80008 soft temperature limit', () => {
  const uv = decodeThrottled(0x50005, 'vcgencmd');
  assert.is(uv.raw, '0x50005');
  assert.equal(uv.now, { underVoltage: true, frequencyCapped: false, throttled: true, softTempLimit: false });
  assert.equal(uv.occurred, { underVoltage: true, frequencyCapped: false, throttled: true, softTempLimit: false });
  const ok = decodeThrottled(0x0, 'sysfs');
  assert.equal([ok.raw, ok.now, ok.occurred], ['0x0', NONE, NONE]);
  const soft = decodeThrottled(0x80008, 'sysfs');
  assert.equal(soft.now, { ...NONE, softTempLimit: true });
  assert.equal(soft.occurred, { ...NONE, softTempLimit: true });
  assert.equal(decodeThrottled(0x20000, 'sysfs').occurred, { ...NONE, frequencyCapped: true });
  assert.equal(decodeThrottled(0x20000, 'sysfs').now, NONE);
});

test('throttled text: vcgencmd and sysfs forms; anything else refused', () => {
  assert.is(parseThrottled('throttled=0x50005\n'), 0x50005);
  assert.is(parseThrottled('50005\n'), 0x50005);
  assert.is(parseThrottled('throttled=0x0'), 0);
  assert.is(parseThrottled('80008'), 0x80008);
  assert.throws(() => parseThrottled('VCHI initialization failed'), /not a get_throttled value: "VCHI initialization failed"/);
  assert.throws(() => parseThrottled(''), /not a get_throttled value/);
});

test('warnings: each threshold on both sides of its edge', () => {
  assert.equal(codes(CALM), [], 'a calm Pi raises nothing');
  assert.equal(codes({ ...CALM, cpuTempC: THRESHOLDS.hotC - 0.1 }), []);
  assert.equal(healthWarnings({ ...CALM, cpuTempC: 80 }), [{ code: 'hot', message: 'CPU hot: 80 °C' }]);
  assert.equal(codes({ ...CALM, disk: { usedFraction: 0.899, freeMb: 600, path: '/d' } }), []);
  assert.equal(healthWarnings({ ...CALM, disk: { usedFraction: 0.9, freeMb: 600, path: '/d' } }), [{ code: 'disk', message: 'disk 90% full, 600 MB free' }]);
  assert.equal(codes({ ...CALM, disk: { usedFraction: 0.5, freeMb: 499, path: '/d' } }), ['disk'], 'a small card: under 500 MB free');
  assert.equal(codes({ ...CALM, disk: { usedFraction: 0.5, freeMb: 500, path: '/d' } }), []);
  assert.equal(codes({ ...CALM, memory: { totalMb: 1000, availableMb: 100 } }), []);
  assert.equal(healthWarnings({ ...CALM, memory: { totalMb: 1000, availableMb: 99 } }), [{ code: 'memory', message: 'memory short: 99 of 1000 MB free' }]);
  assert.equal(codes({ ...CALM, throttled: decodeThrottled(0x50005, 'vcgencmd') }), ['under-voltage', 'throttled']);
  assert.match(healthWarnings({ ...CALM, throttled: decodeThrottled(0x50000, 'vcgencmd') })[0]!.message, /under-voltage lately/);
  assert.equal(codes({ ...CALM, throttled: decodeThrottled(0x80008, 'sysfs') }), ['soft-temp-limit']);
  assert.equal(codes({ ...CALM, cpuTempC: 83, throttled: decodeThrottled(0x80008, 'sysfs') }), ['hot'], 'hot says it already');
  assert.equal(codes({ ...CALM, throttled: decodeThrottled(0x2, 'sysfs') }), ['frequency-capped']);
  const { cpuTempC: _t, throttled: _th, disk: _d, ...unknown } = CALM;
  assert.equal(codes(unknown), [], 'facts not known raise nothing');
});

test('readers on a Pi 4 tree: 81.2 °C and 0x50005 from sysfs → hot, under-voltage, throttled', async () => {
  const platformDir = join(FIX, 'pi4/sys/devices/platform');
  assert.is(throttledFile(platformDir), join(platformDir, 'soc/soc:firmware/get_throttled'));
  const data = mkdtempSync(join(tmpdir(), 'dovelab-health-'));
  try {
    const h = await readHardwareHealth({
      dataDir: data, thermalFile: join(FIX, 'pi4/sys/class/thermal/thermal_zone0/temp'),
      throttled: () => readThrottled({ vcgencmd: false, platformDir }),
    });
    assert.is(h.cpuTempC, 81.2);
    assert.is(h.throttled?.raw, '0x50005');
    assert.is(h.throttled?.source, 'sysfs');
    assert.is(h.disk?.path, data);
    assert.ok(h.disk!.usedFraction > 0 && h.disk!.usedFraction < 1);
    assert.ok(h.memory.totalMb > 0 && h.memory.availableMb <= h.memory.totalMb);
    assert.equal(healthWarnings(h).map((w) => w.code).filter((c) => c !== 'disk' && c !== 'memory'), ['hot', 'under-voltage', 'throttled']);
  } finally { rmSync(data, { recursive: true, force: true }); }
});

test('readers on a Pi 5 tree: the firmware under soc@107c000000; a machine without either reads undefined', async () => {
  const platformDir = join(FIX, 'pi5/sys/devices/platform');
  const t = await readThrottled({ vcgencmd: false, platformDir });
  assert.equal([t?.raw, t?.now.softTempLimit], ['0x80008', true]);
  assert.is(await readThrottled({ vcgencmd: false, platformDir: join(FIX, 'nowhere') }), undefined);
  const h = await readHardwareHealth({ dataDir: join(FIX, 'nowhere'), thermalFile: join(FIX, 'pi5/sys/class/thermal/thermal_zone0/temp'), throttled: async () => undefined });
  assert.is(h.cpuTempC, 62.5);
  assert.is(h.disk, undefined, 'a data dir that cannot be read leaves the disk out');
  assert.is(h.throttled, undefined);
});

test('vcgencmd first (a stand-in printing the firmware word), sysfs when it fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-vcgencmd-'));
  try {
    const good = join(dir, 'vcgencmd');
    writeFileSync(good, '#!/bin/sh\n[ "$1" = get_throttled ] && echo throttled=0x50005\n');
    chmodSync(good, 0o755);
    const platformDir = join(FIX, 'pi5/sys/devices/platform');
    const t = await readThrottled({ vcgencmd: good, platformDir });
    assert.equal([t?.source, t?.raw], ['vcgencmd', '0x50005']);
    const bad = join(dir, 'vcgencmd-broken');
    writeFileSync(bad, '#!/bin/sh\necho "VCHI initialization failed" >&2; exit 1\n');
    chmodSync(bad, 0o755);
    const f = await readThrottled({ vcgencmd: bad, platformDir });
    assert.equal([f?.source, f?.raw], ['sysfs', '0x80008']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('memory through systeminformation: total and available of this machine', async () => {
  const m = await readMemory();
  assert.ok(m.totalMb > 0, `total ${m.totalMb}`);
  assert.ok(m.availableMb > 0 && m.availableMb <= m.totalMb, `available ${m.availableMb} of ${m.totalMb}`);
});

test('console health: old fields kept, throttled and warnings added', async () => {
  const hw: HardwareHealth = { ...CALM, load: [0.5, 0.4, 0.3], cpus: 4, cpuTempC: 84.2, throttled: decodeThrottled(0x50005, 'vcgencmd') };
  const v = await readHealth({
    dataDir: '/nowhere', dongles: { up0: 'uplink', mir0: 'mirror' }, present: async () => ['up0'],
    infra: async () => ({ docker: true, containers: { ovs: 'running' } }), faucet: async () => ({ dpUp: true }),
    hardware: async () => hw,
  });
  assert.equal(v.load, [0.5, 0.4, 0.3]);
  assert.equal(v.memory, CALM.memory);
  assert.is(v.cpuTempC, 84.2);
  assert.equal(v.infra, { docker: true, containers: { ovs: 'running' }, faucetDpUp: true });
  assert.equal(v.dongles, [{ name: 'up0', role: 'uplink', present: true }, { name: 'mir0', role: 'mirror', present: false }]);
  assert.is(v.throttled?.raw, '0x50005');
  assert.equal(v.warnings.map((w) => w.code), ['hot', 'under-voltage', 'throttled']);
});

test.run();

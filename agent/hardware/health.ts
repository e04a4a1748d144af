// The board's health: load, memory, the data disk, the CPU temperature and the Pi firmware's
// throttling flags, and the warnings a person should see (hot, throttled, under-voltage, disk or
// memory short). Decoding and thresholds are pure; the readers below are the adapters.
//
// Where each fact comes from, and why (each call is bounded; none blocks the event loop):
// - memory: systeminformation's mem() (reads /proc/meminfo, spawns nothing), loaded on first use
//   (≈10 MB RSS); /proc/meminfo by hand if it fails. Its cpuTemperature(), currentLoad() and
//   fsSize() are not used: they run shell commands (the first two with execSync, which would stall
//   the whole agent) or df.
// - load: os.loadavg(); disk: statfs(2) of the data dir; temperature: the thermal zone file.
// - throttling: `vcgencmd get_throttled` (Raspberry Pi OS ships it in /usr/bin) with a 2 s
//   deadline; else the firmware driver's sysfs file /sys/devices/platform/soc*/…:firmware/
//   get_throttled (kept by current kernels but deprecated: the first read logs a kernel warning,
//   and it holds the value of the kernel's last 2 s poll). The kernel's voltage monitor
//   (raspberrypi-hwmon) asks the firmware to clear the sticky "occurred" bits on each poll, so on
//   those kernels "occurred" means "lately", not "since boot".
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '../sys/deadline.js';
import { run } from '../sys/run.js';

export interface ThrottleFlags { underVoltage: boolean; frequencyCapped: boolean; throttled: boolean; softTempLimit: boolean }
export interface Throttled {
  /** The firmware's word as hex, e.g. 0x50005. */
  raw: string;
  now: ThrottleFlags;
  /** The firmware's sticky bits (see the file comment: "lately" under the kernel's voltage monitor). */
  occurred: ThrottleFlags;
  source: 'vcgencmd' | 'sysfs';
}

export interface HealthWarning { code: 'hot' | 'under-voltage' | 'throttled' | 'frequency-capped' | 'soft-temp-limit' | 'disk' | 'memory'; message: string }

export interface HardwareHealth {
  load: [number, number, number];
  cpus: number;
  memory: { totalMb: number; availableMb: number };
  disk?: { usedFraction: number; freeMb: number; path: string };
  cpuTempC?: number;
  throttled?: Throttled;
}

// ---- pure ----

/** Bits of the firmware's get_throttled word: 0–3 now, 16–19 the same flags "has occurred". */
const BIT = { underVoltage: 0, frequencyCapped: 1, throttled: 2, softTempLimit: 3 } as const;

export function decodeThrottled(word: number, source: Throttled['source']): Throttled {
  const flags = (shift: number) => Object.fromEntries(Object.entries(BIT).map(([k, b]) => [k, ((word >>> (b + shift)) & 1) === 1])) as unknown as ThrottleFlags;
  return { raw: `0x${word.toString(16)}`, now: flags(0), occurred: flags(16), source };
}

/** `throttled=0x50005` (vcgencmd) or `50005` (sysfs, hex without 0x) → the word; throws on anything else. */
export function parseThrottled(text: string): number {
  const m = /^(?:throttled=)?(?:0x)?([0-9a-f]{1,8})$/i.exec(text.trim());
  if (!m) throw new Error(`not a get_throttled value: ${JSON.stringify(text.trim().slice(0, 40))}`);
  return parseInt(m[1]!, 16);
}

export const THRESHOLDS = {
  /** The firmware's soft limit starts at 80 °C (frequency capped), the hard limit at 85 °C. */
  hotC: 80,
  diskUsedFraction: 0.9,
  diskFreeMb: 500,
  memoryAvailableFraction: 0.1,
};

/** What a person should hear about (pure). Each fact that is not known raises nothing. */
export function healthWarnings(h: Omit<HardwareHealth, 'load' | 'cpus'>, t = THRESHOLDS): HealthWarning[] {
  const out: HealthWarning[] = [];
  if (h.cpuTempC !== undefined && h.cpuTempC >= t.hotC) out.push({ code: 'hot', message: `CPU hot: ${h.cpuTempC} °C` });
  const th = h.throttled;
  if (th?.now.underVoltage) out.push({ code: 'under-voltage', message: 'under-voltage: power supply too weak' });
  else if (th?.occurred.underVoltage) out.push({ code: 'under-voltage', message: 'under-voltage lately: power supply too weak' });
  if (th?.now.throttled) out.push({ code: 'throttled', message: 'CPU throttled (heat or power)' });
  else if (th?.now.frequencyCapped) out.push({ code: 'frequency-capped', message: 'CPU frequency capped (heat or power)' });
  if (th?.now.softTempLimit && !out.some((w) => w.code === 'hot')) out.push({ code: 'soft-temp-limit', message: 'CPU at its soft temperature limit' });
  const d = h.disk;
  if (d && (d.usedFraction >= t.diskUsedFraction || d.freeMb < t.diskFreeMb)) {
    out.push({ code: 'disk', message: `disk ${Math.round(d.usedFraction * 100)}% full, ${d.freeMb} MB free` });
  }
  const m = h.memory;
  if (m.totalMb > 0 && m.availableMb / m.totalMb < t.memoryAvailableFraction) {
    out.push({ code: 'memory', message: `memory short: ${m.availableMb} of ${m.totalMb} MB free` });
  }
  return out;
}

// ---- adapters ----

export const VCGENCMD = '/usr/bin/vcgencmd';
export const PLATFORM_DIR = '/sys/devices/platform';

/**
 * The firmware's get_throttled file: soc/soc:firmware on Pi 3/4, soc@…/soc@…:firmware on a Pi 5
 * (or a firmware node straight under the platform bus).
 */
export function throttledFile(platformDir = PLATFORM_DIR): string | undefined {
  try {
    for (const fw of readdirSync(platformDir).filter((n) => /firmware$/.test(n))) {
      if (existsSync(join(platformDir, fw, 'get_throttled'))) return join(platformDir, fw, 'get_throttled');
    }
    for (const soc of readdirSync(platformDir).filter((n) => /^soc(@|$)/.test(n))) {
      for (const fw of readdirSync(join(platformDir, soc)).filter((n) => /:firmware$/.test(n))) {
        const f = join(platformDir, soc, fw, 'get_throttled');
        if (existsSync(f)) return f;
      }
    }
  } catch { /* no platform devices */ }
  return undefined;
}

/** The throttling flags, or undefined on a machine that is not a Pi. */
export async function readThrottled(o: { vcgencmd?: string | false; platformDir?: string } = {}): Promise<Throttled | undefined> {
  const cmd = o.vcgencmd === undefined ? VCGENCMD : o.vcgencmd;
  if (cmd && existsSync(cmd)) {
    try {
      const r = await run([cmd, 'get_throttled'], { timeoutMs: 2_000 });
      return decodeThrottled(parseThrottled(r.stdout), 'vcgencmd');
    } catch { /* firmware not answering (no /dev/vcio in a container …): try sysfs */ }
  }
  const f = throttledFile(o.platformDir);
  if (!f) return undefined;
  try { return decodeThrottled(parseThrottled(readFileSync(f, 'utf8')), 'sysfs'); } catch { return undefined; }
}

export function cpuTempC(file = '/sys/class/thermal/thermal_zone0/temp'): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    const v = Number(text);
    return text !== '' && Number.isFinite(v) ? Math.round(v / 100) / 10 : undefined;
  } catch { return undefined; }
}

const mb = (n: number) => Math.round(n / 1024 / 1024);

type SiModule = typeof import('systeminformation');
let si: Promise<SiModule> | undefined;

/** Total and available memory: systeminformation (loaded on first call), else /proc/meminfo, else os. */
export async function readMemory(): Promise<{ totalMb: number; availableMb: number }> {
  try {
    si ??= import('systeminformation').then((m) => ((m as { default?: SiModule }).default ?? m));
    const m = await withDeadline('systeminformation mem()', 2_000, async () => (await si!).mem());
    return { totalMb: mb(m.total), availableMb: mb(m.available) };
  } catch {
    try {
      const t = readFileSync('/proc/meminfo', 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1]);
      const total = kb('MemTotal'); const avail = kb('MemAvailable');
      if (total && avail) return { totalMb: Math.round(total / 1024), availableMb: Math.round(avail / 1024) };
    } catch { /* not Linux */ }
    return { totalMb: mb(totalmem()), availableMb: mb(freemem()) };
  }
}

export async function readDisk(dir: string): Promise<HardwareHealth['disk']> {
  try {
    const s = await withDeadline(`statfs ${dir}`, 2_000, () => statfs(dir));
    // As df counts it: blocks reserved for root are neither used nor available.
    const used = s.blocks - s.bfree;
    return { usedFraction: used + s.bavail > 0 ? used / (used + s.bavail) : 0, freeMb: mb(s.bavail * s.bsize), path: dir };
  } catch { return undefined; }
}

export interface HardwareHealthSources {
  dataDir: string;
  thermalFile?: string;
  /** Default: readThrottled(). */
  throttled?: () => Promise<Throttled | undefined>;
  /** Default: readMemory(). */
  memory?: () => Promise<{ totalMb: number; availableMb: number }>;
}

export async function readHardwareHealth(s: HardwareHealthSources): Promise<HardwareHealth> {
  const [disk, memory, throttled] = await Promise.all([
    readDisk(s.dataDir),
    (s.memory ?? readMemory)(),
    (s.throttled ?? (() => readThrottled()))().catch(() => undefined),
  ]);
  const temp = cpuTempC(s.thermalFile);
  const [l1, l5, l15] = loadavg();
  return {
    load: [l1 ?? 0, l5 ?? 0, l15 ?? 0].map((x) => Math.round(x * 100) / 100) as [number, number, number],
    cpus: cpus().length,
    memory,
    ...(disk ? { disk } : {}),
    ...(temp !== undefined ? { cpuTempC: temp } : {}),
    ...(throttled ? { throttled } : {}),
  };
}

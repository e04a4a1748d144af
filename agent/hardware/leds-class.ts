// LED driver on the Linux LED class (/sys/class/leds/<name>/…), for LEDs the image declares with
// `dtoverlay=gpio-led,gpio=N,label=NAME`. Blinking is the kernel's job (timer, heartbeat and
// netdev triggers), so it goes on if the agent dies; steady is trigger `none` + brightness.
// sysfs attributes are written in place (they cannot be renamed into); each write is one small
// synchronous kernel call.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LED_NAMES, LED_ROLES, type LedDriver, type LedRole, type LedSetting } from './leds.js';

export const LED_CLASS_DIR = '/sys/class/leds';

/** A `trigger` file as the kernel prints it (`none [timer] heartbeat …`): the choices and the current one. */
export function parseTriggers(text: string): { available: string[]; current: string | undefined } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const marked = words.find((w) => /^\[.+\]$/.test(w));
  const available = words.map((w) => w.replace(/^\[(.+)\]$/, '$1'));
  return { available, current: marked ? marked.slice(1, -1) : words.length === 1 ? words[0] : undefined };
}

/** The roles whose LED exists under `dir` (auto: the class driver is used when there is one). */
export function ledClassRoles(dir = LED_CLASS_DIR, names: Record<LedRole, string> = LED_NAMES): LedRole[] {
  return LED_ROLES.filter((r) => existsSync(join(dir, names[r], 'brightness')));
}

interface ClassLed { dir: string; triggers: string[]; max: number }

/**
 * Opens the LEDs that exist under `dir` (each one's triggers and max_brightness read once: the
 * kernel lists the available triggers only in `trigger`). Missing LEDs are reported in `missing`.
 */
export function openLedClass(dir = LED_CLASS_DIR, names: Record<LedRole, string> = LED_NAMES,
  log: (s: string) => void = () => {}): LedDriver & { missing: string[] } {
  const leds = new Map<LedRole, ClassLed>();
  const missing: string[] = [];
  for (const role of LED_ROLES) {
    const d = join(dir, names[role]);
    if (!existsSync(join(d, 'brightness'))) { missing.push(names[role]); continue; }
    let triggers: string[] = [];
    try { triggers = parseTriggers(readFileSync(join(d, 'trigger'), 'utf8')).available; } catch { /* no triggers: steady only */ }
    let max = 1;
    try { max = Math.max(1, Number(readFileSync(join(d, 'max_brightness'), 'utf8').trim()) || 1); } catch { /* 1 */ }
    leds.set(role, { dir: d, triggers, max });
  }
  const warned = new Set<string>();
  const write = (led: ClassLed, attr: string, value: string | number) => writeFile(join(led.dir, attr), String(value)).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`${join(led.dir, attr)}: cannot write ${JSON.stringify(String(value))} (${e.code ?? e.message})`);
  });
  const steady = async (led: ClassLed, on: boolean) => {
    await write(led, 'trigger', 'none');
    await write(led, 'brightness', on ? led.max : 0);
  };
  /** A trigger the kernel lacks (e.g. ledtrig-netdev not loaded) falls back to steady on, said once. */
  const hasTrigger = (role: LedRole, led: ClassLed, t: string) => {
    if (led.triggers.includes(t)) return true;
    if (!warned.has(`${role}/${t}`)) {
      warned.add(`${role}/${t}`);
      log(`leds: ${names[role]} has no "${t}" trigger (${join(led.dir, 'trigger')} offers: ${led.triggers.join(' ') || 'none'}); showing it steady instead`);
    }
    return false;
  };
  return {
    kind: 'class',
    roles: [...leds.keys()],
    missing,
    async apply(role: LedRole, s: LedSetting) {
      const led = leds.get(role);
      if (!led) throw new Error(`no LED ${names[role]} under ${dir}`);
      switch (s.mode) {
        case 'off': return steady(led, false);
        case 'on': return steady(led, true);
        case 'blink':
          if (!hasTrigger(role, led, 'timer')) return steady(led, true);
          await write(led, 'trigger', 'timer');
          // delay_on/delay_off appear once the timer trigger is set.
          await write(led, 'delay_on', s.onMs);
          await write(led, 'delay_off', s.offMs);
          return;
        case 'heartbeat':
          if (!hasTrigger(role, led, 'heartbeat')) return steady(led, true);
          return write(led, 'trigger', 'heartbeat');
        case 'netdev':
          if (!hasTrigger(role, led, 'netdev')) return steady(led, true);
          await write(led, 'trigger', 'netdev');
          await write(led, 'device_name', s.device);
          await write(led, 'link', 1);
          await write(led, 'rx', 1);
          await write(led, 'tx', 1);
          return;
      }
    },
    async close() { /* the kernel keeps each LED's trigger */ },
  };
}

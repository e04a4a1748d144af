// LED driver on sysfs GPIO through onoff, for LEDs wired to header pins without a dtoverlay line.
// Kernels ≥ 6.6 number the header's lines from the chip's base (Pi 3/4: 512, Pi 5: 571), so the
// base is read from /sys/class/gpio/gpiochip*/{base,label,ngpio}. GPIO has no kernel trigger:
// blinking is a timer in the agent (it stops with the agent). onoff (native epoll) is loaded only
// when this driver is opened, so a machine without GPIO never loads it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LED_ROLES, type LedDriver, type LedRole, type LedSetting } from './leds.js';

export const GPIO_SYSFS_DIR = '/sys/class/gpio';

export interface GpioChip { name: string; base: number; label: string; ngpio: number }

/** The labels of the chip that drives the 40-pin header, per board. */
export const HEADER_CHIP_LABELS: Record<string, string> = {
  'pinctrl-bcm2835': 'Pi 1/2/3/Zero',
  'pinctrl-bcm2711': 'Pi 4/400',
  'pinctrl-rp1': 'Pi 5',
};

/**
 * The header chip among `chips` (pure): the one whose label is a known header chip (or `label`
 * when given). Throws naming the chips seen when there is none, or when `line` is past its end.
 */
export function headerChip(chips: GpioChip[], opts: { label?: string; line?: number } = {}): GpioChip {
  const want = opts.label ? [opts.label] : Object.keys(HEADER_CHIP_LABELS);
  const chip = chips.find((c) => want.includes(c.label));
  if (!chip) {
    const seen = chips.length ? chips.map((c) => `${c.name} (${c.label}, base ${c.base}, ${c.ngpio} lines)`).join(', ') : 'no GPIO chips';
    throw new Error(`no GPIO chip labelled ${want.join(' or ')} (the Raspberry Pi header); found ${seen}`);
  }
  if (opts.line !== undefined && (opts.line < 0 || opts.line >= chip.ngpio)) {
    throw new Error(`GPIO ${opts.line} is past the end of ${chip.name} (${chip.label}: ${chip.ngpio} lines)`);
  }
  return chip;
}

/** The sysfs GPIO number of header line `line` (BCM number): the header chip's base + line. */
export function gpioNumber(chips: GpioChip[], line: number, label?: string): number {
  return headerChip(chips, { line, ...(label ? { label } : {}) }).base + line;
}

/** Reads every gpiochip under `dir` (base, label, ngpio); an unreadable chip is skipped. */
export function readGpioChips(dir = GPIO_SYSFS_DIR): GpioChip[] {
  let names: string[];
  try { names = readdirSync(dir).filter((n) => /^gpiochip\d+$/.test(n)); } catch (e) {
    throw new Error(`${dir}: cannot list GPIO chips (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is CONFIG_GPIO_SYSFS on?`);
  }
  const out: GpioChip[] = [];
  for (const name of names) {
    try {
      const read = (f: string) => readFileSync(join(dir, name, f), 'utf8').trim();
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (Number.isInteger(base) && Number.isInteger(ngpio)) out.push({ name, base, label: read('label'), ngpio });
    } catch { /* not a chip we can read */ }
  }
  return out.sort((a, b) => a.base - b.base);
}

/** What the driver needs from onoff's Gpio (so a test could hand in its own). */
export interface GpioLine { writeSync(v: 0 | 1): void; unexport(): void }
export type GpioOpen = (gpio: number) => GpioLine;

/**
 * onoff's Gpio as an output, loaded on first use. onoff is an optional dependency (its epoll part
 * is compiled at install; an image built without a compiler goes on without it).
 */
export async function onoffOpen(activeLow = false): Promise<GpioOpen> {
  const { Gpio } = await import('onoff').catch((e: Error) => {
    throw new Error(`the gpio LED driver needs the npm package onoff, which did not load (${e.message.split('\n')[0]}); use the LED class (dtoverlay=gpio-led) instead`);
  });
  if (!Gpio.accessible) throw new Error('GPIO is not accessible here (no /sys/class/gpio/export, or no permission)');
  return (gpio) => new Gpio(gpio, 'out', 'none', { activeLow });
}

export interface GpioLedOptions {
  /** BCM line of each LED (only the listed LEDs are driven). */
  lines: Partial<Record<LedRole, number>>;
  dir?: string;
  /** The header chip's label, when it is not one of HEADER_CHIP_LABELS. */
  chipLabel?: string;
  activeLow?: boolean;
  /** Opens one line (default: onoff, loaded now). */
  open?: GpioOpen;
}

/**
 * Opens the configured LEDs on sysfs GPIO. Steady settings are a write; `blink` runs an agent
 * timer; `heartbeat` is a blink of the same rhythm; `netdev` shows steady on (no kernel trigger).
 */
export async function openGpioLeds(o: GpioLedOptions): Promise<LedDriver> {
  const chips = readGpioChips(o.dir);
  const open = o.open ?? await onoffOpen(o.activeLow);
  const lines = new Map<LedRole, GpioLine>();
  const timers = new Map<LedRole, NodeJS.Timeout>();
  try {
    for (const role of LED_ROLES) {
      const line = o.lines[role];
      if (line === undefined) continue;
      lines.set(role, open(gpioNumber(chips, line, o.chipLabel)));
    }
  } catch (e) {
    for (const l of lines.values()) l.unexport();
    throw e;
  }
  const stopBlink = (role: LedRole) => { clearTimeout(timers.get(role)); timers.delete(role); };
  const blink = (role: LedRole, l: GpioLine, onMs: number, offMs: number) => {
    let on = true;
    const step = () => {
      l.writeSync(on ? 1 : 0);
      const t = setTimeout(() => { on = !on; step(); }, on ? onMs : offMs);
      t.unref();
      timers.set(role, t);
    };
    step();
  };
  return {
    kind: 'gpio',
    roles: [...lines.keys()],
    async apply(role: LedRole, s: LedSetting) {
      const l = lines.get(role);
      if (!l) throw new Error(`no GPIO line configured for the ${role} LED (leds.gpio.${role})`);
      stopBlink(role);
      switch (s.mode) {
        case 'off': l.writeSync(0); return;
        case 'on': case 'netdev': l.writeSync(1); return;
        case 'blink': blink(role, l, s.onMs, s.offMs); return;
        case 'heartbeat': blink(role, l, 100, 900); return;
      }
    },
    async close() {
      for (const role of [...timers.keys()]) stopBlink(role);
      for (const l of lines.values()) l.unexport();
      lines.clear();
    },
  };
}

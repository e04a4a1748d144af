// The appliance's LEDs (DESIGN §5 Raspberry Pi): what each LED should show for the facts the agent
// knows (pure), the config.txt lines that make them, and the one interface every driver implements
// (leds-class.ts: Linux LED class with kernel triggers; leds-gpio.ts: onoff on sysfs GPIO;
// leds-fake.ts: a recorder for tests). A controller applies only what changed.

/** What each LED is for, and its name under /sys/class/leds (the `label=` of its dtoverlay line). */
export const LED_NAMES = {
  status: 'dovelab-status',
  lab: 'dovelab-lab',
  fault: 'dovelab-fault',
  traffic: 'dovelab-traffic',
} as const;
export type LedRole = keyof typeof LED_NAMES;
export const LED_ROLES = Object.keys(LED_NAMES) as LedRole[];

/**
 * Default header pins (BCM numbers): 17, 27, 22, 23 (physical pins 11, 13, 15, 16), free of I2C,
 * SPI, UART and the Touch Display's DSI. Each LED through a resistor to a ground pin (e.g. 14).
 */
export const DEFAULT_LED_GPIOS: Record<LedRole, number> = { status: 17, lab: 27, fault: 22, traffic: 23 };

/**
 * What an LED shows. `blink` is the kernel's `timer` trigger (keeps blinking if the agent dies);
 * `netdev` lights with the link of `device` and flickers with its traffic.
 */
export type LedSetting =
  | { mode: 'off' }
  | { mode: 'on' }
  | { mode: 'blink'; onMs: number; offMs: number }
  | { mode: 'heartbeat' }
  | { mode: 'netdev'; device: string };

export type LedPlan = Record<LedRole, LedSetting>;

/** What the agent knows about the appliance when it decides what the LEDs show. */
export interface ApplianceFacts {
  /** The agent has finished starting (web served or given up on). */
  agentUp: boolean;
  /** The web UI answers on its port. */
  webAnswers: boolean;
  /** Docker, the OVS/Faucet/Gauge containers and Faucet's dp_status are all good. */
  infraHealthy: boolean;
  /** A lab is loaded (lab.json). */
  labRunning: boolean;
  /** Why the appliance needs a person (infra down, Faucet dp down, a dongle the lab needs missing …). */
  faults: string[];
  /** The uplink dongle whose traffic the traffic LED shows; absent: LED off. */
  uplink?: string;
}

export type ApplianceState = 'booting' | 'ready' | 'lab running' | 'fault';

/** The appliance's state in one word: fault wins, then booting until infra and web are up. */
export function applianceState(f: ApplianceFacts): ApplianceState {
  if (f.agentUp && f.faults.length) return 'fault';
  if (!f.agentUp || !f.infraHealthy || !f.webAnswers) return 'booting';
  return f.labRunning ? 'lab running' : 'ready';
}

const OFF: LedSetting = { mode: 'off' };
/** Blink rates: booting fast, a running lab slow, a fault urgent. */
export const BLINK = {
  booting: { mode: 'blink', onMs: 150, offMs: 350 },
  lab: { mode: 'blink', onMs: 900, offMs: 300 },
  fault: { mode: 'blink', onMs: 200, offMs: 200 },
} as const satisfies Record<string, LedSetting>;

/**
 * Per LED, what it shows:
 * - status: blinks fast while booting, steady once infra and web are up (also under a fault);
 * - lab: blinks slowly while a lab is loaded and nothing is wrong, steady under a fault with a lab;
 * - fault: blinks urgently while there is a fault;
 * - traffic: the uplink's link and traffic (kernel netdev trigger), off without an uplink.
 */
export function ledPlan(f: ApplianceFacts): LedPlan {
  const state = applianceState(f);
  const up = f.agentUp && f.infraHealthy && f.webAnswers;
  return {
    status: up ? { mode: 'on' } : BLINK.booting,
    lab: !f.labRunning || !f.agentUp ? OFF : state === 'fault' ? { mode: 'on' } : BLINK.lab,
    fault: state === 'fault' ? BLINK.fault : OFF,
    traffic: f.uplink ? { mode: 'netdev', device: f.uplink } : OFF,
  };
}

/** Every LED off (agent stopping, or `leds` switched off). */
export const ALL_OFF: LedPlan = { status: OFF, lab: OFF, fault: OFF, traffic: OFF };

export function sameSetting(a: LedSetting | undefined, b: LedSetting): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/** The LEDs whose setting differs from what was applied last (all of them the first time). */
export function ledChanges(applied: Partial<LedPlan>, next: LedPlan): [LedRole, LedSetting][] {
  return LED_ROLES.filter((r) => !sameSetting(applied[r], next[r])).map((r) => [r, next[r]]);
}

/**
 * The config.txt lines for the LEDs (Raspberry Pi firmware's gpio-led overlay): one per LED, in
 * role order. The status LED starts on the kernel's timer trigger so it blinks from boot, before
 * the agent runs; the others start off. Pins are BCM numbers.
 */
export function ledOverlayLines(gpios: Record<LedRole, number> = DEFAULT_LED_GPIOS, opts: { activeLow?: boolean } = {}): string[] {
  const seen = new Map<number, LedRole>();
  for (const r of LED_ROLES) {
    const pin = gpios[r];
    if (!Number.isInteger(pin) || pin < 0 || pin > 27) throw new Error(`leds.gpio.${r}: ${pin} is not a header GPIO (BCM 0..27)`);
    const other = seen.get(pin);
    if (other) throw new Error(`leds.gpio.${r}: GPIO ${pin} is already the ${other} LED`);
    seen.set(pin, r);
  }
  return LED_ROLES.map((r) => `dtoverlay=gpio-led,gpio=${gpios[r]},label=${LED_NAMES[r]}` +
    `${r === 'status' ? ',trigger=timer' : ''}${opts.activeLow ? ',active_low=1' : ''}`);
}

/** One LED driver: sets what an LED shows (an LED it does not have is an error naming it). */
export interface LedDriver {
  readonly kind: 'class' | 'gpio' | 'fake';
  /** The roles this driver can show (LEDs that exist). */
  readonly roles: readonly LedRole[];
  apply(role: LedRole, setting: LedSetting): Promise<void>;
  /** Releases what the driver holds (GPIO lines, timers); the LEDs keep their last setting. */
  close(): Promise<void>;
}

/** Applies plans to a driver, only the LEDs that changed; a failing LED is retried next time. */
export class LedController {
  private applied: Partial<LedPlan> = {};
  constructor(private readonly driver: LedDriver, private readonly log: (s: string) => void = () => {}) {}

  get kind(): LedDriver['kind'] { return this.driver.kind; }

  /** Shows `plan`; returns the roles changed. */
  async show(plan: LedPlan): Promise<LedRole[]> {
    const changed: LedRole[] = [];
    for (const [role, setting] of ledChanges(this.applied, plan)) {
      if (!this.driver.roles.includes(role)) { this.applied[role] = setting; continue; }
      try {
        await this.driver.apply(role, setting);
        this.applied[role] = setting;
        changed.push(role);
      } catch (e) {
        delete this.applied[role];
        this.log(`leds: ${LED_NAMES[role]}: ${(e as Error).message}`);
      }
    }
    return changed;
  }

  close(): Promise<void> { return this.driver.close(); }
}

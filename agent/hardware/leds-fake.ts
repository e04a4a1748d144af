// A recording LED driver for tests and machines without LEDs: every change goes to `changes` and,
// when a file is given, one JSON line per change ({"led":"dovelab-status","mode":"on",…}).
import { appendFileSync } from 'node:fs';
import { LED_NAMES, LED_ROLES, type LedDriver, type LedPlan, type LedRole, type LedSetting } from './leds.js';

export interface FakeLeds extends LedDriver {
  readonly changes: { role: LedRole; setting: LedSetting }[];
  /** What each LED shows now. */
  readonly now: Partial<LedPlan>;
}

export function fakeLeds(file?: string): FakeLeds {
  const changes: { role: LedRole; setting: LedSetting }[] = [];
  const now: Partial<LedPlan> = {};
  return {
    kind: 'fake',
    roles: LED_ROLES,
    changes,
    now,
    async apply(role, setting) {
      changes.push({ role, setting });
      now[role] = setting;
      if (file) appendFileSync(file, `${JSON.stringify({ led: LED_NAMES[role], ...setting })}\n`);
    },
    async close() {},
  };
}

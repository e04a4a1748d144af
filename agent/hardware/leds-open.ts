// Picks and opens the LED driver the config asks for (`leds.driver`); undefined when there are none.
import type { Config } from '../config.js';
import { ledClassRoles, openLedClass } from './leds-class.js';
import { fakeLeds } from './leds-fake.js';
import { openGpioLeds } from './leds-gpio.js';
import { LED_NAMES, type LedDriver } from './leds.js';

export async function openLedDriver(c: Config['leds'], log: (s: string) => void, defaultFakeFile: string): Promise<LedDriver | undefined> {
  switch (c.driver) {
    case 'none': return undefined;
    case 'fake': return fakeLeds(c.fakeFile ?? defaultFakeFile);
    case 'gpio': return openGpioLeds({ lines: c.gpio ?? {}, dir: c.gpioDir, activeLow: c.activeLow, ...(c.chipLabel ? { chipLabel: c.chipLabel } : {}) });
    case 'class': case 'auto': {
      if (c.driver === 'auto' && ledClassRoles(c.classDir).length === 0) return undefined;
      const d = openLedClass(c.classDir, LED_NAMES, log);
      if (d.roles.length === 0) throw new Error(`none of the LEDs ${Object.values(LED_NAMES).join(', ')} is under ${c.classDir} (config.txt needs their dtoverlay=gpio-led lines)`);
      if (d.missing.length) log(`leds: ${d.missing.join(', ')} not under ${c.classDir}; showing the others`);
      return d;
    }
  }
}

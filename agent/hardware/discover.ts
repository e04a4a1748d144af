// The appliance config with NIC discovery applied (sysfs scan + role assignment), apart from the
// hardware verbs so `dovelab` loads it only when a verb reads the config.
import type { Config } from '../config.js';
import { scanNics } from './nics.js';
import { applyDiscovery } from './roles.js';

/** The config with discovery applied: with a `hardware` section, its dongles map holds the dongles found (or listed). */
export function withDiscoveredDongles(cfg: Config): Config {
  return cfg.hardware ? applyDiscovery(cfg, scanNics(cfg.hardware.sysfs)) : cfg;
}

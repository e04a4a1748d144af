// A dongle plugged in while the agent runs: found, given its role (the config's entry for its
// port or MAC, else the default by port order: uplink, mirror, then lab ports), renamed to its
// stable name, its .link file written, and the running agent's map of dongles updated: lessons
// may use it at once, without a restart. Roles and names are decided by roles.ts (pure); this
// reads the config file and sysfs and does the renames.
import { loadConfig, type Config } from '../config.js';
import { linkFiles, writeLinkFiles } from './links.js';
import { scanNics, type NicScan } from './nics.js';
import { assignDongles, matchText, mergeDongleMaps, renamePlan, type DongleRoleName } from './roles.js';

export interface NewDongle { ifname: string; name: string; role: DongleRoleName; where: string; note?: string }

export interface NewDongleDeps {
  /** The appliance config file the agent was started with (roles written by the console live there). */
  configFile: string;
  /** The running agent's configs (agent, lab context, web): their `dongles` map is updated in place. */
  running: readonly Config[];
  scan?: (root: string) => NicScan;
  /** Renames a present dongle to its stable name (absent: it gets it when plugged in again, from its .link file). */
  rename?: (from: string, to: string) => Promise<void>;
  /** Interfaces that just appeared: one the map has by its port, still under the kernel's name, is renamed. */
  appeared?: readonly string[];
}

/**
 * Discovery again, against the running map: dongles it did not have are added (with what a
 * person should know about each). Nothing when the config has no `hardware:` section (dev
 * machines, the sim world) or nothing new is here. A config that no longer loads throws (the
 * caller logs it; the running map stays as it was).
 */
export async function adoptNewDongles(d: NewDongleDeps): Promise<NewDongle[]> {
  const file = loadConfig(d.configFile);
  if (!file.hardware) return [];
  const scan = (d.scan ?? scanNics)(file.hardware.sysfs);
  const { assignments } = assignDongles(scan, file.hardware, file.dongles);
  const map = mergeDongleMaps(file.dongles, assignments);
  const known = d.running[0]!.dongles;
  // New to the map, or in it (a config entry by port) but just plugged in under the kernel's name.
  const fresh = assignments.filter((a) => a.present && a.ifname && a.role !== 'unused'
    && (!Object.hasOwn(known, a.name) || (a.ifname !== a.name && (d.appeared ?? []).includes(a.ifname))));
  if (!fresh.length) return [];
  const out: NewDongle[] = fresh.map((a) => ({ ifname: a.ifname!, name: a.name, role: a.role, where: matchText(a.match) }));
  if (file.hardware.link_dir) writeLinkFiles(file.hardware.link_dir, linkFiles(assignments, scan));
  for (const r of renamePlan(fresh, scan.interfaces)) {
    const n = out.find((x) => x.ifname === r.from)!;
    if (r.busy) { n.note = `keeps the name ${r.from} until it is plugged in again (${r.busy})`; continue; }
    if (!d.rename) { n.note = `becomes ${r.to} when it is plugged in again`; continue; }
    try { await d.rename(r.from, r.to); } catch (e) {
      n.note = `could not be renamed ${r.to} now (${(e as Error).message.split('\n')[0]}): it will be when plugged in again`;
    }
  }
  for (const c of new Set(d.running)) { c.dongles = map; c.hardware = file.hardware; }
  return out;
}

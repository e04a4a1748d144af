// A dongle role change from the instructor console, planned (pure): the assignments before and
// after, the lessons' dongles map after, the live renames it asks for, and whether it would take a
// dongle from what runs now. Rule: a dongle the running lesson or a Docker network uses keeps its
// name, its role and its device while that runs; a change that would move any of the three is
// refused (naming the lesson or network), never deferred: the instructor stops the lesson first.
// Defaults cascade (giving the uplink dongle another role makes the next dongle the uplink up0), so
// the check compares the whole assignment of each name in use, not only the entry being changed.
import type { Config, HardwareConfig } from '../config.js';
import type { NicScan } from './nics.js';
import { assignDongles, mergeDongleMaps, renamePlan, type DongleAssignment, type Rename } from './roles.js';

/** A dongle something running uses: the lesson's uplink or mirror, a Docker network's uplink or mirror. */
export interface DongleUse {
  iface: string;
  role: 'uplink' | 'mirror';
  /** For a person: `the running lesson "Teach test" (teachtest)`, `Docker network office`. */
  by: string;
}

export interface RoleChangePlan {
  before: DongleAssignment[];
  after: DongleAssignment[];
  /** The dongles map lessons may use after the change (the explicit `dongles:` map merged in). */
  dongles: Config['dongles'];
  /** Present dongles to rename to their new stable names (none that a running thing uses). */
  renames: Rename[];
  /** Why the change is refused (it would take a dongle from what runs); absent: it may go ahead. */
  refused?: string;
}

const article = (role: string) => (role === 'uplink' || role === 'unused' ? 'an' : 'a');

/** One physical dongle behind both assignments: the same device when plugged in, else the same port or MAC entry. */
function sameDongle(a: DongleAssignment, b: DongleAssignment): boolean {
  if (a.present && b.present) return a.ifname === b.ifname;
  return a.present === b.present && JSON.stringify(a.match) === JSON.stringify(b.match);
}

/**
 * Pure. `hwBefore`/`hwAfter`: the hardware section as written before and after the edit;
 * `explicit`: the config's `dongles:` map as written. Throws ConfigError when the result gives one
 * name two roles (mergeDongleMaps).
 */
export function planRoleChange(scan: NicScan, explicit: Config['dongles'], hwBefore: HardwareConfig, hwAfter: HardwareConfig, uses: readonly DongleUse[]): RoleChangePlan {
  const before = assignDongles(scan, hwBefore, explicit).assignments;
  const after = assignDongles(scan, hwAfter, explicit).assignments;
  const dongles = mergeDongleMaps(explicit, after);
  const problems: string[] = [];
  for (const u of uses) {
    const b = before.find((a) => a.name === u.iface);
    const a = after.find((x) => x.name === u.iface);
    const role = Object.hasOwn(dongles, u.iface) ? dongles[u.iface] : undefined;
    const kept = (!b && !a) || (!!b && !!a && sameDongle(b, a));
    if (kept && role === u.role) continue;
    // Where the dongle behind the name goes, and who gets the name.
    const moved = b && after.find((x) => sameDongle(b, x));
    let what: string;
    if (moved && (moved.name !== u.iface || moved.role !== u.role)) {
      what = `the change would make it ${moved.name === u.iface ? '' : `${moved.name}, `}${article(moved.role)} ${moved.role} dongle`;
    } else if (!a && !role) what = `the change would take the name ${u.iface} away`;
    else if (role !== u.role) what = `the change would make it ${article(role ?? 'unused')} ${role ?? 'unused'} dongle`;
    else what = `the change would give the name ${u.iface} to another dongle (${a?.ifname ?? 'not plugged in'})`;
    problems.push(`${u.iface} is the ${u.role} dongle of ${u.by}; ${what}`);
  }
  const inUse = new Set(uses.map((u) => u.iface));
  const renames = renamePlan(after, scan.interfaces).filter((r) => !inUse.has(r.from) && !inUse.has(r.to));
  return {
    before, after, dongles, renames,
    ...(problems.length ? { refused: `${problems.join('; ')}. Stop it first, then change the role.` } : {}),
  };
}

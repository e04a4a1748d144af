// Dongle roles (pure): which USB Ethernet dongle is the uplink, the mirror, a lab port or unused,
// and under which stable name. Input: a scan (agent/hardware/nics.ts) and the appliance config's
// `hardware` section and `dongles` map; output: assignments, and the `dongles` map lessons use.
//
// Rules, in order:
// 1. Entries of `hardware.dongles` (by USB port or MAC) keep their role and name, present or not.
//    A MAC entry beats a port entry when both match the same dongle (the dongle moved ports).
// 2. With `unconfigured: auto`, a dongle already named up<N>/mir<N>/lab<N>/spare<N> (by a .link
//    file from an earlier run) keeps that name and its role: unplugging the uplink never turns the
//    mirror dongle into the uplink.
// 3. The other dongles, by USB port (1-1.2 before 1-1.3 before 2-1): the first is the uplink up0
//    unless some dongle already has that role, then the mirror mir0, then lab ports lab1, lab2 …
//    Lab, not unused: a teacher who plugs in a third dongle means to use it, and a lab port does
//    nothing until a lesson names it (DESIGN §5: no interface belongs to a lesson unless the
//    appliance says so; the lesson must still ask). `unconfigured: unused` leaves them alone (spare<N>).
// The explicit `dongles:` map merges with these: its names and roles count as taken, and a
// name it gives a different role than a `hardware.dongles` entry is a config error.
import { ConfigError, type Config, type DongleAssignmentConfig, type HardwareConfig } from '../config.js';
import { compareUsbPaths, type Nic, type NicScan } from './nics.js';

export type DongleRoleName = DongleAssignmentConfig['role'];
export type LessonDongleRole = Exclude<DongleRoleName, 'unused'>;
export type DongleMatch = { usbPath: string } | { mac: string };

export interface DongleAssignment {
  /** Stable interface name (.link Name=). */
  name: string;
  match: DongleMatch;
  role: DongleRoleName;
  /** A dongle that matches is plugged in now. */
  present: boolean;
  /** Its current kernel name, when present (differs from `name` until renamed). */
  ifname?: string;
  /** `config`: hardware.dongles[entry]; `kept`: its name from an earlier run; `default`: by port order. */
  source: 'config' | 'kept' | 'default';
  entry?: number;
}

export interface DongleAssignments {
  assignments: DongleAssignment[];
  /** Things a person should know (an entry that matches the onboard port, two dongles with one MAC …). */
  warnings: string[];
}

const PREFIX: Record<DongleRoleName, string> = { uplink: 'up', mirror: 'mir', lab: 'lab', unused: 'spare' };
const FIRST: Record<DongleRoleName, number> = { uplink: 0, mirror: 0, lab: 1, unused: 1 };
const ROLE_OF_PREFIX = Object.fromEntries(Object.entries(PREFIX).map(([r, p]) => [p, r as DongleRoleName]));

/** The name a role's next dongle gets: up0, up1 …, mir0 …, lab1 …, spare1 …, the first not taken. */
export function defaultName(role: DongleRoleName, taken: ReadonlySet<string>): string {
  for (let i = FIRST[role]; ; i++) if (!taken.has(`${PREFIX[role]}${i}`)) return `${PREFIX[role]}${i}`;
}

/** The role a default name stands for (`mir0` → mirror), or undefined. */
export function roleOfDefaultName(name: string): DongleRoleName | undefined {
  const m = /^(up|mir|lab|spare)(\d+)$/.exec(name);
  return m ? ROLE_OF_PREFIX[m[1]!] : undefined;
}

export const matchText = (m: DongleMatch) => ('usbPath' in m ? `USB port ${m.usbPath}` : `MAC ${m.mac}`);

/**
 * Two USB paths name the same socket for udev when they are equal, or when their buses share one
 * controller (the same ID_PATH prefix) and the ports after the bus agree: a Pi 5's root ports
 * have a USB 2 bus and a USB 3 bus (1-1 and 2-1 are one socket), and a .link Path= matches both.
 */
export function samePort(a: string, b: string, usbBuses: NicScan['usbBuses']): boolean {
  if (a === b) return true;
  const [busA, portA] = [a.slice(0, a.indexOf('-')), a.slice(a.indexOf('-') + 1)];
  const [busB, portB] = [b.slice(0, b.indexOf('-')), b.slice(b.indexOf('-') + 1)];
  const ctl = (bus: string) => (Object.hasOwn(usbBuses, bus) ? usbBuses[bus] : undefined);
  return portA === portB && ctl(busA) !== undefined && ctl(busA) === ctl(busB);
}

/** Pure: the assignments from a scan, the `hardware` section and the explicit `dongles` map. */
export function assignDongles(scan: NicScan, hw: HardwareConfig, explicit: Config['dongles'] = {}): DongleAssignments {
  const nics = scan.interfaces;
  const warnings: string[] = [];
  const dongles = nics.filter((n) => n.dongle).sort((a, b) => compareUsbPaths(a.usbPath ?? '', b.usbPath ?? '') || (a.mac ?? '').localeCompare(b.mac ?? ''));
  const taken = new Set<string>([...Object.keys(explicit), ...hw.dongles.flatMap((d) => (d.name ? [d.name] : []))]);
  const rolesTaken = new Set<DongleRoleName>(Object.values(explicit));
  const claimed = new Map<Nic, number>(); // dongle → index in `out`
  const out: DongleAssignment[] = [];

  // Rule 1: MAC entries first (they win over ports), then port entries; output keeps config order.
  const order = hw.dongles.map((d, i) => i).sort((a, b) => Number(!hw.dongles[a]!.mac) - Number(!hw.dongles[b]!.mac));
  const byEntry = new Map<number, DongleAssignment>();
  for (const i of order) {
    const d = hw.dongles[i]!;
    const match: DongleMatch = d.mac ? { mac: d.mac } : { usbPath: d.usb_path! };
    const hits = nics.filter((n) => (d.mac ? n.mac === d.mac : !!n.usbPath && samePort(n.usbPath, d.usb_path!, scan.usbBuses)));
    const where = `hardware.dongles.${i} (${matchText(match)})`;
    const notDongle = hits.find((n) => !n.dongle);
    if (notDongle) warnings.push(`${where}: ${notDongle.name} is there but is no dongle (${notDongle.reason})`);
    const usable = hits.filter((n) => n.dongle);
    if (usable.length > 1) warnings.push(`${where}: ${usable.map((n) => n.name).join(' and ')} share this MAC; ${usable[0]!.name} (first by USB port) gets it`);
    let nic = usable.sort((a, b) => compareUsbPaths(a.usbPath ?? '', b.usbPath ?? ''))[0];
    if (nic && claimed.has(nic)) {
      warnings.push(`${where}: the dongle there (${nic.name}) is hardware.dongles.${claimed.get(nic)} by its MAC, which wins`);
      nic = undefined;
    }
    if (nic) claimed.set(nic, i);
    byEntry.set(i, { name: '', match, role: d.role, present: !!nic, ...(nic ? { ifname: nic.name } : {}), source: 'config', entry: i });
    rolesTaken.add(d.role);
  }
  for (let i = 0; i < hw.dongles.length; i++) {
    const a = byEntry.get(i)!;
    a.name = hw.dongles[i]!.name ?? defaultName(a.role, taken);
    taken.add(a.name);
    out.push(a);
  }

  const rest = dongles.filter((n) => !claimed.has(n));
  const auto = hw.unconfigured === 'auto';
  // Rule 2: names kept from an earlier run.
  const kept = new Set<Nic>();
  for (const n of rest) {
    const role = roleOfDefaultName(n.name);
    if (!role || taken.has(n.name) || (auto ? false : role !== 'unused')) continue;
    out.push(dongleAt(n, n.name, role, 'kept'));
    taken.add(n.name); rolesTaken.add(role); kept.add(n);
  }
  // Rule 3: defaults by USB port.
  for (const n of rest) {
    if (kept.has(n)) continue;
    const role: DongleRoleName = !auto ? 'unused' : !rolesTaken.has('uplink') ? 'uplink' : !rolesTaken.has('mirror') ? 'mirror' : 'lab';
    const name = defaultName(role, taken);
    out.push(dongleAt(n, name, role, 'default'));
    taken.add(name); rolesTaken.add(role);
  }
  return { assignments: out, warnings };
}

function dongleAt(n: Nic, name: string, role: DongleRoleName, source: 'kept' | 'default'): DongleAssignment {
  const match: DongleMatch = n.usbPath ? { usbPath: n.usbPath } : { mac: n.mac ?? '' };
  return { name, match, role, present: true, ifname: n.name, source };
}

/** Pure: the `dongles` map (name → role) that lessons may use: every assignment but the unused ones. */
export function dongleMap(assignments: readonly DongleAssignment[]): Config['dongles'] {
  const out: Config['dongles'] = {};
  for (const a of assignments) if (a.role !== 'unused') out[a.name] = a.role;
  return out;
}

/**
 * Pure: the explicit `dongles:` map and the discovered one together. The same name with two
 * roles is refused, naming both places; an explicit name the discovery marks unused is refused too.
 */
export function mergeDongleMaps(explicit: Config['dongles'], assignments: readonly DongleAssignment[]): Config['dongles'] {
  const out: Config['dongles'] = { ...explicit };
  for (const a of assignments) {
    if (!Object.hasOwn(explicit, a.name)) {
      if (a.role !== 'unused') out[a.name] = a.role;
      continue;
    }
    if (explicit[a.name] !== a.role) {
      const from = a.source === 'config' ? `hardware.dongles.${a.entry} (${matchText(a.match)})` : `the dongle in ${matchText(a.match)}`;
      throw new ConfigError(`dongles.${a.name}: ${explicit[a.name]} here, but ${from} makes ${a.name} ${a.role === 'unused' ? 'unused' : `a${a.role === 'uplink' ? 'n' : ''} ${a.role}`}`);
    }
  }
  return out;
}

/**
 * Pure: the config as lessons see it, after discovery. Without a `hardware` section it is
 * returned as is (dev machines, the sim world); with one, `dongles` holds the merged map.
 * Give it the config as loaded (loadConfig), never one it already returned: the discovered names
 * would then count as explicit ones and the next dongles would be named around them.
 */
export function applyDiscovery(cfg: Config, scan: NicScan): Config {
  if (!cfg.hardware) return cfg;
  const { assignments } = assignDongles(scan, cfg.hardware, cfg.dongles);
  return { ...cfg, dongles: mergeDongleMaps(cfg.dongles, assignments) };
}

export interface Rename { from: string; to: string; role: DongleRoleName; busy?: string }

/**
 * Pure: present dongles whose kernel name is not (yet) their stable one, e.g. eth1 → up0 when a
 * .link file was written after it appeared. `busy` names what already holds the name.
 */
export function renamePlan(assignments: readonly DongleAssignment[], nics: readonly Nic[]): Rename[] {
  const names = new Set(nics.map((n) => n.name));
  return assignments.filter((a) => a.present && a.ifname && a.ifname !== a.name).map((a) => ({
    from: a.ifname!, to: a.name, role: a.role, ...(names.has(a.name) ? { busy: `${a.name} exists already` } : {}),
  }));
}

/** Pure: the assignment of each scanned interface, by its kernel name. */
export function assignmentByIfname(assignments: readonly DongleAssignment[]): Map<string, DongleAssignment> {
  return new Map(assignments.filter((a) => a.ifname).map((a) => [a.ifname!, a]));
}

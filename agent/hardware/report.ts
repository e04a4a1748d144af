// What `dovelab hardware scan` prints and what the instructor console would show (pure): each
// interface with its dongle verdict and role, the assignments (present or not) and warnings.
import { HardwareSchema, type Config } from '../config.js';
import type { NicScan } from './nics.js';
import { assignDongles, assignmentByIfname, type DongleAssignment, type DongleRoleName } from './roles.js';

/** One interface. `name, driver, usbPath, mac, carrier, dongle, role` are a contract (null: unknown / none). */
export interface ScanInterface {
  name: string;
  driver: string | null;
  usbPath: string | null;
  mac: string | null;
  carrier: boolean | null;
  dongle: boolean;
  role: DongleRoleName | null;
  /** The stable name its role gives it (it may still carry its kernel name, e.g. eth1). */
  assignedName: string | null;
  bus: string | null;
  vendor: string | null;
  product: string | null;
  model: string | null;
  speed: number | null;
  operstate: string | null;
  wireless: boolean;
  virtual: boolean;
  onboard: boolean;
  idPath: string | null;
  reason: string;
}

export interface HardwareReport {
  interfaces: ScanInterface[];
  assignments: DongleAssignment[];
  warnings: string[];
  /** Discovery fills the lessons' dongles map (the config has a `hardware` section). */
  discovery: boolean;
}

/**
 * Pure: the report. Without a `hardware` section the roles shown are what discovery would give
 * with its defaults (the dongles map stays as written until the section is added).
 */
export function hardwareReport(scan: NicScan, cfg: Pick<Config, 'hardware' | 'dongles'>): HardwareReport {
  const hw = cfg.hardware ?? HardwareSchema.parse({});
  const { assignments, warnings } = assignDongles(scan, hw, cfg.hardware ? cfg.dongles : {});
  const byIf = assignmentByIfname(assignments);
  const interfaces = scan.interfaces.map((n): ScanInterface => {
    const a = byIf.get(n.name);
    return {
      name: n.name, driver: n.driver ?? null, usbPath: n.usbPath ?? null, mac: n.mac ?? null, carrier: n.carrier ?? null,
      dongle: n.dongle, role: a?.role ?? null, assignedName: a?.name ?? null,
      bus: n.bus ?? null, vendor: n.vendor ?? null, product: n.product ?? null, model: n.model ?? null, speed: n.speed ?? null,
      operstate: n.operstate ?? null, wireless: n.wireless, virtual: n.virtual, onboard: n.onboard, idPath: n.idPath ?? null, reason: n.reason,
    };
  });
  return { interfaces, assignments, warnings, discovery: !!cfg.hardware };
}

/** Pure: the report as a table for a person. */
export function formatHardwareReport(r: HardwareReport): string {
  const rows = r.interfaces.map((i) => [
    i.name, i.driver ?? '-', i.bus ?? (i.virtual ? 'virtual' : '-'), i.usbPath ?? '-', i.mac ?? '-',
    i.carrier === null ? '?' : i.carrier ? 'yes' : 'no', i.speed === null ? '-' : String(i.speed),
    i.dongle ? 'yes' : 'no', i.role ? `${i.role}${i.assignedName && i.assignedName !== i.name ? ` (${i.assignedName})` : ''}` : '-',
  ]);
  const head = ['NAME', 'DRIVER', 'BUS', 'USB', 'MAC', 'CARRIER', 'MBIT/S', 'DONGLE', 'ROLE'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  const notes = r.interfaces.filter((i) => !i.virtual).map((i) => `  ${i.name}: ${i.reason}`);
  if (notes.length) out.push('', ...notes);
  const absent = r.assignments.filter((a) => !a.present);
  if (absent.length) out.push('', 'not plugged in:', ...absent.map((a) => `  ${a.name} (${a.role}): ${'usbPath' in a.match ? `USB port ${a.match.usbPath}` : `MAC ${a.match.mac}`}`));
  if (r.warnings.length) out.push('', ...r.warnings.map((w) => `warning: ${w}`));
  if (!r.discovery) out.push('', 'discovery is off (no `hardware:` section in the config): roles above are what it would give; lessons use the `dongles:` map.');
  return out.join('\n');
}

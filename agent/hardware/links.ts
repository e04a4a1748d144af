// Stable dongle names on the Pi: systemd .link files (udev renames the dongle as it appears) and
// a NetworkManager snippet that leaves the dongles to Dovelab (NM would otherwise start DHCP on
// them). The generators are pure text; writeLinkFiles puts them in place atomically.
//
// What [Match] uses:
// - an assignment by MAC: `MACAddress=` (the dongle, in any port);
// - an assignment by USB port with the dongle plugged in: `Path=` its udev ID_PATH, composed
//   from sysfs the way systemd's path_id builtin does (agent/hardware/nics.ts udevIdPath), e.g.
//   `platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2:1.0` on a Pi 4;
// - by USB port with nothing plugged in: `Path=<controller>-usb-0:<port>:*`, the controller's part
//   read from the bus's root hub (bus/usb/devices/usb<N>), the USB configuration and interface
//   left to the glob (r8152 in its vendor mode is :1.0, in CDC mode :2.0);
// - when the path cannot be derived (no root hub for that bus, an unknown controller) but the
//   dongle is present: `MACAddress=`, and the file says why.
// Note: ID_PATH has no USB bus number, so on a Pi 4 the USB 2 device at 1-1.2 and a USB 3 device
// at 2-2 in the same physical socket get different paths (the VL805's USB 2 side sits behind a
// hub); a port entry names the side the dongle is on, as `dovelab hardware scan` shows it.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../sys/files.js';
import type { NicScan } from './nics.js';
import { matchText, type DongleAssignment } from './roles.js';

export interface LinkFile {
  /** File name: 10-dovelab-<name>.link (sorts before 73-usb-net-by-mac.link and 99-default.link: the first match wins). */
  file: string;
  name: string;
  text: string;
}

export interface LinkPlan {
  files: LinkFile[];
  /** Assignments without a file, and why. */
  skipped: { name: string; reason: string }[];
}

export const LINK_PREFIX = '10-dovelab-';

/** Pure: the .link files for the assignments. */
export function linkFiles(assignments: readonly DongleAssignment[], scan: NicScan): LinkPlan {
  const byName = new Map(scan.interfaces.map((n) => [n.name, n]));
  const files: LinkFile[] = [];
  const skipped: LinkPlan['skipped'] = [];
  for (const a of assignments) {
    const nic = a.present && a.ifname ? byName.get(a.ifname) : undefined;
    let match: string | undefined;
    let why = '';
    if ('mac' in a.match) {
      match = `MACAddress=${a.match.mac}`;
      why = 'this dongle in any USB port (matched by its MAC address)';
    } else {
      const port = a.match.usbPath;
      const bus = port.split('-')[0]!;
      const prefix = Object.hasOwn(scan.usbBuses, bus) ? scan.usbBuses[bus] : undefined;
      if (nic?.idPath) {
        match = `Path=${nic.idPath}`;
        why = `whatever dongle is in USB port ${port} (udev's ID_PATH of ${nic.name})`;
      } else if (prefix) {
        match = `Path=${prefix}-usb-0:${port.slice(port.indexOf('-') + 1)}:*`;
        why = `whatever dongle is in USB port ${port} (nothing there now: the path of bus ${bus}'s controller and the port)`;
      } else if (nic?.mac) {
        match = `MACAddress=${nic.mac}`;
        why = `the dongle now in USB port ${port}, by its MAC: udev's path of that port could not be derived from sysfs`;
      } else {
        skipped.push({ name: a.name, reason: `${matchText(a.match)}: no dongle there and no USB bus ${bus} on this machine, so no udev path to match` });
        continue;
      }
    }
    const text = [
      `# Written by dovelab (\`dovelab hardware links\`): the ${a.role} dongle ${a.name}.`,
      `# Matches ${why}.`,
      '[Match]',
      match,
      '',
      '[Link]',
      `Name=${a.name}`,
      '',
    ].join('\n');
    files.push({ file: `${LINK_PREFIX}${a.name}.link`, name: a.name, text });
  }
  return { files, skipped };
}

export { NM_FILE } from '../appliance/locations.js';

/**
 * Pure: NetworkManager leaves every assigned dongle alone (no DHCP, no connection). Names are
 * enough: udev renames a dongle before NetworkManager sees it.
 */
export function nmUnmanaged(assignments: readonly DongleAssignment[]): string {
  const names = [...new Set(assignments.map((a) => a.name))];
  return [
    '# Written by dovelab (`dovelab hardware links`): the dongles belong to Dovelab, not NetworkManager.',
    '[keyfile]',
    `unmanaged-devices=${names.map((n) => `interface-name:${n}`).join(';')}${names.length ? ';' : ''}`,
    '',
  ].join('\n');
}

export interface LinksWritten { written: string[]; removed: string[] }

/**
 * Writes the .link files into `dir` atomically and removes our older ones that are no longer
 * planned (10-dovelab-*.link); with `nmFile`, writes the NetworkManager drop-in too.
 */
export function writeLinkFiles(dir: string, plan: LinkPlan, nm?: { file: string; text: string }): LinksWritten {
  const written: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const f of plan.files) {
    writeAtomic(join(dir, f.file), f.text);
    written.push(join(dir, f.file));
  }
  const keep = new Set(plan.files.map((f) => f.file));
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f.startsWith(LINK_PREFIX) && f.endsWith('.link') && !keep.has(f)) {
      rmSync(join(dir, f), { force: true });
      removed.push(join(dir, f));
    }
  }
  if (nm) {
    writeAtomic(nm.file, nm.text);
    written.push(nm.file);
  }
  return { written, removed };
}

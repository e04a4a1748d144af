// The hardware verbs of `dovelab`: scan (NICs, dongles, roles), links (.link files and the
// NetworkManager drop-in for the Pi image), role (set a dongle's role in the appliance config).
import type { Command } from 'commander';
import type { Config } from './config.js';
import type { DongleChange } from './hardware/dongle-config.js';
import type { DongleMatch, DongleRoleName } from './hardware/roles.js';
import { NM_FILE } from './appliance/locations.js';

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => (...a: A) => Promise<void>;

// Each verb loads what it uses when it runs: `dovelab --help` stays small (issue 13).
const m = {
  nics: () => import('./hardware/nics.js'),
  roles: () => import('./hardware/roles.js'),
  links: () => import('./hardware/links.js'),
  report: () => import('./hardware/report.js'),
  dongleConfig: () => import('./hardware/dongle-config.js'),
  config: () => import('./config.js'),
};

const configFile = () => process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml';
const ROLES: DongleRoleName[] = ['uplink', 'mirror', 'lab', 'unused'];

/** `cfg` loads the config as written (not withDiscoveredDongles: discovered names would count as taken). */
export function registerHardwareVerbs(program: Command, cfg: () => Config, action: Action, log: (s: string) => void): void {
  const hw = program.command('hardware').description('network interfaces, USB Ethernet dongles and their roles');
  /** The config's hardware section (its defaults when absent), with --sysfs over its root. */
  const setup = async (sysfs?: string) => {
    const c = cfg();
    const root = sysfs ?? c.hardware?.sysfs ?? '/sys';
    return { c, root, scan: (await m.nics()).scanNics(root) };
  };

  hw.command('scan').description('the interfaces in sysfs: driver, bus, USB port, MAC, carrier, dongle or not, role')
    .option('--sysfs <dir>', 'a tree shaped like /sys (default: the config\'s hardware.sysfs, else /sys)')
    .option('--json').action(action(async (o: { sysfs?: string; json?: boolean }) => {
      const { c, scan } = await setup(o.sysfs);
      const { formatHardwareReport, hardwareReport } = await m.report();
      const r = hardwareReport(scan, c);
      log(o.json ? JSON.stringify(r, null, 2) : formatHardwareReport(r));
    }));

  hw.command('links').description('write a systemd .link file per dongle (stable names) and, with --nm, the NetworkManager drop-in')
    .requiredOption('--out <dir>', 'directory for 10-dovelab-<name>.link (on the Pi: /etc/systemd/network)')
    .option('--nm <file>', `NetworkManager drop-in to write (on the Pi: /etc/NetworkManager/conf.d/${NM_FILE})`)
    .option('--sysfs <dir>', 'a tree shaped like /sys')
    .option('--dry-run', 'print the files instead of writing them')
    .action(action(async (o: { out: string; nm?: string; sysfs?: string; dryRun?: boolean }) => {
      const { c, scan } = await setup(o.sysfs);
      const [{ assignDongles }, { linkFiles, nmUnmanaged, writeLinkFiles }, { HardwareSchema }] = await Promise.all([m.roles(), m.links(), m.config()]);
      const { assignments, warnings } = assignDongles(scan, c.hardware ?? HardwareSchema.parse({}), c.hardware ? c.dongles : {});
      const plan = linkFiles(assignments, scan);
      const nm = o.nm ? { file: o.nm, text: nmUnmanaged(assignments) } : undefined;
      for (const w of warnings) console.error(`warning: ${w}`);
      for (const s of plan.skipped) console.error(`no .link file for ${s.name}: ${s.reason}`);
      if (o.dryRun) {
        for (const f of plan.files) log(`--- ${o.out}/${f.file}\n${f.text}`);
        if (nm) log(`--- ${nm.file}\n${nm.text}`);
        return;
      }
      const r = writeLinkFiles(o.out, plan, nm);
      for (const f of r.written) log(`wrote ${f}`);
      for (const f of r.removed) log(`removed ${f}`);
      if (!plan.files.length) log('no dongles: no .link files');
    }));

  hw.command('role').description(`set a dongle's role in the appliance config (${configFile()}), by USB port or MAC`)
    .argument('<port-or-mac>', 'a USB port like 1-1.2, or a MAC address')
    .argument('[role]', ROLES.join(', '))
    .option('--name <name>', 'its stable name (default by role: up0, mir0, lab1, spare1 …)')
    .option('--remove', 'drop the entry: the dongle falls back to the defaults')
    .action(action(async (where: string, role: string | undefined, o: { name?: string; remove?: boolean }) => {
      const match: DongleMatch = /^\d+-\d+(\.\d+)*$/.test(where) ? { usbPath: where } : { mac: where };
      let change: DongleChange;
      if (o.remove) change = { match, remove: true };
      else {
        if (!role || !ROLES.includes(role as DongleRoleName)) throw new Error(`role: expected one of ${ROLES.join(', ')}, got ${role ?? 'nothing'}`);
        change = { match, role: role as DongleRoleName, ...(o.name ? { name: o.name } : {}) };
      }
      (await m.dongleConfig()).updateDongleConfig(configFile(), change);
      log(`${configFile()}: ${o.remove ? `removed ${where}` : `${where} is ${role}${o.name ? ` (${o.name})` : ''}`}; run \`dovelab hardware links\` to rename it`);
    }));
}

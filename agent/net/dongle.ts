// Dongles adapter: an appliance interface that joins the lab (uplink or mirror) is hardened like
// our veth ends (DESIGN §5, OVS: no IPv6 chatter, no ARP answers, no routing by the host), and
// gets its own settings back when it leaves the lab. Its original values are recorded before the
// first change; a second harden keeps the first record (it must not save hardened values as
// "original"). The DROP rule in the DOVELAB-LAB chain is not handled here: ensureLabFirewall
// (net/firewall.ts) deletes every rule of the chain that is not in the list it is given, so the
// rule goes when the interface is no longer among the lab's uplinks and mirrors.
//
// The record lives in <stateDir>/<ifname>.json, and stateDir is meant to be /run/dovelab/dongles:
// a tmpfs. That is deliberate: interface sysctls are reset at reboot too (and when a dongle is
// unplugged and plugged in again it comes back with the defaults), so the record lives exactly as
// long as the values it undoes. A record on persistent storage would "restore" stale values after
// a reboot.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../sys/run.js';
import { fsyncDir, writeAtomic } from '../sys/files.js';

export interface DongleOptions {
  /** Where the interface sysctls are (tests may point elsewhere). Default /proc/sys/net. */
  sysctlRoot?: string;
  /** Where the interface flags are. Default /sys/class/net. */
  sysfsNet?: string;
}

/** What harden sets: family/conf/<if>/key = value. */
const HARDENED: readonly { family: 'ipv4' | 'ipv6'; key: string; value: string }[] = [
  { family: 'ipv6', key: 'disable_ipv6', value: '1' },
  { family: 'ipv4', key: 'arp_ignore', value: '8' },
  { family: 'ipv4', key: 'forwarding', value: '0' },
];

export interface DongleRecord {
  version: 1;
  ifname: string;
  /** Original values, keyed `ipv6/disable_ipv6` etc.; a key whose file did not exist (IPv6 off) is absent. */
  sysctls: Record<string, string>;
  /** Administratively up (IFF_UP) before the lab took it. */
  up: boolean;
  savedAt: string;
}

const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const IFF_UP = 0x1;

function checkName(ifname: string): void {
  // Also keeps the name from walking out of the sysctl and state directories.
  if (!IFNAME.test(ifname)) throw new Error(`not a valid interface name: ${JSON.stringify(ifname)}`);
}

const roots = (o: DongleOptions) => ({ sysctl: o.sysctlRoot ?? '/proc/sys/net', sysfs: o.sysfsNet ?? '/sys/class/net' });
const sysctlFile = (root: string, family: string, ifname: string, key: string) => join(root, family, 'conf', ifname, key);
export const dongleRecordPath = (stateDir: string, ifname: string) => join(stateDir, `${ifname}.json`);

function isUp(sysfs: string, ifname: string): boolean {
  const flags = Number.parseInt(readFileSync(join(sysfs, ifname, 'flags'), 'utf8').trim(), 16);
  if (Number.isNaN(flags)) throw new Error(`${ifname}: cannot read its flags`);
  return (flags & IFF_UP) !== 0;
}

function readRecord(file: string): DongleRecord {
  let r: Partial<DongleRecord>;
  try { r = JSON.parse(readFileSync(file, 'utf8')) as Partial<DongleRecord>; } catch (e) {
    throw new Error(`${file}: unreadable dongle record (${(e as Error).message})`);
  }
  if (r.version !== 1 || typeof r.ifname !== 'string' || typeof r.up !== 'boolean' || typeof r.sysctls !== 'object' || r.sysctls === null) {
    throw new Error(`${file}: not a dongle record`);
  }
  return r as DongleRecord;
}

/**
 * Records the interface's current sysctl values and up state in <stateDir>/<ifname>.json (only if
 * no record exists yet), then sets disable_ipv6=1, arp_ignore=8, forwarding=0. Does not bring the
 * link up (the engine does, after adding the port). Throws if the interface is absent: the caller
 * checks presence first (an unplugged dongle is a warning, not something to harden).
 */
export async function hardenDongle(ifname: string, stateDir: string, opts: DongleOptions = {}): Promise<void> {
  checkName(ifname);
  const { sysctl, sysfs } = roots(opts);
  if (!existsSync(join(sysctl, 'ipv4', 'conf', ifname))) throw new Error(`${ifname}: no such interface`);
  const file = dongleRecordPath(stateDir, ifname);
  if (!existsSync(file)) {
    const sysctls: Record<string, string> = {};
    for (const h of HARDENED) {
      const p = sysctlFile(sysctl, h.family, ifname, h.key);
      if (existsSync(p)) sysctls[`${h.family}/${h.key}`] = readFileSync(p, 'utf8').trim();
    }
    const record: DongleRecord = { version: 1, ifname, sysctls, up: isUp(sysfs, ifname), savedAt: new Date().toISOString() };
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  }
  for (const h of HARDENED) {
    const p = sysctlFile(sysctl, h.family, ifname, h.key);
    if (existsSync(p)) writeFileSync(p, h.value);
  }
}

/** Whether every setting harden makes is in place now (false for an absent interface). */
export function isHardened(ifname: string, opts: DongleOptions = {}): boolean {
  checkName(ifname);
  const { sysctl } = roots(opts);
  if (!existsSync(join(sysctl, 'ipv4', 'conf', ifname))) return false;
  return HARDENED.every((h) => {
    const p = sysctlFile(sysctl, h.family, ifname, h.key);
    return !existsSync(p) || readFileSync(p, 'utf8').trim() === h.value;
  });
}

/**
 * Gives the interface back its recorded values (and sets it down if it was down), then removes
 * the record. False if there is no record. An interface that is gone (unplugged) gets its
 * defaults back by itself when it returns: its record is just removed.
 */
export async function releaseDongle(ifname: string, stateDir: string, opts: DongleOptions = {}): Promise<boolean> {
  checkName(ifname);
  const { sysctl, sysfs } = roots(opts);
  const file = dongleRecordPath(stateDir, ifname);
  if (!existsSync(file)) return false;
  const record = readRecord(file);
  if (record.ifname !== ifname) throw new Error(`${file}: a record of ${record.ifname}, not ${ifname}`);
  if (existsSync(join(sysctl, 'ipv4', 'conf', ifname))) {
    // Values only from the list we change: a record never writes anything else.
    for (const h of HARDENED) {
      const value = record.sysctls[`${h.family}/${h.key}`];
      const p = sysctlFile(sysctl, h.family, ifname, h.key);
      if (value !== undefined && /^-?\d+$/.test(value) && existsSync(p)) writeFileSync(p, value);
    }
    if (!record.up && isUp(sysfs, ifname)) await run(['ip', 'link', 'set', 'dev', ifname, 'down'], { timeoutMs: 10_000 });
  }
  rmSync(file);
  fsyncDir(stateDir);
  return true;
}

/** Interfaces that have a record (hardened and not released), e.g. to release leftovers after a restart. */
export function heldDongles(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -'.json'.length))
    .filter((n) => IFNAME.test(n)).sort();
}

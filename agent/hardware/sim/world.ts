// Sim world adapter: `dovelab sim up|down`. Idempotent; `down` removes everything `up` made.
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, runInNamedNetns, spawnDetached, sleep } from '../../sys/run.js';
import { hardenHostEnd } from '../../net/links.js';
import type { VsctlRunner } from '../../net/ovs.js';
import { dnsmasqArgs, parseLeases, simLayout, type Lease, type SimLayout } from './plan.js';

const netnsExists = async (ns: string) =>
  (await run(['ip', 'netns', 'list'])).stdout.split('\n').some((l) => l.split(' ')[0] === ns);
const inNs = (ns: string, argv: string[]) => runInNamedNetns(ns, argv);
const linkIn = async (ns: string | undefined, name: string) =>
  (await run(ns ? ['ip', '-n', ns, 'link', 'show', 'dev', name] : ['ip', 'link', 'show', 'dev', name], { allowFail: true })).code === 0;

function pidAlive(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try { process.kill(pid, 0); return pid; } catch { return undefined; }
}

async function ensureNetns(ns: string): Promise<void> {
  if (await netnsExists(ns)) return;
  await run(['ip', 'netns', 'add', ns]);
  await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
}

/** A veth whose near end stays in the root netns (a dongle) or in another netns. */
async function ensureVeth(near: string, nearNs: string | undefined, far: string, farNs: string): Promise<void> {
  if (await linkIn(nearNs, near) && await linkIn(farNs, far)) return;
  await run(nearNs ? ['ip', '-n', nearNs, 'link', 'del', near] : ['ip', 'link', 'del', near], { allowFail: true });
  const tmp = `sim${process.pid % 100000}`;
  await run(['ip', 'link', 'add', near, 'type', 'veth', 'peer', 'name', tmp]);
  if (nearNs) await run(['ip', 'link', 'set', near, 'netns', nearNs]);
  else hardenHostEnd(near);
  await run(['ip', 'link', 'set', tmp, 'netns', farNs]);
  await inNs(farNs, ['ip', 'link', 'set', tmp, 'name', far]);
  // TCP only passes the netdev datapath when the sending ends compute their checksums.
  await inNs(farNs, ['ethtool', '-K', far, 'tx', 'off']);
  if (nearNs) await inNs(nearNs, ['ethtool', '-K', near, 'tx', 'off']);
  else await run(['ethtool', '-K', near, 'tx', 'off']);
  await inNs(farNs, ['ip', 'link', 'set', far, 'up']);
  await run(nearNs ? ['ip', '-n', nearNs, 'link', 'set', near, 'up'] : ['ip', 'link', 'set', near, 'up']);
}

/** The training switch behind the trunk dongle; needs OVS (the only vswitchd on this host). */
async function ensureTrainingSwitch(l: SimLayout, vsctl: VsctlRunner): Promise<void> {
  const { dongle, far, bridge } = l.trunk;
  if (!(await linkIn(undefined, dongle) && await linkIn(undefined, far))) {
    await run(['ip', 'link', 'del', dongle], { allowFail: true });
    await run(['ip', 'link', 'add', dongle, 'type', 'veth', 'peer', 'name', far]);
  }
  for (const end of [dongle, far]) {
    hardenHostEnd(end);
    await run(['ethtool', '-K', end, 'tx', 'off']);
    await run(['ip', 'link', 'set', end, 'up']);
  }
  await vsctl(['--may-exist', 'add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev', 'fail_mode=standalone']);
  await vsctl(['--may-exist', 'add-port', bridge, far]);
  await run(['ip', 'link', 'set', bridge, 'down'], { allowFail: true });
}

/** A host on the training switch, in one VLAN (an access port): netns `tr-<name>`. */
export async function trainingHost(runDir: string, vsctl: VsctlRunner, name: string, vid: number, address: string): Promise<string> {
  const l = simLayout(runDir);
  const ns = `tr-${name}`;
  const port = `tr-${name}`.slice(0, 15);
  await run(['ip', 'netns', 'del', ns], { allowFail: true });
  await run(['ip', 'link', 'del', port], { allowFail: true });
  await ensureNetns(ns);
  await run(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'trtmp']);
  hardenHostEnd(port);
  await run(['ethtool', '-K', port, 'tx', 'off']);
  await run(['ip', 'link', 'set', 'trtmp', 'netns', ns]);
  await inNs(ns, ['ip', 'link', 'set', 'trtmp', 'name', 'eth0']);
  await inNs(ns, ['ethtool', '-K', 'eth0', 'tx', 'off']);
  await inNs(ns, ['ip', 'addr', 'add', address, 'dev', 'eth0']);
  await inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  await run(['ip', 'link', 'set', port, 'up']);
  await vsctl(['--may-exist', 'add-port', l.trunk.bridge, port, 'tag=' + vid]);
  return ns;
}

export async function removeTrainingHost(vsctl: VsctlRunner | undefined, runDir: string, name: string): Promise<void> {
  const port = `tr-${name}`.slice(0, 15);
  if (vsctl) await vsctl(['--if-exists', 'del-port', simLayout(runDir).trunk.bridge, port]).catch(() => {});
  await run(['ip', 'netns', 'del', `tr-${name}`], { allowFail: true });
  await run(['ip', 'link', 'del', port], { allowFail: true });
}

export async function simUp(runDir: string, log: (s: string) => void = () => {}, vsctl?: VsctlRunner): Promise<SimLayout> {
  const l = simLayout(runDir);
  mkdirSync(l.stateDir, { recursive: true });
  for (const ns of [l.world, l.capture, l.printer]) await ensureNetns(ns);
  if (!(await linkIn(l.world, l.lan))) {
    await inNs(l.world, ['ip', 'link', 'add', l.lan, 'type', 'bridge']);
    await inNs(l.world, ['ip', 'addr', 'add', l.lanAddress, 'dev', l.lan]);
    await inNs(l.world, ['ip', 'link', 'set', l.lan, 'up']);
  }
  for (const d of l.dongles) {
    await ensureVeth(d.name, undefined, d.far, d.farNetns);
    if (d.toLan) await inNs(l.world, ['ip', 'link', 'set', d.far, 'master', l.lan]);
  }
  // The printer: its own netns on the LAN, answering ping and mDNS.
  await ensureVeth('prn0', l.world, 'eth0', l.printer);
  await inNs(l.world, ['ip', 'link', 'set', 'prn0', 'master', l.lan]);
  await inNs(l.printer, ['ip', 'addr', 'replace', l.printerAddress, 'dev', 'eth0']);
  await inNs(l.printer, ['ip', 'route', 'replace', 'default', 'via', l.lanAddress.split('/')[0]!]);
  const log$ = openSync(`${l.stateDir}/sim.log`, 'a');
  if (!pidAlive(`${l.stateDir}/dnsmasq.pid`)) {
    await inNs(l.world, dnsmasqArgs(l));
    log(`dnsmasq: DHCP ${l.dhcpRange.join('-')} on ${l.lan}, leases in ${l.stateDir}/dnsmasq.leases`);
  }
  if (!pidAlive(`${l.stateDir}/printer.pid`)) {
    const script = fileURLToPath(new URL('./printer.js', import.meta.url));
    const pid = spawnDetached(['ip', 'netns', 'exec', l.printer, process.execPath, script, l.printerAddress.split('/')[0]!], log$);
    writeFileSync(`${l.stateDir}/printer.pid`, String(pid));
    log(`printer: ${l.printerAddress} answering ping and mDNS (printer.local, _ipp._tcp)`);
  }
  if (vsctl) {
    await ensureTrainingSwitch(l, vsctl);
    log(`training switch ${l.trunk.bridge}: trunk dongle ${l.trunk.dongle} (802.1Q, all VLANs)`);
  } else log(`training switch skipped: it needs OVS (\`dovelab infra up\`, then \`dovelab sim up\` again)`);
  await sleep(100);
  log(`sim world up: netns ${l.world} (LAN ${l.lanAddress}), ${l.capture}; dongles ${l.dongles.map((d) => d.name).join(', ')}`);
  return l;
}

export async function simDown(runDir: string, log: (s: string) => void = () => {}, vsctl?: VsctlRunner): Promise<void> {
  const l = simLayout(runDir);
  if (vsctl) await vsctl(['--if-exists', 'del-br', l.trunk.bridge]).catch(() => {});
  for (const ns of (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((x) => x.split(' ')[0] ?? '').filter((x) => x.startsWith('tr-'))) {
    await removeTrainingHost(undefined, runDir, ns.slice(3));
  }
  await run(['ip', 'link', 'del', l.trunk.dongle], { allowFail: true });
  for (const f of ['dnsmasq.pid', 'printer.pid']) {
    const pid = pidAlive(`${l.stateDir}/${f}`);
    if (pid) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  }
  // Processes still running inside the namespaces (tcpdump of a test, a leftover client).
  for (const ns of [l.world, l.capture, l.printer]) {
    if (!(await netnsExists(ns))) continue;
    const pids = (await run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout.split('\n').filter(Boolean);
    for (const p of pids) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
    await run(['ip', 'netns', 'del', ns]);
  }
  for (const d of l.dongles) await run(['ip', 'link', 'del', d.name], { allowFail: true });
  rmSync(l.stateDir, { recursive: true, force: true });
  log('sim world removed');
}

/**
 * The fake USB unplug of a sim dongle (`up0`, `up1`, `mir0`): its veth pair goes, both ends, as a
 * pulled dongle takes its NIC away. OVS keeps its port record (without a device) until someone
 * deletes it; the far side's bridge or switch port goes with the far end.
 */
export async function simUnplug(runDir: string, name: string, log: (s: string) => void = () => {}): Promise<void> {
  const l = simLayout(runDir);
  simDongle(l, name);
  if (!(await linkIn(undefined, name))) throw new Error(`dongle ${name} is not plugged in`);
  await run(['ip', 'link', 'del', 'dev', name]);
  log(`${name} unplugged`);
}

/**
 * The fake USB plug: the dongle's veth pair made again as \`sim up\` makes it (far end wired to the
 * school LAN, the capture netns or the training switch; TX checksum offload off on both ends), but
 * the appliance's end arrives as a new USB NIC does: the kernel's default sysctls (IPv6 on, ARP
 * answered) and administratively down. Whatever the appliance wants of it, it must do again.
 */
export async function simPlug(runDir: string, name: string, log: (s: string) => void = () => {}, vsctl?: VsctlRunner): Promise<void> {
  const l = simLayout(runDir);
  const d = simDongle(l, name);
  if (await linkIn(undefined, name)) throw new Error(`dongle ${name} is already plugged in`);
  if (d.far === l.trunk.far && !vsctl) throw new Error(`plugging ${name} needs OVS (the training switch is an OVS bridge): \`dovelab infra up\``);
  const tmp = `sim${process.pid % 100000}`;
  const farNs = 'farNetns' in d ? d.farNetns : undefined;
  await run(['ip', 'link', 'del', 'dev', farNs ? tmp : d.far], { allowFail: true });
  await run(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', farNs ? tmp : d.far]);
  try {
    await run(['ethtool', '-K', name, 'tx', 'off']);
    if (farNs) {
      await run(['ip', 'link', 'set', tmp, 'netns', farNs]);
      await inNs(farNs, ['ip', 'link', 'set', tmp, 'name', d.far]);
      await inNs(farNs, ['ethtool', '-K', d.far, 'tx', 'off']);
      if ('toLan' in d && d.toLan) await inNs(farNs, ['ip', 'link', 'set', d.far, 'master', l.lan]);
      await inNs(farNs, ['ip', 'link', 'set', d.far, 'up']);
    } else {
      // The trunk: the far end is a port of the training switch. Its port is made again, in two
      // transactions: OVS's userspace datapath would keep receiving from the gone device.
      hardenHostEnd(d.far);
      await run(['ethtool', '-K', d.far, 'tx', 'off']);
      await run(['ip', 'link', 'set', d.far, 'up']);
      await vsctl!(['--if-exists', 'del-port', l.trunk.bridge, d.far]);
      await vsctl!(['add-port', l.trunk.bridge, d.far]);
    }
  } catch (e) {
    await run(['ip', 'link', 'del', 'dev', name], { allowFail: true });
    throw e;
  }
  log(`${name} plugged in (kernel defaults, link down)`);
}

/** The sim dongle called `name`, or an error listing them. */
function simDongle(l: SimLayout, name: string): SimLayout['dongles'][number] | { name: string; far: string } {
  const d = l.dongles.find((x) => x.name === name) ?? (name === l.trunk.dongle ? { name, far: l.trunk.far } : undefined);
  if (!d) throw new Error(`${name}: not a dongle of the sim world (${[...l.dongles.map((x) => x.name), l.trunk.dongle].join(', ')})`);
  return d;
}

export interface SimStatus { up: boolean; missing: string[]; leases: Lease[] }

export async function simStatus(runDir: string): Promise<SimStatus> {
  const l = simLayout(runDir);
  const missing: string[] = [];
  for (const ns of [l.world, l.capture, l.printer]) if (!(await netnsExists(ns))) missing.push(`netns ${ns}`);
  for (const d of l.dongles) if (!(await linkIn(undefined, d.name))) missing.push(`dongle ${d.name}`);
  if (!pidAlive(`${l.stateDir}/dnsmasq.pid`)) missing.push('dnsmasq');
  if (!pidAlive(`${l.stateDir}/printer.pid`)) missing.push('printer');
  const leaseFile = `${l.stateDir}/dnsmasq.leases`;
  const leases = existsSync(leaseFile) ? parseLeases(readFileSync(leaseFile, 'utf8')) : [];
  return { up: missing.length === 0, missing, leases };
}

// DHCP for containers on driver networks with `dhcp=true`: the appliance's busybox udhcpc, run in
// the container's netns (whatever its image has), detached so it outlives agent restarts, sending
// the container's name as hostname. Its script only sets the interface's address and route in that
// netns and records the lease: it never touches the appliance's own files (resolv.conf).
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeAtomic } from '../sys/files.js';
import { run, sleep, spawnDetached } from '../sys/run.js';

const SCRIPT = `#!/bin/sh
# Dovelab: a lease -> the container's interface (run by udhcpc inside the container's netns).
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    if [ -n "$router" ]; then ip route replace default via "\${router%% *}" dev "$interface"; fi
    printf '{"ip":"%s","mask":"%s","router":"%s","hostname":"%s","at":"%s"}\\n' "$ip" "$mask" "$router" "$DOVELAB_HOSTNAME" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$DOVELAB_LEASE.tmp" && mv "$DOVELAB_LEASE.tmp" "$DOVELAB_LEASE" ;;
esac
exit 0
`;

export interface EndpointDhcpStart {
  /** The container's netns (Join's SandboxKey). */
  netns: string;
  /** The endpoint's MAC: finds its interface in there once Docker has moved and renamed it. */
  mac: string;
  hostname: string;
  /** Where the script records the lease (JSON). */
  leaseFile: string;
  logFile: string;
  /** How long to wait for the interface to appear. */
  waitMs: number;
}

/** The interface with `mac` inside netns `path`, or undefined. */
export async function ifaceWithMac(path: string, mac: string): Promise<string | undefined> {
  const r = await run(['nsenter', `--net=${path}`, 'ip', '-j', 'link', 'show'], { allowFail: true, timeoutMs: 5_000 });
  if (r.code !== 0) return undefined;
  const links = JSON.parse(r.stdout) as { ifname: string; address?: string }[];
  return links.find((l) => l.address?.toLowerCase() === mac.toLowerCase())?.ifname;
}

/** The name of the interface with `mac` in netns `netns` (eth0, eth1 … as Docker named it), waited for until waitMs. */
export async function endpointIfname(a: { netns: string; mac: string; waitMs: number }): Promise<string> {
  const until = Date.now() + a.waitMs;
  let ifname: string | undefined;
  while (!(ifname = await ifaceWithMac(a.netns, a.mac))) {
    if (Date.now() > until) throw new Error(`no interface with MAC ${a.mac} appeared in ${a.netns} within ${a.waitMs} ms`);
    await sleep(100);
  }
  return ifname;
}

/**
 * A driver endpoint's MAC changed in the container's netns (a mac_prefix label learnt only after
 * Join): the interface with `mac` (waited for: Docker moves it in after Join answers) gets `newMac`.
 * A veth takes a new address while up, so Docker's addresses and routes stay; arp_notify first, so
 * the kernel announces the new address (gratuitous ARP) and neighbours that learnt the old one
 * follow at once. Returns the interface's name.
 */
export async function setEndpointMac(a: { netns: string; mac: string; newMac: string; waitMs: number }): Promise<string> {
  const ifname = await endpointIfname(a);
  const inNs = ['nsenter', `--net=${a.netns}`];
  // /proc/sys/net is the netns of whoever reads it: nsenter's.
  await run([...inNs, 'sh', '-c', `echo 1 > /proc/sys/net/ipv4/conf/${ifname}/arp_notify`], { allowFail: true, timeoutMs: 5_000 });
  await run([...inNs, 'ip', 'link', 'set', 'dev', ifname, 'address', a.newMac], { timeoutMs: 5_000 });
  return ifname;
}

/** Starts udhcpc for the endpoint's interface; returns its pid and the interface name. */
export async function startEndpointDhcp(a: EndpointDhcpStart, scriptFile: string): Promise<{ pid: number; ifname: string }> {
  const until = Date.now() + a.waitMs;
  let ifname: string | undefined;
  while (!(ifname = await ifaceWithMac(a.netns, a.mac))) {
    if (Date.now() > until) throw new Error(`DHCP: no interface with MAC ${a.mac} appeared in ${a.netns} within ${a.waitMs} ms`);
    await sleep(100);
  }
  mkdirSync(dirname(scriptFile), { recursive: true });
  writeAtomic(scriptFile, SCRIPT);
  chmodSync(scriptFile, 0o755);
  mkdirSync(dirname(a.leaseFile), { recursive: true });
  mkdirSync(dirname(a.logFile), { recursive: true });
  const pid = spawnDetached(['env', `DOVELAB_LEASE=${a.leaseFile}`, `DOVELAB_HOSTNAME=${a.hostname}`,
    'nsenter', `--net=${a.netns}`, 'busybox', 'udhcpc', '-f', '-i', ifname, '-s', scriptFile,
    '-x', `hostname:${a.hostname}`, '-F', a.hostname, '-t', '10', '-T', '2', '-A', '5'], openSync(a.logFile, 'a'));
  return { pid, ifname };
}

/** Stops the client (only if `pid` is still a udhcpc) and forgets the lease. */
export async function stopEndpointDhcp(pid: number | undefined, leaseFile: string): Promise<void> {
  if (pid && existsSync(`/proc/${pid}/cmdline`)) {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('udhcpc')) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
  }
  rmSync(leaseFile, { force: true });
}

/** The lease recorded for an endpoint, if any. */
export function readLease(leaseFile: string): { ip: string; mask: string; router: string; hostname: string; at: string } | undefined {
  try { return JSON.parse(readFileSync(leaseFile, 'utf8')) as ReturnType<typeof readLease>; } catch { return undefined; }
}

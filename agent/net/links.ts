// Links adapter: veth pairs between the root netns (OVS side) and a lab host's netns.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { run, runInNamedNetns, runInNetns } from '../sys/run.js';

export interface VethAttachment {
  /** Host-side end: becomes the OVS port. */
  hostEnd: string;
  /** Container netns (by a process in it). */
  pid: number;
  /** Name inside the container (eth0, eth1 …). */
  ifname: string;
  mac: string;
  /** CIDR, or undefined for none/dhcp. */
  address?: string;
  /** Default route via this address. */
  gateway?: string;
  /** Turn off TX checksum offload on both ends (needed for TCP under the netdev datapath). */
  txOff: boolean;
  /** Sysctls of this interface (net.ipv6.conf.eth0.accept_ra …), set in the container's netns once it has its name. */
  sysctl?: Record<string, string>;
}

/**
 * A token bucket on the host end's egress: what the switch sends into the host (a loop's every
 * cycle) is bounded. 50 ms of queue; a burst of at least one full frame. OVS replaces the root
 * qdisc of a port it adds (no QoS configured: it clears what it finds), so this goes after add-port.
 */
export async function limitHostEnd(hostEnd: string, mbit: number): Promise<void> {
  const burst = Math.max(15_000, Math.round(mbit * 1e6 / 8 / 100));
  await run(['tc', 'qdisc', 'replace', 'dev', hostEnd, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '50ms']);
}

const sysctlPath = (family: 'ipv4' | 'ipv6', ifname: string, key: string) => `/proc/sys/net/${family}/conf/${ifname}/${key}`;

/** The appliance must be invisible from lab ports: no IPv6 chatter, no ARP answers. */
export function hardenHostEnd(ifname: string): void {
  const set = (p: string, v: string) => { if (existsSync(p)) writeFileSync(p, v); };
  set(sysctlPath('ipv6', ifname, 'disable_ipv6'), '1');
  set(sysctlPath('ipv4', ifname, 'arp_ignore'), '8');
  set(sysctlPath('ipv4', ifname, 'forwarding'), '0');
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run(['ip', 'link', 'show', 'dev', name], { allowFail: true })).code === 0;
}

export async function deleteLink(name: string): Promise<void> {
  await run(['ip', 'link', 'del', 'dev', name], { allowFail: true });
}

/** Peer name used only between creation and the move into the netns. */
export const tempPeerName = (hostEnd: string) => `t${hostEnd.slice(1)}`.slice(0, 15);

/**
 * Creates the veth pair and wires it; on any failure both ends are removed again. Few processes
 * (each costs 5-40 ms here): the container's end is made in its netns with its name and MAC (`peer
 * netns`), offload and sysctls go in parallel, and its address, link and route in one `ip -b`.
 */
export async function attachVeth(a: VethAttachment): Promise<void> {
  if (existsSync(`/sys/class/net/${a.hostEnd}`)) await deleteLink(a.hostEnd);
  await run(['ip', 'link', 'add', a.hostEnd, 'type', 'veth', 'peer', 'name', a.ifname, 'address', a.mac, 'netns', String(a.pid)]);
  try {
    hardenHostEnd(a.hostEnd);
    // From the appliance: inside the container /proc/sys is read-only.
    const sysctls = Object.entries(a.sysctl ?? {});
    await Promise.all([
      ...(a.txOff ? [runInNetns(a.pid, ['ethtool', '-K', a.ifname, 'tx', 'off']), run(['ethtool', '-K', a.hostEnd, 'tx', 'off'])] : []),
      ...(sysctls.length ? [runInNetns(a.pid, ['sysctl', '-q', '-w', ...sysctls.map(([k, v]) => `${k}=${v}`)])] : []),
    ]);
    const batch = [
      ...(a.address ? [`addr replace ${a.address} dev ${a.ifname}`] : []),
      `link set ${a.ifname} up`,
      ...(a.gateway ? [`route replace default via ${a.gateway} dev ${a.ifname}`] : []),
    ];
    for (const line of batch) if (!/^[\w./: -]+$/.test(line)) throw new Error(`${a.hostEnd}: refusing an ip command with odd characters: ${line}`);
    await Promise.all([
      runInNetns(a.pid, ['ip', '-b', '-'], { input: `${batch.join('\n')}\n` }),
      run(['ip', 'link', 'set', a.hostEnd, 'up']),
    ]);
  } catch (e) {
    await deleteLink(a.hostEnd);
    throw e;
  }
}

export interface CaptureAttachment {
  /** Root-netns end: becomes the OVS port. */
  hostEnd: string;
  /** Named netns (ip netns) of the agent where the other end lives. */
  netns: string;
  ifname: string;
}

/** Makes the named netns if it is missing (its loopback up, IPv6 off: it only listens). */
export async function ensureNamedNetns(ns: string): Promise<void> {
  if (!existsSync(`/run/netns/${ns}`)) await run(['ip', 'netns', 'add', ns], { allowFail: true });
  if (!existsSync(`/run/netns/${ns}`)) throw new Error(`could not make netns ${ns}`);
  await runInNamedNetns(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await runInNamedNetns(ns, ['ip', 'link', 'set', 'lo', 'up']);
}

export interface EndpointVeth {
  hostEnd: string;
  /** The end Docker moves into the container and renames (eth0, eth1 …). */
  peer: string;
  /** Absent: Docker sets the endpoint's MAC as it moves the peer in (a spare made ahead has none yet). */
  mac?: string;
  mtu: number;
  /** TX checksum offload off on both ends (TCP under the netdev datapath). */
  txOff: boolean;
}

/**
 * Creates the pair (replacing a leftover of the same names); on failure nothing stays. The peer
 * stays down in the root netns until Docker moves it. Few processes: a leftover is looked for in
 * sysfs, the MAC goes with `ip link add`, the offload and the link state in parallel.
 */
export async function createEndpointVeth(a: EndpointVeth): Promise<void> {
  for (const name of [a.hostEnd, a.peer]) if (existsSync(`/sys/class/net/${name}`)) await deleteLink(name);
  await run(['ip', 'link', 'add', a.hostEnd, 'mtu', String(a.mtu), 'type', 'veth', 'peer', 'name', a.peer, 'mtu', String(a.mtu), ...(a.mac ? ['address', a.mac] : [])]);
  try {
    hardenHostEnd(a.hostEnd);
    await Promise.all([
      ...(a.txOff ? [run(['ethtool', '-K', a.hostEnd, 'tx', 'off']), run(['ethtool', '-K', a.peer, 'tx', 'off'])] : []),
      run(['ip', 'link', 'set', a.hostEnd, 'up']),
    ]);
  } catch (e) {
    await deleteLink(a.hostEnd);
    throw e;
  }
}

export async function removeNetns(ns: string): Promise<void> {
  if (existsSync(`/run/netns/${ns}`)) await run(['ip', 'netns', 'del', ns]);
}

/** A veth pair from the bridge into the agent's capture netns; the far end only receives. */
export async function attachCapture(a: CaptureAttachment): Promise<void> {
  await ensureNamedNetns(a.netns);
  const peer = tempPeerName(a.hostEnd);
  await deleteLink(a.hostEnd);
  await runInNamedNetns(a.netns, ['ip', 'link', 'del', 'dev', a.ifname], { allowFail: true });
  await run(['ip', 'link', 'add', a.hostEnd, 'type', 'veth', 'peer', 'name', peer]);
  try {
    hardenHostEnd(a.hostEnd);
    await run(['ip', 'link', 'set', peer, 'netns', a.netns]);
    await runInNamedNetns(a.netns, ['ip', 'link', 'set', peer, 'name', a.ifname]);
    await runInNamedNetns(a.netns, ['ip', 'link', 'set', a.ifname, 'up']);
    await run(['ip', 'link', 'set', a.hostEnd, 'up']);
  } catch (e) {
    await deleteLink(a.hostEnd);
    throw e;
  }
}

/** Interface names present inside a netns. */
export async function linksInNetns(pid: number): Promise<string[]> {
  const r = await runInNetns(pid, ['ip', '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
}

/** The MTU of an interface in the root netns, from sysfs (undefined: no such interface). */
export async function mtuOf(name: string): Promise<number | undefined> {
  try { return Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()); } catch { return undefined; }
}

export async function setLinkUp(name: string): Promise<void> {
  await run(['ip', 'link', 'set', name, 'up']);
}

/** IPv4 addresses (CIDR) per interface inside a netns. */
export async function addressesIn(pid: number): Promise<Record<string, string[]>> {
  const r = await runInNetns(pid, ['ip', '-j', '-4', 'addr', 'show']);
  const out: Record<string, string[]> = {};
  for (const l of JSON.parse(r.stdout) as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[]) {
    out[l.ifname] = l.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  }
  return out;
}

export interface GatewayVeth {
  /** The end on the bridge (an OVS port; hardened like a lab port). */
  portEnd: string;
  /** The end in the root netns that carries the gateway address. */
  addrEnd: string;
  /** CIDR, e.g. 198.51.100.1/24. */
  address: string;
  mac: string;
  mtu: number;
  txOff: boolean;
}

/**
 * A network's gateway: a veth pair, replacing a leftover of the same names; on failure nothing stays.
 * The address end answers ARP only for its own address (no other appliance address is found
 * through it), drops spoofed sources (rp_filter), speaks no IPv6 into the lab, and routes.
 */
export async function createGatewayVeth(a: GatewayVeth): Promise<void> {
  await deleteLink(a.portEnd);
  await deleteLink(a.addrEnd);
  await run(['ip', 'link', 'add', a.portEnd, 'mtu', String(a.mtu), 'type', 'veth', 'peer', 'name', a.addrEnd, 'mtu', String(a.mtu)]);
  try {
    hardenHostEnd(a.portEnd);
    const set = (key: string, v: string) => { const p = sysctlPath('ipv4', a.addrEnd, key); if (existsSync(p)) writeFileSync(p, v); };
    const v6 = sysctlPath('ipv6', a.addrEnd, 'disable_ipv6');
    if (existsSync(v6)) writeFileSync(v6, '1');
    set('arp_ignore', '1');
    set('arp_announce', '2');
    set('rp_filter', '1');
    set('send_redirects', '0');
    set('accept_redirects', '0');
    set('forwarding', '1');
    await run(['ip', 'link', 'set', a.addrEnd, 'address', a.mac]);
    if (a.txOff) {
      await run(['ethtool', '-K', a.portEnd, 'tx', 'off']);
      await run(['ethtool', '-K', a.addrEnd, 'tx', 'off']);
    }
    await run(['ip', 'addr', 'replace', a.address, 'dev', a.addrEnd]);
    await run(['ip', 'link', 'set', a.addrEnd, 'up']);
    await run(['ip', 'link', 'set', a.portEnd, 'up']);
  } catch (e) {
    await deleteLink(a.portEnd);
    throw e;
  }
}

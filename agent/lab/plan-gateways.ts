// Gateways of nat/routed Docker networks (issue 9), pure: a network's record -> its gateway port
// (a veth pair: one end on the bridge in the network's VLAN, the other in the root netns with the
// IPAM gateway address), `docker run -p` port maps -> published ports, and the whole iptables rule
// set of every gateway (what containers may reach, masquerade, DNAT), recomputed from scratch.
import { createHash } from 'node:crypto';
import type { GatewayChain } from '../net/gateway-firewall.js';
import { ALLOW_ALL } from '../net/faucet/model.js';
import type { FaucetInterface } from '../net/faucet/model.js';
import { PlanError, type DesiredGateway, type DesiredPublished } from './desired.js';

/** Gateway ports: 10000+vid, out of the lesson (..3099), uplink (..49) and endpoint (4001..8999) ranges. */
export const GATEWAY_OFPORT_BASE = 10000;
export const gatewayOfport = (vid: number) => GATEWAY_OFPORT_BASE + vid;
/** Names that do not start with dl: the lab firewall drops everything from dl+. */
export const gatewayLinks = (vid: number) => ({ portEnd: `gp${vid}`, addrEnd: `gw${vid}` });
export const GATEWAY_ADDR_PATTERN = 'gw+';
export const GATEWAY_PORT_PATTERN = 'gp+';

/** A locally administered unicast MAC for a network's gateway (Docker gives none). */
export function gatewayMac(network: string): string {
  const h = createHash('sha256').update(`docker-gateway/${network}`).digest();
  return ['0e', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

const ipv4 = (s: string) => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts.reduce((a, p) => a * 256 + p, 0) : undefined;
};
const dotted = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** `198.51.100.1/24` -> `{ip: 198.51.100.1, prefix: 24, subnet: 198.51.100.0/24}`; undefined if not IPv4 CIDR. */
export function parseCidr(cidr: string): { ip: string; prefix: number; subnet: string } | undefined {
  const [ip, p] = cidr.split('/');
  const n = ip === undefined ? undefined : ipv4(ip);
  const prefix = Number(p);
  if (n === undefined || !/^\d{1,2}$/.test(p ?? '') || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { ip: ip!, prefix, subnet: `${dotted(Math.floor(n / size) * size)}/${prefix}` };
}

/** Two IPv4 CIDRs share addresses. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a); const y = parseCidr(b);
  if (!x || !y) return false;
  const p = Math.min(x.prefix, y.prefix);
  return parseCidr(`${x.ip}/${p}`)!.subnet === parseCidr(`${y.ip}/${p}`)!.subnet;
}

/** A port a container publishes (`-p [IP:]H:C[/udp]`), as recorded on its endpoint. */
export interface PublishedPort { proto: 'tcp' | 'udp'; hostIp?: string; hostPort: number; port: number }

export class PortMapError extends Error {}

const PORTMAP = 'com.docker.network.portmap';

/**
 * Docker's port map (Join's and ProgramExternalConnectivity's Options["com.docker.network.portmap"]):
 * a list of {Proto (6 tcp, 17 udp), IP, Port, HostIP, HostPort, HostPortEnd}. Absent or null: none.
 * IPv6 host addresses are left out (the gateways are IPv4 only); duplicates are merged.
 * A host port range (HostPortEnd > HostPort) takes its first port.
 */
export function parsePortMap(raw: unknown): PublishedPort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new PortMapError(`${PORTMAP}: not a list of port bindings`);
  const out: PublishedPort[] = [];
  raw.forEach((b: unknown, i) => {
    const where = `${PORTMAP}[${i}]`;
    if (!b || typeof b !== 'object') throw new PortMapError(`${where}: not a port binding`);
    const r = b as Record<string, unknown>;
    const proto = r.Proto === 6 ? 'tcp' : r.Proto === 17 ? 'udp' : undefined;
    if (!proto) throw new PortMapError(`${where}: protocol ${JSON.stringify(r.Proto)} is not published here (only tcp 6 and udp 17)`);
    const port = (k: string, min: number) => {
      const v = r[k] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) throw new PortMapError(`${where}.${k}: ${JSON.stringify(v)} is not a port (${min}..65535)`);
      return v;
    };
    const container = port('Port', 1);
    const host = port('HostPort', 0);
    const end = port('HostPortEnd', 0);
    if (host === 0) throw new PortMapError(`${where}: no host port for ${container}/${proto}: publish with an explicit host port (-p H:${container})`);
    if (end !== 0 && end < host) throw new PortMapError(`${where}: host port range ${host}-${end} ends before it starts`);
    const hostIp = r.HostIP ?? '';
    if (typeof hostIp !== 'string') throw new PortMapError(`${where}.HostIP: not an address`);
    if (hostIp.includes(':')) return;
    if (hostIp !== '' && ipv4(hostIp) === undefined) throw new PortMapError(`${where}.HostIP: ${JSON.stringify(hostIp)} is not an IPv4 address`);
    const p: PublishedPort = { proto, hostPort: host, port: container, ...(hostIp && hostIp !== '0.0.0.0' ? { hostIp } : {}) };
    if (!out.some((q) => JSON.stringify(q) === JSON.stringify(p))) out.push(p);
  });
  return out;
}

/** What planGateway needs of a network and its endpoints (plan-networks' records). */
interface GatewayNetwork { id: string; name?: string; vid: number; mode: 'flat' | 'nat' | 'routed'; mtu: number; gateway?: string; natAcls?: string[]; gatewayMac?: string }
interface GatewayEndpoint { id: string; network: string; address?: string; joined: boolean; published?: PublishedPort[] }

/** A nat/routed network's gateway, or undefined for flat. Throws PlanError when it cannot have one. */
export function planGateway(n: GatewayNetwork, vlan: string, endpoints: GatewayEndpoint[]): DesiredGateway | undefined {
  const who = `network ${n.name ?? n.id.slice(0, 12)}`;
  const published = (e: GatewayEndpoint): DesiredPublished[] => {
    if (!e.joined || !e.published?.length) return [];
    const ip = e.address ? parseCidr(e.address)?.ip : undefined;
    if (!ip) throw new PlanError(`${who}: endpoint ${e.id.slice(0, 12)} publishes ports but has no IPv4 address`);
    return e.published.map((p) => ({ ...p, ip, endpoint: e.id }));
  };
  const mine = endpoints.filter((e) => e.network === n.id);
  if (n.mode === 'flat') {
    const e = mine.find((x) => x.joined && x.published?.length);
    if (e) throw new PlanError(`${who} is flat: it has no gateway to publish ports on (-p needs dovelab.mode=nat or routed)`);
    return undefined;
  }
  const cidr = n.gateway ? parseCidr(n.gateway) : undefined;
  if (!cidr) throw new PlanError(`${who}: mode ${n.mode} needs an IPv4 IPAM gateway (not --ipam-driver null); it has ${n.gateway ?? 'none'}`);
  return {
    network: n.id, mode: n.mode, vid: n.vid, vlan, ofport: gatewayOfport(n.vid), ...gatewayLinks(n.vid),
    address: `${cidr.ip}/${cidr.prefix}`, subnet: cidr.subnet, mac: n.gatewayMac ?? gatewayMac(n.id), mtu: n.mtu,
    faucetName: `docker-gw${n.vid}`, acls: [...(n.natAcls ?? [])], published: mine.flatMap(published),
  };
}

/** The gateway's port in faucet.yaml: like an endpoint's, its ACLs (nat_acl) then allow. */
export const gatewayInterface = (g: DesiredGateway, aclName: (a: string) => string, who: string): FaucetInterface => ({
  number: g.ofport, name: g.faucetName, description: `gateway of ${who}`, native_vlan: g.vlan, acls_in: [...g.acls.map(aclName), ALLOW_ALL],
});

/** Two published ports of one protocol on one host port (the same or any appliance address) clash. */
export function checkPublished(gateways: DesiredGateway[]): void {
  const all = gateways.flatMap((g) => g.published);
  all.forEach((p, i) => {
    const other = all.slice(0, i).find((q) => q.proto === p.proto && q.hostPort === p.hostPort && (!q.hostIp || !p.hostIp || q.hostIp === p.hostIp));
    if (other) throw new PlanError(`port ${p.hostPort}/${p.proto} is already published by endpoint ${other.endpoint.slice(0, 12)} (${other.ip}:${other.port})`);
  });
}

export const GATEWAY_CHAINS = { input: 'DOVELAB-GW-IN', forward: 'DOVELAB-GW-FWD', prerouting: 'DOVELAB-GW-PRE', postrouting: 'DOVELAB-GW-POST' } as const;

/**
 * The iptables rules of every gateway, in order, as `iptables -S` prints them. Our own chains,
 * hooked at the top of INPUT/FORWARD/PREROUTING/POSTROUTING (Docker's chains are never touched):
 * - INPUT from any gateway: echo requests (and what the appliance started) only: containers never
 *   reach the appliance's services, on the gateway address or any other.
 * - FORWARD: no gateway to another (networks stay apart); a network's own subnet out; replies
 *   back; DNATed published ports in; routed networks also reachable on their own addresses;
 *   anything else to or from a gateway dropped.
 * - nat: published ports DNATed on the appliance's addresses (never for traffic from gateways or
 *   lab ports); nat networks masqueraded out of any other interface.
 * Empty list when there are no gateways: then nothing of ours stays installed.
 */
export function gatewayFirewall(gateways: DesiredGateway[]): GatewayChain[] {
  if (!gateways.length) return [];
  const C = GATEWAY_CHAINS;
  const sorted = [...gateways].sort((a, b) => a.vid - b.vid);
  const gw = GATEWAY_ADDR_PATTERN;
  const input = [
    `-A ${C.input} -i ${gw} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${C.input} -i ${gw} -p icmp -m icmp --icmp-type 8 -j ACCEPT`,
    `-A ${C.input} -i ${gw} -j DROP`,
  ];
  const dnat = sorted.flatMap((g) => g.published.map((p) => ({ g, p }))).sort((a, b) => a.p.hostPort - b.p.hostPort || a.p.proto.localeCompare(b.p.proto));
  const forward = [
    `-A ${C.forward} -i ${gw} -o ${gw} -j DROP`,
    `-A ${C.forward} -o ${gw} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    ...dnat.map(({ g, p }) => `-A ${C.forward} -d ${p.ip}/32 -o ${g.addrEnd} -p ${p.proto} -m ${p.proto} --dport ${p.port} -m conntrack --ctstate DNAT -j ACCEPT`),
    ...sorted.filter((g) => g.mode === 'routed').map((g) => `-A ${C.forward} -d ${g.subnet} -o ${g.addrEnd} -j ACCEPT`),
    ...sorted.map((g) => `-A ${C.forward} -s ${g.subnet} -i ${g.addrEnd} -j ACCEPT`),
    `-A ${C.forward} -i ${gw} -j DROP`,
    `-A ${C.forward} -o ${gw} -j DROP`,
  ];
  const prerouting = dnat.length ? [
    `-A ${C.prerouting} -i ${gw} -j RETURN`,
    `-A ${C.prerouting} -i ${GATEWAY_PORT_PATTERN} -j RETURN`,
    `-A ${C.prerouting} -i dl+ -j RETURN`,
    ...dnat.map(({ p }) => (p.hostIp
      ? `-A ${C.prerouting} -d ${p.hostIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.ip}:${p.port}`
      : `-A ${C.prerouting} -p ${p.proto} -m addrtype --dst-type LOCAL -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.ip}:${p.port}`)),
  ] : [];
  const postrouting = sorted.filter((g) => g.mode === 'nat').map((g) => `-A ${C.postrouting} -s ${g.subnet} ! -o ${g.addrEnd} -j MASQUERADE`);
  return [
    { table: 'filter', chain: C.input, hook: 'INPUT', rules: input },
    { table: 'filter', chain: C.forward, hook: 'FORWARD', rules: forward },
    { table: 'nat', chain: C.prerouting, hook: 'PREROUTING', rules: prerouting },
    { table: 'nat', chain: C.postrouting, hook: 'POSTROUTING', rules: postrouting },
  ];
}

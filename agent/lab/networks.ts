// The Docker network driver's verbs (create/delete network, create/join/leave/delete endpoint),
// beside the lab's on the one bridge and one Faucet DP, one writer at a time (the lab lock).
// Each verb checks everything first, then writes networks.json and reconciles; a verb answers only
// once Faucet has confirmed, and a change Faucet refuses puts the previous state back.
import { createHash } from 'node:crypto';
import { paths, type Config } from '../config.js';
import { idleDesired, reconcile, type LabContext } from './engine.js';
import { notADongle } from './interfaces.js';
import { readNetworkState, writeNetworkState } from './network-state.js';
import { NetworkOptionError, parseNetworkOptions } from './plan-network-options.js';
import { chooseVid, endpointLinks, freeOfport, usedVids, withNetworks, type PluginEndpoint, type PluginNetwork, type PluginState } from './plan-networks.js';
import { PlanError, type DesiredState } from './desired.js';
import { lessonDesired, withLabLock } from './service.js';
import { cidrsOverlap, parseCidr, parsePortMap, PortMapError, type PublishedPort } from './plan-gateways.js';
import { readLabState } from './state.js';

/**
 * networks.json is written by this process only (the agent): its read-modify-writes go one at a
 * time here. Verbs that reconcile take the lab lock first, then this; verbs that do not (and Join
 * while OVS and Faucet are away) take only this, so a repair waiting on dockerd never holds up
 * dockerd's own calls to the driver (which would hold up dockerd: a deadlock until timeouts).
 */
let fileChain: Promise<unknown> = Promise.resolve();
export function withNetworksFile<T>(fn: () => Promise<T>): Promise<T> {
  const p = fileChain.then(fn, fn);
  fileChain = p.catch(() => {});
  return p;
}
/** The lab lock, then the networks file: for verbs that reconcile. */
const withBoth = <T>(ctx: LabContext, fn: () => Promise<T>) => withLabLock(ctx.cfg, () => withNetworksFile(fn));

/** A refusal Docker shows the user as is (`docker network create` / `docker run` fail with it). */
export class NetworkError extends Error {}

/** The appliance planned with `net` as the Docker networks' state. */
function planWith(c: Config, net: PluginState): DesiredState {
  const st = readLabState(paths(c).labState);
  return withNetworks(st ? lessonDesired(c, st) : idleDesired(c), net);
}

/** Writes `next`, reconciles; on failure writes `prev` back and reconciles to it. */
async function apply(ctx: LabContext, prev: PluginState, next: PluginState): Promise<void> {
  let desired: DesiredState;
  try { desired = planWith(ctx.cfg, next); } catch (e) {
    if (e instanceof PlanError) throw new NetworkError(e.message);
    throw e;
  }
  const file = paths(ctx.cfg).networks;
  writeNetworkState(file, next);
  try {
    await reconcile(ctx, desired);
  } catch (e) {
    writeNetworkState(file, prev);
    await reconcile(ctx, planWith(ctx.cfg, prev)).catch((e2) => ctx.log(`warning: could not restore the Docker networks: ${(e2 as Error).message}`));
    throw e;
  }
}

export interface CreateNetworkRequest {
  id: string;
  /** `-o k=v` of `docker network create` (Options["com.docker.network.generic"]). */
  generic: Record<string, unknown>;
  internal: boolean;
  /** IPAM's pools and gateways (empty with --ipam-driver null). */
  ipv4: { Pool?: string; Gateway?: string }[];
}

export async function networkCreate(ctx: LabContext, req: CreateNetworkRequest): Promise<{ warnings: string[]; vid: number }> {
  return withBoth(ctx, async () => {
    const prev = readNetworkState(paths(ctx.cfg).networks);
    const had = prev.networks.find((n) => n.id === req.id);
    if (had) return { warnings: [], vid: had.vid };
    const gateway = req.ipv4.find((d) => d.Gateway)?.Gateway;
    // `--ipam-driver null` still sends one pool: 0.0.0.0/0, no gateway (no IP config).
    let o: ReturnType<typeof parseNetworkOptions>;
    try {
      o = parseNetworkOptions(req.generic, {
        bridge: ctx.cfg.bridge, dpId: ctx.cfg.dpId, controllers: ['tcp:127.0.0.1:6653', 'tcp:127.0.0.1:6654'],
        acls: [], internal: req.internal, hasIpam: req.ipv4.some((d) => (d.Pool && d.Pool !== '0.0.0.0/0') || d.Gateway),
      });
    } catch (e) {
      if (e instanceof NetworkOptionError) throw new NetworkError(e.message);
      throw e;
    }
    // Whoever runs `docker network create` is root already, so any interface will do, except the
    // appliance's own (an address, the default route) and ours.
    const present = new Set(await ctx.dongles.present());
    const facts = await ctx.dongles.facts();
    for (const u of o.uplinks) {
      if (!present.has(u.iface)) throw new NetworkError(`${u.iface}: no such interface on the appliance`);
      const why = notADongle(u.iface, facts, ctx.cfg.bridge);
      if (why) throw new NetworkError(`${u.iface} cannot be bridged into a network: ${why}`);
    }
    let vid: number;
    const vlanOption = 'dovelab.vlan' in req.generic ? 'dovelab.vlan' : 'ovs.bridge.vlan';
    try { vid = chooseVid(o.vlan, usedVids(planWith(ctx.cfg, prev)), vlanOption); } catch (e) {
      if (e instanceof PlanError) throw new NetworkError(e.message);
      throw e;
    }
    const network: PluginNetwork = {
      id: req.id, vid, mode: o.mode, dhcp: o.dhcp, mtu: o.mtu, tagged: o.tagged, uplinks: o.uplinks,
      defaultAcls: o.defaultAcls, ...(gateway ? { gateway } : {}),
      ...(o.mode !== 'flat' ? { natAcls: o.natAcls, ...(o.macForGateway ? { gatewayMac: o.macForGateway } : {}) } : {}),
      options: Object.fromEntries(Object.entries(req.generic).map(([k, v]) => [k, String(v)])), createdAt: new Date().toISOString(),
    };
    if (o.mode !== 'flat') checkGatewaySubnet(o.mode, 'dovelab.mode' in req.generic ? 'dovelab.mode' : 'ovs.bridge.mode', gateway, facts);
    await apply(ctx, prev, { ...prev, networks: [...prev.networks, network] });
    for (const w of o.warnings) ctx.log(`network ${req.id.slice(0, 12)}: ${w}`);
    return { warnings: o.warnings, vid };
  });
}

/** A nat/routed network's gateway address must be IPv4 and must not overlap the appliance's own networks. */
function checkGatewaySubnet(mode: string, option: string, gateway: string | undefined, facts: Awaited<ReturnType<LabContext['dongles']['facts']>>): void {
  const cidr = gateway ? parseCidr(gateway) : undefined;
  if (!cidr) throw new NetworkError(`${option}: ${mode} needs an IPv4 IPAM gateway (Docker's default IPAM gives one; not --ipam-driver null)${gateway ? `, not ${gateway}` : ''}`);
  for (const [ifname, f] of Object.entries(facts)) {
    if (/^gw\d+$/.test(ifname)) continue;
    const mine = f.addresses.find((a) => cidrsOverlap(a, cidr.subnet));
    if (mine) throw new NetworkError(`${option}: ${mode} network ${cidr.subnet} overlaps the appliance's own ${mine} on ${ifname} (choose another --subnet)`);
  }
}

export async function networkDelete(ctx: LabContext, id: string): Promise<void> {
  await withBoth(ctx, async () => {
    const prev = readNetworkState(paths(ctx.cfg).networks);
    if (!prev.networks.some((n) => n.id === id)) return;
    const next: PluginState = { networks: prev.networks.filter((n) => n.id !== id), endpoints: prev.endpoints.filter((e) => e.network !== id) };
    await apply(ctx, prev, next);
    for (const e of prev.endpoints.filter((x) => x.network === id)) {
      await ctx.endpoints.stopDhcp(e.dhcpPid, leaseFileOf(ctx.cfg, e.id));
      await ctx.links.deleteLink(e.hostEnd);
    }
  });
}

/** A locally administered unicast MAC from the endpoint id (Docker gave none). */
export function endpointMac(endpoint: string): string {
  const h = createHash('sha256').update(`docker-endpoint/${endpoint}`).digest();
  return ['0e', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export interface CreateEndpointRequest { network: string; endpoint: string; mac?: string; address?: string }

/** Makes the endpoint's veth pair; returns the MAC it chose (undefined when Docker gave one). */
export async function endpointCreate(ctx: LabContext, req: CreateEndpointRequest): Promise<{ mac?: string }> {
  // No switch change (the port goes on at Join): the networks file is all it needs.
  return withNetworksFile(async () => {
    const prev = readNetworkState(paths(ctx.cfg).networks);
    const n = prev.networks.find((x) => x.id === req.network);
    if (!n) throw new NetworkError(`network ${req.network.slice(0, 12)} is not one of this appliance's (made while the agent was away?)`);
    const had = prev.endpoints.find((e) => e.id === req.endpoint);
    if (had) return req.mac ? {} : { mac: had.mac };
    const mac = (req.mac || endpointMac(req.endpoint)).toLowerCase();
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1)) throw new NetworkError(`MAC address ${mac}: not a unicast MAC`);
    const ofport = freeOfport(prev, planWith(ctx.cfg, prev));
    const links = endpointLinks(ofport);
    const ep: PluginEndpoint = { id: req.endpoint, network: n.id, ofport, ...links, mac, ...(req.address ? { address: req.address } : {}), acls: [...n.defaultAcls], joined: false };
    await ctx.links.createEndpointVeth({ ...links, mac, mtu: n.mtu, txOff: ctx.datapath === 'netdev' });
    try {
      writeNetworkState(paths(ctx.cfg).networks, { ...prev, endpoints: [...prev.endpoints, ep] });
    } catch (e) {
      await ctx.links.deleteLink(links.hostEnd);
      throw e;
    }
    return req.mac ? {} : { mac };
  });
}

/** How long DHCP waits for Docker to move the interface in and list the container. */
const DHCP_WAIT_MS = 30_000;
export const leaseFileOf = (c: Config, endpoint: string) => `${c.runDir}/leases/${endpoint.slice(0, 12)}.json`;

/** How long Join gives OVS and Faucet to answer before it leaves the port to the agent's repair. */
const INFRA_ANSWER_MS = 3_000;

/** OVS has the bridge and Faucet answers, within `ms` (false on any failure or when late). */
async function infraAnswers(ctx: LabContext, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  const check = Promise.all([ctx.ovs.bridgeExists(ctx.cfg.bridge), ctx.faucet.ping()]).then(([b]) => b, () => false);
  try { return await Promise.race([check, late]); } finally { clearTimeout(timer); }
}

/**
 * Puts the endpoint's port on the bridge in its network's VLAN; answers once Faucet confirmed.
 * While dockerd restores containers after its restart, OVS and Faucet (containers too) may not be
 * back, and every Docker call of ours waits on dockerd, which waits on this Join: then the Join
 * is recorded and answered at once, and the agent's repair puts the port on once they are back.
 */
export async function endpointJoin(ctx: LabContext, network: string, endpoint: string, sandbox?: string, portmap?: unknown): Promise<{ srcName: string; gateway?: string }> {
  const published = publishedPorts(ctx.cfg, portmap);
  const joinIn = (prev: PluginState) => {
    const ep = prev.endpoints.find((e) => e.id === endpoint && e.network === network);
    if (!ep) throw new NetworkError(`endpoint ${endpoint.slice(0, 12)} was not created on this appliance`);
    const { published: _had, ...rest } = ep;
    const next: PluginState = { ...prev, endpoints: prev.endpoints.map((e) => (e === ep ? { ...rest, joined: true, ...(sandbox ? { sandbox } : {}), ...(published.length ? { published } : {}) } : e)) };
    const n = prev.networks.find((x) => x.id === network);
    return { ep, next, dhcp: !!n?.dhcp, gateway: n && n.mode !== 'flat' ? parseCidr(n.gateway ?? '')?.ip : undefined };
  };
  const r = (await infraAnswers(ctx, INFRA_ANSWER_MS))
    ? await withBoth(ctx, async () => {
      const prev = readNetworkState(paths(ctx.cfg).networks);
      const j = joinIn(prev);
      await apply(ctx, prev, j.next);
      return j;
    })
    : await withNetworksFile(async () => {
      const j = joinIn(readNetworkState(paths(ctx.cfg).networks));
      try { planWith(ctx.cfg, j.next); } catch (e) {
        if (e instanceof PlanError) throw new NetworkError(e.message);
        throw e;
      }
      writeNetworkState(paths(ctx.cfg).networks, j.next);
      ctx.log(`network driver: OVS or Faucet not answering (dockerd starting?): endpoint ${endpoint.slice(0, 12)} joins, its port follows with the next repair`);
      return j;
    });
  // Docker moves the interface in only after Join answers: DHCP starts when it is there.
  if (r.dhcp && sandbox) void startDhcp(ctx, network, endpoint, sandbox, r.ep.mac);
  // nat/routed: Docker sets the default route via the gateway (and adds no docker_gwbridge).
  return { srcName: r.ep.peer, ...(r.gateway ? { gateway: r.gateway } : {}) };
}

/** Host ports the appliance itself serves: publishing on them would take them away from it. */
const reservedPorts = (c: Config) => new Map([[c.web.port, "the appliance's web UI"], [22, 'ssh']]);

/** Docker's port map, checked: bad input and the appliance's own ports are refused. */
function publishedPorts(c: Config, portmap: unknown): PublishedPort[] {
  let ports: PublishedPort[];
  try { ports = parsePortMap(portmap); } catch (e) {
    if (e instanceof PortMapError) throw new NetworkError(e.message);
    throw e;
  }
  for (const p of ports) {
    const what = p.proto === 'tcp' ? reservedPorts(c).get(p.hostPort) : undefined;
    if (what) throw new NetworkError(`-p ${p.hostPort}:${p.port}: host port ${p.hostPort} is ${what} on this appliance; publish on another`);
  }
  return ports;
}

/**
 * ProgramExternalConnectivity (Docker sends the port map again) and RevokeExternalConnectivity
 * (none): the endpoint's published ports become these; only the firewall changes.
 */
export async function endpointPublish(ctx: LabContext, network: string, endpoint: string, portmap: unknown): Promise<void> {
  const published = publishedPorts(ctx.cfg, portmap);
  const change = (prev: PluginState) => {
    const ep = prev.endpoints.find((e) => e.id === endpoint && e.network === network);
    if (!ep || !ep.joined || JSON.stringify(ep.published ?? []) === JSON.stringify(published)) return undefined;
    const { published: _had, ...rest } = ep;
    return { ...prev, endpoints: prev.endpoints.map((e) => (e === ep ? { ...rest, ...(published.length ? { published } : {}) } : e)) };
  };
  if (await infraAnswers(ctx, INFRA_ANSWER_MS)) {
    await withBoth(ctx, async () => {
      const prev = readNetworkState(paths(ctx.cfg).networks);
      const next = change(prev);
      if (next) await apply(ctx, prev, next);
    });
    return;
  }
  await withNetworksFile(async () => {
    const next = change(readNetworkState(paths(ctx.cfg).networks));
    if (!next) return;
    try { planWith(ctx.cfg, next); } catch (e) {
      if (e instanceof PlanError) throw new NetworkError(e.message);
      throw e;
    }
    writeNetworkState(paths(ctx.cfg).networks, next);
  });
}

async function startDhcp(ctx: LabContext, network: string, endpoint: string, sandbox: string, mac: string): Promise<void> {
  const id = endpoint.slice(0, 12);
  try {
    const container = await ctx.endpoints.containerOf(network, endpoint, DHCP_WAIT_MS);
    const hostname = (container ?? `docker-${id}`).replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63);
    const { pid, ifname } = await ctx.endpoints.startDhcp({
      netns: sandbox, mac, hostname, leaseFile: leaseFileOf(ctx.cfg, endpoint), logFile: `${ctx.cfg.logDir}/dhcp-${id}.log`, waitMs: DHCP_WAIT_MS,
    });
    const kept = await withNetworksFile(async () => {
      const st = readNetworkState(paths(ctx.cfg).networks);
      const ep = st.endpoints.find((e) => e.id === endpoint);
      if (!ep || !ep.joined) return false;
      writeNetworkState(paths(ctx.cfg).networks, { ...st, endpoints: st.endpoints.map((e) => (e === ep ? { ...e, dhcpPid: pid, ifname, ...(container ? { container } : {}) } : e)) });
      return true;
    });
    // It left while the client started: stop it again.
    if (!kept) await ctx.endpoints.stopDhcp(pid, leaseFileOf(ctx.cfg, endpoint));
    else ctx.log(`network driver: DHCP on ${container ?? id} ${ifname} (hostname ${hostname})`);
  } catch (e) {
    ctx.log(`network driver: DHCP for endpoint ${id} did not start: ${(e as Error).message}`);
  }
}

/** Takes the endpoint off (Leave) or out (Delete); without OVS and Faucet, the next repair does the switch part. */
async function endpointOff(ctx: LabContext, network: string, endpoint: string, remove: boolean): Promise<void> {
  const change = (prev: PluginState) => {
    const ep = prev.endpoints.find((e) => e.id === endpoint && e.network === network);
    if (!ep || (!remove && !ep.joined)) return undefined;
    const { dhcpPid: _p, published: _q, ...left } = ep;
    const next: PluginState = { ...prev, endpoints: remove ? prev.endpoints.filter((e) => e !== ep) : prev.endpoints.map((e) => (e === ep ? { ...left, joined: false } : e)) };
    return { ep, next };
  };
  const done = async (ep: PluginEndpoint) => { if (remove) await ctx.links.deleteLink(ep.hostEnd); };
  if (await infraAnswers(ctx, INFRA_ANSWER_MS)) {
    await withBoth(ctx, async () => {
      const prev = readNetworkState(paths(ctx.cfg).networks);
      const c = change(prev);
      if (!c) return;
      await ctx.endpoints.stopDhcp(c.ep.dhcpPid, leaseFileOf(ctx.cfg, endpoint));
      if (c.ep.joined) await apply(ctx, prev, c.next); else writeNetworkState(paths(ctx.cfg).networks, c.next);
      await done(c.ep);
    });
    return;
  }
  await withNetworksFile(async () => {
    const c = change(readNetworkState(paths(ctx.cfg).networks));
    if (!c) return;
    await ctx.endpoints.stopDhcp(c.ep.dhcpPid, leaseFileOf(ctx.cfg, endpoint));
    writeNetworkState(paths(ctx.cfg).networks, c.next);
    await done(c.ep);
  });
}

export const endpointLeave = (ctx: LabContext, network: string, endpoint: string) => endpointOff(ctx, network, endpoint, false);
export const endpointDelete = (ctx: LabContext, network: string, endpoint: string) => endpointOff(ctx, network, endpoint, true);

/**
 * Endpoints whose veth is gone (their container died, the appliance rebooted) leave the state, so
 * the next repair takes their ports off the switch; Docker makes new endpoints when it starts the
 * container again. Returns how many went.
 */
export async function pruneEndpoints(ctx: LabContext): Promise<number> {
  return withNetworksFile(async () => {
    const file = paths(ctx.cfg).networks;
    const prev = readNetworkState(file);
    if (!prev.endpoints.length) return 0;
    // Read in turn: an endpoint being made now has its veth before it is in the file.
    const present = new Set(await ctx.dongles.present());
    const kept = prev.endpoints.filter((e) => present.has(e.hostEnd));
    if (kept.length === prev.endpoints.length) return 0;
    for (const e of prev.endpoints) if (!present.has(e.hostEnd)) await ctx.endpoints.stopDhcp(e.dhcpPid, leaseFileOf(ctx.cfg, e.id));
    writeNetworkState(file, { ...prev, endpoints: kept });
    return prev.endpoints.length - kept.length;
  });
}

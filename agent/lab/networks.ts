// The Docker network driver's verbs (create/delete network, create/join/leave/delete endpoint),
// beside the lab's on the one bridge and one Faucet DP, one writer at a time (the lab lock).
// Each verb checks everything first, then writes networks.json and reconciles; a verb answers only
// once Faucet has confirmed, and a change Faucet refuses puts the previous state back. Verbs that
// wait for the lock meanwhile go together in one reconcile (group commit: one Faucet reload).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { paths, type Config } from '../config.js';
import { idleDesired, inParallel, reconcile, type LabContext } from './engine.js';
import { notADongle } from './interfaces.js';
import { readNetworkState, writeNetworkState } from './network-state.js';
import { applyMacPrefix, NetworkOptionError, parseEndpointLabels, parseNetworkOptions, type EndpointLabels } from './plan-network-options.js';
import { chooseVid, endpointLinks, fitsSpare, freeOfport, freeOfports, refillSpares, returnSpare, slotInPlace, sparesMissing, takeSpare, usedVids, type PluginEndpoint, type PluginNetwork, type PluginState } from './plan-networks.js';
import { emitFaucetYaml } from '../net/faucet/emit.js';
import { pluginPortExternalIds, portDrift, slotExternalIds } from './diff.js';
import { withDeadline } from '../sys/deadline.js';
import { PlanError, type DesiredState } from './desired.js';
import { lessonDesired, networkEnv, withApplianceNetworks, withLabLock } from './service.js';
import { cidrsOverlap, parseCidr, parsePortMap, PortMapError, type PublishedPort } from './plan-gateways.js';
import { readLabState } from './state.js';
import { foldChanges, groupCommit, type Change, type GroupCommit, type Verdict } from './batch.js';
import { step } from '../sys/steps.js';

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

/** Names of the appliance's ACLs (built-ins and the ACL file); a bad file is the user's error. */
function aclNames(c: Config): string[] {
  try { return Object.keys(networkEnv(c).acls); } catch (e) {
    if (e instanceof PlanError) throw new NetworkError(e.message);
    throw e;
  }
}

/** A refusal Docker shows the user as is (`docker network create` / `docker run` fail with it). */
export class NetworkError extends Error {}

/** The appliance planned with `net` as the Docker networks' state. */
function planWith(c: Config, net: PluginState): DesiredState {
  const st = readLabState(paths(c).labState);
  return withApplianceNetworks(c, st ? lessonDesired(c, st) : idleDesired(c), net);
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
  step('plan+write');
  try {
    if (!(await portsOnly(ctx, prev, desired))) { await reconcile(ctx, desired); step('reconcile'); }
  } catch (e) {
    writeNetworkState(file, prev);
    await reconcile(ctx, planWith(ctx.cfg, prev)).catch((e2) => ctx.log(`warning: could not restore the Docker networks: ${(e2 as Error).message}`));
    throw e;
  }
}

/**
 * The fast way for a change Faucet does not see (a container taking a spare port whose OVS port was
 * not ready, a port leaving): when Faucet's live (checked) config is already the one `desired` wants,
 * and nothing but driver ports differs from `prev`'s plan, only those OVS ports change, and Faucet
 * is asked to confirm it still runs that config (no check, no reload). False, doing nothing, when
 * the change needs more. Spare ports waiting for a container are the reconcile's (their veths).
 */
async function portsOnly(ctx: LabContext, prev: PluginState, desired: DesiredState): Promise<boolean> {
  const live = ctx.faucet.liveConfig();
  const text = emitFaucetYaml(desired.faucet);
  if (live === undefined || text !== live) return false;
  let before: DesiredState;
  try { before = planWith(ctx.cfg, prev); } catch { return false; }
  const rest = (d: DesiredState) => JSON.stringify([d.uplinks, d.gateways ?? [], d.ports, d.hosts, d.captures ?? []]);
  if (emitFaucetYaml(before.faucet) !== live || rest(before) !== rest(desired)) return false;
  const bridge = ctx.cfg.bridge;
  // Ports by what OVS sees of them: a spare taken keeps its port (the same ids), so only what
  // left, or what OVS lacks, changes.
  const wanted = new Set([...(desired.pluginPorts ?? []).map((p) => p.hostEnd), ...(desired.slots ?? []).map((s) => s.hostEnd)]);
  const got = new Map((await ctx.ovs.ports(bridge)).map((p) => [p.name, p]));
  step('compare');
  // A batch (containers removed together) goes a few ports at a time, like the reconcile's phases.
  await inParallel((before.pluginPorts ?? []).filter((p) => !wanted.has(p.hostEnd)), 4, async (p) => {
    ctx.log(`remove-port ${p.hostEnd} (its container left the network; spare port, no Faucet reload)`);
    await ctx.ovs.deletePort(bridge, p.hostEnd);
    await ctx.links.deleteLink(p.hostEnd);
  });
  await inParallel((desired.pluginPorts ?? []).filter((p) => portDrift(got.get(p.hostEnd), p.ofport, pluginPortExternalIds(p))), 4, async (p) => {
    ctx.log(`add-plugin-port ${p.hostEnd} (ofport ${p.ofport}, vlan ${p.vid}) for endpoint ${p.endpoint.slice(0, 12)} (spare port, no Faucet reload)`);
    await ctx.ovs.deletePort(bridge, p.hostEnd);
    await ctx.ovs.addPort(bridge, p.hostEnd, p.ofport, pluginPortExternalIds(p));
  });
  step('ovs');
  // Faucet still runs the live config (already checked when it went live): confirmed, not reloaded.
  await ctx.faucet.apply(live, { alreadyChecked: true });
  step('faucet-confirm');
  return true;
}

/** How long the driver is left quiet before spares taken are made again (one reload for them all). */
export const REFILL_QUIET_MS = 1_500;
const refillTimers = new Map<string, NodeJS.Timeout>();

/**
 * Makes the spares containers took again: at once when a network has none left (its next join
 * reloads anyway), else once the driver has been quiet for a moment, so a burst of `docker run`
 * is not held up by a reload. Only a timer lives in memory: what is missing is read from networks.json.
 */
function scheduleRefill(ctx: LabContext, now: boolean): void {
  const file = paths(ctx.cfg).networks;
  clearTimeout(refillTimers.get(file));
  refillTimers.delete(file);
  const go = () => {
    refillTimers.delete(file);
    // Once quiet, it gives way to a verb that comes meanwhile; at once (a network ran out), it rides along.
    void refillNetworks(ctx, { yieldToVerbs: !now }).catch((e: Error) => ctx.log(`network driver: spare ports not made again: ${e.message}`));
  };
  if (now) { go(); return; }
  const t = setTimeout(go, REFILL_QUIET_MS);
  t.unref();
  refillTimers.set(file, t);
}

/**
 * Whether a refill waits for the driver to be quiet (a verb came less than REFILL_QUIET_MS ago, and
 * spares are missing): the agent's repair leaves the spares to it, so a burst of `docker run` is
 * not held up by a reload from the repair either.
 */
export const refillWaiting = (): boolean => refillTimers.size > 0;

/** A refill waiting for quiet is made at once (the agent's repair, tests), or dropped (`drop`). */
export function pendingRefills(drop = false): string[] {
  const files = [...refillTimers.keys()];
  for (const t of refillTimers.values()) clearTimeout(t);
  refillTimers.clear();
  return drop ? [] : files;
}

/**
 * Tops up every network's spares (one Faucet reload for all); answers once Faucet confirmed, or,
 * with `yieldToVerbs`, once put off because a verb's change came in the same commit.
 */
export async function refillNetworks(ctx: LabContext, opts: { yieldToVerbs?: boolean } = {}): Promise<void> {
  const refill: NetChange = (prev) => {
    if (!sparesMissing(prev).size) return undefined;
    let next: PluginState | undefined;
    try { next = refillSpares(prev, planWith(ctx.cfg, prev)); } catch (e) {
      if (e instanceof PlanError) throw new NetworkError(e.message);
      throw e;
    }
    return next && { state: next, reconcile: true };
  };
  await changeNetworks(ctx, opts.yieldToVerbs ? background(refill) : refill);
}

/** After a verb: spares to make again, at once or once quiet. */
function afterVerb(ctx: LabContext, now = false): void {
  let st: PluginState;
  try { st = readNetworkState(paths(ctx.cfg).networks); } catch { return; }
  if (sparesMissing(st).size) scheduleRefill(ctx, now);
}

/** A verb's change to the Docker networks' state (it may throw a NetworkError, its caller's alone). */
type NetChange = Change<PluginState> & { background?: true };
/** A change that gives way to verbs (the refill once quiet): see commitChanges. */
const background = (c: Change<PluginState>): NetChange => Object.assign(c, { background: true as const });

/** One group commit per networks file, with the latest context it was given. */
const commits = new Map<string, { ctx: LabContext; q: GroupCommit<NetChange> }>();

/**
 * Applies `change` with the others waiting for the lock meanwhile: one write, one reconcile; settles
 * once Faucet confirmed (or with this change's own error). A change may run more than once (on the
 * state it ends up applied to): what it records for its caller is from its last run.
 */
function changeNetworks(ctx: LabContext, change: NetChange): Promise<void> {
  const file = paths(ctx.cfg).networks;
  let c = commits.get(file);
  if (!c) {
    const entry: { ctx: LabContext; q: GroupCommit<NetChange> } = {
      ctx, q: groupCommit((take) => withBoth(entry.ctx, () => commitChanges(entry.ctx, take()))),
    };
    commits.set(file, entry);
    c = entry;
  }
  c.ctx = ctx;
  return c.q.submit(change);
}

/**
 * A refill waiting for quiet that meets a verb's change in one commit is put off until the driver
 * is quiet again: the verb goes alone, so a Join on a spare stays without a Faucet reload.
 */
async function commitChanges(ctx: LabContext, changes: NetChange[]): Promise<Verdict[]> {
  step('queue+lock');
  const verbs = changes.flatMap((c, i) => (c.background ? [] : [i]));
  if (!verbs.length || verbs.length === changes.length) return commitBatch(ctx, changes);
  scheduleRefill(ctx, false);
  const v = await commitBatch(ctx, verbs.map((i) => changes[i]!));
  const out: Verdict[] = changes.map(() => ({ ok: true }));
  verbs.forEach((i, k) => { out[i] = v[k]!; });
  return out;
}

/**
 * The changes, in order, on the state on disk, applied at once. A refusal of the whole (the plan or
 * Faucet) is tried again change by change, so that only the culprit fails and the others go on.
 */
async function commitBatch(ctx: LabContext, changes: NetChange[]): Promise<Verdict[]> {
  const prev = readNetworkState(paths(ctx.cfg).networks);
  const f = foldChanges(prev, changes);
  if (!f.changed) return f.verdicts;
  try {
    await applyOrWrite(ctx, prev, f.state, f.reconcile);
    return f.verdicts;
  } catch (error) {
    const live = f.verdicts.flatMap((v, i) => (v.ok ? [i] : []));
    if (live.length === 1) { f.verdicts[live[0]!] = { ok: false, error }; return f.verdicts; }
    ctx.log(`network driver: ${live.length} changes refused together (${(error as Error).message}): applying them one by one`);
    for (const i of live) f.verdicts[i] = await commitOne(ctx, changes[i]!);
    return f.verdicts;
  }
}

async function commitOne(ctx: LabContext, change: NetChange): Promise<Verdict> {
  try {
    const prev = readNetworkState(paths(ctx.cfg).networks);
    const r = change(prev);
    if (r) await applyOrWrite(ctx, prev, r.state, r.reconcile);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A change the switch does not see (a name learnt late, an endpoint not joined) is only written. */
async function applyOrWrite(ctx: LabContext, prev: PluginState, next: PluginState, switchToo: boolean): Promise<void> {
  if (switchToo) await apply(ctx, prev, next); else writeNetworkState(paths(ctx.cfg).networks, next);
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
  // The checks that ask the appliance (its interfaces) go before the lock; a network of that id
  // already there still wins over their verdict, as it always did.
  const checked = await createChecks(ctx, req).catch((error: unknown) => ({ error }));
  let out: { warnings: string[]; vid: number } = { warnings: [], vid: 0 };
  await changeNetworks(ctx, (prev) => {
    const had = prev.networks.find((n) => n.id === req.id);
    if (had) { out = { warnings: [], vid: had.vid }; return undefined; }
    if ('error' in checked) throw checked.error;
    const { o, facts, gateway } = checked;
    let vid: number;
    let spares: number[];
    const vlanOption = 'dovelab.vlan' in req.generic ? 'dovelab.vlan' : 'ovs.bridge.vlan';
    // Spare ports from the start: the first containers join without a reload too.
    const pool = 'ovs.bridge.preallocate_ports' in req.generic ? o.preallocatePorts : ctx.cfg.driverSparePorts;
    try {
      const desired = planWith(ctx.cfg, prev);
      vid = chooseVid(o.vlan, usedVids(desired), vlanOption);
      spares = pool ? freeOfports(prev, desired, pool) : [];
    } catch (e) {
      if (e instanceof PlanError) throw new NetworkError(e.message);
      throw e;
    }
    const network: PluginNetwork = {
      id: req.id, vid, mode: o.mode, dhcp: o.dhcp, mtu: o.mtu, tagged: o.tagged, uplinks: o.uplinks,
      defaultAcls: o.defaultAcls, ...(gateway ? { gateway } : {}),
      ...(o.mode !== 'flat' ? { natAcls: o.natAcls, ...(o.macForGateway ? { gatewayMac: o.macForGateway } : {}) } : {}),
      ...(o.vlanOutAcls.length ? { vlanOutAcls: o.vlanOutAcls } : {}),
      options: Object.fromEntries(Object.entries(req.generic).map(([k, v]) => [k, String(v)])), createdAt: new Date().toISOString(),
      spares, pool,
    };
    if (o.mode !== 'flat') checkGatewaySubnet(o.mode, 'dovelab.mode' in req.generic ? 'dovelab.mode' : 'ovs.bridge.mode', gateway, facts);
    out = { warnings: o.warnings, vid };
    return { state: { ...prev, networks: [...prev.networks, network] }, reconcile: true };
  });
  for (const w of out.warnings) ctx.log(`network ${req.id.slice(0, 12)}: ${w}`);
  return out;
}

/** The request's options, checked, and the appliance's interfaces they may name. */
async function createChecks(ctx: LabContext, req: CreateNetworkRequest) {
  const gateway = req.ipv4.find((d) => d.Gateway)?.Gateway;
  // `--ipam-driver null` still sends one pool: 0.0.0.0/0, no gateway (no IP config).
  let o: ReturnType<typeof parseNetworkOptions>;
  try {
    o = parseNetworkOptions(req.generic, {
      bridge: ctx.cfg.bridge, dpId: ctx.cfg.dpId, controllers: ['tcp:127.0.0.1:6653', 'tcp:127.0.0.1:6654'],
      acls: aclNames(ctx.cfg), internal: req.internal, hasIpam: req.ipv4.some((d) => (d.Pool && d.Pool !== '0.0.0.0/0') || d.Gateway),
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
  return { o, facts, gateway };
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
  const change = (prev: PluginState) => {
    if (!prev.networks.some((n) => n.id === id)) return undefined;
    return { gone: prev.endpoints.filter((e) => e.network === id), state: { networks: prev.networks.filter((n) => n.id !== id), endpoints: prev.endpoints.filter((e) => e.network !== id) } };
  };
  const cleanUp = async (gone: PluginEndpoint[]) => {
    for (const e of gone) {
      await ctx.endpoints.stopDhcp(e.dhcpPid, leaseFileOf(ctx.cfg, e.id));
      await ctx.links.deleteLink(e.hostEnd);
    }
  };
  const onSwitch = async () => {
    let gone: PluginEndpoint[] = [];
    await changeNetworks(ctx, (prev) => { const c = change(prev); gone = c?.gone ?? []; return c && { state: c.state, reconcile: true }; });
    await cleanUp(gone);
  };
  // Docker forgets the network whatever we answer about the switch: it must go from networks.json.
  const fileOnly = async () => {
    let gone: PluginEndpoint[] = [];
    await withNetworksFile(async () => {
      const c = change(readNetworkState(paths(ctx.cfg).networks));
      if (!c) return;
      gone = c.gone;
      writeNetworkState(paths(ctx.cfg).networks, c.state);
    });
    await cleanUp(gone).catch((e: Error) => ctx.log(`network driver: network ${id.slice(0, 12)}: links left to the next repair: ${e.message}`));
  };
  await removeAnyway(ctx, `delete network ${id.slice(0, 12)}`, onSwitch(), fileOnly);
}

/** A locally administered unicast MAC from the endpoint id (Docker gave none). */
export function endpointMac(endpoint: string): string {
  const h = createHash('sha256').update(`docker-endpoint/${endpoint}`).digest();
  return ['0e', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export interface CreateEndpointRequest { network: string; endpoint: string; mac?: string; address?: string }

/** Makes the endpoint's veth pair; returns the MAC it chose (undefined when Docker gave one). */
export async function endpointCreate(ctx: LabContext, req: CreateEndpointRequest): Promise<{ mac?: string }> {
  // Which container: asked of Docker outside the file lock (a Docker call may take its time).
  const who = await joiningContainer(ctx, req.network);
  step('docker-list');
  // No switch change (the port goes on at Join): the networks file is all it needs.
  let starved = false;
  return withNetworksFile(async () => {
    step('file-wait');
    const prev = readNetworkState(paths(ctx.cfg).networks);
    const n = prev.networks.find((x) => x.id === req.network);
    if (!n) throw new NetworkError(`network ${req.network.slice(0, 12)} is not one of this appliance's (made while the agent was away?)`);
    const had = prev.endpoints.find((e) => e.id === req.endpoint);
    if (had) return req.mac ? {} : { mac: had.mac };
    const named = who.networkName && !n.name ? { ...n, name: who.networkName } : n;
    // The container's labels decide its port's ACLs and mirror, and may prefix the MAC we choose.
    const labels = who.container ? labelsOf(ctx, who.container.labels, named.name) : undefined;
    if (labels?.macPrefix && req.mac) throw new NetworkError(`dovelab.mac_prefix ${labels.macPrefix} and --mac-address ${req.mac}: give one of them`);
    const mac = (req.mac || prefixed(endpointMac(req.endpoint), labels?.macPrefix)).toLowerCase();
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1)) throw new NetworkError(`MAC address ${mac}: not a unicast MAC`);
    const acls = labels?.acls ?? [...n.defaultAcls];
    // A container with the network's own ACLs and no mirror takes a spare port: its Join is no change for Faucet.
    const spare = fitsSpare(n, acls, labels?.mirror) ? takeSpare(prev, n.id) : undefined;
    const base = spare?.state ?? prev;
    // It wanted a spare and the network had none left: spares are made again now, not once quiet.
    starved = !spare && fitsSpare(n, acls, labels?.mirror) && (n.pool ?? 0) > 0;
    const ofport = spare?.ofport ?? freeOfport(prev, planWith(ctx.cfg, prev));
    const links = endpointLinks(ofport);
    const ep: PluginEndpoint = {
      id: req.endpoint, network: n.id, ofport, ...links, mac, ...(req.address ? { address: req.address } : {}), acls, joined: false,
      ...(spare ? { slot: true } : {}),
      ...(labels?.mirror ? { mirror: labels.mirror } : {}), ...(who.container ? { container: who.container.name, policy: 'labels' as const } : {}),
    };
    step('plan');
    // A spare's veth pair was made ahead (Docker sets the MAC as it moves the peer in); else now.
    const made = spare && (await vethReady(ctx, links));
    if (!made) await ctx.links.createEndpointVeth({ ...links, mac, mtu: n.mtu, txOff: ctx.datapath === 'netdev' });
    step(made ? 'veth-ready' : 'veth');
    try {
      writeNetworkState(paths(ctx.cfg).networks, { networks: base.networks.map((x) => (x.id === n.id ? { ...x, ...(named.name ? { name: named.name } : {}) } : x)), endpoints: [...base.endpoints, ep] });
    } catch (e) {
      if (!made) await ctx.links.deleteLink(links.hostEnd);
      throw e;
    }
    step('write');
    return req.mac ? {} : { mac };
  }).finally(() => { afterVerb(ctx, starved); step('after'); });
}

/** Both ends of a spare's veth pair are in the appliance's netns (the peer not in a container). */
async function vethReady(ctx: LabContext, links: { hostEnd: string; peer: string }): Promise<boolean> {
  const present = new Set(await ctx.dongles.present());
  return present.has(links.hostEnd) && present.has(links.peer);
}

/** How long the fast Join gives OVS's view of the bridge (the OVSDB mirror answers at once when connected). */
const SLOT_LOOK_MS = 300;

/**
 * Join of a container on a spare that is ready (veth pair made, OVS port up with its ids, nothing
 * for Faucet or the firewall to change): only networks.json changes, under its own lock; no Faucet
 * confirm is needed because Faucet's config is not touched. Undefined (nothing done) otherwise:
 * the usual Join goes on.
 */
async function joinInPlace<J extends { next: PluginState }>(ctx: LabContext, network: string, endpoint: string, published: PublishedPort[], joinIn: (prev: PluginState) => J): Promise<J | undefined> {
  const file = paths(ctx.cfg).networks;
  const mine = (st: PluginState) => st.endpoints.find((e) => e.id === endpoint && e.network === network);
  // A look without the lock first: most joins that cannot go this way stop here.
  const peek = mine(readNetworkState(file));
  if (!peek || peek.joined || !slotInPlace(peek, published)) return undefined;
  return withNetworksFile(async () => {
    step('file-wait');
    const prev = readNetworkState(file);
    const ep = mine(prev);
    if (!ep || ep.joined || !slotInPlace(ep, published)) return undefined;
    const bridge = ctx.cfg.bridge;
    const port = await withDeadline('OVS view of the bridge', SLOT_LOOK_MS, () => ctx.ovs.ports(bridge)).then((ps) => ps.find((p) => p.name === ep.hostEnd), () => undefined);
    if (portDrift(port, ep.ofport, slotExternalIds(network, ep.ofport)) || !(await vethReady(ctx, ep))) return undefined;
    step('ready-check');
    const j = joinIn(prev);
    writeNetworkState(file, j.next);
    step('write');
    ctx.log(`join endpoint ${endpoint.slice(0, 12)} on spare port ${ep.hostEnd} (ofport ${ep.ofport}): already on the bridge, no OVS change, no Faucet reload`);
    return j;
  });
}

/** How long DHCP waits for Docker to move the interface in and list the container. */
const DHCP_WAIT_MS = 30_000;
export const leaseFileOf = (c: Config, endpoint: string) => `${c.runDir}/leases/${endpoint.slice(0, 12)}.json`;

/** How long Join gives OVS, Faucet and Docker to answer before it leaves the port to the agent's repair. */
const INFRA_ANSWER_MS = 3_000;

/**
 * OVS has the bridge, Faucet answers and so does Docker, within `ms` (false on any failure or when
 * late). Docker is asked too: while dockerd restores its containers it answers no API call until
 * our Joins have answered, and OVS (over its OVSDB socket) and Faucet may well be back by then; a
 * Join that took the lab lock would wait behind a repair that waits on Docker (seen: Join refused
 * after 2 min of lock retries, dockerd stuck in DeleteEndpoint behind it).
 */
async function infraAnswers(ctx: LabContext, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  const check = Promise.all([ctx.ovs.bridgeExists(ctx.cfg.bridge), ctx.faucet.ping(), ctx.hosts.list()]).then(([b]) => b, () => false);
  try { return await Promise.race([check, late]); } finally { clearTimeout(timer); }
}

/** How long Join waits for Docker's lists (network name, containers) before leaving labels to later. */
const LABELS_MS = 2_000;

/** The network's Docker name (recorded once known) and the container joining, if Docker's list shows just one that can be it. */
interface Joining { networkName?: string; container?: { name: string; labels: Record<string, string> } }

/** A container created this recently that is not running yet is taken for the one `docker run` starts. */
const JUST_CREATED_MS = 10_000;

/**
 * Which container an endpoint being made is for. Docker lists a container being started with its
 * networks but not yet its endpoint: the one is among those on the network that are not running and
 * not one of our joined endpoints. It is taken only when that leaves no doubt: the only such
 * container, or the only one created in the last seconds (`docker run`, beside containers that failed
 * or stopped earlier). Otherwise unknown here, and the labels follow once Docker lists the endpoint.
 */
export function pickJoining<T extends { state: string; endpoint: string; createdMs: number }>(list: T[], joined: Set<string>, now: number): T | undefined {
  const maybe = list.filter((c) => c.state !== 'running' && !joined.has(c.endpoint));
  if (maybe.length === 1) return maybe[0];
  const fresh = maybe.filter((c) => now - c.createdMs <= JUST_CREATED_MS);
  return fresh.length === 1 ? fresh[0] : undefined;
}

async function joiningContainer(ctx: LabContext, network: string): Promise<Joining> {
  try {
    const st = readNetworkState(paths(ctx.cfg).networks);
    const name = st.networks.find((n) => n.id === network)?.name ?? await ctx.endpoints.networkName(network, LABELS_MS);
    if (!name) return {};
    const joined = new Set(st.endpoints.filter((e) => e.joined).map((e) => e.id));
    const c = pickJoining(await ctx.endpoints.containersOn(name, LABELS_MS), joined, Date.now());
    return { networkName: name, ...(c ? { container: { name: c.name, labels: c.labels } } : {}) };
  } catch (e) {
    ctx.log(`network driver: could not ask Docker which container joins ${network.slice(0, 12)}: ${(e as Error).message}`);
    return {};
  }
}

/** A container's labels for this network, checked against the appliance's ACLs and mirrors; a bad label is the user's error. */
function labelsOf(ctx: LabContext, labels: Record<string, string>, networkName: string | undefined): EndpointLabels {
  try { return parseEndpointLabels(labels, networkName, aclNames(ctx.cfg)); } catch (e) {
    if (e instanceof NetworkOptionError) throw new NetworkError(e.message);
    throw e;
  }
}

/** `mac` with its leading bytes replaced by `prefix` (a mac_prefix label), if any. */
function prefixed(mac: string, prefix: string | undefined): string {
  if (!prefix) return mac;
  try { return applyMacPrefix(mac, prefix); } catch (e) {
    if (e instanceof NetworkOptionError) throw new NetworkError(e.message);
    throw e;
  }
}

/**
 * Puts the endpoint's port on the bridge in its network's VLAN, with the ACLs and mirror its
 * container's labels gave at CreateEndpoint; answers once Faucet confirmed, so a label Faucet or
 * the plan refuses (a mirror the appliance does not have) fails `docker run`.
 * While dockerd restores containers after its restart, OVS and Faucet (containers too) may not be
 * back, and every Docker call of ours waits on dockerd, which waits on this Join: then the Join
 * is recorded and answered at once, and the agent's repair puts the port on once they are back.
 */
export async function endpointJoin(ctx: LabContext, network: string, endpoint: string, sandbox?: string, portmap?: unknown): Promise<{ srcName: string; gateway?: string }> {
  const published = publishedPorts(ctx.cfg, portmap);
  step('portmap');
  const joinIn = (prev: PluginState) => {
    const ep = prev.endpoints.find((e) => e.id === endpoint && e.network === network);
    if (!ep) throw new NetworkError(`endpoint ${endpoint.slice(0, 12)} was not created on this appliance`);
    const { published: _had, ...rest } = ep;
    const joined: PluginEndpoint = { ...rest, joined: true, ...(sandbox ? { sandbox } : {}), ...(published.length ? { published } : {}) };
    const next: PluginState = { ...prev, endpoints: prev.endpoints.map((e) => (e === ep ? joined : e)) };
    const n = prev.networks.find((x) => x.id === network);
    return { ep: joined, next, dhcp: !!n?.dhcp, gateway: n && n.mode !== 'flat' ? parseCidr(n.gateway ?? '')?.ip : undefined };
  };
  const inPlace = await joinInPlace(ctx, network, endpoint, published, joinIn);
  const answers = inPlace ? true : await infraAnswers(ctx, INFRA_ANSWER_MS);
  if (!inPlace) step('infra-check');
  const r = inPlace ?? (answers
    ? await (async () => {
      let j: ReturnType<typeof joinIn> | undefined;
      await changeNetworks(ctx, (prev) => { j = joinIn(prev); return { state: j.next, reconcile: true }; });
      return j!;
    })()
    : await withNetworksFile(async () => {
      const j = joinIn(readNetworkState(paths(ctx.cfg).networks));
      try { planWith(ctx.cfg, j.next); } catch (e) {
        if (e instanceof PlanError) throw new NetworkError(e.message);
        throw e;
      }
      writeNetworkState(paths(ctx.cfg).networks, j.next);
      ctx.log(`network driver: OVS, Faucet or Docker not answering (dockerd restoring its containers?): endpoint ${endpoint.slice(0, 12)} joins, its port follows with the next repair`);
      return j;
    }));
  // Docker moves the interface in only after Join answers: DHCP starts when it is there; labels
  // of a container not known yet follow once Docker lists it.
  step('commit-end');
  const known = r.ep.policy === 'labels' ? r.ep.container : undefined;
  if (!known || (r.dhcp && sandbox)) void afterJoin(ctx, network, endpoint, sandbox, r.dhcp, r.ep.mac, known);
  afterVerb(ctx);
  step('after');
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
    await changeNetworks(ctx, (prev) => { const next = change(prev); return next && { state: next, reconcile: true }; });
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

/** Once Docker lists the container: its labels (when Join could not tell which container it was), then DHCP. */
async function afterJoin(ctx: LabContext, network: string, endpoint: string, sandbox: string | undefined, dhcp: boolean, mac: string, known: string | undefined): Promise<void> {
  const id = endpoint.slice(0, 12);
  const container = known ? { name: known, labels: {} } : await ctx.endpoints.containerOf(network, endpoint, DHCP_WAIT_MS).catch((e: Error) => {
    ctx.log(`network driver: endpoint ${id}: Docker did not list its container: ${e.message}`);
    return undefined;
  });
  let now = mac;
  if (!known && container) {
    now = await applyLaterLabels(ctx, network, endpoint, container, sandbox).catch((e: Error) => {
      ctx.log(`network driver: labels of ${container.name} not applied: ${e.message}`);
      return readNetworkState(paths(ctx.cfg).networks).endpoints.find((x) => x.id === endpoint)?.mac ?? mac;
    });
  }
  if (dhcp && sandbox) await startDhcp(ctx, network, endpoint, sandbox, now, container?.name);
}

/**
 * Labels learnt after Join (Docker could not tell at CreateEndpoint: `docker network connect` of a
 * running container, several `docker run` at once): ACLs and mirror as a live change; a MAC prefix
 * is put on the container's interface (see laterMacPrefix). Returns the endpoint's MAC now.
 */
async function applyLaterLabels(ctx: LabContext, network: string, endpoint: string, container: { name: string; labels: Record<string, string> }, sandbox: string | undefined): Promise<string> {
  const st = readNetworkState(paths(ctx.cfg).networks);
  const n = st.networks.find((x) => x.id === network);
  const l = labelsOf(ctx, container.labels, n?.name);
  const ep = st.endpoints.find((e) => e.id === endpoint && e.network === network);
  const moved = l.macPrefix && ep ? await laterMacPrefix(ctx, container.name, ep, l.macPrefix, sandbox) : undefined;
  // The MAC first, alone: recorded even when the ACLs below are refused (DHCP looks for it).
  if (moved) await setEndpointPolicy(ctx, endpoint, { ...moved, container: container.name }, 'labels');
  // Which interface it is in the container (eth1 after `docker network connect`): the traffic
  // history's series say so. Docker has moved it in by the time it lists the container.
  const ifname = moved?.ifname ?? (ep && sandbox && !ep.ifname
    ? await ctx.endpoints.ifnameOf?.({ netns: sandbox, mac: ep.mac, waitMs: IFNAME_WAIT_MS }).catch(() => undefined) : undefined);
  return (await setEndpointPolicy(ctx, endpoint, { acls: l.acls, mirror: l.mirror ?? false, container: container.name, ...(ifname ? { ifname } : {}) }, 'labels')).mac;
}

/** How long the interface's name is looked for once Docker lists the container (it is there by then). */
const IFNAME_WAIT_MS = 2_000;

/**
 * A mac_prefix label learnt after Join: Docker has already given the container the MAC we chose
 * (CreateEndpoint answers it, and nothing in it names the container), so the prefix goes on in the
 * container's netns (the sandbox Join named): the interface with that MAC gets the prefixed one,
 * live (addresses and routes stay; a gratuitous ARP tells the neighbours). A MAC Docker was given
 * (--mac-address) is left alone. Docker's own record of the endpoint (`docker inspect`) keeps the
 * MAC it was told. Undefined: nothing changed.
 */
async function laterMacPrefix(ctx: LabContext, name: string, ep: PluginEndpoint, prefix: string, sandbox: string | undefined): Promise<{ mac: string; ifname: string } | undefined> {
  if (ep.mac !== endpointMac(ep.id)) {
    ctx.log(`network driver: ${name}: mac_prefix ${prefix} not applied: its MAC ${ep.mac} was given to Docker (--mac-address)`);
    return undefined;
  }
  const mac = prefixed(ep.mac, prefix);
  if (mac === ep.mac) return undefined;
  if (!sandbox || !ctx.endpoints.setMac) {
    ctx.log(`network driver: ${name}: mac_prefix ${prefix} not applied: ${sandbox ? 'MACs cannot be changed here' : 'Docker named no sandbox at Join'}`);
    return undefined;
  }
  const ifname = await ctx.endpoints.setMac({ netns: sandbox, mac: ep.mac, newMac: mac, waitMs: DHCP_WAIT_MS });
  ctx.log(`network driver: ${name}: mac_prefix ${prefix} applied after Join (Docker named the container only once it ran): ${ifname} ${ep.mac} -> ${mac}`);
  return { mac, ifname };
}

export interface EndpointPolicy {
  /** The port's ACLs (undefined: the network's default ACLs). */
  acls?: string[];
  /** Copy to a mirror (true: the appliance's mirror dongle), or false: no copy. */
  mirror?: string | true | false;
  /** Record the container's name too. */
  container?: string;
  /** The MAC the container's interface has now (a mac_prefix applied after Join), and that interface's name. */
  mac?: string;
  ifname?: string;
}

/**
 * Live change of a container's port on a driver network (its ACLs, its mirror), from the console or
 * from labels learnt late; answers once Faucet confirmed. `endpoint` is an endpoint id, or a
 * container name (its one joined endpoint, or the one on `network` when given).
 */
export async function setEndpointPolicy(ctx: LabContext, endpoint: string, change: EndpointPolicy, source: 'labels' | 'console' = 'console', network?: string): Promise<PluginEndpoint> {
  const known = aclNames(ctx.cfg);
  for (const a of change.acls ?? []) if (!known.includes(a)) throw new NetworkError(`ACL ${a} is not one of the appliance's (known: ${known.sort().join(', ')})`);
  let out: PluginEndpoint | undefined;
  await changeNetworks(ctx, (prev) => {
    const matches = prev.endpoints.filter((e) => (e.id === endpoint || (e.container === endpoint && e.joined)) && (!network || e.network === network));
    if (!matches.length) throw new NetworkError(`${endpoint}: no such container or endpoint on the Docker networks`);
    if (matches.length > 1) throw new NetworkError(`${endpoint} is on ${matches.length} Docker networks: name the network`);
    const ep = matches[0]!;
    const n = prev.networks.find((x) => x.id === ep.network)!;
    const { mirror: _m, ...rest } = ep;
    const mirror = change.mirror === undefined ? ep.mirror : change.mirror || undefined;
    const next: PluginEndpoint = {
      ...rest, acls: 'acls' in change ? change.acls ?? [...n.defaultAcls] : ep.acls,
      ...(mirror ? { mirror } : {}), ...(change.container ? { container: change.container } : {}), policy: source,
      ...(change.mac ? { mac: change.mac } : {}), ...(change.ifname ? { ifname: change.ifname } : {}),
    };
    out = next;
    // Only a change Faucet sees needs a reload (a container's name learnt late does not); a new MAC
    // is in the ids of a port that is not a spare's (its OVS port is set again).
    const same = JSON.stringify([ep.acls, ep.mirror ?? null]) === JSON.stringify([next.acls, next.mirror ?? null]);
    return { state: { ...prev, endpoints: prev.endpoints.map((e) => (e === ep ? next : e)) }, reconcile: ep.joined && (!same || (next.mac !== ep.mac && !ep.slot)) };
  });
  return out!;
}

async function startDhcp(ctx: LabContext, network: string, endpoint: string, sandbox: string, mac: string, container: string | undefined): Promise<void> {
  const id = endpoint.slice(0, 12);
  try {
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
    // A spare it took goes back to its network (the same port for Faucet: no reload).
    return { ep, next: remove && ep.slot ? returnSpare(next, network, ep.ofport) : next };
  };
  // A spare's veth stays for the next container (made again first if the container took it along);
  // anything else's goes.
  const done = async (ep: PluginEndpoint) => {
    if (remove && !ep.slot) await ctx.links.deleteLink(ep.hostEnd);
    if (ep.slot && slotInPlace(ep)) ctx.log(`${remove ? 'delete' : 'leave'} endpoint ${endpoint.slice(0, 12)} of spare port ${ep.hostEnd}: its port stays on the bridge for the next container (no OVS change, no Faucet reload)`);
    afterVerb(ctx);
  };
  // Only the file (OVS, Faucet or Docker away, or the switch part failed): the next repair does the rest.
  const fileOnly = () => withNetworksFile(async () => {
    const c = change(readNetworkState(paths(ctx.cfg).networks));
    if (!c) return;
    await ctx.endpoints.stopDhcp(c.ep.dhcpPid, leaseFileOf(ctx.cfg, endpoint));
    // Its OVS port follows with the next repair (and its veth pair, if this fails too).
    const links = async () => {
      if (remove && c.ep.slot) await slotVethBack(ctx, c.ep, false);
      await done(c.ep);
    };
    writeNetworkState(paths(ctx.cfg).networks, c.next);
    await links().catch((e: Error) => ctx.log(`network driver: endpoint ${endpoint.slice(0, 12)}: its link is left to the next repair: ${e.message}`));
  });
  if (await infraAnswers(ctx, INFRA_ANSWER_MS)) {
    // DHCP stops while the port is still on (its release can reach the server); a client that
    // started meanwhile is stopped once the change is in.
    const before = change(readNetworkState(paths(ctx.cfg).networks));
    if (!before) return;
    await ctx.endpoints.stopDhcp(before.ep.dhcpPid, leaseFileOf(ctx.cfg, endpoint));
    // A spare's endpoint keeps its Faucet port until Delete gives it back: the same text (no
    // reconcile) unless its ACLs or mirror were changed meanwhile.
    const changesFaucet = (ep: PluginEndpoint, st: PluginState) => {
      const n = st.networks.find((x) => x.id === ep.network);
      return remove && !!ep.slot && (!n || !fitsSpare(n, ep.acls, ep.mirror));
    };
    const onSwitch = async () => {
      let c: ReturnType<typeof change>;
      if (remove && before.ep.slot) await slotVethBack(ctx, before.ep, true);
      // A spare's endpoint with nothing for Faucet or the firewall leaves as it joined: only the file.
      await changeNetworks(ctx, (prev) => { c = change(prev); return c && { state: c.next, reconcile: (c.ep.joined && !slotInPlace(c.ep)) || changesFaucet(c.ep, prev) }; });
      if (!c) return;
      if (c.ep.dhcpPid !== undefined && c.ep.dhcpPid !== before.ep.dhcpPid) await ctx.endpoints.stopDhcp(c.ep.dhcpPid, leaseFileOf(ctx.cfg, endpoint));
      await done(c.ep);
    };
    await removeAnyway(ctx, `${remove ? 'delete' : 'leave'} endpoint ${endpoint.slice(0, 12)}`, onSwitch(), fileOnly);
    return;
  }
  await fileOnly();
}

/**
 * How long Leave, DeleteEndpoint and DeleteNetwork wait for the switch before they answer anyway.
 * Docker keeps an endpoint whose Leave or Delete failed (and a container's removal does not wait
 * for it), and then refuses `docker network rm` ("has active endpoints") until someone forces it.
 */
export const REMOVE_ANSWER_MS = 15_000;

/**
 * A removal never fails and never hangs Docker: when its switch part (`onSwitch`: OVS, Faucet's
 * reload and confirmation, behind the lab lock) fails, `fileOnly` records the removal in
 * networks.json alone, and the agent's next repair takes the ports off the switch; when it takes
 * longer than REMOVE_ANSWER_MS, Docker is answered and it goes on (the same fallback if it fails then).
 */
async function removeAnyway(ctx: LabContext, what: string, onSwitch: Promise<void>, fileOnly: () => Promise<void>): Promise<void> {
  const fallback = async (e: Error) => {
    ctx.log(`network driver: ${what}: the switch part failed (${e.message.split('\n')[0]}); recorded, the next repair takes it off the switch`);
    await fileOnly();
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), REMOVE_ANSWER_MS); });
  try {
    const r = await Promise.race([onSwitch.then(() => 'done' as const), late]);
    if (r === 'late') {
      ctx.log(`network driver: ${what}: the switch part takes longer than ${REMOVE_ANSWER_MS / 1000} s; Docker is answered, it goes on`);
      void onSwitch.catch((e: Error) => fallback(e).catch((e2: Error) => ctx.log(`network driver: ${what}: not recorded: ${e2.message}`)));
    }
  } catch (e) {
    await fallback(e as Error);
  } finally { clearTimeout(timer); }
}

/**
 * Before a spare's endpoint gives it back: its veth pair as a spare's must be, both ends in the
 * appliance's netns with the network's MTU (Docker moves the peer back when the container leaves;
 * a container killed with its netns takes the pair along). Made again (and its OVS port, with
 * `ovsToo`) when it is not.
 */
async function slotVethBack(ctx: LabContext, ep: PluginEndpoint, ovsToo: boolean): Promise<void> {
  const n = readNetworkState(paths(ctx.cfg).networks).networks.find((x) => x.id === ep.network);
  if (!n) return;
  if ((await vethReady(ctx, ep)) && ((await ctx.links.mtuOf?.(ep.peer)) ?? n.mtu) === n.mtu) return;
  ctx.log(`spare port ${ep.hostEnd} of network ${n.id.slice(0, 12)}: its veth pair is made again (the container took it along)`);
  if (ovsToo) await ctx.ovs.deletePort(ctx.cfg.bridge, ep.hostEnd);
  await ctx.links.createEndpointVeth({ hostEnd: ep.hostEnd, peer: ep.peer, mtu: n.mtu, txOff: ctx.datapath === 'netdev' });
  if (ovsToo) await ctx.ovs.addPort(ctx.cfg.bridge, ep.hostEnd, ep.ofport, slotExternalIds(n.id, ep.ofport));
}

export const endpointLeave = (ctx: LabContext, network: string, endpoint: string) => endpointOff(ctx, network, endpoint, false);
export const endpointDelete = (ctx: LabContext, network: string, endpoint: string) => endpointOff(ctx, network, endpoint, true);

/**
 * Endpoints whose veth is gone (their container died, the appliance rebooted) leave the state, so
 * the next repair takes their ports off the switch; Docker makes new endpoints when it starts the
 * container again. Returns how many went.
 */
/** Since when a joined endpoint has looked out of its sandbox (memory only: a restart just starts the wait again). */
const outOfSandboxSince = new Map<string, number>();
const ORPHAN_MS = 30_000;

export async function pruneEndpoints(ctx: LabContext, now = Date.now()): Promise<number> {
  return withNetworksFile(async () => {
    const file = paths(ctx.cfg).networks;
    const prev = readNetworkState(file);
    if (!prev.endpoints.length) return 0;
    // Read in turn: an endpoint being made now has its veth before it is in the file.
    const present = new Set(await ctx.dongles.present());
    // Docker tore the sandbox down without a Leave or Delete that reached us (dockerd stopped while
    // it restored, a call that timed out): the container's end is back beside ours, its netns gone.
    // Right after a Join it looks the same (Docker makes the netns and moves the end in after Join
    // answers), so only what still looks so ORPHAN_MS later goes.
    const orphan = (e: PluginEndpoint) => {
      const looks = e.joined && present.has(e.peer) && e.sandbox !== undefined && !existsSync(e.sandbox);
      if (!looks) { outOfSandboxSince.delete(e.id); return false; }
      const since = outOfSandboxSince.get(e.id) ?? now;
      outOfSandboxSince.set(e.id, since);
      return now - since >= ORPHAN_MS;
    };
    const kept = prev.endpoints.filter((e) => present.has(e.hostEnd) && !orphan(e));
    if (kept.length === prev.endpoints.length) return 0;
    let next: PluginState = { ...prev, endpoints: kept };
    for (const e of prev.endpoints) {
      if (kept.includes(e)) continue;
      outOfSandboxSince.delete(e.id);
      await ctx.endpoints.stopDhcp(e.dhcpPid, leaseFileOf(ctx.cfg, e.id));
      if (present.has(e.hostEnd)) await ctx.links.deleteLink(e.hostEnd);
      // Its spare goes back to the network (no container holds it now).
      if (e.slot) next = returnSpare(next, e.network, e.ofport);
    }
    writeNetworkState(file, next);
    return prev.endpoints.length - kept.length;
  });
}

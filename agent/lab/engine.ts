// Lab lifecycle: observe OVS/Docker, diff against the desired state, run the actions in order.
// Every effect goes through the injected adapter set (ctx); this module only orders and reports.
import type { Config } from '../config.js';
import type { ApplyResult } from '../net/faucet/apply.js';
import { emitFaucetYaml } from '../net/faucet/emit.js';
import { onlyListsSwapped } from '../net/faucet/compare.js';
import { ALLOW_ALL, allowAll, DP_DESCRIPTION, idlePort, IDLE_VLAN, type FaucetModel } from '../net/faucet/model.js';
import type { LabAdapters } from './adapters.js';
import { CAPTURE_NETNS, HOST_END_PATTERN, type DesiredState } from './desired.js';
import { GATEWAY_PORT_PATTERN, gatewayFirewall } from './plan-gateways.js';
import { stages, type Chain, type Stage } from './stages.js';
import { unprogrammed, type AddedPort } from './programmed.js';
import { captureExternalIds, diff, gatewayExternalIds, isDongleRole, pluginPortExternalIds, hostLabels, portExternalIds, slotExternalIds, uplinkExternalIds, type Action, type ObservedState } from './diff.js';

export interface LabContext extends LabAdapters {
  cfg: Config;
  datapath: 'system' | 'netdev';
  log: (line: string) => void;
}

/** How long a startup script may run before `up` carries on without it. */
export const STARTUP_BUDGET_MS = 20_000;

/**
 * What runs now. A host whose interfaces could not be read has `links: undefined`, never [].
 * The appliance's addresses are read only when asked (gateways wanted).
 */
export async function observe(ctx: LabContext, addresses = false, seen?: HostLinksSeen): Promise<ObservedState> {
  const listed = await ctx.hosts.list();
  if (seen) {
    const running = new Set(listed.filter((h) => h.running).map((h) => h.container));
    for (const c of [...seen.links.keys()]) if (!running.has(c)) seen.links.delete(c);
  }
  const hosts = await Promise.all(listed.map(async (h) => {
    let links: string[] | undefined = [];
    let why: string | undefined;
    const known = h.running && seen?.reuse ? seen.links.get(h.container) : undefined;
    if (known) links = [...known];
    else if (h.running) {
      try {
        links = await ctx.links.linksInNetns(await ctx.hosts.pid(h.container));
        seen?.links.set(h.container, [...links]);
      } catch (e) {
        links = undefined;
        why = (e as Error).message;
        seen?.links.delete(h.container);
      }
    }
    return { container: h.container, running: h.running, labels: h.labels, links, ...(why ? { unobserved: why } : {}) };
  }));
  const ports = (await ctx.ovs.ports(ctx.cfg.bridge)).map((p) => ({
    name: p.name, ofport: p.ofport, externalIds: p.externalIds, error: p.error,
  }));
  const out: ObservedState = { hosts, ports, interfaces: await ctx.dongles.present(), held: await ctx.dongles.held() };
  if (addresses) out.addresses = Object.fromEntries(Object.entries(await ctx.dongles.facts()).map(([i, f]) => [i, f.addresses]));
  return out;
}

/** The Faucet config with no lab: the DP and the ACL every lab port will carry. */
export function idleFaucetModel(cfg: Config): FaucetModel {
  return { dp: { name: cfg.bridge, dpId: cfg.dpId, description: DP_DESCRIPTION, interfaces: [idlePort()] }, vlans: [{ ...IDLE_VLAN }], acls: { [ALLOW_ALL]: allowAll() } };
}

export interface ReconcileReport { actions: Action[]; faucet?: ApplyResult; warnings: string[]; ms: number }

export interface ReconcileOptions {
  /** Containers to remove and make again even if they look right (reset of a group). */
  recreate?: Set<string>;
  /** The agent's timer passes: the hosts' interfaces as last read (see HostLinksSeen). */
  seen?: HostLinksSeen;
  /** How long to wait for Faucet to program the ports added (default PROGRAM_BUDGET_MS). */
  programBudgetMs?: number;
}

/**
 * What the last look inside each running host's netns found (container -> interface names), kept by
 * the agent between its passes. A pass with `reuse` reads no netns (no `docker inspect`, no
 * `nsenter`) of a running host it has: Docker's events (a host that dies or starts) and the OVS view
 * (a veth that goes takes its port's interface with it) carry what changes, and the agent's slow
 * safety rescan reads them all again. Any change made, and any host gone, drops what was kept.
 * Not state: a new agent starts with none.
 */
export interface HostLinksSeen { links: Map<string, string[]>; reuse: boolean }

/** Throws the one error, or all of them together; nothing when there are none. */
function throwAll(errors: Error[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw new PhaseError(errors);
}

/** Several things failed in one phase: all of them are reported, not only the first. */
export class PhaseError extends Error {
  constructor(readonly errors: Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `${errors.length} actions failed:\n  ${errors.map((e) => e.message).join('\n  ')}`);
    this.name = 'PhaseError';
  }
}

/** Brings the running lab to `desired`; touches only what differs. All Faucet changes: one reload. */
export async function reconcile(ctx: LabContext, desired: DesiredState, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const t0 = Date.now();
  try {
    const r = await reconcileOnce(ctx, desired, opts);
    ctx.metrics?.reconciled((Date.now() - t0) / 1000, 'ok');
    return r;
  } catch (e) { ctx.metrics?.reconciled((Date.now() - t0) / 1000, 'failed'); throw e; }
}

async function reconcileOnce(ctx: LabContext, desired: DesiredState, opts: ReconcileOptions): Promise<ReconcileReport> {
  const t0 = Date.now();
  // Three reads, nothing changed yet, side by side: every component answers (preflight), Faucet's
  // own check of the new config (a config it rejects changes nothing), and what runs now.
  const faucetText = emitFaucetYaml(desired.faucet);
  const liveText = ctx.faucet.liveConfig();
  // A pure swap of ACL lists or mirror sources against the checked live config skips the check.
  const checking = liveText !== faucetText && !(liveText && onlyListsSwapped(liveText, faucetText));
  const gateways = desired.gateways ?? [];
  const [ready, checked, looked] = await Promise.allSettled([
    preflight(ctx),
    checking ? ctx.faucet.check(faucetText) : Promise.resolve(),
    observe(ctx, gateways.length > 0, opts.seen),
  ]);
  // In that order of use: a dead component says so before a check or a read that failed with it.
  for (const r of [ready, checked, looked]) if (r.status === 'rejected') throw r.reason;
  const observed = (looked as PromiseFulfilledResult<ObservedState>).value;
  // Gateways' OVS ends are lab ports too (the appliance's stack must ignore what comes in on them).
  const wanted = [HOST_END_PATTERN, ...(gateways.length ? [GATEWAY_PORT_PATTERN] : []), ...desired.uplinks.map((u) => u.iface)];
  // A dongle that leaves keeps its DROP rule until it is off the bridge (no gap), then loses it.
  const leaving = observed.ports.filter((p) => isDongleRole(p.externalIds['dovelab-role']) && !wanted.includes(p.name)).map((p) => p.name);
  await ctx.firewall.ensure([...wanted, ...leaving]);
  // The gateways' rules before any gateway is made (a container never finds the appliance open);
  // with none wanted, ours go while leftovers exist (no container is on a deleted network).
  const chains = gatewayFirewall(gateways);
  const leftovers = observed.ports.some((p) => p.externalIds['dovelab-role'] === 'gateway') || observed.interfaces.some((i) => /^g[pw]\d+$/.test(i));
  if (chains.length || leftovers) await ctx.firewall.gateways(chains);
  const actions = diff(desired, observed, opts);
  let faucet: ApplyResult | undefined;
  const warnings: string[] = [];
  // Actions run in stages (the diff's order): hosts made and wired in per-host chains, the rest in
  // phases of one kind; within a stage, independent hosts go in parallel.
  // Hosts made now whose startup has not run yet: if we fail before it runs, they must go again,
  // or no later reconcile would run it (it runs only on hosts it makes).
  const awaitingStartup = new Set(actions.flatMap((a) => (a.kind === 'create-host' && a.host.startup ? [a.host.container] : [])));
  // A pass that changes something: the next one looks inside the hosts again.
  if (actions.some((a) => a.kind !== 'warn' && a.kind !== 'faucet')) opts.seen?.links.clear();
  // Ports (re)added now whose container end is up: Faucet must have programmed them before we say done.
  const added: AddedPort[] = [];
  let reloadAt = 0;
  const run = async (a: Action) => {
    if (a.kind === 'warn') { warnings.push(a.message); ctx.log(`warning: ${a.message}`); return; }
    if (a.kind !== 'faucet') ctx.log(`${a.kind} ${describe(a)}${'why' in a ? ` (${a.why})` : ''}`);
    if (a.kind === 'startup') awaitingStartup.delete(a.host.container);
    if (a.kind === 'faucet') reloadAt = Date.now();
    const r = await execute(ctx, desired, a, added);
    if (r && 'warning' in r) { warnings.push(r.warning); ctx.log(`warning: ${r.warning}`); } else if (r) faucet = r;
  };
  const list = stages(actions);
  const faucetAt = list.findIndex((s) => s.kind === 'phase' && s.actions[0]!.kind === 'faucet');
  const faucetStage = list[faucetAt];
  const faucetAction = faucetStage?.kind === 'phase' ? faucetStage.actions[0] : undefined;
  // Faucet's reload starts with the hosts' stage (containers made and wired, the slow part) and runs
  // beside it: it names ports that do not exist yet, and Faucet programs each one when its port
  // comes up (or in the reload, if the port was up first). Done is still after both.
  let early: Promise<unknown> | undefined;
  let earlyError: unknown;
  try {
    for (let i = 0; i < list.length; i++) {
      const stage = list[i]!;
      if (faucetAction && !early && i < faucetAt && stage.kind === 'chains') {
        early = run(faucetAction).catch((e: unknown) => { earlyError = e ?? new Error('Faucet apply failed'); });
      }
      if (i === faucetAt) {
        if (early) {
          await early;
          early = undefined;
          if (earlyError) throw earlyError;
        } else await run(faucetAction!);
        // Flows a reload made count too: Faucet programs a port it believes up as the reload names it,
        // which can be before our add (it keeps a deleted port "up" until it sees it again).
        const since = (p: AddedPort) => (faucet?.changed ? Math.min(p.sinceMs, reloadAt) : p.sinceMs);
        await waitProgrammed(ctx, added.map((p) => ({ ...p, sinceMs: since(p) })), warnings, opts.programBudgetMs ?? PROGRAM_BUDGET_MS);
        continue;
      }
      // Hosts are made and wired in per-host chains (see stages.ts); the rest in phases of one kind.
      if (stage.kind === 'phase') await inParallel(stage.actions, parallelism(stage.actions[0]!.kind), run);
      else {
        // The ports that need no host (uplinks, captures, plugin ports, gateways) come up beside the
        // hosts' chains, in their own order, instead of after the last host.
        let j = i + 1;
        while (j < (faucetAt < 0 ? list.length : faucetAt) && isBeside(list[j]!)) j++;
        const beside = list.slice(i + 1, j);
        i = j - 1;
        const done = await Promise.allSettled([
          inChains(stage.chains, run),
          (async () => { for (const b of beside) if (b.kind === 'phase') await inParallel(b.actions, parallelism(b.actions[0]!.kind), run); })(),
        ]);
        const errors = done.flatMap((r) => (r.status === 'fulfilled' ? [] : r.reason instanceof PhaseError ? r.reason.errors : [r.reason as Error]));
        throwAll(errors);
      }
    }
  } catch (e) {
    // A reload still in flight finishes before we report (and before the lab lock goes).
    if (early) await early;
    for (const c of awaitingStartup) {
      await ctx.hosts.remove(c).catch((e2) => ctx.log(`warning: could not remove ${c} (its startup never ran): ${(e2 as Error).message}`));
    }
    throw e;
  }
  if (leaving.length) await ctx.firewall.ensure(wanted);
  return { actions, faucet, warnings, ms: Date.now() - t0 };
}

/** Phases that need no host and no Faucet: they may run beside the hosts' chains. */
const BESIDE = new Set<Action['kind']>(['add-uplink', 'add-capture', 'add-plugin-port', 'add-gateway', 'warn']);
const isBeside = (s: Stage) => s.kind === 'phase' && BESIDE.has(s.actions[0]!.kind);

/** How long Faucet may take to program a port after it came up (a warning after, not a failure). */
export const PROGRAM_BUDGET_MS = 10_000;

/**
 * Waits until Faucet has programmed every port in `added` (see lab/programmed.ts): polled
 * early and then less often. A port still waiting after the budget, or a switch that cannot be
 * read, is a warning naming the ports: the lab is made; the data plane may lag.
 */
async function waitProgrammed(ctx: LabContext, added: AddedPort[], warnings: string[], budgetMs: number): Promise<void> {
  if (!ctx.flows || added.length === 0) return;
  const t0 = Date.now();
  let waiting = added;
  let pause = 5;
  try {
    for (;;) {
      waiting = unprogrammed(await ctx.flows(5_000), waiting, Date.now());
      if (!waiting.length) return;
      if (Date.now() - t0 > budgetMs) break;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 100);
    }
    const w = `Faucet has not programmed ${waiting.map((p) => `${p.name} (ofport ${p.ofport})`).join(', ')} ${Math.round((Date.now() - t0) / 1000)} s after ${waiting.length === 1 ? 'it' : 'they'} came up: traffic through ${waiting.length === 1 ? 'it' : 'them'} may not pass yet`;
    warnings.push(w); ctx.log(`warning: ${w}`);
  } catch (e) {
    const w = `could not read the switch's flows to see Faucet program the new ports: ${(e as Error).message}`;
    warnings.push(w); ctx.log(`warning: ${w}`);
  }
}

/** Startups wait on their hosts, not on the appliance: run them all at once. Spare ports (a network's pool) go 8 at a time. */
const parallelism = (kind: Action['kind']) => (kind === 'startup' ? 64 : kind === 'add-slot' ? 8 : 4);

/**
 * Runs each chain's steps in order (a step's actions together), chains in parallel; at most
 * `parallelism(kind)` actions of one kind at once across all chains, so a host's attach never
 * queues behind other hosts' creates. A failed step ends its own chain only; every other chain runs
 * on; all failures are reported together, as inParallel does.
 */
export async function inChains(chains: Chain[], fn: (a: Action) => Promise<void>): Promise<void> {
  const slots = new Map<Action['kind'], <T>(f: () => Promise<T>) => Promise<T>>();
  const slot = (kind: Action['kind']) => {
    let s = slots.get(kind);
    if (!s) slots.set(kind, s = limiter(parallelism(kind)));
    return s;
  };
  const errors: Error[] = [];
  await Promise.all(chains.map(async (chain) => {
    for (const step of chain.steps) {
      const failed = (await Promise.all(step.map((a) => slot(a.kind)(() => fn(a)).then(
        () => false,
        (e: unknown) => { errors.push(e instanceof Error ? e : new Error(String(e))); return true; },
      )))).some(Boolean);
      if (failed) return;
    }
  }));
  throwAll(errors);
}

/** At most n of the functions given run at once; the others wait their turn, first come first served. */
function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try { return await f(); } finally {
      const next = waiting.shift();
      if (next) next(); else running--;
    }
  };
}

/** Runs fn over items, `limit` at a time; every item runs; all failures are reported together. */
export async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: Error[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try { await fn(item); } catch (e) { errors.push(e instanceof Error ? e : new Error(String(e))); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  throwAll(errors);
}

/** Every component answers before the first change, so a dead one stops us before anything is applied. */
export async function preflight(ctx: LabContext): Promise<void> {
  if (!(await ctx.ovs.bridgeExists(ctx.cfg.bridge))) {
    throw new Error(`OVS has no bridge ${ctx.cfg.bridge}: run \`dovelab infra up\``);
  }
  await ctx.faucet.ping();
}

function describe(a: Action): string {
  switch (a.kind) {
    case 'remove-port': return a.port;
    case 'add-uplink': return `${a.uplink.role} ${a.uplink.name}: ${a.uplink.iface} (ofport ${a.uplink.ofport})`;
    case 'add-plugin-port': return `${a.port.hostEnd} (ofport ${a.port.ofport}, vlan ${a.port.vid}) for endpoint ${a.port.endpoint.slice(0, 12)}`;
    case 'add-slot': return `${a.slot.hostEnd}${a.veth ? `/${a.slot.peer}` : ''} (ofport ${a.slot.ofport}, spare port of network ${a.slot.network.slice(0, 12)})`;
    case 'add-gateway': return `${a.gateway.portEnd}/${a.gateway.addrEnd} ${a.gateway.address} (ofport ${a.gateway.ofport}, vlan ${a.gateway.vid}, ${a.gateway.mode}) for network ${a.gateway.network.slice(0, 12)}`;
    case 'add-capture': return `${a.capture.owner ? 'docker networks' : `group ${a.capture.group}`}: ${a.capture.hostEnd} -> ${a.capture.netns ?? CAPTURE_NETNS}:${a.capture.peer} (ofport ${a.capture.ofport})`;
    case 'startup': return a.host.container;
    case 'warn': return a.message;
    case 'remove-host': return a.container;
    case 'create-host': return a.host.container;
    case 'attach': return `${a.port.container}:${a.port.ifname} -> ${a.port.hostEnd} (ofport ${a.port.ofport}, vlan ${a.port.vid})`;
    case 'faucet': return '';
  }
}

/** Adds what was being done to an error, so a failure (or a timeout) names the action and the host. */
async function doing<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (e) {
    const err = e as Error;
    if (!err.message.startsWith(what)) err.message = `${what}: ${err.message}`;
    throw err;
  }
}

async function execute(ctx: LabContext, desired: DesiredState, a: Action, added: AddedPort[] = []): Promise<ApplyResult | { warning: string } | undefined> {
  const bridge = ctx.cfg.bridge;
  switch (a.kind) {
    case 'remove-host':
      await doing(`remove host ${a.container}`, () => ctx.hosts.remove(a.container));
      return;
    case 'remove-port':
      // The name went to an endpoint that joined while this repair waited (a Join answered without
      // the lab lock while dockerd restored): its veth is in a container now; the next repair,
      // which sees it, sets the port right.
      if (a.veth && ctx.endpoints.joinedHostEnd?.(a.port)) {
        ctx.log(`remove-port ${a.port}: left alone (an endpoint joined on it since this repair read the networks)`);
        return;
      }
      await doing(`remove port ${a.port}`, async () => {
        await ctx.ovs.deletePort(bridge, a.port);
        // A dongle stays (and gets back what hardening changed); only our veths go.
        if (a.veth) await ctx.links.deleteLink(a.port);
        else await ctx.dongles.release(a.port);
      });
      return;
    case 'create-host':
      await doing(`create host ${a.host.container}`, async () => {
        await ctx.hosts.remove(a.host.container);
        await ctx.hosts.create({
          container: a.host.container, image: a.host.image, hostname: a.host.hostname,
          labels: hostLabels(desired.lab, a.host), sysctl: a.host.sysctl, limits: a.host.limits,
        });
        if (Object.keys(a.host.files).length) await ctx.hosts.copyFiles(a.host.container, a.host.files);
      });
      return;
    case 'attach': {
      const p = a.port;
      await doing(`attach ${p.container}:${p.ifname}`, async () => {
        const pid = await ctx.hosts.pid(p.container);
        await ctx.ovs.deletePort(bridge, p.hostEnd);
        // Interface sysctls (net.ipv6.conf.eth0.*) exist only once the interface does: set with it.
        const sysctl = desired.hosts.find((h) => h.container === p.container)?.ifaceSysctl?.[p.ifname];
        await ctx.links.attachVeth({ hostEnd: p.hostEnd, pid, ifname: p.ifname, mac: p.mac, address: p.address, gateway: p.gateway, txOff: ctx.datapath === 'netdev', ...(sysctl ? { sysctl } : {}) });
        try {
          const sinceMs = Date.now();
          await ctx.ovs.addPort(bridge, p.hostEnd, p.ofport, portExternalIds(desired.lab, p));
          added.push({ name: p.hostEnd, ofport: p.ofport, sinceMs });
          if (ctx.cfg.stormLimitMbit > 0) await ctx.links.limitHostEnd(p.hostEnd, ctx.cfg.stormLimitMbit);
        } catch (e) {
          await ctx.links.deleteLink(p.hostEnd);
          throw e;
        }
        // The DHCP client runs inside the host, so it outlives agent restarts; one per interface.
        if (p.dhcp) await ctx.hosts.startDhcp(p.container, p.ifname, desired.hosts.find((h) => h.container === p.container)?.hostname ?? p.host);
      });
      return;
    }
    case 'add-uplink': {
      const u = a.uplink;
      await doing(`${u.role} ${u.name} (${u.iface})`, async () => {
        await ctx.dongles.harden(u.iface);
        await ctx.ovs.deletePort(bridge, u.iface);
        await ctx.ovs.addPort(bridge, u.iface, u.ofport, uplinkExternalIds(desired.lab, u));
        await ctx.links.setLinkUp(u.iface);
      });
      return;
    }
    case 'add-plugin-port': {
      const p = a.port;
      await doing(`port of endpoint ${p.endpoint.slice(0, 12)}`, async () => {
        // The veth is the endpoint's (made at CreateEndpoint): only its OVS port is (re)made here.
        // Not waited for: at a Join, Docker moves the container's end in only after we answer.
        await ctx.ovs.deletePort(bridge, p.hostEnd);
        await ctx.ovs.addPort(bridge, p.hostEnd, p.ofport, pluginPortExternalIds(p));
      });
      return;
    }
    case 'add-slot': {
      const s = a.slot;
      // An endpoint took it since this repair read the networks (a Join answers without the lab
      // lock): its peer may be in a container now, so only a broken OVS port is put right.
      if (a.veth && ctx.endpoints.heldHostEnd?.(s.hostEnd)) {
        ctx.log(`add-slot ${s.hostEnd}: left alone (an endpoint holds it since this repair read the networks)`);
        return;
      }
      await doing(`spare port ${s.hostEnd} of network ${s.network.slice(0, 12)}`, async () => {
        await ctx.ovs.deletePort(bridge, s.hostEnd);
        if (a.veth) await ctx.links.createEndpointVeth({ hostEnd: s.hostEnd, peer: s.peer, mtu: s.mtu, txOff: ctx.datapath === 'netdev' });
        try {
          await ctx.ovs.addPort(bridge, s.hostEnd, s.ofport, slotExternalIds(s.network, s.ofport));
        } catch (e) {
          if (a.veth) await ctx.links.deleteLink(s.hostEnd);
          throw e;
        }
      });
      return;
    }
    case 'add-gateway': {
      const g = a.gateway;
      await doing(`gateway of network ${g.network.slice(0, 12)}`, async () => {
        await ctx.ovs.deletePort(bridge, g.portEnd);
        await ctx.links.createGateway({ portEnd: g.portEnd, addrEnd: g.addrEnd, address: g.address, mac: g.mac, mtu: g.mtu, txOff: ctx.datapath === 'netdev' });
        try {
          await ctx.ovs.addPort(bridge, g.portEnd, g.ofport, gatewayExternalIds(g));
        } catch (e) {
          await ctx.links.deleteLink(g.portEnd);
          throw e;
        }
      });
      return;
    }
    case 'add-capture': {
      const c = a.capture;
      await doing(c.owner ? 'mirror port of the docker networks' : `capture port of group ${c.group}`, async () => {
        await ctx.ovs.deletePort(bridge, c.hostEnd);
        await ctx.links.attachCapture({ hostEnd: c.hostEnd, netns: c.netns ?? CAPTURE_NETNS, ifname: c.peer });
        try {
          await ctx.ovs.addPort(bridge, c.hostEnd, c.ofport, captureExternalIds(desired.lab, c));
        } catch (e) {
          await ctx.links.deleteLink(c.hostEnd);
          throw e;
        }
      });
      return;
    }
    case 'startup': {
      const h = a.host;
      const r = await doing(`startup of ${h.key}`, () => ctx.hosts.startup(h.container, h.startup ?? '', STARTUP_BUDGET_MS));
      if (r.state === 'running') {
        return { warning: `startup of ${h.key} still runs after ${Math.round(r.afterMs / 1000)} s (a server in the foreground?); carrying on without it. ` +
          `Its output: dovelab exec ${h.host}${h.group ? ` --group ${h.group}` : ''} -- cat ${r.log}` };
      }
      if (r.code !== 0) return { warning: `startup of ${h.key} exited ${r.code}${r.tail ? `: ${r.tail}` : ''}` };
      return;
    }
    case 'warn':
      return;
    case 'faucet': {
      try {
        const r = await ctx.faucet.apply(emitFaucetYaml(a.model), { alreadyChecked: true });
        if (r.changed) ctx.metrics?.faucetApplied(r);
        return r;
      } catch (e) { ctx.metrics?.faucetApplied(undefined); throw e; }
    }
  }
}

/** The appliance with no lab: no hosts, no lab ports, the idle Faucet config. */
export const idleDesired = (cfg: Config): DesiredState => ({ lab: '', hosts: [], ports: [], uplinks: [], faucet: idleFaucetModel(cfg) });

/** Removes every lab host and lab port; `rest` is what stays (the idle config, plus Docker networks). */
export async function teardown(ctx: LabContext, rest: DesiredState = idleDesired(ctx.cfg)): Promise<ReconcileReport> {
  return reconcile(ctx, rest);
}

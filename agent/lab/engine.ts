// Lab lifecycle: observe OVS/Docker, diff against the desired state, run the actions in order.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { paths, type Config } from '../config.js';
import { copyFilesInto, hostPid, listLabHosts, removeLabHost, startDhcpClient, startLabHost } from '../docker/hosts.js';
import { applyFaucetConfig, checkCandidate, type ApplyResult, type FaucetIo } from '../net/faucet/apply.js';
import { emitFaucetYaml } from '../net/faucet/emit.js';
import { onlyListsSwapped } from '../net/faucet/compare.js';
import { ALLOW_ALL, allowAll, IDLE_PORT, IDLE_VLAN, type FaucetModel } from '../net/faucet/model.js';
import { ensureLabFirewall } from '../net/firewall.js';
import { attachVeth, deleteLink, hardenHostEnd, linksInNetns, setLinkUp } from '../net/links.js';
import { execIn } from '../docker/client.js';
import type { Ovs } from '../net/ovs.js';
import { HOST_END_PATTERN, type DesiredState } from './desired.js';
import { diff, hostLabels, portExternalIds, uplinkExternalIds, type Action, type ObservedState } from './diff.js';

export interface LabContext {
  cfg: Config;
  docker: Docker;
  ovs: Ovs;
  faucet: FaucetIo;
  datapath: 'system' | 'netdev';
  log: (line: string) => void;
}

export async function observe(ctx: LabContext): Promise<ObservedState> {
  const hosts = await Promise.all((await listLabHosts(ctx.docker)).map(async (h) => {
    let links: string[] = [];
    if (h.running) {
      try { links = await linksInNetns(await hostPid(ctx.docker, h.container)); } catch { /* exited meanwhile */ }
    }
    return { container: h.container, running: h.running, labels: h.labels, links };
  }));
  const ports = (await ctx.ovs.ports(ctx.cfg.bridge)).map((p) => ({
    name: p.name, ofport: p.ofport, externalIds: p.externalIds, error: p.error,
  }));
  return { hosts, ports, interfaces: readdirSync('/sys/class/net') };
}

/** The Faucet config with no lab: the DP and the ACL every lab port will carry. */
export function idleFaucetModel(cfg: Config): FaucetModel {
  return { dp: { name: cfg.bridge, dpId: cfg.dpId, description: 'Dovelab (no lab running)', interfaces: [{ ...IDLE_PORT }] }, vlans: [{ ...IDLE_VLAN }], acls: { [ALLOW_ALL]: allowAll() } };
}

export interface ReconcileReport { actions: Action[]; faucet?: ApplyResult; warnings: string[]; ms: number }

/** Brings the running lab to `desired`; touches only what differs. All Faucet changes: one reload. */
export async function reconcile(ctx: LabContext, desired: DesiredState): Promise<ReconcileReport> {
  const t0 = Date.now();
  await preflight(ctx);
  // Faucet's own check runs before anything changes: a config it rejects changes nothing.
  const faucetText = emitFaucetYaml(desired.faucet);
  const faucetFile = paths(ctx.cfg).faucetYaml;
  const liveText = existsSync(faucetFile) ? readFileSync(faucetFile, 'utf8') : undefined;
  // A pure swap of ACL lists or mirror sources against the checked live config skips the ~0.6 s check.
  if (liveText !== faucetText && !(liveText && onlyListsSwapped(liveText, faucetText))) {
    await checkCandidate(ctx.faucet, faucetFile, faucetText);
  }
  await ensureLabFirewall([HOST_END_PATTERN, ...desired.uplinks.map((u) => u.iface)]);
  const actions = diff(desired, await observe(ctx));
  let faucet: ApplyResult | undefined;
  const warnings: string[] = [];
  // Actions run in phases (the diff's order); within a phase, independent hosts go in parallel.
  for (const phase of phases(actions)) {
    await inParallel(phase, PARALLEL, async (a) => {
      if (a.kind === 'warn') { warnings.push(a.message); ctx.log(`warning: ${a.message}`); return; }
      if (a.kind !== 'faucet') ctx.log(`${a.kind} ${describe(a)}${'why' in a ? ` (${a.why})` : ''}`);
      faucet = (await execute(ctx, desired, a)) ?? faucet;
    });
  }
  return { actions, faucet, warnings, ms: Date.now() - t0 };
}

const PARALLEL = 4;

/** Consecutive actions of the same kind form a phase. */
export function phases(actions: Action[]): Action[][] {
  const out: Action[][] = [];
  for (const a of actions) {
    const last = out[out.length - 1];
    if (last && last[0]!.kind === a.kind) last.push(a); else out.push([a]);
  }
  return out;
}

async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try { await fn(item); } catch (e) { errors.push(e); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}

/** Every component answers before the first change, so a dead one stops us before anything is applied. */
export async function preflight(ctx: LabContext): Promise<void> {
  if (!(await ctx.ovs.bridgeExists(ctx.cfg.bridge))) {
    throw new Error(`OVS has no bridge ${ctx.cfg.bridge}: run \`dovelab infra up\``);
  }
  await ctx.faucet.metrics();
}

function describe(a: Action): string {
  switch (a.kind) {
    case 'remove-port': return a.port;
    case 'add-uplink': return `${a.uplink.role} ${a.uplink.name}: ${a.uplink.iface} (ofport ${a.uplink.ofport})`;
    case 'startup': return a.host.container;
    case 'warn': return a.message;
    case 'remove-host': return a.container;
    case 'create-host': return a.host.container;
    case 'attach': return `${a.port.container}:${a.port.ifname} -> ${a.port.hostEnd} (ofport ${a.port.ofport}, vlan ${a.port.vid})`;
    case 'faucet': return '';
  }
}

async function execute(ctx: LabContext, desired: DesiredState, a: Action): Promise<ApplyResult | undefined> {
  const bridge = ctx.cfg.bridge;
  switch (a.kind) {
    case 'remove-host':
      await removeLabHost(ctx.docker, a.container);
      return;
    case 'remove-port':
      await ctx.ovs.deletePort(bridge, a.port);
      // A dongle stays; only our veths go.
      if (a.veth) await deleteLink(a.port);
      return;
    case 'create-host':
      await removeLabHost(ctx.docker, a.host.container);
      await startLabHost(ctx.docker, {
        container: a.host.container, image: a.host.image, hostname: a.host.hostname,
        labels: hostLabels(desired.lab, a.host), sysctl: a.host.sysctl,
      });
      if (Object.keys(a.host.files).length) await copyFilesInto(ctx.docker, a.host.container, a.host.files);
      return;
    case 'attach': {
      const p = a.port;
      const pid = await hostPid(ctx.docker, p.container);
      await ctx.ovs.deletePort(bridge, p.hostEnd);
      await attachVeth({ hostEnd: p.hostEnd, pid, ifname: p.ifname, mac: p.mac, address: p.address, gateway: p.gateway, txOff: ctx.datapath === 'netdev' });
      try {
        await ctx.ovs.addPort(bridge, p.hostEnd, p.ofport, portExternalIds(desired.lab, p));
      } catch (e) {
        await deleteLink(p.hostEnd);
        throw e;
      }
      // The DHCP client runs inside the host (docker exec -d), so it outlives agent restarts.
      if (p.dhcp) await startDhcpClient(ctx.docker, p.container, p.ifname, desired.hosts.find((h) => h.container === p.container)?.hostname ?? p.host);
      return;
    }
    case 'add-uplink': {
      const u = a.uplink;
      hardenHostEnd(u.iface);
      await ctx.ovs.deletePort(bridge, u.iface);
      await ctx.ovs.addPort(bridge, u.iface, u.ofport, uplinkExternalIds(desired.lab, u));
      await setLinkUp(u.iface);
      return;
    }
    case 'startup': {
      const r = await execIn(ctx.docker, a.host.container, ['sh', '-c', a.host.startup ?? ''], { allowFail: true });
      if (r.code !== 0) ctx.log(`warning: startup of ${a.host.key} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
      return;
    }
    case 'warn':
      return;
    case 'faucet':
      return applyFaucetConfig(ctx.faucet, paths(ctx.cfg).faucetYaml, emitFaucetYaml(a.model), bridge, { alreadyChecked: true });
  }
}

/** Removes every lab host and lab port; leaves the idle Faucet config live. */
export async function teardown(ctx: LabContext): Promise<ReconcileReport> {
  const empty: DesiredState = { lab: '', hosts: [], ports: [], uplinks: [], faucet: idleFaucetModel(ctx.cfg) };
  return reconcile(ctx, empty);
}

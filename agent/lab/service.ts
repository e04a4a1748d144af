// The lab's verbs (up, down, live ACL/mirror/host changes, repair), one writer at a time.
// Each verb: read the desired state from disk, change it, plan it fully (errors before any
// change), write it, reconcile. A change the switch refuses puts the previous state back.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { paths, type Config } from '../config.js';
import type { Topology } from '../lesson/schema.js';
import { LessonError } from '../lesson/load.js';
import { openLabLesson, snapshotPack } from '../lesson/snapshot.js';
import { lessonInterfaceProblems } from './interfaces.js';
import { CAPTURE_NETNS, isSharedHost, mirrorSourcePorts, planDesired, PlanError, type DesiredState, type LabOverrides } from './desired.js';
import { idleDesired, reconcile, teardown, type LabContext, type ReconcileOptions, type ReconcileReport } from './engine.js';
import { readNetworkState } from './network-state.js';
import { withNetworks, type NetworkEnv, type PluginState } from './plan-networks.js';
import { readApplianceAcls } from './appliance-acls.js';
import { clearLabState, readClassRecord, readLabState, runInfo, writeCheckReport, writeClassRecord, writeLabState, type LabState } from './state.js';
import { noteChecks, noteReset, type ClassRecord } from './class-record.js';
import { newJoinCodes } from './join-codes.js';
import { labCheckIo, runChecks, sameRun, type CheckIo, type CheckReport } from './check-run.js';
import { repairDongles } from './hotplug.js';
import type { DonglePlan } from './plan-hotplug.js';

export class LabError extends Error {}

/**
 * The lab on disk planned now (`now` decides which captures still copy traffic), with the Docker
 * networks of the driver beside it on the same bridge.
 */
export function desiredOf(c: Config, st: LabState, now: number = Date.now()): DesiredState {
  return withApplianceNetworks(c, lessonDesired(c, st, now));
}

/** What driver networks are planned against: the ACL file and the mirror dongles (read only when there are networks). */
export const networkEnv = (c: Config): NetworkEnv => ({
  acls: readApplianceAcls(c.aclFile),
  mirrorDongles: Object.entries(c.dongles).filter(([, role]) => role === 'mirror').map(([name]) => name),
});

/** `desired` with the Docker networks (`net`, or the ones on disk) beside it. */
export function withApplianceNetworks(c: Config, desired: DesiredState, net: PluginState = readNetworkState(paths(c).networks)): DesiredState {
  return net.networks.length ? withNetworks(desired, net, networkEnv(c)) : withNetworks(desired, net);
}

/** The lab on disk planned now, without the Docker networks. */
export function lessonDesired(c: Config, st: LabState, now: number = Date.now()): DesiredState {
  return planDesired(st.topology, {
    lab: st.lab, groups: st.groups, bridge: c.bridge, dpId: c.dpId, defaultImage: c.images.labhost, overrides: st.overrides,
    packDir: st.packDir, limits: c.limits, now,
  });
}

/** The appliance without a lab: the idle config and the Docker networks. */
export const restOf = (c: Config): DesiredState => withApplianceNetworks(c, idleDesired(c));

/** Whatever runs now, planned: the lab (if any) and the Docker networks. */
export function applianceDesired(c: Config, now: number = Date.now()): DesiredState {
  const st = readLabState(paths(c).labState);
  return st ? desiredOf(c, st, now) : restOf(c);
}

/** Only one writer: commands wait here (up to two minutes) for the one before them. */
export async function withLabLock<T>(c: Config, fn: () => Promise<T>): Promise<T> {
  mkdirSync(c.runDir, { recursive: true });
  const release = await lockfile.lock(c.runDir, {
    lockfilePath: paths(c).lock, stale: 10_000, update: 2_000, realpath: false,
    retries: { retries: 240, minTimeout: 100, maxTimeout: 500, factor: 1.2 },
  });
  try { return await fn(); } finally { await release().catch(() => {}); }
}

function current(c: Config): LabState {
  const st = readLabState(paths(c).labState);
  if (!st) throw new LabError('no lab is running: `dovelab up <lesson>` first');
  return st;
}

/** Plans `next` (throws before any change), then applies it; on failure goes back to `prev`. */
async function change(ctx: LabContext, prev: LabState | undefined, next: LabState, opts: ReconcileOptions = {}, now: number = Date.now()): Promise<ReconcileReport> {
  const desired = desiredOf(ctx.cfg, next, now);
  const file = paths(ctx.cfg).labState;
  writeLabState(file, next);
  try {
    return await reconcile(ctx, desired, opts);
  } catch (e) {
    if (prev) {
      writeLabState(file, prev);
      await reconcile(ctx, desiredOf(ctx.cfg, prev, now)).catch((e2) => ctx.log(`warning: could not restore the previous lab: ${(e2 as Error).message}`));
    } else {
      // The previous state is "no lab": take down what this attempt made, or its hosts would be
      // reused by the next up without their startup scripts (and linger, unseen by status).
      clearLabState(file);
      await teardown(ctx, restOf(ctx.cfg)).catch((e2) => ctx.log(`warning: could not take down the partial lab: ${(e2 as Error).message}`));
    }
    throw e;
  }
}

export async function labUp(ctx: LabContext, lesson: string, groups: number): Promise<{ state: LabState; report: ReconcileReport }> {
  // The full pack checks, whatever the path (dir, lesson.yaml, unpacked archive or installed id).
  const opened = openLabLesson(lesson);
  const topology = opened.topology;
  const file = resolve(opened.lessonFile);
  const state: LabState = {
    lab: topology.id ?? 'lab', source: file, groups, topology, startedAt: new Date().toISOString(), overrides: {},
    packDir: join(paths(ctx.cfg).labPack, `${topology.id ?? 'lab'}-${Date.now()}`),
    joinCodes: newJoinCodes(groups),
  };
  try { desiredOf(ctx.cfg, state); } catch (e) {
    if (e instanceof PlanError) throw new LabError(`${file}: ${e.message}`);
    throw e;
  }
  // Only the appliance's dongles of the right role: never its own network (eth0, wlan0, …).
  const problems = lessonInterfaceProblems(topology, ctx.cfg.dongles, await ctx.dongles.facts(), ctx.cfg.bridge);
  if (problems.length) throw new LessonError(file, problems);
  return withLabLock(ctx.cfg, async () => {
    const prev = readLabState(paths(ctx.cfg).labState);
    // The lab's own copy, checked again file by file while copying (no link leaves the pack).
    snapshotPack(opened, state.packDir!);
    let report: ReconcileReport;
    try { report = await change(ctx, prev, state); } catch (e) {
      rmSync(state.packDir!, { recursive: true, force: true });
      throw e;
    }
    // Older snapshots belong to labs that no longer run.
    for (const d of readdirSync(paths(ctx.cfg).labPack)) {
      if (join(paths(ctx.cfg).labPack, d) !== state.packDir) rmSync(join(paths(ctx.cfg).labPack, d), { recursive: true, force: true });
    }
    return { state, report };
  });
}

export async function labDown(ctx: LabContext): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const r = await teardown(ctx, restOf(ctx.cfg));
    // The capture ports went with the lab; their netns goes too.
    await ctx.links.removeNetns(CAPTURE_NETNS);
    // Wipe what belonged to the lab: its state, its pack copy, its check results.
    clearLabState(paths(ctx.cfg).labState);
    rmSync(paths(ctx.cfg).labPack, { recursive: true, force: true });
    rmSync(paths(ctx.cfg).checks, { force: true });
    return r;
  });
}

/** Re-applies the lab on disk: what an agent does after a restart. Touches only what differs. */
export async function labRepair(ctx: LabContext, opts: ReconcileOptions = {}): Promise<ReconcileReport | undefined> {
  return withLabLock(ctx.cfg, async () => {
    const st = readLabState(paths(ctx.cfg).labState);
    if (st) return reconcile(ctx, desiredOf(ctx.cfg, st), opts);
    // No lab, but Docker networks: they are repaired the same way.
    return readNetworkState(paths(ctx.cfg).networks).networks.length ? reconcile(ctx, restOf(ctx.cfg), opts) : undefined;
  });
}

/**
 * Gives a lab started before join codes existed its codes (the agent calls this at start); a lab
 * that has them keeps them. Returns the codes, or undefined when no lab runs.
 */
export async function ensureJoinCodes(c: Config): Promise<Record<string, string> | undefined> {
  return withLabLock(c, async () => {
    const st = readLabState(paths(c).labState);
    if (!st) return undefined;
    const have = st.joinCodes ?? {};
    if (Array.from({ length: st.groups }, (_, i) => String(i + 1)).every((g) => g in have)) return have;
    const joinCodes = { ...newJoinCodes(st.groups), ...have };
    writeLabState(paths(c).labState, { ...st, joinCodes });
    return joinCodes;
  });
}

/** `host.iface` or `host` -> the concrete ports (faucet names) in the chosen groups. */
export function resolveTargets(st: LabState, target: string, group: number | undefined, c: Config): string[] {
  const [host, ifname] = target.split('.');
  const t = st.topology;
  const spec = host ? t.hosts[host] : undefined;
  if (!spec) throw new LabError(`${target}: unknown host "${host}" (hosts: ${Object.keys(t.hosts).join(', ')})`);
  if (ifname !== undefined && !(ifname in spec.interfaces)) {
    throw new LabError(`${target}: host ${host} has no interface ${ifname} (it has ${Object.keys(spec.interfaces).join(', ')})`);
  }
  if (group !== undefined && !isSharedHost(t, host!) && (group < 1 || group > st.groups)) {
    throw new LabError(`--group ${group}: the lab has groups 1..${st.groups}`);
  }
  const ports = mirrorSourcePorts(desiredOf(c, st).ports, [target]);
  return ports.filter((p) => group === undefined || p.group === group || p.group === 0).map((p) => p.faucetName);
}

/** Applies lesson ACLs to an interface (all groups, or one); `acls: []` clears them. */
export async function setAcls(ctx: LabContext, target: string, acls: string[], group?: number): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    for (const a of acls) {
      if (!(a in prev.topology.acls)) throw new LabError(`ACL "${a}" is not in the lesson (known: ${Object.keys(prev.topology.acls).join(', ') || 'none'})`);
    }
    const overrides: LabOverrides = structuredClone(prev.overrides ?? {});
    overrides.acls ??= {};
    for (const port of resolveTargets(prev, target, group, ctx.cfg)) overrides.acls[port] = acls;
    return change(ctx, prev, { ...prev, overrides });
  });
}

/** Starts or stops copying an interface (or all of a host's) to a mirror port. */
export async function setMirror(ctx: LabContext, on: boolean, target: string, mirror?: string, group?: number): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    const names = Object.keys(prev.topology.mirrors);
    const m = mirror ?? names[0];
    if (!m || !(m in prev.topology.mirrors)) {
      throw new LabError(mirror ? `mirror "${mirror}" is not in the lesson (known: ${names.join(', ') || 'none'})` : 'the lesson has no mirrors');
    }
    const desired = desiredOf(ctx.cfg, prev);
    const overrides: LabOverrides = structuredClone(prev.overrides ?? {});
    overrides.mirrors ??= {};
    const now = new Set(overrides.mirrors[m] ?? desired.ports.filter((p) => desired.uplinks.find((u) => u.name === m)?.mirrors.includes(p.ofport)).map((p) => p.faucetName));
    for (const port of resolveTargets(prev, target, group, ctx.cfg)) { if (on) now.add(port); else now.delete(port); }
    overrides.mirrors[m] = [...now].sort();
    return change(ctx, prev, { ...prev, overrides });
  });
}

/**
 * The ports being captured now (faucet name -> until, ISO), replacing the previous set; entries
 * past their end are dropped. Only the capture ports' mirror lists change: a warm switch change.
 * Does nothing (no reconcile) when the set is unchanged.
 */
export async function syncCaptures(ctx: LabContext, wanted: Record<string, string>, now: number = Date.now()): Promise<ReconcileReport | undefined> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    const known = new Set(desiredOf(ctx.cfg, prev, now).ports.map((p) => p.faucetName));
    const unknown = Object.keys(wanted).filter((p) => !known.has(p));
    if (unknown.length) throw new LabError(`not a port of the lab: ${unknown.join(', ')}`);
    const live = Object.fromEntries(Object.entries(wanted).filter(([, until]) => Date.parse(until) > now).sort(([a], [b]) => a.localeCompare(b)));
    const had = prev.overrides?.captures ?? {};
    if (JSON.stringify(live) === JSON.stringify(had)) return undefined;
    const overrides: LabOverrides = structuredClone(prev.overrides ?? {});
    if (Object.keys(live).length) overrides.captures = live; else delete overrides.captures;
    return change(ctx, prev, { ...prev, overrides }, {}, now);
  });
}

/** Adds a host to the running lab (in every group, or once if all its networks are shared). */
export async function addHost(ctx: LabContext, name: string, spec: Topology['hosts'][string]): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    if (name in prev.topology.hosts) throw new LabError(`host ${name} already exists`);
    for (const [i, iface] of Object.entries(spec.interfaces)) {
      if (!(iface.network in prev.topology.networks)) throw new LabError(`${name}.${i}: unknown network "${iface.network}"`);
    }
    const topology = { ...prev.topology, hosts: { ...prev.topology.hosts, [name]: spec } };
    return change(ctx, prev, { ...prev, topology });
  });
}

export async function removeHost(ctx: LabContext, name: string): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    if (!(name in prev.topology.hosts)) throw new LabError(`host ${name} is not in the lab`);
    const hosts = { ...prev.topology.hosts };
    delete hosts[name];
    const used = Object.keys(prev.topology.apply).some((k) => k.split('.')[0] === name)
      || Object.values(prev.topology.mirrors).some((m) => m.from.some((f) => f.split('.')[0] === name));
    if (used) throw new LabError(`host ${name} is named by the lesson's apply or mirrors; it cannot be removed live`);
    return change(ctx, prev, { ...prev, topology: { ...prev.topology, hosts } });
  });
}


/**
 * Recreates one group from the lesson (hosts, files, startup; its live ACL/mirror changes undone);
 * other groups untouched. Planned and checked (Faucet's own check too) before anything is removed;
 * if it fails, the previous state is put back.
 */
export async function labReset(ctx: LabContext, group: number): Promise<ReconcileReport> {
  return withLabLock(ctx.cfg, async () => {
    const prev = current(ctx.cfg);
    if (!Number.isInteger(group) || group < 1 || group > prev.groups) throw new LabError(`--group ${group}: the lab has groups 1..${prev.groups}`);
    const inGroup = (port: string) => port.startsWith(`g${group}-`);
    const overrides: LabOverrides = structuredClone(prev.overrides ?? {});
    for (const port of Object.keys(overrides.acls ?? {})) if (inGroup(port)) delete overrides.acls![port];
    for (const [m, ports] of Object.entries(overrides.mirrors ?? {})) overrides.mirrors![m] = ports.filter((p) => !inGroup(p));
    const next = { ...prev, overrides };
    const recreate = new Set(desiredOf(ctx.cfg, next).hosts.filter((h) => h.group === group).map((h) => h.container));
    const report = await change(ctx, prev, next, { recreate });
    keepClassRecord(ctx, (rec, st) => noteReset(rec, runInfo(st), group, new Date().toISOString()));
    return report;
  });
}

/**
 * Updates the class record of the running lab (under the lab lock). It is a record for people, not
 * the lab's state: a damaged file is replaced by a new record, and a write that fails is logged.
 */
function keepClassRecord(ctx: LabContext, update: (prev: ClassRecord | undefined, st: LabState) => ClassRecord): void {
  const file = paths(ctx.cfg).classRecord;
  try {
    const st = readLabState(paths(ctx.cfg).labState);
    if (!st) return;
    let prev: ClassRecord | undefined;
    try { prev = readClassRecord(file); } catch (e) { ctx.log(`class record: ${(e as Error).message}; starting a new one`); }
    writeClassRecord(file, update(prev, st));
  } catch (e) { ctx.log(`class record not saved: ${(e as Error).message}`); }
}

/**
 * Saves a full check run (checks.json) under the lab lock, durably, and only while the lab that
 * was checked still runs: a check round that ends after `down` never brings its results back.
 */
export async function saveCheckResults(ctx: LabContext, report: CheckReport): Promise<void> {
  await withLabLock(ctx.cfg, async () => {
    if (!sameRun(readLabState(paths(ctx.cfg).labState), report)) {
      ctx.log(`checks: lab ${report.lab} (started ${report.startedAt}) no longer runs; results not saved`);
      return;
    }
    writeCheckReport(paths(ctx.cfg).checks, report);
    keepClassRecord(ctx, (prev, st) => noteChecks(prev, runInfo(st), report.results, report.updated_at));
  });
}

/** The lab's task checks over its adapters; a full run's results are saved by saveCheckResults. */
export const checkIo = (ctx: LabContext): CheckIo => labCheckIo(ctx, (r) => saveCheckResults(ctx, r));

export { runChecks };

/** Dongles pulled or plugged: the repair of those only (not the whole lab), against what runs now. */
export async function labDongleRepair(ctx: LabContext, ifaces: string[], plugged: ReadonlySet<string> = new Set()): Promise<DonglePlan[]> {
  return withLabLock(ctx.cfg, async () => repairDongles(ctx, applianceDesired(ctx.cfg), ifaces, plugged));
}

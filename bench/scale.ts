// The 120-host run (30 groups x 4 hosts), as JSON (not a test). Brings the switch up itself (infra
// up, idempotent), so it runs from a clean state; holds the whole stack: run it under the stack lock.
//   `--groups N` (default 30) for a smaller try; `--fresh` takes the switch down first (infra down:
//   from no OVS, Faucet or Gauge at all); `--out FILE` / DOVELAB_BENCH_OUT also writes FILE.
// Fields (times in ms, memory in KiB, CPU in % of one core):
// - infra_up_ms: `infra up` (under 1 s when it already ran; from nothing with --fresh);
// - bringup_ms: {dovelab, plain_docker_bridge, ratio, goal_ratio}: the same N*4 containers until every
//   host answers a ping of its neighbour (4 execs at a time, both sides), same run. Dovelab is `up`
//   of the bench lesson; plain is a user-defined docker bridge, containers created and started 4 at a
//   time (the parallelism of Dovelab's own create phase);
// - faucet_reload: the agent's view of each reload (up, reset, down: ms from candidate to confirmed,
//   warm/cold starts counted by Faucet) and `log`: what faucet.log says about the same run
//   ("Reloading configuration", warm/cold starting, one-second resolution);
// - up_phases_ms: per action kind of `up`, when its first and last action began (ms since the call),
//   the whole reconcile and the Faucet apply (check, swap, reload, confirmed);
// - faucet_config: bytes and ports of faucet.yaml with the lab up, and how long Faucet's check of it takes;
// - reset_one_group_ms: {reset, until_reachable, goal}: `reset --group` of one group, and until its
//   hosts answer again;
// - agent: a real `dovelab agent` (default 10 s interval) with the lab up and nothing changing:
//   rss_kib after its start repair, cpu over `window_s` (self; children = the processes it spawned and
//   reaped; also dockerd, containerd and the shims, ovs-vswitchd against a window without the agent),
//   repairs logged in the window, pids made in the window (system-wide, from /proc/loadavg), and
//   agent_without_history: the same with the traffic history off (what the Gauge scrapes cost);
//   idle repairs timed in the bench: {full: a look inside every host, timer_pass: what the agent's
//   timer does (HostLinksSeen reused)}; DOVELAB_SCALE_CPU_PROF=DIR keeps the agent's CPU profile;
// - memory: MemAvailable before, with the plain containers, with the lab, after down;
// - down_ms: {dovelab, plain_docker_bridge}; clean_after_down: no lab containers or dl* ports left.
import { emitJson } from './emit.js';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { loadConfig, paths } from '../agent/config.js';
import { labContext } from '../agent/context.js';
import { dockerClient, execIn } from '../agent/docker/client.js';
import { infraDown, infraUp } from '../agent/lab/infra.js';
import { labDown, labRepair, labReset, labUp } from '../agent/lab/service.js';
import type { HostLinksSeen, ReconcileReport } from '../agent/lab/engine.js';
import { run } from '../agent/sys/run.js';
import { CLI } from './timed.js';

const argv = process.argv;
const k = argv.indexOf('--groups');
const GROUPS = k >= 0 ? Number(argv[k + 1]) : 30;
if (!Number.isInteger(GROUPS) || GROUPS < 1 || GROUPS > 30) throw new Error(`--groups ${argv[k + 1]}: a whole number 1..30`);
const HOSTS = 4;
const PAR = 4;
const WINDOW_S = Number(process.env.DOVELAB_SCALE_WINDOW_S ?? 60);
const BASE_WINDOW_S = Math.max(10, Math.round(WINDOW_S / 2));

const cfg = loadConfig();
const docker = dockerClient();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const since = (t0: number) => Date.now() - t0;
const phaseLog: string[] = [];
const note = (s: string) => { phaseLog.push(`${new Date().toISOString()} ${s}`); process.stderr.write(`scale: ${s}\n`); };

const LESSON = `dovelab: 1
id: bench-scale
title: 4 hosts on one switch per group (bench only)
groups: {default: 30, max: 30}
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
  h3: {interfaces: {eth0: {network: lab, ip: 198.51.100.13/24}}}
  h4: {interfaces: {eth0: {network: lab, ip: 198.51.100.14/24}}}
`;

/** Runs fn over items, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Every (container, address) pair answers a ping; retries each pair for up to ~60 s. */
async function allAnswer(pairs: [string, string][]): Promise<void> {
  await pool(pairs, PAR, async ([from, to]) => {
    for (let i = 0; ; i++) {
      const r = await execIn(docker, from, ['ping', '-c', '1', '-W', '1', to], { allowFail: true });
      if (r.code === 0) return;
      if (i > 60) throw new Error(`${from} never reached ${to}: ${r.stdout}${r.stderr}`);
    }
  });
}

const labPairs = (groups: number[]): [string, string][] =>
  groups.flatMap((g) => Array.from({ length: HOSTS }, (_, i) => [`dovelab-g${g}-h${i + 1}`, `198.51.100.1${((i + 1) % HOSTS) + 1}`] as [string, string]));

const memAvailableKiB = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);

async function plainDocker(n: number): Promise<{ up: number; down: number; memKiB: number }> {
  const net = 'dovelab-bench-scale-plain';
  const names = Array.from({ length: n }, (_, i) => `dovelab-bench-scale-${i + 1}`);
  await pool(names, PAR, async (name) => { await docker.getContainer(name).remove({ force: true }).catch(() => {}); });
  await docker.getNetwork(net).remove().catch(() => {});
  const ip = (i: number) => `203.0.113.${11 + i}`;
  const t0 = Date.now();
  await docker.createNetwork({ Name: net, Driver: 'bridge', IPAM: { Config: [{ Subnet: '203.0.113.0/24' }] } });
  await pool(names.map((name, i) => [name, i] as const), PAR, async ([name, i]) => {
    const c = await docker.createContainer({ name, Image: cfg.images.labhost, HostConfig: { NetworkMode: net, CapAdd: ['NET_ADMIN', 'NET_RAW'] },
      NetworkingConfig: { EndpointsConfig: { [net]: { IPAMConfig: { IPv4Address: ip(i) } } } } });
    await c.start();
  });
  await allAnswer(names.map((name, i) => [name, ip((i + 1) % n)]));
  const up = since(t0);
  const memKiB = memAvailableKiB();
  const t1 = Date.now();
  await pool(names, PAR, async (name) => { await docker.getContainer(name).remove({ force: true }); });
  await docker.getNetwork(net).remove();
  return { up, down: since(t1), memKiB };
}

const faucetDelta = (r: ReconcileReport | undefined) => ({
  ms: r?.faucet?.ms ?? 0, changed: r?.faucet?.changed ?? false,
  warm: (r?.faucet?.after.warmStarts ?? 0) - (r?.faucet?.before?.warmStarts ?? 0),
  cold: (r?.faucet?.after.coldStarts ?? 0) - (r?.faucet?.before?.coldStarts ?? 0),
});

// ---- CPU from /proc ----
const TICKS = Number((await run(['getconf', 'CLK_TCK'])).stdout.trim());
/** utime+stime and cutime+cstime of one process, in ticks (undefined when it is gone). */
function cpuTicks(pid: number): { self: number; user: number; system: number; children: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
    return { self: f[11]! + f[12]!, user: f[11]!, system: f[12]!, children: f[13]! + f[14]! };
  } catch { return undefined; }
}
/** pids by command name (containerd-shim: every shim). */
function pidsOf(match: (comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (match(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) out.push(Number(d)); } catch { /* gone */ }
  }
  return out;
}
const SERVICES: Record<string, (c: string) => boolean> = {
  dockerd: (c) => c === 'dockerd', containerd: (c) => c === 'containerd', shims: (c) => c.startsWith('containerd-shim'), 'ovs-vswitchd': (c) => c === 'ovs-vswitchd',
};
const lastPid = () => Number(readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/)[4]);

/** CPU (% of one core) of the services over `seconds`, and pids made system-wide. */
async function serviceWindow(seconds: number, extra?: number): Promise<{ services: Record<string, number>; agent?: { self: number; user: number; system: number; children: number }; pids_made: number }> {
  const pids = Object.fromEntries(Object.entries(SERVICES).map(([n, m]) => [n, pidsOf(m)]));
  const sum = (ps: number[]) => ps.reduce((a, p) => a + (cpuTicks(p)?.self ?? 0), 0);
  const before = Object.fromEntries(Object.entries(pids).map(([n, ps]) => [n, sum(ps)]));
  const a0 = extra ? cpuTicks(extra) : undefined;
  const p0 = lastPid();
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const secs = since(t0) / 1000;
  const pct = (ticks: number) => Number(((ticks / TICKS / secs) * 100).toFixed(2));
  const services = Object.fromEntries(Object.entries(pids).map(([n, ps]) => [n, pct(sum(ps) - before[n]!)]));
  const a1 = extra ? cpuTicks(extra) : undefined;
  const agent = a0 && a1 ? { self: pct(a1.self - a0.self), user: pct(a1.user - a0.user), system: pct(a1.system - a0.system), children: pct(a1.children - a0.children) } : undefined;
  return { services, ...(agent ? { agent } : {}), pids_made: lastPid() - p0 };
}

// ---- the agent ----
async function agentRun(logFile: string, env: NodeJS.ProcessEnv = {}) {
  const fd = openSync(logFile, 'w');
  // DOVELAB_SCALE_CPU_PROF=DIR: the agent writes a V8 CPU profile there when it stops (where its CPU goes).
  const prof = process.env.DOVELAB_SCALE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DOVELAB_SCALE_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, CLI, 'agent'], { stdio: ['ignore', fd, fd], env: { ...process.env, DOVELAB_WEB_MDNS: '0', ...env } });
  closeSync(fd);
  const t0 = Date.now();
  while (!/repair (done|failed) \(start\)/.test(readFileSync(logFile, 'utf8'))) {
    if (since(t0) > 180_000) throw new Error(`agent ${child.pid}: no start repair in 180 s (${logFile})`);
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode} before its start repair (${logFile})`);
    await sleep(200);
  }
  const startRepairMs = since(t0);
  const failed = /repair failed \(start\): (.*)/.exec(readFileSync(logFile, 'utf8'))?.[1];
  if (failed) throw new Error(`agent's start repair failed: ${failed}`);
  await sleep(2000); // settle (the web server, history, the first Gauge poll)
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  const linesBefore = readFileSync(logFile, 'utf8').split('\n').length;
  const win = await serviceWindow(WINDOW_S, child.pid);
  const logged = readFileSync(logFile, 'utf8').split('\n').slice(linesBefore - 1);
  const rssAfterKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  return {
    start_repair_ms: startRepairMs, rss_kib: rssKiB, rss_kib_after_window: rssAfterKiB, window_s: WINDOW_S,
    cpu_pct: win.agent, services_cpu_pct: win.services, pids_made_in_window: win.pids_made,
    repairs_in_window: logged.filter((l) => /repair (done|failed)/.test(l)).length,
    repair_lines: logged.filter((l) => /repair (done|failed)/.test(l)).slice(0, 3).map((l) => l.replace(/^\S+ /, '')),
  };
}

// ---- Faucet's log ----
const FAUCET_LOG = '/var/log/dovelab/faucet/faucet.log';
const logSize = () => { try { return statSync(FAUCET_LOG).size; } catch { return 0; } };
function faucetLogSince(offset: number) {
  let text = '';
  try {
    const fd = openSync(FAUCET_LOG, 'r');
    // The agent caps the log (faucetLogMaxMB): cut since `offset`, it is read from its start.
    const size = statSync(FAUCET_LOG).size;
    const from = size < offset ? 0 : offset;
    const buf = Buffer.alloc(size - from);
    readFileSyncFd(fd, buf, from);
    closeSync(fd);
    text = buf.toString('utf8');
  } catch (e) { return { error: (e as Error).message }; }
  const lines = text.split('\n').filter((l) => /^\w{3} \d\d \d\d:\d\d:\d\d /.test(l));
  const reloads: { at: string; start: string; log_span_s: number }[] = [];
  let cur: { at: string; start: string; first: number; last: number } | undefined;
  const secs = (l: string) => { const [h, m, s] = l.slice(7, 15).split(':').map(Number); return h! * 3600 + m! * 60 + s!; };
  const close = () => { if (cur) reloads.push({ at: cur.at, start: cur.start, log_span_s: cur.last - cur.first }); };
  for (const l of lines) {
    if (/Reloading configuration/.test(l)) { close(); cur = { at: l.slice(7, 15), start: 'none', first: secs(l), last: secs(l) }; continue; }
    if (!cur) continue;
    if (/warm starting/.test(l)) cur.start = 'warm';
    else if (/cold starting/.test(l)) cur.start = 'cold';
    // The reload's own lines (configuring, ports configured, flows): not ports coming and going later.
    if (/Configuring|configured|warm start|cold start|Cold start|changes|Reconfiguring|datapath|port desc stats/.test(l) && secs(l) - cur.first <= 30) cur.last = secs(l);
  }
  close();
  return { reloads, warm: reloads.filter((r) => r.start === 'warm').length, cold: reloads.filter((r) => r.start === 'cold').length };
}
function readFileSyncFd(fd: number, buf: Buffer, position: number) {
  let off = 0;
  while (off < buf.length) { const n = readSync(fd, buf, off, buf.length - off, position + off); if (n <= 0) break; off += n; }
}

/** Per action kind of `up`: {n, from, to} in ms since the call, and the Faucet apply (from its duration, at the end). */
function upPhases(lines: [number, string][], t0: number, report: ReconcileReport) {
  const out: Record<string, { n: number; from: number; to: number }> = {};
  for (const [at, line] of lines) {
    const kind = /^(create-host|attach|startup|add-capture|add-uplink|remove-host|remove-port) /.exec(line)?.[1];
    if (!kind) continue;
    const p = (out[kind] ??= { n: 0, from: at - t0, to: at - t0 });
    p.n++; p.to = at - t0;
  }
  return { ...out, reconcile_ms: report.ms, faucet_apply_ms: report.faucet?.ms ?? 0 };
}

// ---- the run ----
const result: Record<string, unknown> = { bench: 'scale', groups: GROUPS, hosts: GROUPS * HOSTS, parallelism: PAR };
const memory: Record<string, number> = { total_kib: Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) };
try {
  // --fresh: from no switch at all (infra down first: OVS, Faucet and Gauge removed), as after a boot.
  if (argv.includes('--fresh')) { await infraDown(cfg, docker); note('infra down (--fresh)'); }
  result.fresh = argv.includes('--fresh');
  let t = Date.now();
  const infra = await infraUp(cfg, docker, () => {});
  result.infra_up_ms = since(t);
  result.datapath = infra.datapath;
  note(`infra up in ${result.infra_up_ms} ms`);
  // The engine's log lines ("create-host …", "attach …") with their times: where `up` spends its time.
  const engineLog: [number, string][] = [];
  const ctx = await labContext(cfg, (line) => engineLog.push([Date.now(), line]), docker);
  await labDown(ctx);
  memory.available_before_kib = memAvailableKiB();
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-bench-scale-'));
  writeFileSync(join(dir, 'lesson.yaml'), LESSON);
  result.log_dir = dir; // the agents' logs
  const logAt = logSize();

  const plain = await plainDocker(GROUPS * HOSTS);
  memory.available_with_plain_kib = plain.memKiB;
  note(`plain docker: up ${plain.up} ms, down ${plain.down} ms`);

  t = Date.now();
  engineLog.length = 0;
  const up = await labUp(ctx, dir, GROUPS);
  const upMs = since(t);
  result.up_phases_ms = upPhases(engineLog, t, up.report);
  await allAnswer(labPairs(Array.from({ length: GROUPS }, (_, i) => i + 1)));
  const ours = since(t);
  memory.available_with_lab_kib = memAvailableKiB();
  result.bringup_ms = { dovelab: ours, dovelab_up_returned: upMs, plain_docker_bridge: plain.up, ratio: Number((ours / plain.up).toFixed(2)), goal_ratio: 1.1 };
  note(`dovelab up: ${upMs} ms, all answering at ${ours} ms`);

  const yamlText = readFileSync(paths(cfg).faucetYaml, 'utf8');
  t = Date.now();
  await ctx.faucet.check(yamlText);
  result.faucet_config = { bytes: Buffer.byteLength(yamlText), ports: (yamlText.match(/^\s+\d+:\s*$/gm) ?? []).length, check_ms: since(t) };

  // The work of each agent interval, in this process: an idle repair with every host up.
  const idle: number[] = [];
  const seen: HostLinksSeen = { links: new Map(), reuse: false };
  for (let i = 0; i < 6; i++) {
    seen.reuse = i >= 3; // three full looks, then three timer passes (what the last look saw, reused)
    t = Date.now();
    const r = await labRepair(ctx, { seen });
    idle.push(since(t));
    if (r?.actions.some((a) => a.kind !== 'faucet' && a.kind !== 'warn')) note(`idle repair changed something: ${r.actions.map((a) => a.kind).join(',')}`);
  }

  note(`baseline window ${BASE_WINDOW_S} s (no agent)`);
  const base = await serviceWindow(BASE_WINDOW_S);
  note('agent window');
  const agent = await agentRun(join(dir, 'agent.log'));
  // The same agent without the traffic history (Gauge scraped every few seconds): what the history costs.
  note('agent window without history');
  const cfgFile = join(dir, 'dovelab-no-history.yaml');
  const own = process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml';
  const base0 = existsSync(own) ? (parse(readFileSync(own, 'utf8')) as Record<string, unknown> | null) ?? {} : {};
  writeFileSync(cfgFile, stringify({ ...base0, history: { ...((base0.history as object | undefined) ?? {}), enabled: false } }));
  const noHistory = await agentRun(join(dir, 'agent-no-history.log'), { DOVELAB_CONFIG: cfgFile });
  result.agent_without_history = { cpu_pct: noHistory.cpu_pct, rss_kib: noHistory.rss_kib, repairs_in_window: noHistory.repairs_in_window, window_s: WINDOW_S };
  result.agent = { ...agent, idle_repair_ms: { full: idle.slice(0, 3), timer_pass: idle.slice(3) }, baseline_services_cpu_pct: base.services, baseline_pids_made: base.pids_made, baseline_window_s: BASE_WINDOW_S, goal_cpu_pct: 2 };
  note(`agent: rss ${agent.rss_kib} KiB, cpu ${JSON.stringify(agent.cpu_pct)}`);

  const g = Math.ceil(GROUPS / 2);
  t = Date.now();
  const reset = await labReset(ctx, g);
  const resetMs = since(t);
  await allAnswer(labPairs([g]));
  result.reset_one_group_ms = { group: g, reset: resetMs, until_reachable: since(t), goal: 3000 };
  note(`reset of group ${g}: ${resetMs} ms`);

  t = Date.now();
  const down = await labDown(ctx);
  const downMs = since(t);
  memory.available_after_down_kib = memAvailableKiB();
  result.down_ms = { dovelab: downMs, plain_docker_bridge: plain.down };
  note(`down: ${downMs} ms`);

  const left = (await docker.listContainers({ all: true })).flatMap((c) => c.Names).filter((n) => /^\/dovelab-(g\d+-|bench-scale-)/.test(n));
  const ports = (await run(['docker', 'exec', 'dovelab-ovs', 'ovs-vsctl', 'list-ports', cfg.bridge], { allowFail: true })).stdout.split('\n').filter((p) => /^dl\d+$/.test(p));
  result.clean_after_down = { ok: left.length === 0 && ports.length === 0, containers_left: left, dl_ports_left: ports };

  result.faucet_reload = { up: faucetDelta(up.report), reset: faucetDelta(reset), down: faucetDelta(down), log: faucetLogSince(logAt) };
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = (e as Error).stack ?? String(e);
}
result.memory = memory;
result.phases = phaseLog;
await emitJson(result);
process.exit(result.ok ? 0 : 1);

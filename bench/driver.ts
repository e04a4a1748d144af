// Docker network driver figures, as JSON (not a test). Needs root, dockerd and the built tree
// (`npm run bench:driver`); brings up infra and the sim world like the integration tests, starts a
// real `dovelab agent` (the driver on /run/docker/plugins/dovelab.sock) and drives the docker CLI.
// Per repetition, on a `-d dovelab` network and on a plain docker bridge network (same flags:
// --internal, a fixed subnet; the order alternates between repetitions):
// - network create -> usable: from the start of `docker network create` to the first echo reply a
//   second container gets from the first (two `docker run -d`, ARP, one round trip);
// - 20 `docker run -d` one after another: total wall time; ratio dovelab / bridge;
// - first packet: each of the 20 pings a target on the network from its own command (no `docker
//   exec`, whose ~100 ms start-up would swamp the figure); a tcpdump in the target's netns (a host
//   process, kernel timestamps) sees its first echo request; minus the time `docker run` returned;
//   also from the probe's own start (the data plane without the container's start-up), and to the
//   first reply (as a program in the container sees it);
// - where the time goes: the driver's time per call (from the agent's log), teardown time.
import { emitJson } from './emit.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { paths } from '../agent/config.js';
import { scrape } from '../agent/metrics/prometheus.js';
import { faucetStatus } from '../agent/net/faucet/status.js';
import { cfg, hostPidOf, run, stack, startAgent, waitFor, type AgentProc } from '../test/integration/_stack.js';

const CONTAINERS = 20;
const REPS = Number(process.env.BENCH_DRIVER_REPS ?? 2);
const IMAGE = cfg.images.labhost;
const PREFIX = 'dlbench-';
const KINDS = ['dovelab', 'bridge'] as const;
type Kind = typeof KINDS[number];
/** Test subnets only (192.0.2.0/24 is this VM's own). */
const SUBNET: Record<Kind, string> = { dovelab: '198.51.100', bridge: '203.0.113' };
// BENCH_DRIVER_SUBNETS=a.b.c,d.e.f: other /24s (another run's leftover network holding one of these).
{
  const [d, b] = (process.env.BENCH_DRIVER_SUBNETS ?? '').split(',');
  if (d && b) Object.assign(SUBNET, { dovelab: d, bridge: b });
}
/** How long a probe pings before it gives up (a container that never gets through fails the bench). */
const PROBE_DEADLINE_S = 10;

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!; };
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const dockerCli = (args: string[], timeoutMs = 120_000) => run(['docker', ...args], { allowFail: true, timeoutMs });

/**
 * SIGINT/SIGTERM only set this: the run stops at its next step and its `finally` cleans up (a
 * cleanup racing a `docker run` in flight would miss the container that run is making).
 */
let interrupted: NodeJS.Signals | undefined;
process.on('SIGINT', () => { interrupted ??= 'SIGINT'; });
process.on('SIGTERM', () => { interrupted ??= 'SIGTERM'; });
function checkpoint(): void { if (interrupted) throw new Error(`interrupted (${interrupted})`); }

async function must(args: string[]) {
  checkpoint();
  const r = await dockerCli(args);
  checkpoint();
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
  return r;
}

// ---- the agent (the driver) ----
let agent: AgentProc | undefined;
let agentGone = false;
let agentLogs = 0;
const dir = mkdtempSync(join(tmpdir(), 'dovelab-bench-driver-'));
/** Starts the agent unless it runs; resolves once the driver listens. */
async function driverUp(): Promise<void> {
  if (agent && !agentGone) return;
  // The product's default repair interval.
  const a = startAgent(join(dir, `agent-${++agentLogs}.log`), 10);
  agent = a; agentGone = false;
  void a.exited.then(() => { if (agent === a) agentGone = true; });
  await a.waitLine('the network driver to listen', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
}

/** Everything of ours by name (also what a `docker run` cut short made, or an earlier run left). */
async function leftovers(): Promise<{ containers: string[]; networks: string[] }> {
  const names = async (args: string[]) => (await dockerCli(args, 30_000)).stdout.split('\n').filter((n) => n.startsWith(PREFIX));
  return { containers: await names(['ps', '-a', '--format', '{{.Names}}']), networks: await names(['network', 'ls', '--format', '{{.Name}}']) };
}
async function cleanUp(): Promise<void> {
  let l = await leftovers();
  if (!l.containers.length && !l.networks.length) return;
  // Leaving a dovelab network needs the driver (Ctrl-C reaches the agent too: it is our child).
  await driverUp();
  // Containers first: a network with endpoints cannot go. Dovelab's Leaves go one at a time (~3 s each).
  if (l.containers.length) await dockerCli(['rm', '-f', ...l.containers], 300_000);
  for (const n of l.networks) await dockerCli(['network', 'rm', n]);
  l = await leftovers();
  if (l.containers.length || l.networks.length) throw new Error(`could not remove: ${[...l.containers, ...l.networks].join(' ')}`);
}

/**
 * The probe, as the container's own command (so it starts with the container, no exec): prints
 * when it starts, pings `target` every 10 ms until the first reply (ping -D: each reply with its
 * receive time, the kernel's wall clock, the same clock as ours), then sleeps like any lab host.
 * With `neigh` the target's MAC is set first, so an echo request leaves every 10 ms from the
 * start, not one ARP request a second until one gets through (needs NET_ADMIN, given on both networks).
 */
const probe = (target: string, neigh?: string) => [
  'sh', '-c',
  `${neigh ? `ip neigh replace ${target} lladdr ${neigh} dev eth0 nud permanent || echo probe-error; ` : ''}`
  + `echo "probe-start $(date +%s.%N)"; ping -D -n -c 1 -i 0.01 -w ${PROBE_DEADLINE_S} ${target}; echo "probe-exit $?"; exec sleep infinity`,
];

async function runContainer(name: string, net: string, ip: string, cmd: string[]): Promise<number> {
  await must(['run', '-d', '--name', name, '--network', net, '--ip', ip, '--cap-add', 'NET_ADMIN', IMAGE, ...cmd]);
  return Date.now();
}

/** The probe's result from the container's log: when it started and the first reply's time (ms since the epoch). */
async function probeResult(name: string): Promise<{ startAt: number; replyAt?: number }> {
  const log = await waitFor(`${name}'s probe to finish`, async () => {
    if (interrupted) return 'interrupted';
    const r = await dockerCli(['logs', name]);
    return /^probe-exit \d+/m.test(r.stdout) ? r.stdout : undefined;
  }, (PROBE_DEADLINE_S + 20) * 1000, 100);
  checkpoint();
  // "Could not run" is an error, never a figure.
  if (/probe-error|^ping: /m.test(log) || !/^probe-start \d/m.test(log)) throw new Error(`${name}: the probe could not run:\n${log}`);
  const startAt = Number(/^probe-start (\d+\.\d+)/m.exec(log)![1]) * 1000;
  const m = /^\[(\d+\.\d+)\] \d+ bytes from/m.exec(log);
  return m ? { startAt, replyAt: Number(m[1]) * 1000 } : { startAt };
}

/** tcpdump in a container's netns (run on the host: no exec), printing echo requests with epoch timestamps. */
async function listener(container: string) {
  const pid = await hostPidOf(container);
  const child = spawn('nsenter', ['-t', String(pid), '-n', 'tcpdump', '-tt', '-nn', '-l', '-i', 'eth0', 'icmp[icmptype] == icmp-echo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = ''; let err = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  child.on('error', (e) => { err += `\n${e.message}`; });
  try {
    await waitFor(`tcpdump in ${container} to say "listening on"`, () => {
      if (child.exitCode !== null) throw new Error(`tcpdump exited ${child.exitCode}: ${err.trim()}`);
      return /listening on/.test(err);
    }, 10_000, 20);
  } catch (e) { child.kill('SIGKILL'); throw e; }
  return {
    /** The first echo request from `src`, ms since the epoch. */
    firstFrom(src: string): number | undefined {
      const re = new RegExp(`^(\\d+\\.\\d+) IP ${src.replace(/\./g, '\\.')} > `, 'm');
      const m = re.exec(out);
      return m ? Number(m[1]) * 1000 : undefined;
    },
    async stop() {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed; clearTimeout(t);
    },
  };
}

const macOf = async (container: string) => {
  const r = await run(['nsenter', '-t', String(await hostPidOf(container)), '-n', 'ip', '-o', 'link', 'show', 'eth0'], { timeoutMs: 10_000 });
  const m = /link\/ether ([0-9a-f:]{17})/.exec(r.stdout);
  if (!m) throw new Error(`${container}: no MAC on eth0: ${r.stdout}`);
  return m[1]!;
};

/** A VLAN no network uses now, from the live Faucet config (high, away from lessons' N*100+k). */
function freeVid(): number {
  const doc = parse(readFileSync(paths(cfg).faucetYaml, 'utf8')) as { vlans?: Record<string, { vid: number }> };
  const used = new Set(Object.values(doc.vlans ?? {}).map((v) => v.vid));
  for (let v = 3900; v <= 4093; v++) if (!used.has(v)) return v;
  throw new Error('no free VLAN in 3900-4093');
}

interface KindResult {
  create_ms: number; usable_ms: number; usable_parts: { create: number; two_runs: number; reply_after_run: number };
  run_ms: number; firstPacket: number[]; afterStart: number[]; firstReply: number[]; noReply: number; teardown_ms: number;
  /** Faucet's warm and cold starts during the timed runs (its counters). */
  reloads: { warm: number; cold: number };
}

/** Faucet's reload counters now. */
async function faucetStarts(): Promise<{ warm: number; cold: number }> {
  const st = faucetStatus(await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`, 5_000));
  return { warm: st.warmStarts, cold: st.coldStarts };
}

async function one(kind: Kind, rep: number): Promise<KindResult> {
  const net = `${PREFIX}${kind}`;
  const sub = SUBNET[kind];
  const tag = `${PREFIX}${kind[0]}${rep}`;
  const createArgs = kind === 'dovelab'
    ? ['-d', 'dovelab', '-o', `dovelab.vlan=${freeVid()}`]
    : ['-d', 'bridge'];
  const t0 = Date.now();
  await must(['network', 'create', ...createArgs, '--internal', '--subnet', `${sub}.0/24`, net]);
  const create_ms = Date.now() - t0;
  const target = `${tag}-target`;
  await runContainer(target, net, `${sub}.2`, ['sleep', 'infinity']);
  // The first probe ARPs as any program would: "usable" is what a user sees.
  const first = `${tag}-first`;
  const firstReturned = await runContainer(first, net, `${sub}.3`, probe(`${sub}.2`));
  const usable = await probeResult(first);
  if (usable.replyAt === undefined) throw new Error(`${kind}: ${first} never reached ${target} (${PROBE_DEADLINE_S} s)`);
  const usable_ms = usable.replyAt - t0;
  const usable_parts = { create: create_ms, two_runs: firstReturned - t0 - create_ms, reply_after_run: usable.replyAt - firstReturned };

  const mac = await macOf(target);
  const cap = await listener(target);
  const names: string[] = []; const returned: number[] = [];
  const probes: Awaited<ReturnType<typeof probeResult>>[] = [];
  let run_ms: number;
  let reloads = { warm: 0, cold: 0 };
  try {
    const s0 = await faucetStarts();
    const tr = Date.now();
    for (let i = 0; i < CONTAINERS; i++) {
      checkpoint();
      const name = `${tag}-${String(i + 1).padStart(2, '0')}`;
      names.push(name);
      returned.push(await runContainer(name, net, `${sub}.${11 + i}`, probe(`${sub}.2`, mac)));
    }
    run_ms = Date.now() - tr;
    const s1 = await faucetStarts();
    reloads = { warm: s1.warm - s0.warm, cold: s1.cold - s0.cold };
    // Read only after the last run: the timed loop is docker runs alone.
    for (const n of names) probes.push(await probeResult(n));
  } finally { await cap.stop(); }
  const firstPacket: number[] = []; const afterStart: number[] = []; const firstReply: number[] = []; let noReply = 0;
  for (const [i, n] of names.entries()) {
    const at = cap.firstFrom(`${sub}.${11 + i}`);
    if (at === undefined) throw new Error(`${kind}: no echo request from ${n} ever reached ${target}`);
    // Negative: it got through before `docker run` returned (the process starts before the CLI exits).
    firstPacket.push(at - returned[i]!);
    const { startAt, replyAt } = probes[i]!;
    // The data plane alone: from the probe's start inside the container, whenever that was.
    afterStart.push(at - startAt);
    if (replyAt === undefined) noReply++; else firstReply.push(replyAt - returned[i]!);
  }
  const td = Date.now();
  await cleanUp();
  return { create_ms, usable_ms, usable_parts, run_ms, firstPacket, afterStart, firstReply, noReply, teardown_ms: Date.now() - td, reloads };
}

/** Times after `docker run` returned: one that came before counts as 0 (and is counted). */
const summary = (xs: number[]) => {
  const c = xs.map((x) => Math.max(0, x));
  return { p50: r1(pct(c, 50)), p95: r1(pct(c, 95)), max: r1(Math.max(...c)), n: xs.length, before_return: xs.filter((x) => x <= 0).length };
};
const plain = (xs: number[]) => ({ p50: r1(pct(xs, 50)), p95: r1(pct(xs, 95)), max: r1(Math.max(...xs)), n: xs.length });

/** The driver's own time per call (the agent logs {"msg":"plugin","call","ms"} for each): where `docker run` waits. */
function driverCalls(log: string) {
  const ms: Record<string, number[]> = {};
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const f = JSON.parse(line) as { msg?: string; call?: string; ms?: number };
      if (f.msg === 'plugin' && f.call && typeof f.ms === 'number') (ms[f.call] ??= []).push(f.ms);
    } catch { /* not a JSON line */ }
  }
  return Object.fromEntries(Object.entries(ms).map(([call, xs]) => [call, { p50: pct(xs, 50), p95: pct(xs, 95), max: Math.max(...xs), n: xs.length }]));
}

/** The steps each call marked (the agent's {"msg":"plugin","steps":{…}}): per call, per step, p50/p95 over the run. */
function driverSteps(log: string) {
  const ms: Record<string, Record<string, number[]>> = {};
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const f = JSON.parse(line) as { msg?: string; call?: string; steps?: Record<string, number> };
      if (f.msg !== 'plugin' || !f.call || !f.steps) continue;
      const per = (ms[f.call] ??= {});
      for (const [k, v] of Object.entries(f.steps)) if (typeof v === 'number') (per[k] ??= []).push(v);
    } catch { /* not a JSON line */ }
  }
  return Object.fromEntries(Object.entries(ms).map(([call, steps]) => [call, Object.fromEntries(Object.entries(steps).map(([k, xs]) => [k, { p50: r1(pct(xs, 50)), p95: r1(pct(xs, 95)), n: xs.length }]))]));
}

// ---- idle cost of a network's spare ports ----
/** How long each idle window lasts (BENCH_DRIVER_IDLE_S; 0: no idle measurement). */
const IDLE_S = Number(process.env.BENCH_DRIVER_IDLE_S ?? 60);
/** Clock ticks per second of /proc's utime and stime (USER_HZ). */
const clkTck = async () => Number((await run(['getconf', 'CLK_TCK'])).stdout.trim()) || 100;
/** A process's CPU time (utime + stime, all its threads; clock ticks) and resident set (kB), from /proc. */
function procUse(pid: number): { ticks: number; rss_kb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm) ": field 3 (state) is index 0; utime (14) and stime (15) are 11 and 12.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { ticks: Number(f[11]) + Number(f[12]), rss_kb: rss ? Number(rss[1]) : NaN };
}
/** The one ovs-vswitchd on this machine (in the dovelab-ovs container, seen from here). */
async function vswitchdPid(): Promise<number> {
  const pids = (await run(['pgrep', '-x', 'ovs-vswitchd'], { allowFail: true })).stdout.split('\n').filter(Boolean).map(Number);
  if (pids.length !== 1) throw new Error(`expected one ovs-vswitchd, found ${pids.length} (${pids.join(' ')})`);
  return pids[0]!;
}
interface IdleWindow { seconds: number; ovs_vswitchd: { cpu_pct: number; ticks: number; rss_kb: number }; agent: { cpu_pct: number; ticks: number; rss_kb: number }; bridge_ports: number; veths: number }
/** ovs-vswitchd's and the agent's CPU over IDLE_S seconds of nothing happening, and their RSS at its end. */
async function idleWindow(hz: number): Promise<IdleWindow> {
  checkpoint();
  const pids = { ovs_vswitchd: await vswitchdPid(), agent: agent!.pid };
  const a = { ovs_vswitchd: procUse(pids.ovs_vswitchd), agent: procUse(pids.agent) };
  const t0 = Date.now();
  for (let left = IDLE_S * 1000; left > 0; left = IDLE_S * 1000 - (Date.now() - t0)) { checkpoint(); await new Promise((r) => setTimeout(r, Math.min(left, 1000))); }
  const secs = (Date.now() - t0) / 1000;
  const b = { ovs_vswitchd: procUse(pids.ovs_vswitchd), agent: procUse(pids.agent) };
  const one = (k: keyof typeof pids) => ({ cpu_pct: r2(((b[k].ticks - a[k].ticks) / hz / secs) * 100), ticks: b[k].ticks - a[k].ticks, rss_kb: b[k].rss_kb });
  const ctx = await stack();
  const ports = (await ctx.ovs.ports(cfg.bridge)).length;
  const veths = (await run(['ip', '-o', 'link', 'show', 'type', 'veth'])).stdout.split('\n').filter((l) => /^\d+: d[lp]\d+[@:]/.test(l)).length;
  return { seconds: r1(secs), ovs_vswitchd: one('ovs_vswitchd'), agent: one('agent'), bridge_ports: ports, veths };
}
/** Until networks.json holds the network's full pool (its spares all made); how many (+1 inside: waitFor wants a truthy value). */
async function sparesSettled(name: string): Promise<number> {
  const { readNetworkState } = await import('../agent/lab/network-state.js');
  return waitFor(`${name}'s spares to be made`, () => {
    const n = readNetworkState(paths(cfg).networks).networks.find((x) => x.vid === idleVid);
    return n && (n.spares ?? []).length === (n.pool ?? 0) ? (n.pool ?? 0) + 1 : undefined;
  }, 60_000, 200).then((x) => x - 1);
}
let idleVid = 0;
/**
 * Idle cost of the spare ports: the same window with no dovelab network, with one network that
 * keeps no spares (`ovs.bridge.preallocate_ports=0`), and with one that keeps the default pool.
 */
async function idleCost() {
  const hz = await clkTck();
  const ctx = await stack();
  const net = `${PREFIX}idle`;
  const none = await idleWindow(hz);
  const withNet = async (extra: string[]) => {
    idleVid = freeVid();
    await must(['network', 'create', '-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', `dovelab.vlan=${idleVid}`, ...extra, net]);
    try {
      const spares = await sparesSettled(net);
      return { spares, ...(await idleWindow(hz)) };
    } finally { await must(['network', 'rm', net]); }
  };
  const noSpares = await withNet(['-o', 'ovs.bridge.preallocate_ports=0']);
  const spares = await withNet([]);
  const d = (k: 'ovs_vswitchd' | 'agent') => ({ cpu_pct: r2(spares[k].cpu_pct - noSpares[k].cpu_pct), rss_kb: spares[k].rss_kb - noSpares[k].rss_kb });
  return { datapath: ctx.datapath, clk_tck: hz, no_network: none, network_without_spares: noSpares, network_with_spares: spares, spares_cost: { spares: spares.spares, ovs_vswitchd: d('ovs_vswitchd'), agent: d('agent') } };
}

// ---- the run ----
const t00 = Date.now();
let failed = true;
let ours = false;
try {
  await stack();
  // Another agent would hold the driver's socket: the figures would be its, not this tree's.
  const others = (await run(['pgrep', '-af', 'cli\\.js agent'], { allowFail: true })).stdout.trim();
  if (others) throw new Error(`another dovelab agent runs (stop it first):\n${others}`);
  ours = true;
  await driverUp();
  await agent!.waitLine('its start repair', /repair (done|failed) \(start\)/, 60_000);
  // An interrupted run's leftovers.
  await cleanUp();

  const res: Record<Kind, KindResult[]> = { dovelab: [], bridge: [] };
  const order: string[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const kinds = rep % 2 === 0 ? KINDS : [...KINDS].reverse();
    order.push(kinds.join(','));
    for (const k of kinds) res[k].push(await one(k, rep));
  }
  // After the timed runs (they are the bench's goal): what the spare ports cost while nothing happens.
  let idle_cost: Awaited<ReturnType<typeof idleCost>> | { error: string } | undefined;
  if (IDLE_S > 0) {
    try { idle_cost = await idleCost(); } catch (e) {
      checkpoint();
      idle_cost = { error: (e as Error).message };
    }
  }
  const runS = (k: Kind) => res[k].map((r) => r.run_ms / 1000);
  const dl = res.dovelab; const br = res.bridge;
  const ratio = mean(runS('dovelab')) / mean(runS('bridge'));
  const fp = summary(dl.flatMap((r) => r.firstPacket));
  await emitJson({
    bench: 'driver',
    containers: CONTAINERS,
    repetitions: REPS,
    order,
    dovelab_run_s: r2(mean(runS('dovelab'))),
    bridge_run_s: r2(mean(runS('bridge'))),
    ratio: r2(ratio),
    run_s_per_repetition: { dovelab: runS('dovelab').map(r2), bridge: runS('bridge').map(r2) },
    first_packet_ms: fp,
    first_packet_ms_bridge: summary(br.flatMap((r) => r.firstPacket)),
    first_packet_after_probe_start_ms: plain(dl.flatMap((r) => r.afterStart)),
    first_packet_after_probe_start_ms_bridge: plain(br.flatMap((r) => r.afterStart)),
    first_reply_ms: { ...summary(dl.flatMap((r) => r.firstReply)), no_reply: dl.reduce((a, r) => a + r.noReply, 0) },
    first_reply_ms_bridge: { ...summary(br.flatMap((r) => r.firstReply)), no_reply: br.reduce((a, r) => a + r.noReply, 0) },
    network_create_ms: { dovelab: Math.round(mean(dl.map((r) => r.create_ms))), bridge: Math.round(mean(br.map((r) => r.create_ms))) },
    network_create_to_usable_ms: Math.round(mean(dl.map((r) => r.usable_ms))),
    network_create_to_usable_ms_bridge: Math.round(mean(br.map((r) => r.usable_ms))),
    network_create_to_usable_parts_ms: Object.fromEntries(KINDS.map((k) => [k, {
      create: Math.round(mean(res[k].map((r) => r.usable_parts.create))),
      two_runs: Math.round(mean(res[k].map((r) => r.usable_parts.two_runs))),
      reply_after_run: Math.round(mean(res[k].map((r) => r.usable_parts.reply_after_run))),
    }])),
    teardown_s: Object.fromEntries(KINDS.map((k) => [k, r2(mean(res[k].map((r) => r.teardown_ms / 1000)))])),
    driver_calls_ms: driverCalls(agent!.log()),
    driver_steps_ms: driverSteps(agent!.log()),
    faucet_reloads_during_runs: { dovelab: dl.map((r) => r.reloads), bridge: br.map((r) => r.reloads) },
    ...(idle_cost ? { idle_cost } : {}),
    goals: {
      ratio_max: 1.05, ratio_met: ratio <= 1.05,
      first_packet_p95_max_ms: 100, first_packet_met: fp.p95 <= 100,
    },
    definitions: {
      run_s: `wall time of ${CONTAINERS} \`docker run -d --cap-add NET_ADMIN --ip … dovelab/labhost <probe>\` one after another on an --internal network with a /24 subnet; mean over repetitions; ratio = dovelab / bridge`,
      first_packet_ms: `per container: the kernel timestamp (tcpdump -tt in the target's netns) of its first ICMP echo request reaching the target (it sends one every 10 ms from its own command, target MAC preset), minus the moment \`docker run -d\` returned; <= 0 counts as 0 (before_return: how many got through before it returned)`,
      first_packet_after_probe_start_ms: 'the same first echo request, from the probe\'s own start inside the container (`date` just before ping): the data plane alone, without the container\'s start-up after `docker run` returned',
      first_reply_ms: 'the same, to the first echo reply received (ping -D inside the container; includes the target ARPing for it)',
      network_create_ms: '`docker network create` alone (dovelab: returns once Faucet confirmed the VLAN)',
      teardown_s: `one \`docker rm -f\` naming the network's ${CONTAINERS + 2} containers (the CLI removes them concurrently; dovelab: each Leave waits for the earlier ones), then \`docker network rm\``,
      driver_calls_ms: 'the driver\'s own time per call, from the agent\'s log, over the whole run (dovelab networks only)',
      driver_steps_ms: 'per call, the steps it marked (the agent\'s debug line: time since the previous mark), over the whole run',
      faucet_reloads_during_runs: `per repetition: Faucet's warm and cold starts (faucet_config_reload_{warm,cold}_total) from before the first to after the last of the ${CONTAINERS} timed \`docker run\` (bridge: the same window, as a control)`,
      idle_cost: `ovs-vswitchd's and the agent's CPU (utime + stime from /proc/<pid>/stat over a window of BENCH_DRIVER_IDLE_S = ${IDLE_S} s, as % of one core) and RSS (VmRSS at the window's end), nothing else happening: no dovelab network; one network keeping no spare ports (ovs.bridge.preallocate_ports=0); one keeping the default pool (the agent's driverSparePorts); spares_cost = with spares minus without; bridge_ports: ports on the bridge; veths: the driver's dl*/dp* links`,
      network_create_to_usable_ms: 'start of `docker network create` -> first echo reply received by a second container from a first one on the network (two `docker run -d`, ARP, one round trip); mean over repetitions',
    },
    total_s: Math.round((Date.now() - t00) / 1000),
  });
  failed = false;
} catch (e) {
  console.error(`bench driver failed: ${(e as Error).stack ?? e}`);
} finally {
  // Only what this run made; a second signal during the cleanup is ignored (kill -9 is not).
  if (ours) {
    try { await cleanUp(); } catch (e) { failed = true; console.error(`bench driver: cleanup: ${(e as Error).message}`); }
    await agent?.stop();
  }
  // The agent's log stays for a failed run.
  if (failed || process.env.BENCH_DRIVER_KEEP_LOG) console.error(`the agent's log: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(interrupted === 'SIGINT' ? 130 : interrupted === 'SIGTERM' ? 143 : failed ? 1 : 0);

// The agent's memory, as JSON (not a test; `npm run bench:memory`, needs infra up and the sim world;
// `--imports-only`: the first part alone, no stack).
// - what each heavy module costs when imported into a bare Node (RSS after a GC, in order);
// - a real `dovelab agent` with a 24-host lab (first-switch, 8 groups × 3 hosts), idle after its
//   start repair: RSS sampled every 2 s for 30 s (median, max) and the peak (VmHWM), once as
//   `node cli.js agent` and once with the Node options the appliance's unit sets
//   (APPLIANCE_NODE_OPTIONS, see pi-gen-config's dovelab-agent.service), same run; the agent's CPU
//   time over the same 30 s.
// - `--breakdown`: one more appliance run that reports where its RSS is (node's code pages,
//   anonymous memory, malloc, V8's heap spaces; bench/agent-probe.ts); `--try-flags`: the V8 flags
//   and allocator settings in TRIED, each beside the appliance's options, for RSS and idle CPU.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPLIANCE_NODE_OPTIONS, loadConfig } from '../agent/config.js';
import { labContext } from '../agent/context.js';
import { dockerClient } from '../agent/docker/client.js';
import { labDown, labUp } from '../agent/lab/service.js';
import { emitJson } from './emit.js';

const CLI = fileURLToPath(new URL('../agent/cli.js', import.meta.url));
const LESSON = fileURLToPath(new URL('../../lessons/first-switch', import.meta.url));
const ROOT_URL = new URL('../../', import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const kib = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** Module -> MB its import adds to a bare Node's RSS (after a GC), imported one after another in this order. */
function importCosts(mods: string[]): Record<string, number> {
  // Beside this file, so bare names resolve in the project's node_modules; our modules by absolute URL.
  const probe = fileURLToPath(new URL(`./.import-probe-${process.pid}.mjs`, import.meta.url));
  mods = mods.map((m) => (m.startsWith('./') ? new URL(m, ROOT_URL).href : m));
  writeFileSync(probe, `const out = {}; gc(); let prev = process.memoryUsage().rss; out['node itself'] = prev;
for (const m of process.argv.slice(2)) { await import(m); gc(); const r = process.memoryUsage().rss; out[m] = r - prev; prev = r; }
process.stdout.write(JSON.stringify(out));`);
  const r = spawnSync(process.execPath, ['--expose-gc', probe, ...mods], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  rmSync(probe, { force: true });
  if (r.status !== 0) throw new Error(`import probe: ${r.stderr}`);
  const raw = JSON.parse(r.stdout) as Record<string, number>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(ROOT_URL.href, ''), Math.round((v / 1048576) * 10) / 10]));
}

/** One agent process, idle with the lab up: RSS over 30 s after its start repair, and its peak. */
interface AgentMemory { rss_kib_median: number; rss_kib_max: number; hwm_kib: number; cpu_ms_in_30s: number }
const cpuMs = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };

/**
 * V8 flags and allocator settings tried beside the appliance's options (`--try-flags`): flags on
 * the node command line (most V8 flags are refused in NODE_OPTIONS), env beside it.
 */
const TRIED: Record<string, { args?: string[]; env?: Record<string, string> }> = {
  malloc_arena_max_2: { env: { MALLOC_ARENA_MAX: '2' } },
  no_optimizing_no_baseline: { args: ['--no-turbofan', '--no-maglev', '--no-sparkplug'] },
  lite_mode: { args: ['--lite-mode'] },
  single_threaded_gc: { args: ['--single-threaded-gc'] },
  max_lazy: { args: ['--max-lazy'] },
  optimize_for_size: { args: ['--optimize-for-size'] },
};

/** The process's resident memory by mapping (node's own code, anonymous = V8 heap + malloc, [heap] = brk malloc, libraries), MB. */
function smapsByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let cur = '';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (h) { cur = h[1] === process.execPath || h[1]!.endsWith('/node') ? 'node binary' : !h[1] ? 'anonymous' : h[1].startsWith('[') ? h[1] : 'libraries and files'; continue; }
    const r = /^Rss:\s+(\d+)/.exec(l);
    if (r) out[cur] = (out[cur] ?? 0) + Number(r[1]);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v >= 256).map(([k, v]) => [k, Math.round((v / 1024) * 10) / 10]));
}
const PROBE = fileURLToPath(new URL('./agent-probe.js', import.meta.url));

async function agentMemory(nodeOptions: string, extra: { args?: string[]; env?: Record<string, string>; breakdown?: boolean } = {}): Promise<AgentMemory & { breakdown?: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-mem-agent-'));
  const log = join(dir, 'agent.log');
  const probeOut = join(dir, 'probe.json');
  const fd = openSync(log, 'w');
  const env = { ...process.env, DOVELAB_WEB_MDNS: '0', NODE_OPTIONS: nodeOptions, ...extra.env, ...(extra.breakdown ? { DOVELAB_MEM_PROBE_OUT: probeOut } : {}) };
  const probe = extra.breakdown ? ['--import', PROBE] : [];
  const child = spawn(process.execPath, [...(extra.args ?? []), ...probe, CLI, 'agent', '--interval', '5'], { stdio: ['ignore', fd, fd], env });
  const exited = new Promise((r) => child.once('exit', r));
  closeSync(fd);
  try {
    const t0 = Date.now();
    while (!/repair done \(start\)/.test(readFileSync(log, 'utf8'))) {
      if (Date.now() - t0 > 90_000) throw new Error(`the agent did not finish its start repair within 90 s:\n${readFileSync(log, 'utf8').slice(-2000)}`);
      if (child.exitCode !== null) throw new Error(`the agent exited: ${readFileSync(log, 'utf8').slice(-2000)}`);
      await sleep(200);
    }
    const samples: number[] = [];
    const cpu0 = cpuMs(child.pid!);
    for (let i = 0; i < 15; i++) { await sleep(2000); samples.push(kib(child.pid!, 'VmRSS')); }
    const r = { rss_kib_median: median(samples), rss_kib_max: Math.max(...samples), hwm_kib: kib(child.pid!, 'VmHWM'), cpu_ms_in_30s: cpuMs(child.pid!) - cpu0 };
    if (!extra.breakdown) return r;
    const rss_mb_by_mapping = smapsByMapping(child.pid!);
    child.kill('SIGUSR2');
    const t1 = Date.now();
    while (!existsSync(probeOut)) {
      if (Date.now() - t1 > 120_000) throw new Error('the agent wrote no memory probe within 120 s of SIGUSR2');
      await sleep(100);
    }
    return { ...r, breakdown: { rss_mb_by_mapping, ...JSON.parse(readFileSync(probeOut, 'utf8')) } };
  } finally {
    // Awaited only while it runs: a child that already exited (the error above says why) has nothing to wait for.
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; }
    rmSync(dir, { recursive: true, force: true });
  }
}

// The first import pays for Node's module loader and the parser's code pages too: Docker's client
// comes first as the agent loads it (its unused transports deferred), so `dockerode` after it is ~0.
// The last ones load only when used (a diagram, a lab start, mDNS without avahi): after the agent's
// modules they still cost what they would.
const imports = importCosts(['./dist/agent/docker/client.js', 'dockerode', 'zod', 'yaml', 'hono', '@hono/node-server', 'prom-client', 'systeminformation', 'markdown-it',
  './dist/agent/config.js', './dist/agent/context.js', './dist/agent/lab/agent.js', './dist/agent/web/server.js',
  '@viz-js/viz', 'tar-stream', 'multicast-dns', 'tar', 'yauzl']);
if (process.argv.includes('--imports-only')) {
  await emitJson({ bench: 'memory', import_rss_mb: imports });
  process.exit(0);
}
const cfg = loadConfig();
const ctx = await labContext(cfg, () => {}, dockerClient());
await labDown(ctx);
await labUp(ctx, LESSON, 8);
let plain, tuned;
const tried: Record<string, AgentMemory | { error: string } | (AgentMemory & { breakdown?: unknown })> = {};
try {
  plain = await agentMemory('');
  tuned = await agentMemory(APPLIANCE_NODE_OPTIONS);
  if (process.argv.includes('--breakdown')) tried.breakdown_appliance_node_options = await agentMemory(APPLIANCE_NODE_OPTIONS, { breakdown: true });
  if (process.argv.includes('--try-flags')) {
    for (const [name, extra] of Object.entries(TRIED)) {
      tried[name] = await agentMemory(APPLIANCE_NODE_OPTIONS, extra).catch((e: Error) => ({ error: e.message.slice(0, 400) }));
    }
  }
  // Not V8's --lite-mode (tried: TRIED.lite_mode): it turns the JIT off and WebAssembly with it;
  // fetch (undici's llhttp) needs WebAssembly, the agent exits at its first request. Before: dockerode's ssh2 (and
  // the diagram's viz-js) need WebAssembly: the agent does not start (seen here).
} finally { await labDown(ctx); }

await emitJson({
  bench: 'memory',
  hosts: 24,
  import_rss_mb: imports,
  agent_idle_24_hosts: { node_defaults: plain, appliance_node_options: { options: APPLIANCE_NODE_OPTIONS, ...tuned } },
  goal_rss_kib: 70 * 1024,
  goal_mb: 70,
  ...(Object.keys(tried).length ? { tried_with_appliance_node_options: tried } : {}),
});
process.exit(0);

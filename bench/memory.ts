// The agent's memory, as JSON (not a test; `npm run bench:memory`, needs infra up and the sim world;
// `--imports-only`: the first part alone, no stack).
// - what each heavy module costs when imported into a bare Node (RSS after a GC, in order);
// - a real `dovelab agent` with a 24-host lab (first-switch, 8 groups × 3 hosts), idle after its
//   start repair: RSS sampled every 2 s for 30 s (median, max) and the peak (VmHWM), once as
//   `node cli.js agent` and once with the Node options the appliance's unit sets
//   (APPLIANCE_NODE_OPTIONS, see pi-gen-config's dovelab-agent.service), same run; the agent's CPU
//   time over the same 30 s.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

async function agentMemory(nodeOptions: string): Promise<AgentMemory> {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-mem-agent-'));
  const log = join(dir, 'agent.log');
  const fd = openSync(log, 'w');
  const env = { ...process.env, DOVELAB_WEB_MDNS: '0', NODE_OPTIONS: nodeOptions };
  const child = spawn(process.execPath, [CLI, 'agent', '--interval', '5'], { stdio: ['ignore', fd, fd], env });
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
    return { rss_kib_median: median(samples), rss_kib_max: Math.max(...samples), hwm_kib: kib(child.pid!, 'VmHWM'), cpu_ms_in_30s: cpuMs(child.pid!) - cpu0 };
  } finally {
    // Awaited only while it runs: a child that already exited (the error above says why) has nothing to wait for.
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited; }
    rmSync(dir, { recursive: true, force: true });
  }
}

const imports = importCosts(['dockerode', 'zod', 'yaml', 'hono', '@hono/node-server', 'prom-client', 'systeminformation', 'markdown-it',
  './dist/agent/config.js', './dist/agent/context.js', './dist/agent/lab/agent.js', './dist/agent/web/server.js']);
if (process.argv.includes('--imports-only')) {
  await emitJson({ bench: 'memory', import_rss_mb: imports });
  process.exit(0);
}
const cfg = loadConfig();
const ctx = await labContext(cfg, () => {}, dockerClient());
await labDown(ctx);
await labUp(ctx, LESSON, 8);
let plain, tuned;
try {
  plain = await agentMemory('');
  tuned = await agentMemory(APPLIANCE_NODE_OPTIONS);
  // Not V8's --lite-mode: it turns the JIT off and WebAssembly with it, and dockerode's ssh2 (and
  // the diagram's viz-js) need WebAssembly: the agent does not start (seen here).
} finally { await labDown(ctx); }

await emitJson({
  bench: 'memory',
  hosts: 24,
  import_rss_mb: imports,
  agent_idle_24_hosts: { node_defaults: plain, appliance_node_options: { options: APPLIANCE_NODE_OPTIONS, ...tuned } },
  goal_rss_kib: 70 * 1024,
});
process.exit(0);

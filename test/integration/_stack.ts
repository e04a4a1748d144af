// Shared set-up for integration tests: the real dockerd, OVS, Faucet and the sim world.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig, type Config } from '../../agent/config.js';
import { dockerClient, execIn } from '../../agent/docker/client.js';
import { ensureDockerd } from '../../agent/docker/engine.js';
import { labContext } from '../../agent/context.js';
import { planDesired, type DesiredState } from '../../agent/lab/desired.js';
import { reconcile, type LabContext, type ReconcileReport } from '../../agent/lab/engine.js';
import { infraUp } from '../../agent/lab/infra.js';
import { simUp } from '../../agent/hardware/sim/world.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { run, type RunResult } from '../../agent/sys/run.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';

export const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
export const docker = dockerClient();
export const cfg: Config = loadConfig();
const quiet = process.env.DOVELAB_TEST_VERBOSE ? (s: string) => console.log(`    ${s}`) : () => {};

let ready: Promise<LabContext> | undefined;

/** Infra + sim world, once per test file (idempotent: a second call is cheap). */
export function stack(): Promise<LabContext> {
  ready ??= (async () => {
    await ensureDockerd(docker, cfg.logDir, quiet);
    await infraUp(cfg, docker, quiet);
    await simUp(cfg.runDir, quiet, vsctlVia(docker));
    return labContext(cfg, quiet, docker);
  })();
  return ready;
}

export async function labUp(yamlText: string, groups = 1, lab = 'itest'): Promise<{ desired: DesiredState; report: ReconcileReport }> {
  const ctx = await stack();
  const desired = planDesired(TopologySchema.parse(parse(yamlText)), { lab, groups, bridge: cfg.bridge, dpId: cfg.dpId, defaultImage: cfg.images.labhost });
  return { desired, report: await reconcile(ctx, desired) };
}

export const inHost = (container: string, argv: string[]): Promise<RunResult> => execIn(docker, container, argv, { allowFail: true });

/** Packet loss (percent) of `ping -c n` from a lab host. */
export async function pingLoss(container: string, address: string, count = 3, interval = '0.2'): Promise<number> {
  const r = await inHost(container, ['ping', '-c', String(count), '-i', interval, '-W', '1', address]);
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(r.stdout);
  if (!m) throw new Error(`ping gave no summary: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

export const hostPidOf = async (container: string) => (await docker.getContainer(container).inspect()).State.Pid;

export { run };

/**
 * Polls `fn` until it returns something truthy (which it returns), for at most `timeoutMs`.
 * On timeout it throws naming `what` it waited for (and the last error `fn` threw, if any).
 */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, everyMs = 200): Promise<NonNullable<T>> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (e) { last = e; }
    if (Date.now() - t0 >= timeoutMs) {
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Ping from a lab host succeeds (at least one reply of `count`); "could not run" throws. */
export async function pingOk(container: string, address: string, count = 2): Promise<boolean> {
  return (await pingLoss(container, address, count)) < 100;
}

/** Waits until a TCP port listens inside a container's netns (`ss -ltn`). */
export async function waitListening(container: string, port: number, timeoutMs = 10_000): Promise<void> {
  const pid = await hostPidOf(container);
  await waitFor(`${container} to listen on TCP ${port}`, async () => {
    const r = await run(['nsenter', '-t', String(pid), '-n', 'ss', '-Hltn', 'sport', '=', `:${port}`]);
    return r.stdout.trim().length > 0;
  }, timeoutMs, 50);
}

export interface Capture {
  /** Lines printed so far. */
  lines(): string[];
  /** Waits until a printed line matches. */
  waitLine(what: string, re: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops tcpdump (SIGINT) and returns everything it printed. */
  stop(): Promise<{ lines: string[]; stderr: string }>;
}

/**
 * Starts tcpdump (`prefix` puts it in a namespace) and returns once it says "listening on", so a
 * probe sent afterwards is seen. A tcpdump that cannot start is an error, never an empty capture.
 */
export async function startCapture(prefix: string[], iface: string, filter: string): Promise<Capture> {
  const child = spawn(prefix[0]!, [...prefix.slice(1), 'tcpdump', '-nn', '-e', '-l', '-i', iface, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = ''; let err = '';
  let exited: number | null | undefined;
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const closed = new Promise<void>((r) => child.on('close', (code) => { exited = code; r(); }));
  child.on('error', (e) => { err += `\n${e.message}`; });
  const lines = () => out.split('\n').filter((l) => l.trim());
  try {
    await waitFor(`tcpdump on ${iface} (${filter}) to say "listening on"`, () => {
      if (exited !== undefined) throw new Error(`tcpdump exited ${exited}: ${err.trim()}`);
      return /listening on/.test(err);
    }, 10_000, 20);
  } catch (e) { child.kill('SIGKILL'); throw e; }
  return {
    lines,
    waitLine: (what, re, timeoutMs = 10_000) => waitFor(what, () => lines().find((l) => re.test(l)), timeoutMs, 50),
    async stop() {
      if (exited === undefined) child.kill('SIGINT');
      await closed;
      return { lines: lines(), stderr: err };
    },
  };
}

/** Runs `during` with a capture started; always stops the capture. */
export async function withCapture<T>(prefix: string[], iface: string, filter: string, during: (c: Capture) => Promise<T>): Promise<{ result: T; lines: string[]; stderr: string }> {
  const cap = await startCapture(prefix, iface, filter);
  let result: T;
  try { result = await during(cap); } catch (e) { await cap.stop(); throw e; }
  return { result, ...(await cap.stop()) };
}

export const inNetnsOf = async (container: string) => ['nsenter', '-t', String(await hostPidOf(container)), '-n'];

export interface AgentProc {
  pid: number;
  logFile: string;
  log(): string;
  /** Waits for a line of this agent's own log. */
  waitLine(what: string, re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit; returns its exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `dovelab agent` with its own, fresh log file (stdout and stderr); `env` adds to this process's environment. */
export function startAgent(logFile: string, intervalS: number, env: NodeJS.ProcessEnv = {}): AgentProc {
  const fd = openSync(logFile, 'w');
  // Tests send traffic only inside their namespaces: no mDNS announcements on this machine's network.
  const child = spawn(process.execPath, [CLI, 'agent', '--interval', String(intervalS)], { stdio: ['ignore', fd, fd], env: { ...process.env, DOVELAB_WEB_MDNS: '0', ...env } });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const lineOf = (re: RegExp) => log().split('\n').find((l) => re.test(l));
  return {
    pid: child.pid!, logFile, log, exited,
    waitLine: (what, re, timeoutMs = 60_000) => waitFor(`agent ${child.pid}: ${what} (log ${logFile})`, () => {
      if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}:\n${log()}`);
      return lineOf(re);
    }, timeoutMs, 100),
    async stop() { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exited; },
    async kill9() { child.kill('SIGKILL'); await exited; },
  };
}

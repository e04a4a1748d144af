// Thin wrapper over child processes: the one place where the agent runs host commands.
import { execFile, spawn } from 'node:child_process';

export interface RunResult { code: number; stdout: string; stderr: string }

export class CommandError extends Error {
  constructor(readonly argv: string[], readonly result: RunResult) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    super(`command failed (exit ${result.code}): ${argv.join(' ')}${detail ? `: ${detail}` : ''}`);
  }
}

export interface RunOptions { input?: string; timeoutMs?: number; allowFail?: boolean; env?: NodeJS.ProcessEnv }

/** Runs argv without a shell; throws CommandError on non-zero exit unless allowFail. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, {
      timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env,
    }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') {
        reject(new Error(`cannot run ${cmd}: ${e.code === 'ENOENT' ? 'not installed' : e.message}`));
        return;
      }
      const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
      const result = { code, stdout: String(stdout), stderr: String(stderr) };
      if (code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
      else resolve(result);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs argv inside the network namespace of a process (a container's pid). */
export function runInNetns(pid: number, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(['nsenter', '-t', String(pid), '-n', '--', ...argv], opts);
}

/** Runs argv inside a named netns (ip netns). */
export function runInNamedNetns(ns: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], opts);
}

/** Starts a long-running process detached from the agent (it must outlive us). */
export function spawnDetached(argv: string[], logFile: number): number {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('spawnDetached: empty argv');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', logFile, logFile] });
  child.unref();
  return child.pid ?? -1;
}

export async function commandExists(cmd: string): Promise<boolean> {
  const r = await run(['sh', '-c', `command -v ${cmd}`], { allowFail: true });
  return r.code === 0;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

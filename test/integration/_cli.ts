// Runs the built `dovelab` command as a user would.
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../../agent/sys/run.js';

const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
export const LESSONS = fileURLToPath(new URL('../../../lessons', import.meta.url));

export const dovelab = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
  run([process.execPath, CLI, ...args], { allowFail: true, env: { ...process.env, ...env }, timeoutMs: 180_000 });

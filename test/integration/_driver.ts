// Shared set-up of the Docker network driver's integration tests: an agent whose driver listens,
// and the removal of what a test made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../agent/sys/run.js';
import { dovelab } from './_cli.js';
import { stack, startAgent, type AgentProc } from './_stack.js';

/** What a test made with the docker CLI, to remove after it (links: veths on the appliance). */
export interface Made { networks: Set<string>; containers: Set<string>; links?: Set<string> }

/** The docker CLI, as a user runs it (never throws: tests read the code). */
export const dockerCli = (args: string[], timeoutMs = 120_000): Promise<RunResult> => run(['docker', ...args], { allowFail: true, timeoutMs });

/**
 * The stack up, no lab, and a `dovelab agent` (its log in a new temp dir named `prefix…`) whose
 * network driver listens. `env` gets that dir (a history store inside it, say).
 */
export async function driverAgent(prefix: string, intervalS: number, env: (dir: string) => NodeJS.ProcessEnv = () => ({})): Promise<{ agent: AgentProc; dir: string }> {
  await stack();
  await dovelab(['down']);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const agent = startAgent(join(dir, 'agent.log'), intervalS, env(dir));
  await agent.waitLine('the network driver to listen', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
  return { agent, dir };
}

/** Removes what the test made (containers, then networks, then links), stops its agent, deletes its dir. */
export async function driverCleanup(made: Made, agent: AgentProc | undefined, dir: string | undefined): Promise<void> {
  for (const c of made.containers) await dockerCli(['rm', '-f', c]);
  for (const n of made.networks) await dockerCli(['network', 'rm', n]);
  for (const l of made.links ?? []) await run(['ip', 'link', 'del', l], { allowFail: true });
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

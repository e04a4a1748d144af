// A real `dovelab agent` for the e2e tier: started with its own log, ready once it has repaired
// the lab and its web UI answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../agent/config.js';
import { readLabState } from '../../agent/lab/state.js';
import { dovelab, LESSONS } from '../integration/_cli.js';
import { cfg, stack, startAgent, waitFor, type AgentProc } from '../integration/_stack.js';
import { closeBrowser } from './_browser.js';

export const BASE = `http://127.0.0.1:${cfg.web.port}`;

export async function webAgent(logDir: string, env: NodeJS.ProcessEnv = {}): Promise<AgentProc> {
  const agent = startAgent(join(logDir, 'agent.log'), 2, env);
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
  await waitFor(`the web UI on ${BASE}`, async () => (await fetch(`${BASE}/api/kiosk`).catch(() => undefined))?.ok || undefined, 30_000);
  return agent;
}

/** A bundled lesson up for `groups` groups with a real agent serving it; `end()` takes it all down. */
export interface LessonRun { codes: Record<string, string>; agent: AgentProc; end(): Promise<void> }

export async function lessonWithAgent(lesson: string, groups: number): Promise<LessonRun> {
  await stack();
  const up = await dovelab(['up', `${LESSONS}/${lesson}`, '--groups', String(groups)]);
  if (up.code !== 0) throw new Error(`dovelab up ${lesson}: ${up.stderr}`);
  const codes = readLabState(paths(cfg).labState)!.joinCodes!;
  const logs = mkdtempSync(join(tmpdir(), 'dovelab-e2e-'));
  const agent = await webAgent(logs);
  return {
    codes, agent,
    async end() {
      await closeBrowser();
      await agent.stop();
      await dovelab(['down']);
      rmSync(logs, { recursive: true, force: true });
    },
  };
}

// A real `dovelab agent` for the e2e tier: started with its own log, ready once it has repaired
// the lab and its web UI answers.
import { join } from 'node:path';
import { cfg, startAgent, waitFor, type AgentProc } from '../integration/_stack.js';

export const BASE = `http://127.0.0.1:${cfg.web.port}`;

export async function webAgent(logDir: string, env: NodeJS.ProcessEnv = {}): Promise<AgentProc> {
  const agent = startAgent(join(logDir, 'agent.log'), 2, env);
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
  await waitFor(`the web UI on ${BASE}`, async () => (await fetch(`${BASE}/api/kiosk`).catch(() => undefined))?.ok || undefined, 30_000);
  return agent;
}

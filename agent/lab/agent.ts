// The agent process: repairs the running lab whenever OVS, Docker or Faucet drift from the lab on
// disk (at start, on container events, and every interval). It keeps no state of its own, so a
// killed agent restarts and carries on.
import { writeFileSync, rmSync } from 'node:fs';
import type { Config } from '../config.js';
import { labContext } from '../context.js';
import { dockerClient } from '../docker/client.js';
import { checkIo, desiredOf, labRepair } from './service.js';
import { runChecks } from './check-run.js';
import { readLabState } from './state.js';
import { paths } from '../config.js';

export async function runAgent(c: Config, log: (s: string) => void, intervalMs: number): Promise<void> {
  const docker = dockerClient();
  const ctx = await labContext(c, (s) => log(`${new Date().toISOString()} ${s}`), docker);
  const pidFile = `${c.runDir}/agent.pid`;
  writeFileSync(pidFile, String(process.pid));
  let stopping = false;
  let pending: NodeJS.Timeout | undefined;
  let running = Promise.resolve();

  const repair = (why: string) => {
    running = running.then(async () => {
      if (stopping) return;
      try {
        const r = await labRepair(ctx);
        const changes = r?.actions.filter((a) => a.kind !== 'faucet' && a.kind !== 'warn') ?? [];
        if (changes.length || r?.faucet?.changed) ctx.log(`repaired after ${why}: ${changes.length} change(s)${r?.faucet?.changed ? ', Faucet reloaded' : ''}`);
      } catch (e) {
        ctx.log(`repair failed (${why}): ${(e as Error).message}`);
      }
    });
  };
  const soon = (why: string) => { clearTimeout(pending); pending = setTimeout(() => repair(why), 500); };

  // Our containers coming and going (an OVS or Faucet restart, a lab host that died).
  const events = await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die'] } });
  events.on('data', (buf: Buffer) => {
    for (const line of buf.toString().split('\n').filter(Boolean)) {
      try {
        const e = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
        const name = e.Actor?.Attributes?.name ?? '';
        if (name.startsWith('dovelab-')) soon(`${name} ${e.Action}`);
      } catch { /* partial line */ }
    }
  });

  const stop = () => {
    stopping = true; clearTimeout(pending); clearInterval(timer);
    (events as unknown as { destroy?: () => void }).destroy?.();
    rmSync(pidFile, { force: true });
    void running.then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Task checks run on their own schedule, outside the lab lock: they never hold up a change.
  let checking = false;
  const check = async () => {
    if (checking || stopping) return;
    checking = true;
    try {
      const st = readLabState(paths(c).labState);
      if (st?.topology.tasks.length) await runChecks(checkIo(ctx), st, desiredOf(c, st));
    } catch (e) { ctx.log(`checks failed: ${(e as Error).message}`); } finally { checking = false; }
  };
  ctx.log(`agent ${process.pid} started; checking every ${intervalMs / 1000} s`);
  repair('start');
  const timer = setInterval(() => { repair('interval'); void check(); }, intervalMs);
  await new Promise<never>(() => {});
}

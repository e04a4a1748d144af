// Makes sure a Docker engine answers: starts Debian's dockerd in the background when none does.
import { openSync, mkdirSync, existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { commandExists, sleep, spawnDetached } from '../sys/run.js';

export interface EngineReport { started: boolean; waitedMs: number }

export async function ensureDockerd(docker: Docker, logDir: string, log: (s: string) => void = () => {},
  timeoutMs = 90_000): Promise<EngineReport> {
  const t0 = Date.now();
  if (await answers(docker)) return { started: false, waitedMs: 0 };
  if (!(await commandExists('dockerd'))) {
    throw new Error('dockerd is not answering and is not installed: install Debian\'s docker.io (`apt-get install docker.io`).');
  }
  if (existsSync('/run/systemd/system')) {
    throw new Error('dockerd is not answering: run `systemctl start docker` and see `journalctl -u docker`.');
  }
  mkdirSync(logDir, { recursive: true });
  const logFile = `${logDir}/dockerd.log`;
  log(`starting dockerd (log: ${logFile})`);
  spawnDetached(['dockerd'], openSync(logFile, 'a'));
  while (Date.now() - t0 < timeoutMs) {
    await sleep(500);
    if (await answers(docker)) return { started: true, waitedMs: Date.now() - t0 };
  }
  throw new Error(`dockerd did not answer within ${timeoutMs / 1000} s: see ${logFile}`);
}

async function answers(docker: Docker): Promise<boolean> {
  try { await docker.ping(); return true; } catch { return false; }
}

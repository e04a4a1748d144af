// Renames a network interface now (what a .link file does when the dongle is plugged in): the
// kernel renames only a link that is down, so it is taken down, renamed, and set up again if it was.
import { readFileSync } from 'node:fs';
import { run } from '../sys/run.js';

const TIMEOUT_MS = 5_000;

/** IFF_UP in /sys/class/net/<name>/flags. */
function isUp(name: string): boolean {
  try { return (Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16) & 1) === 1; } catch { return false; }
}

export async function renameLink(from: string, to: string): Promise<void> {
  const up = isUp(from);
  await run(['ip', 'link', 'set', 'dev', from, 'down'], { timeoutMs: TIMEOUT_MS });
  try {
    await run(['ip', 'link', 'set', 'dev', from, 'name', to], { timeoutMs: TIMEOUT_MS });
  } finally {
    // Up again under whichever name it has now (the rename may have failed).
    if (up) await run(['ip', 'link', 'set', 'dev', existsNow(to) ? to : from, 'up'], { timeoutMs: TIMEOUT_MS, allowFail: true });
  }
}

function existsNow(name: string): boolean {
  try { readFileSync(`/sys/class/net/${name}/flags`); return true; } catch { return false; }
}

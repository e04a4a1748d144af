// What the board's health costs the agent, as JSON: RSS and time of the first readHardwareHealth()
// (it loads systeminformation) and of later ones, against the same reads without systeminformation
// (/proc/meminfo by hand) in the same run. Run it in a fresh process: `node dist/bench/health.js`.
import { readFileSync } from 'node:fs';
import { readHardwareHealth } from '../agent/hardware/health.js';

const rssMb = () => Math.round(process.memoryUsage().rss / 1048576 * 10) / 10;
const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => { gc?.(); return rssMb(); };
const dataDir = process.argv[2] ?? '/tmp';

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: Math.round((performance.now() - t0) * 100) / 100, value };
}

// Baseline first: the same facts with memory from /proc/meminfo (no systeminformation loaded yet).
const byHand = async () => {
  const t = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1]);
  return { totalMb: Math.round(kb('MemTotal') / 1024), availableMb: Math.round(kb('MemAvailable') / 1024) };
};
const rssStart = settle();
const baseline = await timed(() => readHardwareHealth({ dataDir, memory: byHand }));
const rssBaseline = settle();
const first = await timed(() => readHardwareHealth({ dataDir }));
const rssAfterFirst = settle();
const later: number[] = [];
for (let i = 0; i < 20; i++) later.push((await timed(() => readHardwareHealth({ dataDir }))).ms);
later.sort((a, b) => a - b);
console.log(JSON.stringify({
  gcExposed: gc !== undefined,
  rssStartMb: rssStart,
  baselineMs: baseline.ms,
  rssAfterBaselineMb: rssBaseline,
  firstWithSystemInformationMs: first.ms,
  rssAfterSystemInformationMb: rssAfterFirst,
  systemInformationRssMb: Math.round((rssAfterFirst - rssBaseline) * 10) / 10,
  laterMedianMs: later[Math.floor(later.length / 2)],
  laterMaxMs: later[later.length - 1],
  throttledSource: first.value.throttled?.source ?? null,
  memory: first.value.memory,
}));

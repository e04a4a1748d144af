// What traffic history costs, as JSON (`npm run bench:history`; no stack needed, not in CI):
// - bytes appended to disk per hour for 24 (and 120) busy ports, measured over a simulated
//   hour of scrapes (every port moving every 5 s: the worst case), per day extrapolated;
// - collector CPU per scrape (Gauge's page text parsed, ports mapped, counters recorded) and as a
//   share of one core at the 5 s interval, against the bare parse of the same page (the baseline
//   every Gauge reader pays);
// - memory of the last hour at full resolution (heap after gc; the process's RSS beside it);
// - time to serve a 24-hour graph of one interface from a synthetic store of 24 ports × 24 h, and
//   the time a start takes to load that store;
// - the re-read of the live faucet.yaml's port names the collector does when that file changed.
// Run with --expose-gc for the memory figures: `node --expose-gc dist/bench/history.js`.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { planDesired } from '../agent/lab/desired.js';
import { TopologySchema } from '../agent/lesson/schema.js';
import { emitFaucetYaml } from '../agent/net/faucet/emit.js';
import { faucetPortNames, readGauge, type FaucetPortNames, type PortDirectory, type PortEntry } from '../agent/metrics/history-keys.js';
import { HistoryStore } from '../agent/metrics/history-store.js';
import { parseMetrics } from '../agent/metrics/prometheus.js';
import { emitJson } from './emit.js';

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (b: number) => Math.round((b / 1048576) * 100) / 100;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const INTERVAL = 5000;

function ports(n: number): { dir: PortDirectory; entries: PortEntry[]; live: FaucetPortNames } {
  const entries: PortEntry[] = [];
  for (let k = 0; k < n; k++) {
    const group = Math.floor(k / 3) + 1; const host = `h${(k % 3) + 1}`;
    entries.push({ ofport: group * 100 + (k % 3) + 1, faucetName: `g${group}-${host}-eth0`, token: 'bench@run', owner: { kind: 'host', lab: 'bench', group, host, iface: 'eth0' } });
  }
  const live = { byNumber: new Map(entries.map((e) => [e.ofport, e.faucetName])), byName: new Map(entries.map((e) => [e.faucetName, e.ofport])) };
  return { dir: { byName: new Map(entries.map((e) => [e.faucetName, e])), byOfport: new Map(entries.map((e) => [e.ofport, e])) }, entries, live };
}

/** Gauge's page for these ports at scrape k (every port busy: ~50 packets/s of ~800 bytes each way). */
function gaugePage(entries: PortEntry[], k: number): string {
  const lines: string[] = [];
  for (const m of ['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes']) {
    lines.push(`# HELP of_port_${m} `, `# TYPE of_port_${m} gauge`);
    for (const e of entries) {
      const v = m.endsWith('packets') ? k * 250 + e.ofport : k * 250 * 800 + e.ofport * 7;
      lines.push(`of_port_${m}{dp_id="0x1",dp_name="dovelab0",port="${e.faucetName}",port_description="${e.faucetName}"} ${v}.0`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const dirBytes = (d: string) => readdirSync(d).reduce((s, f) => s + statSync(join(d, f)).size, 0);

/** Simulated scrapes for `minutes` (a batch a minute): bytes written, CPU per scrape. */
function simulate(n: number, minutes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-bench-history-'));
  try {
    const { dir: pd, entries, live } = ports(n);
    let t = T0;
    const store = new HistoryStore({ dir, maxBytes: 1 << 30, segmentBytes: 1 << 20, now: () => t });
    store.load();
    const pages = Array.from({ length: minutes * 12 + 1 }, (_, k) => gaugePage(entries, k));
    // Baseline: the bare parse of the same pages.
    let u0 = process.cpuUsage();
    for (const p of pages) parseMetrics(p);
    const parseUs = process.cpuUsage(u0);
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    u0 = process.cpuUsage();
    let flushUs = 0;
    pages.forEach((p, k) => {
      t = T0 + k * INTERVAL;
      store.record(readGauge(parseMetrics(p), pd, 'dovelab0', live).owned, t);
      if (k > 0 && k % 12 === 0) { const f0 = process.cpuUsage(); store.flush(t); const f = process.cpuUsage(f0); flushUs += f.user + f.system; }
    });
    const all = process.cpuUsage(u0);
    gc?.();
    const heap1 = process.memoryUsage().heapUsed; const rss1 = process.memoryUsage().rss;
    const bytes = dirBytes(dir);
    const perScrapeUs = (all.user + all.system - flushUs) / pages.length;
    return {
      ports: n,
      measuredMinutes: minutes,
      bytesWritten: bytes,
      bytesPerHour: Math.round((bytes / minutes) * 60),
      mbPerDay: mb((bytes / minutes) * 60 * 24),
      batches: store.facts.batches,
      collectorUsPerScrape: Math.round(perScrapeUs),
      parseOnlyUsPerScrape: Math.round((parseUs.user + parseUs.system) / pages.length),
      flushUsPerBatch: Math.round(flushUs / Math.max(1, store.facts.batches)),
      cpuShareOfOneCoreAt5s: Math.round(((perScrapeUs + flushUs / pages.length) / (INTERVAL * 1000)) * 1e5) / 1e5,
      lastHourHeapMb: gc ? mb(heap1 - heap0) : null,
      processRssMb: mb(rss1),
    };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** A synthetic store of `n` ports × `hours`, written through the store itself (as the agent would). */
async function serve24h(n: number, hours: number) {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-bench-history-'));
  try {
    const { entries } = ports(n);
    let t = T0;
    const w = new HistoryStore({ dir, maxBytes: 1 << 30, segmentBytes: 1 << 20, now: () => t, recentMs: 0 });
    w.load();
    const c = (k: number, e: PortEntry) => ({ rxPackets: k * 250 + e.ofport, txPackets: k * 250, rxBytes: k * 200_000 + e.ofport, txBytes: k * 200_000 });
    const scrapes = hours * 60 * 12;
    for (let k = 0; k <= scrapes; k++) {
      t = T0 + k * INTERVAL;
      w.record(entries.map((e) => ({ entry: e, counters: c(k, e) })), t);
      if (k % 12 === 0) w.flush(t);
    }
    const end = t;
    const storeBytes = dirBytes(dir);
    const l0 = performance.now();
    const r = new HistoryStore({ dir, maxBytes: 1 << 30, segmentBytes: 1 << 20, now: () => end });
    r.load();
    const loadMs = performance.now() - l0;
    const id = r.list().find((s) => s.owner.kind === 'host' && s.owner.group === 1 && s.owner.host === 'h1')!.id;
    const times: number[] = [];
    let points = 0;
    for (let k = 0; k < 5; k++) {
      const q0 = performance.now();
      const [s] = await r.series([id], end - hours * 3_600_000, end);
      times.push(performance.now() - q0);
      points = s!.points.length;
      JSON.stringify(s);
    }
    times.sort((a, b) => a - b);
    return { ports: n, hours, storeMb: mb(storeBytes), segments: readdirSync(dir).length, loadMs: Math.round(loadMs), serveOneInterfaceMs: { median: Math.round(times[2]! * 10) / 10, max: Math.round(times[4]! * 10) / 10 }, points };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/**
 * What the collector pays when faucet.yaml changed (it re-reads the live file's port names then, and
 * only then): first-switch with 8 groups (24 hosts), the file as the agent emits it.
 */
function liveYaml() {
  const lesson = new URL('../../lessons/first-switch/lesson.yaml', import.meta.url);
  const desired = planDesired(TopologySchema.parse(parse(readFileSync(lesson, 'utf8'))), { lab: 'first-switch', groups: 8, bridge: 'dovelab0', dpId: 1, defaultImage: 'x' });
  const text = emitFaucetYaml(desired.faucet);
  const times: number[] = [];
  let ports = 0;
  for (let k = 0; k < 21; k++) {
    const t0 = performance.now();
    ports = faucetPortNames(parse(text), 'dovelab0').byNumber.size;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { hosts: desired.ports.length, ports, faucetYamlBytes: Buffer.byteLength(text), parseMs: { median: Math.round(times[10]! * 100) / 100, max: Math.round(times[20]! * 100) / 100 } };
}

const result = {
  bench: 'history',
  node: process.version,
  gcExposed: !!gc,
  collect: [simulate(24, 60), simulate(120, 60)],
  serve: await serve24h(24, 24),
  liveFaucetYaml: liveYaml(),
};
await emitJson(result);
process.exit(0);

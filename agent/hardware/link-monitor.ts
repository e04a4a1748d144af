// Link monitor adapter: which interfaces the appliance has, told within a moment when a dongle is
// pulled or plugged. Follows `ip -o monitor link` (a child process, restarted with backoff if it
// ends) and rescans /sys/class/net every `rescanMs` as a safety net (a missed line, the monitor
// down). Parsing, the table and the debouncing are pure (link-events.ts).
//
// Not the npm `netlink` package: a native addon (node-gyp) with few users, to be built for arm64;
// iproute2's monitor is on every Pi and says the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { applyMessage, applyScan, LinkDebouncer, parseMonitorLine, type LinkState, type LinkTable } from './link-events.js';

export interface LinkMonitorOptions {
  /** Called with where a name ended up, once it has been quiet for `quietMs`. */
  onChange: (s: LinkState) => void;
  log: (line: string) => void;
  /** Default 200 ms: a udev rename or a flapping cable is one report. */
  quietMs?: number;
  /** Default 10 s. */
  rescanMs?: number;
  /** Default /sys/class/net. */
  sysfsNet?: string;
  /** Default `ip -o monitor link`. */
  argv?: string[];
}

export interface LinkMonitor {
  /** Interface names present now, as the monitor knows them. */
  present(): string[];
  /** Ends the child process and the timers; resolves when the child has exited. */
  close(): Promise<void>;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** How long a child gets to exit on SIGTERM before SIGKILL. */
const EXIT_DEADLINE_MS = 2_000;

/** /sys/class/net now: every interface with its ifindex (entries without one, e.g. bonding_masters, left out). */
export function scanLinks(sysfsNet = '/sys/class/net'): { name: string; ifindex: number }[] {
  const out: { name: string; ifindex: number }[] = [];
  for (const name of readdirSync(sysfsNet)) {
    try {
      const ifindex = Number(readFileSync(join(sysfsNet, name, 'ifindex'), 'utf8').trim());
      if (Number.isInteger(ifindex) && ifindex > 0) out.push({ name, ifindex });
    } catch { /* gone meanwhile, or not an interface */ }
  }
  return out;
}

/** Starts watching. The first scan is the baseline (not reported); changes after it are. */
export function watchLinks(o: LinkMonitorOptions): LinkMonitor {
  const sysfs = o.sysfsNet ?? '/sys/class/net';
  const argv = o.argv ?? ['ip', '-o', 'monitor', 'link'];
  let closed = false;
  let child: ChildProcess | undefined;
  let childExit: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  const debounce = new LinkDebouncer(o.quietMs ?? 200, { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) }, (s) => {
    if (!closed) o.onChange(s);
  });
  let table: LinkTable = new Map();

  const rescan = () => {
    if (closed) return;
    try {
      const r = applyScan(table, scanLinks(sysfs));
      table = r.table;
      debounce.push(r.changes);
    } catch (e) { o.log(`link monitor: cannot read ${sysfs}: ${(e as Error).message}`); }
  };

  const start = () => {
    if (closed) return;
    const [cmd, ...args] = argv;
    const c = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let err = '';
    c.stderr!.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-500); });
    createInterface({ input: c.stdout! }).on('line', (line) => {
      const m = parseMonitorLine(line);
      if (!m || closed) return;
      failures = 0;
      const r = applyMessage(table, m);
      table = r.table;
      debounce.push(r.changes);
    });
    childExit = new Promise<void>((resolve) => {
      let done = false;
      const ended = (why: string) => {
        if (done) return;
        done = true;
        resolve();
        if (closed) return;
        failures++;
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
        // One line when the trouble starts, not one per retry; the rescans carry on meanwhile.
        if (failures === 1) o.log(`link monitor: ${argv.join(' ')} ${why}${err.trim() ? ` (${err.trim().split('\n').pop()})` : ''}; restarting, rescanning every ${(o.rescanMs ?? 10_000) / 1000} s meanwhile`);
        restartTimer = setTimeout(() => { restartTimer = undefined; start(); rescan(); }, wait);
      };
      c.once('error', (e) => ended(`could not run: ${e.message}`));
      c.once('exit', (code, signal) => ended(`exited (${signal ?? `code ${code}`})`));
    });
  };

  start();
  // After the child started, so nothing between the scan and its first line is lost (a line for a
  // change the scan already saw changes nothing).
  try {
    table = new Map(scanLinks(sysfs).map((s) => [s.ifindex, s.name] as const));
    debounce.baseline([...table].map(([ifindex, name]) => ({ name, present: true, ifindex })));
  } catch (e) { o.log(`link monitor: cannot read ${sysfs}: ${(e as Error).message}`); }
  const timer = setInterval(rescan, o.rescanMs ?? 10_000);
  timer.unref();

  return {
    present: () => [...new Set(table.values())].sort(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearTimeout(restartTimer);
      debounce.clear();
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const kill = setTimeout(() => c.kill('SIGKILL'), EXIT_DEADLINE_MS);
        await childExit;
        clearTimeout(kill);
      }
    },
  };
}

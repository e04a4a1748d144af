// The link monitor adapter's lifecycle over a fake /sys/class/net tree (a temp dir) and a stand-in
// for `ip -o monitor link` (a node child printing captured lines): lines become debounced reports,
// the rescan finds what no line said, a child that dies is restarted (logged once), close() ends it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanLinks, watchLinks } from '../../agent/hardware/link-monitor.js';
import type { LinkState } from '../../agent/hardware/link-events.js';

function fakeSysfs(links: Record<string, number>): { dir: string; set: (name: string, ifindex: number | undefined) => void; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-sysnet-'));
  const set = (name: string, ifindex: number | undefined) => {
    if (ifindex === undefined) { rmSync(join(dir, name), { recursive: true, force: true }); return; }
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'ifindex'), `${ifindex}\n`);
  };
  for (const [n, i] of Object.entries(links)) set(n, i);
  writeFileSync(join(dir, 'bonding_masters'), '');
  return { dir, set, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A child that prints these lines and stays until it is killed. */
const printer = (lines: string[]) => [process.execPath, '-e', `for (const l of ${JSON.stringify(lines)}) console.log(l); setInterval(() => {}, 1000);`];

async function until<T>(what: string, fn: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('scanLinks: every interface with its ifindex; entries without one are left out', () => {
  const s = fakeSysfs({ lo: 1, up0: 40 });
  try { assert.equal(scanLinks(s.dir).sort((a, b) => a.ifindex - b.ifindex), [{ name: 'lo', ifindex: 1 }, { name: 'up0', ifindex: 40 }]); } finally { s.done(); }
});

test('a line from the monitor is reported once quiet; the rescan reports what no line said; close ends the child', async () => {
  const s = fakeSysfs({ lo: 1, up0: 40, mir0: 41 });
  const got: LinkState[] = [];
  const logs: string[] = [];
  const m = watchLinks({
    onChange: (x) => got.push(x), log: (l) => logs.push(l), quietMs: 30, rescanMs: 50, sysfsNet: s.dir,
    argv: printer(['Deleted 40: up0@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 32:fd:4c:bd:1c:89 brd ff:ff:ff:ff:ff:ff']),
  });
  try {
    assert.equal(m.present(), ['lo', 'mir0', 'up0'], 'the first scan is the baseline');
    s.set('up0', undefined);
    await until('up0 reported gone', () => got.find((x) => x.name === 'up0'));
    assert.equal(got, [{ name: 'up0', present: false }], 'only the change; the baseline is not reported');
    s.set('up0', 57);
    await until('the rescan to see up0 back', () => got.find((x) => x.name === 'up0' && x.present));
    assert.equal(got, [{ name: 'up0', present: false }, { name: 'up0', present: true, ifindex: 57 }]);
    assert.equal(m.present(), ['lo', 'mir0', 'up0']);
    assert.equal(logs, []);
  } finally {
    await m.close();
    s.done();
  }
  assert.not.ok(got.some((x) => x.name === 'mir0'), 'mir0 never moved');
});

test('a monitor that dies is restarted, logged once; the rescans go on meanwhile', async () => {
  const s = fakeSysfs({ lo: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-mon-'));
  const starts = join(dir, 'starts');
  const got: LinkState[] = [];
  const logs: string[] = [];
  // Each run notes its start and exits: the monitor keeps starting it again (backoff from 500 ms).
  const m = watchLinks({
    onChange: (x) => got.push(x), log: (l) => logs.push(l), quietMs: 20, rescanMs: 40, sysfsNet: s.dir,
    argv: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(starts)}, 'x'); process.exit(3)`],
  });
  try {
    await until('a first log line', () => logs[0]);
    assert.match(logs[0]!, /link monitor: .* exited \(code 3\); restarting, rescanning every 0\.04 s meanwhile/);
    s.set('up0', 9);
    await until('the rescan to see up0', () => got.find((x) => x.name === 'up0'));
    await until('the child started a second time', () => (existsSync(starts) && readFileSync(starts, 'utf8').length >= 2 ? true : undefined), 5_000);
  } finally { await m.close(); s.done(); }
  assert.is(logs.length, 1, `one line while it keeps failing: ${logs.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});

test('close() ends a running monitor child (SIGTERM) and resolves when it is gone', async () => {
  const s = fakeSysfs({ lo: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-mon-'));
  const pidFile = join(dir, 'pid');
  const m = watchLinks({
    onChange: () => {}, log: () => {}, sysfsNet: s.dir,
    argv: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`],
  });
  let pid = 0;
  try {
    pid = await until('the child to start', () => { try { return Number(readFileSync(pidFile, 'utf8')) || undefined; } catch { return undefined; } });
    assert.ok(alive(pid), 'control: the child runs');
  } finally { await m.close(); s.done(); }
  assert.not.ok(alive(pid), 'gone after close()');
  rmSync(dir, { recursive: true, force: true });
});

test('a monitor that cannot run at all is logged, and the rescans still tell', async () => {
  const s = fakeSysfs({ lo: 1 });
  const got: LinkState[] = [];
  const logs: string[] = [];
  const m = watchLinks({ onChange: (x) => got.push(x), log: (l) => logs.push(l), quietMs: 20, rescanMs: 40, sysfsNet: s.dir, argv: ['/nonexistent/ip', '-o', 'monitor', 'link'] });
  try {
    await until('the log line', () => logs[0]);
    assert.match(logs[0]!, /could not run: .*ENOENT/);
    s.set('mir0', 12);
    await until('the rescan to see mir0', () => got.find((x) => x.name === 'mir0'));
  } finally { await m.close(); s.done(); }
});

test.run();

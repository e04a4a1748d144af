// The link monitor's pure parts: `ip -o monitor link` lines captured here, the ifindex table
// (renames, netns moves, missed deletes), rescans, and the per-name debouncer on a fake clock.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyMessage, applyScan, LinkDebouncer, parseMonitorLine, type LinkChange, type LinkState, type LinkTable, type Timers } from '../../agent/hardware/link-events.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/ip-monitor-link.txt', import.meta.url));
const sections = readFileSync(FIXTURE, 'utf8').split(/^# Part \d.*\n(?:#.*\n)*/m).slice(1);
const lines = (part: number) => sections[part]!.split('\n').filter((l) => l.trim());

/** Replays lines through the table; every change in order. */
function replay(ls: string[], start: LinkTable = new Map()): { table: LinkTable; changes: LinkChange[] } {
  let table = start;
  const changes: LinkChange[] = [];
  for (const l of ls) {
    const m = parseMonitorLine(l);
    assert.ok(m, `a captured line parses: ${l}`);
    const r = applyMessage(table, m!);
    table = r.table;
    changes.push(...r.changes);
  }
  return { table, changes };
}

test('every captured line parses: ifindex, name without the @peer, deleted, flags, state, MAC', () => {
  assert.is(sections.length, 2);
  for (const l of [...lines(0), ...lines(1)]) assert.ok(parseMonitorLine(l), l);
  assert.equal(parseMonitorLine(lines(1)[1]!), {
    ifindex: 40, name: 'up0', deleted: false, flags: ['BROADCAST', 'MULTICAST', 'M-DOWN'], operstate: 'DOWN', mac: '32:fd:4c:bd:1c:89',
  });
  const moved = lines(1).find((l) => l.includes('new-netns world'))!;
  assert.equal(parseMonitorLine(moved), {
    ifindex: 39, name: 'sim2868', deleted: true, flags: ['BROADCAST', 'MULTICAST', 'M-DOWN'], operstate: 'DOWN', mac: '5a:04:8b:93:87:8a',
  });
  const up = parseMonitorLine(lines(0).find((l) => l.includes('state UP'))!)!;
  assert.ok(up.flags.includes('UP') && up.flags.includes('LOWER_UP'));
  assert.is(parseMonitorLine(lines(1).find((l) => l.includes('link-netnsid'))!)!.name, 'mdr6613', 'a peer in another netns (@if45)');
});

test('what is not a link line is undefined', () => {
  for (const l of ['', 'garbage', '   link/ether 0a:8e:f4:04:3b:2a brd ff:ff:ff:ff:ff:ff', 'Deleted', '12 up0: <UP>', '[LINK]']) {
    assert.is(parseMonitorLine(l), undefined, JSON.stringify(l));
  }
});

test('replaying our netns: up0 appears once, a rename is gone + appeared, the delete is gone; state changes are no changes', () => {
  const { table, changes } = replay(lines(0));
  assert.equal(changes.filter((c) => c.name.startsWith('up0') || c.name === 'up9'), [
    { name: 'up0-far', present: true, ifindex: 2 },
    { name: 'up0', present: true, ifindex: 3 },
    { name: 'up0', present: false },
    { name: 'up9', present: true, ifindex: 3 },
    { name: 'up9', present: false },
    { name: 'up0', present: true, ifindex: 3 },
    { name: 'up0', present: false },
    { name: 'up0-far', present: false },
  ]);
  assert.equal([...table], []);
});

test('replaying the root netns: the dongle plugged (peer moved to netns world), unplugged, plugged again on a new ifindex', () => {
  const start: LinkTable = new Map([[1, 'lo'], [2, 'eth0']]);
  const { table, changes } = replay(lines(1), start);
  assert.equal(changes.filter((c) => c.name === 'up0'), [
    { name: 'up0', present: true, ifindex: 40 },
    { name: 'up0', present: false },
    { name: 'up0', present: true, ifindex: 50 },
  ]);
  // The sim's temporary peer went to another netns: gone from here.
  assert.equal(changes.filter((c) => c.name === 'sim2868'), [{ name: 'sim2868', present: true, ifindex: 39 }, { name: 'sim2868', present: false }]);
  assert.equal([...table.values()].sort(), ['eth0', 'lo', 'mdr6613', 'mlr6613', 'up0']);
});

test('a name on a new ifindex without a delete seen: the old entry goes, the name appears again', () => {
  const r = applyMessage(new Map([[40, 'up0']]), { ifindex: 50, name: 'up0', deleted: false, flags: [] });
  assert.equal([...r.table], [[50, 'up0']]);
  assert.equal(r.changes, [{ name: 'up0', present: true, ifindex: 50 }]);
  // A delete of what the table never had changes nothing.
  assert.equal(applyMessage(r.table, { ifindex: 7, name: 'x', deleted: true, flags: [] }).changes, []);
});

test('a rescan reports what the table missed: gone, new, and the same name on a new ifindex', () => {
  const table: LinkTable = new Map([[1, 'lo'], [40, 'up0'], [41, 'mir0']]);
  const r = applyScan(table, [{ name: 'lo', ifindex: 1 }, { name: 'up0', ifindex: 55 }, { name: 'up1', ifindex: 56 }]);
  assert.equal(r.changes, [
    { name: 'up0', present: false }, { name: 'mir0', present: false },
    { name: 'up0', present: true, ifindex: 55 }, { name: 'up1', present: true, ifindex: 56 },
  ]);
  assert.equal(applyScan(r.table, [{ name: 'lo', ifindex: 1 }, { name: 'up0', ifindex: 55 }, { name: 'up1', ifindex: 56 }]).changes, [], 'nothing new: nothing');
});

/** Timers on a clock the test moves. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    set: (fn, ms) => { const id = next++; due.set(id, { at: now + ms, fn }); return id; },
    clear: (h) => { due.delete(h as number); },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const first = [...due.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!first) break;
      due.delete(first[0]);
      now = first[1].at;
      first[1].fn();
    }
    now = until;
  };
  return { timers, advance, pending: () => due.size };
}

test('debounce: a burst for one name is one report, after it has been quiet; nothing before', () => {
  const clock = fakeClock();
  const got: LinkState[] = [];
  const d = new LinkDebouncer(200, clock.timers, (s) => got.push(s));
  d.baseline([{ name: 'up0', present: true, ifindex: 40 }]);
  d.push([{ name: 'up0', present: false }]);
  clock.advance(150);
  assert.equal(got, [], 'not yet: still within the window');
  d.push([{ name: 'up0', present: true, ifindex: 50 }]);
  clock.advance(150);
  assert.equal(got, [], 'the window starts again with each change');
  clock.advance(60);
  assert.equal(got, [{ name: 'up0', present: true, ifindex: 50 }], 'gone and back within the window: one report of the new device');
});

test('debounce: back on the same ifindex (a blip the table saw twice) is no report; a real unplug is; names are independent', () => {
  const clock = fakeClock();
  const got: LinkState[] = [];
  const d = new LinkDebouncer(200, clock.timers, (s) => got.push(s));
  d.baseline([{ name: 'up0', present: true, ifindex: 40 }, { name: 'mir0', present: true, ifindex: 41 }]);
  d.push([{ name: 'up0', present: false }, { name: 'up0', present: true, ifindex: 40 }]);
  clock.advance(500);
  assert.equal(got, [], 'where it was: nothing to tell');
  d.push([{ name: 'mir0', present: false }]);
  clock.advance(100);
  d.push([{ name: 'up1', present: true, ifindex: 60 }]);
  clock.advance(100);
  assert.equal(got, [{ name: 'mir0', present: false }], 'mir0 quiet for 200 ms; up1 not yet');
  clock.advance(100);
  assert.equal(got, [{ name: 'mir0', present: false }, { name: 'up1', present: true, ifindex: 60 }], 'a name first seen now is reported');
  d.push([{ name: 'mir0', present: false }]);
  clock.advance(300);
  assert.is(got.length, 2, 'gone again (a rescan repeating it): no second report');
});

test('debounce: clear drops what is pending', () => {
  const clock = fakeClock();
  const got: LinkState[] = [];
  const d = new LinkDebouncer(200, clock.timers, (s) => got.push(s));
  d.push([{ name: 'up0', present: false }]);
  d.clear();
  assert.is(clock.pending(), 0);
  clock.advance(1000);
  assert.equal(got, []);
});

test.run();

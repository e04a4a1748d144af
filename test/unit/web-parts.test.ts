// Small parts of the web side: the token bucket, the session cookie, the process tree a terminal
// leaves behind, and a group's cut of the desired state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planDesired } from '../../agent/lab/desired.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { parse } from 'yaml';
import { parseStat, treeOf } from '../../agent/sys/procs.js';
import { groupDesired } from '../../agent/web/group-diagram.js';
import { TokenBuckets } from '../../agent/web/rate-limit.js';
import { TerminalRegistry } from '../../agent/web/terminal.js';
import { Fresh } from '../../agent/web/lab-views.js';
import { readSession, signSession } from '../../agent/web/session.js';

test('TokenBuckets: a burst, then one per interval; keys are independent; full buckets are forgotten', () => {
  let now = 0;
  const b = new TokenBuckets(3, 1000, () => now);
  assert.ok(b.check('a').ok);
  assert.ok(b.take('a').ok); assert.ok(b.take('a').ok);
  const v = b.take('a');
  assert.not.ok(v.ok);
  assert.is(v.retryAfterS, 1);
  assert.ok(b.check('b').ok, 'another key');
  now += 999; assert.not.ok(b.check('a').ok);
  now += 1; assert.ok(b.check('a').ok);
  assert.ok(b.take('a').ok === false);
  now += 10_000;
  assert.ok(b.check('a').ok);
  for (let i = 0; i < 2000; i++) b.take(`k${i}`);
  now += 10_000;
  b.take('last');
  assert.ok(b.size < 10, `forgot full buckets (${b.size})`);
});

test('session cookies: round trip; any change of payload or signature is refused', () => {
  const k = Buffer.alloc(32, 1);
  const v = signSession(k, { group: 2, lab: 'x', startedAt: 't' });
  assert.equal(readSession(k, v), { group: 2, lab: 'x', startedAt: 't' });
  assert.is(readSession(Buffer.alloc(32, 2), v), undefined);
  const [p, s] = v.split('.');
  const other = Buffer.from(JSON.stringify({ g: 1, l: 'x', s: 't' })).toString('base64url');
  assert.is(readSession(k, `${other}.${s}`), undefined);
  assert.is(readSession(k, `${p}.${s}x`), undefined);
  for (const bad of [undefined, '', '.', 'a.b.c', p!, 'x'.repeat(5000)]) assert.is(readSession(k, bad), undefined);
});

test('procs: /proc stat lines with odd names; the tree covers children, jobs in their own group and the session', () => {
  assert.equal(parseStat('4242 (my (odd) name) S 4000 4242 4242 34816 4242 4194560'), { pid: 4242, ppid: 4000, pgrp: 4242, session: 4242 });
  assert.is(parseStat('garbage'), undefined);
  const table = [
    { pid: 1, ppid: 0, pgrp: 1, session: 1 },
    { pid: 100, ppid: 90, pgrp: 100, session: 100 }, // the shell (session leader)
    { pid: 101, ppid: 100, pgrp: 101, session: 100 }, // `sleep 999 &` in its own job group
    { pid: 102, ppid: 101, pgrp: 101, session: 100 },
    { pid: 103, ppid: 1, pgrp: 103, session: 100 }, // reparented, still in the session
    { pid: 104, ppid: 1, pgrp: 104, session: 104 }, // setsid'd by its parent, unrelated now
    { pid: 200, ppid: 90, pgrp: 200, session: 200 }, // another terminal
  ];
  assert.equal(treeOf(table, 100, 9999).sort(), [100, 101, 102, 103]);
  assert.not.ok(treeOf([{ pid: 5, ppid: 1, pgrp: 1, session: 1 }], 1, 9999).includes(1), 'never pid 1');
});

test('groupDesired: the group\'s hosts and ports, shared hosts, uplinks cut to its VLANs and mirrored ports', () => {
  const t = TopologySchema.parse(parse(`
dovelab: 1
networks: {lab: {}, srv: {shared: true, vlan: 50}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  s: {interfaces: {eth0: {network: srv, ip: 203.0.113.1/24}}}
uplinks:
  up: {interface: up0, networks: [lab, srv]}
mirrors:
  tap: {interface: mir0, from: [h1.eth0]}
`));
  const d = planDesired(t, { lab: 'x', groups: 3, bridge: 'dovelab0', dpId: 1, defaultImage: 'img' });
  const g = groupDesired(d, 2);
  assert.equal(g.hosts.map((h) => h.key).sort(), ['g2-h1', 's']);
  assert.equal(g.ports.map((p) => p.faucetName).sort(), ['g2-h1-eth0', 's-eth0']);
  const up = g.uplinks.find((u) => u.name === 'up')!;
  assert.equal(up.tagged.sort(), ['g2-lab', 'srv']);
  const tap = g.uplinks.find((u) => u.name === 'tap')!;
  assert.equal(tap.mirrors, [d.ports.find((p) => p.faucetName === 'g2-h1-eth0')!.ofport]);
  assert.equal(g.faucet.vlans.map((v) => v.name).filter((n) => /^g\d/.test(n)), ['g2-lab']);
});

test('TerminalRegistry: caps per group and overall; a released place is free again; closeAll closes each', () => {
  const r = new TerminalRegistry({ perGroup: 2, total: 3, idleMs: 1000 });
  const closed: string[] = [];
  const a = r.reserve(1, (code) => closed.push(`a ${code}`))!;
  assert.ok(r.reserve(1, (code) => closed.push(`b ${code}`)));
  assert.is(r.reserve(1, () => {}), undefined, 'group 1 is full');
  assert.ok(r.reserve(2, (code) => closed.push(`c ${code}`)), 'group 2 is not');
  assert.is(r.reserve(3, () => {}), undefined, 'all are full');
  r.release(a);
  assert.ok(r.reserve(3, (code) => closed.push(`d ${code}`)));
  r.closeAll('stopping');
  assert.equal(closed.sort(), ['b 1001', 'c 1001', 'd 1001']);
});

test('Fresh: the last good value answers while a new look runs; a failed look is not served again; a new key waits', async () => {
  const f = new Fresh<string>();
  const looks: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const load = () => new Promise<string>((resolve, reject) => { looks.push({ resolve, reject }); });
  const first = f.get('k', 0, 100, load);
  looks[0]!.resolve('one');
  assert.is(await first, 'one');
  assert.is(await f.get('k', 50, 100, load), 'one');
  assert.is(looks.length, 1, 'within the TTL: no new look');
  // Expired: a new look starts, but the caller gets the last value at once.
  assert.is(await f.get('k', 150, 100, load), 'one');
  assert.is(looks.length, 2);
  looks[1]!.resolve('two');
  await new Promise((r) => setImmediate(r));
  assert.is(await f.get('k', 160, 100, load), 'two');
  // A look that fails is forgotten with the last value: the next caller waits on a fresh look.
  const stale = f.get('k', 300, 100, load);
  assert.is(await stale, 'two');
  looks[2]!.reject(new Error('docker down'));
  await new Promise((r) => setImmediate(r));
  const after = f.get('k', 310, 100, load);
  assert.is(looks.length, 4);
  looks[3]!.reject(new Error('still down'));
  let failed: unknown;
  try { await after; } catch (e) { failed = e; }
  assert.match(String(failed), /still down/);
  // Another key never gets the old key's value.
  const other = f.get('other', 320, 100, load);
  looks[4]!.resolve('three');
  assert.is(await other, 'three');
});

test.run();

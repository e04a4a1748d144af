// The check runner against a fake CheckIo: verdict paths, deadlines, order, saving.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { runChecks, sameRun, type CheckIo, type CheckReport } from '../../agent/lab/check-run.js';
import type { ExecResult } from '../../agent/lab/checks.js';
import { planDesired } from '../../agent/lab/desired.js';
import type { LabState } from '../../agent/lab/state.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const topology = TopologySchema.parse(parse(`
dovelab: 1
networks: {lan: {}, office: {vlan: 110, shared: true}}
hosts:
  a: {interfaces: {eth0: {network: lan, ip: 10.9.0.1/24}}}
  b: {interfaces: {eth0: {network: lan, ip: 10.9.0.2/24}}}
  pc: {interfaces: {eth0: {network: office, ip: dhcp}}}
tasks:
  - {id: ping, check: {reach: {from: a, to: b}}}
  - {id: iso, check: {no_reach: {from: a, to: b, tcp: 22, timeout: 1}}}
  - {id: file, check: {command: {on: b, run: "test -f /x", timeout: 0.1}}}
  - {id: dhcp, check: {reach: {from: a, to: pc}}}
`));
const st: LabState = { lab: 'demo', source: 'test', groups: 2, topology, startedAt: '2025-01-01T10:00:00.000Z' };
const d = planDesired(topology, { lab: 'demo', groups: 2, bridge: 'dovelab0', dpId: 1, defaultImage: 'img' });

type Answer = ExecResult | Error | 'hang' | ((argv: string[]) => Promise<ExecResult>);
const ok: ExecResult = { code: 0, stdout: '', stderr: '' };
const dockerError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** A CheckIo answering by the probe tool (ping / nc / sh) run in a container; records what it was asked. */
function fakeIo(answer: (container: string, tool: string, argv: string[]) => Answer, addresses: Record<string, Record<string, string[]>> = {}) {
  const calls: { container: string; argv: string[]; timeoutMs: number }[] = [];
  const saved: CheckReport[] = [];
  const logs: string[] = [];
  const io: CheckIo = {
    exec: async (container, argv, timeoutMs) => {
      calls.push({ container, argv, timeoutMs });
      const a = answer(container, argv[4] ?? '', argv);
      if (a === 'hang') return new Promise<ExecResult>(() => {});
      if (a instanceof Error) throw a;
      if (typeof a === 'function') return a(argv);
      return a;
    },
    addresses: async (c) => { const x = addresses[c]; if (!x) throw dockerError(409, 'not running'); return x; },
    saveResults: async (r) => { saved.push(r); },
    log: (s) => { logs.push(s); },
  };
  return { io, calls, saved, logs };
}

const byTask = (r: CheckReport, group = 1) => Object.fromEntries(r.results.filter((x) => x.group === group).map((x) => [x.task, `${x.status}: ${x.reason}`]));

test('each verdict path: pass, fail, no_reach pass, and errors for a missing tool', async () => {
  const { io, calls } = fakeIo((_c, tool) => tool === 'ping' ? ok
    : tool === 'nc' ? { code: 1, stdout: '', stderr: 'nc: connect to 10.9.0.2 port 22 (tcp) failed: Connection refused\n' }
      : { code: 127, stdout: '', stderr: 'sh: 1: test: not found\n' });
  const r = await runChecks(io, st, d, [1]);
  assert.equal(byTask(r), {
    ping: 'pass: a: ping 10.9.0.2: replies',
    iso: 'pass: a: TCP 10.9.0.2:22 must fail: connection refused',
    file: 'error: b: cannot run the check: test is not installed in b — b: test -f /x',
    dhcp: 'error: pc has no address yet',
  });
  // What ran: under the timeout wrapper, in the group's containers, with our deadline.
  assert.equal(calls.map((c) => [c.container, c.argv.join(' '), c.timeoutMs]).sort(), [
    ['dovelab-g1-a', 'timeout -k 1 4 nc -v -n -z -w 1 10.9.0.2 22', 6000],
    ['dovelab-g1-a', 'timeout -k 1 6 ping -c 2 -i 0.2 -W 3 10.9.0.2', 8000],
    ['dovelab-g1-b', 'timeout -k 1 1 sh -c test -f /x', 3000],
  ]);
});

test('a reach that gets no reply fails; a no_reach whose nc is missing is an error, not a pass', async () => {
  const { io } = fakeIo((_c, tool) => tool === 'ping' ? { code: 1, stdout: '2 packets transmitted, 0 received, 100% packet loss\n', stderr: '' }
    : tool === 'nc' ? { code: 127, stdout: '', stderr: "timeout: failed to run command 'nc': No such file or directory\n" } : { code: 1, stdout: '', stderr: '' });
  const r = byTask(await runChecks(io, st, d, [1]));
  assert.is(r.ping, 'fail: a: ping 10.9.0.2: no reply');
  assert.is(r.iso, 'error: a: cannot run the check: nc is not installed in a — a: TCP 10.9.0.2:22 must fail');
  assert.is(r.file, 'fail: b: test -f /x: exit 1');
});

test('a missing, stopped or paused host, or a failing exec, is an error naming the host', async () => {
  const { io } = fakeIo((c, tool) => tool === 'ping' ? dockerError(404, 'no such container')
    : tool === 'nc' ? dockerError(409, `Container ${c} is paused, unpause the container before exec`)
      : c.endsWith('-b') ? dockerError(409, `Container ${c} is not running`) : new Error('socket hang up'));
  const r = byTask(await runChecks(io, st, d, [1]));
  assert.is(r.ping, 'error: a: cannot run the check: host a does not exist (no container dovelab-g1-a) — a: ping 10.9.0.2');
  assert.match(r.iso!, /^error: a: cannot run the check: host a is paused/);
  assert.match(r.file!, /^error: b: cannot run the check: host b is not running/);
  const { io: io2 } = fakeIo(() => new Error('socket hang up'));
  assert.match(byTask(await runChecks(io2, st, d, [1])).ping!, /^error: a: cannot run the check: exec in dovelab-g1-a failed: socket hang up/);
});

test("nc's Network is unreachable: the route check in the sender decides", async () => {
  const unreachable: ExecResult = { code: 1, stdout: '', stderr: 'nc: connect to 10.9.0.2 port 22 (tcp) failed: Network is unreachable\n' };
  for (const [route, want] of [
    [{ code: 1, stdout: 'From 10.9.0.254 icmp_seq=1 Destination Net Unreachable\n', stderr: '' }, /^pass: a: TCP 10\.9\.0\.2:22 must fail: network unreachable \(a router answered\)$/],
    [{ code: 2, stdout: '', stderr: 'ping: connect: Network is unreachable\n' }, /^error: a: cannot run the check: a has no route to 10\.9\.0\.2 \(Network is unreachable\)/],
    [{ code: 127, stdout: '', stderr: "timeout: failed to run command 'ping': No such file or directory\n" }, /^error: .*could not be checked/],
  ] as [ExecResult, RegExp][]) {
    const { io, calls } = fakeIo((_c, tool, argv) => tool === 'nc' ? unreachable : argv.includes('-c') && argv.includes('1') ? route : ok);
    const r = byTask(await runChecks(io, st, d, [1]));
    assert.match(r.iso!, want);
    assert.ok(calls.some((c) => c.argv.join(' ') === 'timeout -k 1 3 ping -c 1 -W 1 10.9.0.2'), 'the route check ran');
  }
});

test('a hung exec is an error naming host and task, within the deadline, and leaves nothing behind', async () => {
  let unhandled = 0;
  const onUnhandled = () => { unhandled++; };
  process.on('unhandledRejection', onUnhandled);
  const timersBefore = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
  // The command check (1 s wrapper + 100 ms slack): in group 1 the exec never comes back; in
  // group 2 it rejects only after our deadline, which must not surface as an unhandled rejection.
  const { io } = fakeIo((c, tool) => tool !== 'sh' ? ok : c === 'dovelab-g1-b' ? 'hang'
    : () => new Promise((_, reject) => setTimeout(() => reject(dockerError(409, 'late')), 1300)));
  const t0 = Date.now();
  const r = await runChecks(io, st, d, undefined, { slackMs: 100 });
  const ms = Date.now() - t0;
  assert.ok(ms >= 1000 && ms < 1500, `took ${ms} ms`);
  assert.match(byTask(r, 1).file!, /^error: b: cannot run the check: b gave no answer within 1 s \(task file\); the exec in dovelab-g1-b hung/);
  assert.match(byTask(r, 2).file!, /^error: b: cannot run the check: b gave no answer within 1 s \(task file\); the exec in dovelab-g2-b hung/);
  assert.is(byTask(r, 1).ping, 'pass: a: ping 10.9.0.2: replies');
  await new Promise((res) => setTimeout(res, 400)); // past the late rejection
  process.off('unhandledRejection', onUnhandled);
  assert.is(unhandled, 0, 'a late rejection is swallowed');
  assert.is(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length, timersBefore, 'our timers are cleared');
});

test('results keep group order, then task order, whatever order the probes finish in', async () => {
  const delays: Record<string, number> = { 'dovelab-g1-a': 40, 'dovelab-g1-b': 5, 'dovelab-g2-a': 20, 'dovelab-g2-b': 1 };
  const { io } = fakeIo((c) => async () => { await new Promise((res) => setTimeout(res, delays[c] ?? 0)); return ok; });
  const r = await runChecks(io, st, d, undefined, { parallel: 6 });
  assert.equal(r.results.map((x) => `${x.group}:${x.task}`), ['1:ping', '1:iso', '1:file', '1:dhcp', '2:ping', '2:iso', '2:file', '2:dhcp']);
  const one = await runChecks(io, st, d, [2, 1], { parallel: 1 });
  assert.equal(one.results.map((x) => `${x.group}:${x.task}`), ['2:ping', '2:iso', '2:file', '2:dhcp', '1:ping', '1:iso', '1:file', '1:dhcp']);
});

test('a DHCP host is probed at the address it learned', async () => {
  const { io, calls } = fakeIo(() => ok, { 'dovelab-pc': { eth0: ['100.64.0.150/24'] } });
  const r = byTask(await runChecks(io, st, d, [1]));
  assert.is(r.dhcp, 'pass: a: ping 100.64.0.150: replies');
  assert.ok(calls.some((c) => c.argv.at(-1) === '100.64.0.150'));
});

test('a full run is saved with the run it belongs to; a group run is not; a failing save is logged', async () => {
  const { io, saved } = fakeIo(() => ok);
  const r = await runChecks(io, st, d);
  assert.is(saved.length, 1);
  assert.is(saved[0], r);
  assert.equal([r.lab, r.startedAt], ['demo', '2025-01-01T10:00:00.000Z']);
  await runChecks(io, st, d, [1]);
  assert.is(saved.length, 1);
  const f = fakeIo(() => ok);
  f.io.saveResults = async () => { throw new Error('disk full'); };
  assert.is((await runChecks(f.io, st, d)).results.length, 8);
  assert.equal(f.logs, ['checks: results not saved: disk full']);
});

test('sameRun: the same lab and start only', () => {
  assert.ok(sameRun(st, st));
  assert.ok(sameRun(st, { lab: 'demo', startedAt: st.startedAt }));
  assert.not.ok(sameRun(undefined, st), 'lab is down');
  assert.not.ok(sameRun({ ...st, startedAt: '2025-01-01T11:00:00.000Z' }, st), 'down, then up again');
  assert.not.ok(sameRun({ ...st, lab: 'other' }, st), 'another lab');
});

test.run();

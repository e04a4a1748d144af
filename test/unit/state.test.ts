// lab.json read back through its schema; durable writes; deadlines that name what hung.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { hostContainerSpec } from '../../agent/docker/hosts.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { LabStateError, readLabState, writeLabState, type LabState } from '../../agent/lab/state.js';
import { DeadlineExceeded, withDeadline } from '../../agent/sys/deadline.js';
import { writeAtomic } from '../../agent/sys/files.js';

const dir = mkdtempSync(join(tmpdir(), 'dovelab-state-'));
const topology = TopologySchema.parse(parse(`
dovelab: 1
networks: {lan: {}}
hosts: {h1: {interfaces: {eth0: {network: lan, ip: 198.51.100.11/24}}}}
`));
const state: LabState = { lab: 'demo', source: '/x/lesson.yaml', groups: 2, topology, startedAt: '2026-12-01T00:00:00.000Z', overrides: { acls: { 'g1-h1-eth0': ['no-ping'] } } };

test('lab.json round-trips and carries its format version', () => {
  const file = join(dir, 'ok.json');
  writeLabState(file, state);
  assert.is(JSON.parse(readFileSync(file, 'utf8')).version, 1);
  assert.equal(readLabState(file), state);
  // No temp file left behind.
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('a lab.json written before the version field is read as version 1', () => {
  const file = join(dir, 'old.json');
  writeFileSync(file, JSON.stringify(state));
  assert.equal(readLabState(file), state);
});

test('a damaged lab.json is a clear error naming the file and what is wrong', () => {
  const cases: [string, string, RegExp][] = [
    ['truncated', JSON.stringify(state).slice(0, 40), /not JSON/],
    ['groups', JSON.stringify({ ...state, groups: 'two' }), /groups/],
    ['topology', JSON.stringify({ ...state, topology: { ...topology, hosts: 7 } }), /topology\.hosts/],
    ['version', JSON.stringify({ ...state, version: 9 }), /version 9/],
  ];
  for (const [name, text, why] of cases) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    try { readLabState(file); assert.unreachable(`${name}: accepted`); } catch (e) {
      assert.instance(e, LabStateError, name);
      assert.match((e as Error).message, file);
      assert.match((e as Error).message, why);
      assert.match((e as Error).message, 'dovelab down');
    }
  }
  assert.is(readLabState(join(dir, 'absent.json')), undefined);
});

test('writeAtomic replaces the whole file and leaves no temp file', () => {
  const file = join(dir, 'sub', 'f.txt');
  writeAtomic(file, 'one');
  writeAtomic(file, Buffer.from('two'));
  assert.is(readFileSync(file, 'utf8'), 'two');
  assert.equal(readdirSync(join(dir, 'sub')), ['f.txt']);
});

test('withDeadline names what hung, aborts it, and passes through what answers in time', async () => {
  let aborted = false;
  try {
    await withDeadline('Docker: inspect dovelab-g1-h1', 50, (signal) => new Promise(() => { signal.addEventListener('abort', () => { aborted = true; }); }));
    assert.unreachable('a call that never answers passed');
  } catch (e) {
    assert.instance(e, DeadlineExceeded);
    assert.match((e as Error).message, 'Docker: inspect dovelab-g1-h1: no answer within 50 ms');
  }
  assert.ok(aborted, 'the signal fired');
  assert.is(await withDeadline('quick', 1000, async () => 42), 42);
  // A call that ignores the signal and fails later is no unhandled rejection.
  await withDeadline('late failure', 10, () => new Promise((_, rej) => setTimeout(() => rej(new Error('late')), 30))).catch(() => {});
  await new Promise((r) => setTimeout(r, 40));
});

test('a lab host is limited, unprivileged and without new privileges', () => {
  const spec = hostContainerSpec({ container: 'dovelab-g1-h1', image: 'dovelab/labhost', hostname: 'g1-h1', labels: {}, limits: { pids: 256, memory_mb: 256, cpus: 0.5 } });
  const hc = spec.HostConfig!;
  assert.is(hc.PidsLimit, 256);
  assert.is(hc.Memory, 256 * 1024 * 1024);
  assert.is(hc.MemorySwap, hc.Memory, 'no swap on top');
  assert.is(hc.NanoCpus, 500_000_000);
  assert.equal(hc.SecurityOpt, ['no-new-privileges']);
  assert.is(hc.Privileged, undefined);
  assert.is(hc.NetworkMode, 'none');
  assert.ok(hc.CapDrop!.includes('MKNOD'));
  assert.equal(hc.CapAdd, ['NET_ADMIN', 'NET_RAW']);
});

test.run();

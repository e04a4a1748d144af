// The agent's repair scheduler: one running, one pending, whatever the number of triggers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coalescer, describeReasons } from '../../agent/lab/coalesce.js';

/** A job whose runs the test finishes by hand. */
function manualJob() {
  const runs: string[][] = [];
  const finishers: ((e?: Error) => void)[] = [];
  let active = 0; let maxActive = 0;
  const job = (why: string[]) => new Promise<void>((resolve, reject) => {
    runs.push(why); active++; maxActive = Math.max(maxActive, active);
    finishers.push((e) => { active--; if (e) reject(e); else resolve(); });
  });
  const finish = async (e?: Error) => { finishers.shift()!(e); await new Promise((r) => setImmediate(r)); };
  return { job, runs, finish, maxActive: () => maxActive };
}

test('a trigger on an idle scheduler runs at once', async () => {
  const m = manualJob();
  const c = coalescer(m.job);
  c.trigger('start');
  assert.equal(m.runs, [['start']]);
  assert.equal(c.state(), { running: true, pending: [] });
  await m.finish();
  assert.equal(c.state(), { running: false, pending: [] });
  await c.idle();
});

test('a thousand triggers during a run make one more run, never two at once', async () => {
  const m = manualJob();
  const c = coalescer(m.job);
  c.trigger('start');
  for (let i = 0; i < 1000; i++) c.trigger(i % 2 ? 'interval' : 'dovelab-ovs start');
  assert.equal(c.state(), { running: true, pending: ['dovelab-ovs start', 'interval'] });
  await m.finish();
  assert.equal(m.runs, [['start'], ['dovelab-ovs start', 'interval']]);
  c.trigger('interval');
  await m.finish();
  assert.equal(m.runs.length, 3, 'the trigger during run 2 made run 3');
  await m.finish();
  await c.idle();
  assert.is(m.maxActive(), 1);
  assert.is(m.runs.length, 3);
});

test('a failed run does not stop the scheduler', async () => {
  const m = manualJob();
  const c = coalescer(m.job);
  c.trigger('a');
  c.trigger('b');
  await m.finish(new Error('dockerd went away'));
  assert.equal(m.runs, [['a'], ['b']]);
  await m.finish();
  await c.idle();
});

test('stop waits for the running run, drops the pending one and ignores later triggers', async () => {
  const m = manualJob();
  const c = coalescer(m.job);
  c.trigger('start');
  c.trigger('interval');
  let stopped = false;
  const s = c.stop().then(() => { stopped = true; });
  await new Promise((r) => setImmediate(r));
  assert.is(stopped, false, 'stop waits while a run is running');
  c.trigger('late');
  await m.finish();
  await s;
  assert.is(stopped, true);
  assert.equal(m.runs, [['start']]);
  assert.equal(c.state(), { running: false, pending: [] });
});

test('idle resolves only when nothing runs and nothing waits', async () => {
  const m = manualJob();
  const c = coalescer(m.job);
  c.trigger('x');
  c.trigger('y');
  let idle = false;
  void c.idle().then(() => { idle = true; });
  await m.finish();
  assert.is(idle, false, 'y is still to run');
  await m.finish();
  assert.is(idle, true);
});

test('reasons read as the first three, then how many more', () => {
  assert.is(describeReasons(['start']), 'start');
  assert.is(describeReasons(['a', 'b', 'c']), 'a, b, c');
  assert.is(describeReasons(['a', 'b', 'c', 'd', 'e']), 'a, b, c, +2 more');
});

test.run();

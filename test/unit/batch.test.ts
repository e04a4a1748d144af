// Group commit (agent/lab/batch.ts): items waiting while a commit runs go together in the next one;
// each is answered by the commit that took it, with its own verdict. And the pure fold of changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { foldChanges, groupCommit, type Change, type Verdict } from '../../agent/lab/batch.js';

const tick = () => new Promise((r) => setImmediate(r));

/** A commit the test drives by hand: it takes when told, then answers with the verdicts given. */
function manualCommit() {
  const batches: string[][] = [];
  const steps: { take: () => string[]; finish: (v: Verdict[] | Error) => void }[] = [];
  let active = 0; let maxActive = 0;
  const commit = (take: () => string[]) => new Promise<Verdict[]>((resolve, reject) => {
    active++; maxActive = Math.max(maxActive, active);
    steps.push({
      take: () => { const t = take(); batches.push(t); return t; },
      finish: (v) => { active--; if (v instanceof Error) reject(v); else resolve(v); },
    });
  });
  /** The running commit takes what waits (as the driver does once it has the locks). */
  const take = () => steps[0]!.take();
  /** The running commit answers; `v` per item taken, default all fine. */
  const finish = async (v?: Verdict[] | Error) => {
    const s = steps.shift()!;
    s.finish(v ?? batches.at(-1)!.map(() => ({ ok: true })));
    await tick();
  };
  return { commit, batches, take, finish, maxActive: () => maxActive, running: () => steps.length };
}

/** The promise's outcome so far: 'pending', 'ok' or the error's message. */
function watch(p: Promise<void>) {
  const o = { v: 'pending' };
  p.then(() => { o.v = 'ok'; }, (e: Error) => { o.v = e.message; });
  return o;
}

test('items that come while a commit runs go together in the next one, never two commits at once', async () => {
  const m = manualCommit();
  const q = groupCommit(m.commit);
  const a = watch(q.submit('a'));
  assert.is(m.running(), 1, 'the first item starts a commit at once');
  // Before the commit takes (it waits for the locks), more come: they go in with it.
  const b = watch(q.submit('b'));
  m.take();
  const later = ['c', 'd', 'e', 'f'].map((x) => watch(q.submit(x)));
  assert.equal(q.state(), { running: true, pending: 4 });
  await m.finish();
  assert.equal([a.v, b.v], ['ok', 'ok']);
  assert.ok(later.every((x) => x.v === 'pending'), 'answered by their own commit only');
  assert.is(m.running(), 1, 'the next commit started');
  m.take();
  await m.finish();
  assert.ok(later.every((x) => x.v === 'ok'));
  assert.equal(m.batches, [['a', 'b'], ['c', 'd', 'e', 'f']]);
  assert.is(m.maxActive(), 1);
  await q.idle();
  assert.equal(q.state(), { running: false, pending: 0 });
});

test('each item gets its own verdict', async () => {
  const m = manualCommit();
  const q = groupCommit(m.commit);
  const r = ['a', 'b', 'c'].map((x) => watch(q.submit(x)));
  m.take();
  await m.finish([{ ok: true }, { ok: false, error: new Error('b is bad') }, { ok: true }]);
  assert.equal(r.map((x) => x.v), ['ok', 'b is bad', 'ok']);
});

test('a commit that throws after taking fails what it took; the items after it get a commit of their own', async () => {
  const m = manualCommit();
  const q = groupCommit(m.commit);
  const a = watch(q.submit('a'));
  m.take();
  const b = watch(q.submit('b'));
  await m.finish(new Error('lock lost'));
  assert.equal([a.v, b.v], ['lock lost', 'pending']);
  m.take();
  await m.finish();
  assert.is(b.v, 'ok');
  await q.idle();
});

test('a commit that throws before taking (no lock) fails the items that waited on it, not later ones', async () => {
  const m = manualCommit();
  const q = groupCommit(m.commit);
  const a = watch(q.submit('a'));
  const b = watch(q.submit('a2'));
  const c = watch(q.submit('b'));
  await m.finish(new Error('lab lock: timed out'));
  // a started the commit, so only a waited on it; the rest came later and get a fresh attempt.
  assert.equal([a.v, b.v, c.v], ['lab lock: timed out', 'pending', 'pending']);
  assert.is(m.running(), 1);
  await m.finish(new Error('lab lock: timed out'));
  assert.equal([b.v, c.v], ['lab lock: timed out', 'lab lock: timed out'], 'both waited on the second attempt');
  assert.is(m.running(), 0);
  // Positive control: the queue still works.
  const d = watch(q.submit('d'));
  m.take();
  await m.finish();
  assert.is(d.v, 'ok');
});

test('a commit that answers without taking fails its items instead of running forever', async () => {
  let runs = 0;
  const q = groupCommit<string>(async () => { runs++; return []; });
  const err = await q.submit('a').then(() => 'ok', (e: Error) => e.message);
  assert.match(err, /took nothing/);
  assert.is(runs, 1);
  await q.idle();
});

test('idle resolves only when nothing runs and nothing waits', async () => {
  const m = manualCommit();
  const q = groupCommit(m.commit);
  void q.submit('a');
  let idle = false;
  void q.idle().then(() => { idle = true; });
  m.take();
  void q.submit('b');
  await m.finish();
  await tick();
  assert.not.ok(idle, 'b still waits');
  m.take();
  await m.finish();
  await tick();
  assert.ok(idle);
});

test('foldChanges: in order on the state; one that throws is left out with its error; nothing-to-do changes nothing', () => {
  const add = (x: number, reconcile = true): Change<number[]> => (s) => ({ state: [...s, x], reconcile });
  const bad: Change<number[]> = (s) => { if (s.includes(2)) throw new Error('no 3 after 2'); return { state: [...s, 3], reconcile: true }; };
  const none: Change<number[]> = () => undefined;
  const f = foldChanges([1], [add(2, false), bad, none, add(4, false)]);
  assert.equal(f.state, [1, 2, 4]);
  assert.equal(f.verdicts.map((v) => (v.ok ? 'ok' : (v.error as Error).message)), ['ok', 'no 3 after 2', 'ok', 'ok']);
  assert.ok(f.changed);
  assert.not.ok(f.reconcile, 'no change the switch sees');
  assert.ok(foldChanges([1], [add(2, false), add(3)]).reconcile, 'one that the switch sees is enough');
  const n = foldChanges([1], [none, none]);
  assert.equal([n.state, n.changed, n.reconcile], [[1], false, false]);
});

test.run();

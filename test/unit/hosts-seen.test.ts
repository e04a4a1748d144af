// The agent's timer passes do no per-host work (issue 13): with `seen.reuse`, reconcile reads no
// netns (no hosts.pid, no links.linksInNetns) of a running host it saw before; a host it has not
// seen, a full pass, or any change made reads them again. Against the recording fake world.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired, type DesiredState } from '../../agent/lab/desired.js';
import { reconcile, type HostLinksSeen } from '../../agent/lab/engine.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const FOUR = TopologySchema.parse(parse(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  h2: {interfaces: {eth0: {network: lab}}}
  h3: {interfaces: {eth0: {network: lab}}}
  h4: {interfaces: {eth0: {network: lab}}}
`));
const plan = (groups: number): DesiredState =>
  planDesired(FOUR, { lab: 'demo', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' });

async function withWorld(fn: (w: FakeWorld, ctx: ReturnType<FakeWorld['context']>) => Promise<void>): Promise<void> {
  const t = tempConfig();
  const w = new FakeWorld();
  try { await fn(w, w.context(t.cfg)); } finally { t.done(); }
}

/** The per-host reads among the calls since `mark`. */
const hostReads = (w: FakeWorld, mark: number) => w.calls.slice(mark).filter((c) => c.startsWith('hosts.pid ') || c.startsWith('links.linksInNetns '));

test('a timer pass reuses what the last full look saw: no per-host reads, nothing changed', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(3);
    const seen: HostLinksSeen = { links: new Map(), reuse: false };
    await reconcile(ctx, d, { seen }); // makes the lab: a change, so what it saw is dropped
    assert.is(seen.links.size, 0, 'a pass that changed something keeps nothing');
    // A full pass (positive control): every host's netns is read, and kept.
    let mark = w.calls.length;
    await reconcile(ctx, d, { seen });
    assert.is(hostReads(w, mark).filter((c) => c.startsWith('links.')).length, 12, 'the full pass reads all 12 hosts');
    assert.is(seen.links.size, 12);
    assert.equal(seen.links.get('dovelab-g2-h3'), ['lo', 'eth0']);
    // The timer's pass: none.
    seen.reuse = true;
    mark = w.calls.length;
    const r = await reconcile(ctx, d, { seen });
    assert.equal(hostReads(w, mark), [], 'no hosts.pid, no nsenter');
    assert.ok(w.has('hosts.list', mark), 'Docker is still asked which hosts run (one call)');
    assert.ok(w.has('ovs.ports', mark), 'and the OVS view is still read');
    assert.equal(r.actions.filter((a) => a.kind !== 'faucet'), []);
  });
});

test('a timer pass reads a host it has not seen, and forgets a host that stopped', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(2);
    const seen: HostLinksSeen = { links: new Map(), reuse: false };
    await reconcile(ctx, d, { seen });
    await reconcile(ctx, d, { seen });
    seen.links.delete('dovelab-g1-h2'); // as if it had not been seen
    seen.reuse = true;
    const mark = w.calls.length;
    await reconcile(ctx, d, { seen });
    assert.equal(hostReads(w, mark), ['hosts.pid dovelab-g1-h2', 'links.linksInNetns dovelab-g1-h2']);
    assert.ok(seen.links.has('dovelab-g1-h2'), 'kept once read');
    // A host that stopped (its die event makes a full pass; a timer pass alone must not keep it).
    w.hosts.get('dovelab-g2-h1')!.running = false;
    await reconcile(ctx, d, { seen }).catch(() => {});
    assert.not.ok(seen.links.has('dovelab-g2-h1'), 'a stopped host is forgotten');
  });
});

test('what a timer pass cannot see, the full pass (event or safety rescan) repairs', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(1);
    const seen: HostLinksSeen = { links: new Map(), reuse: false };
    await reconcile(ctx, d, { seen });
    await reconcile(ctx, d, { seen });
    // eth0 gone inside h1 (a student with NET_ADMIN), OVS not told.
    const h1 = w.hosts.get('dovelab-g1-h1')!;
    h1.links = h1.links.filter((l) => l !== 'eth0');
    seen.reuse = true;
    let mark = w.calls.length;
    await reconcile(ctx, d, { seen });
    assert.not.ok(w.has('links.attachVeth dl101', mark), 'the timer pass trusts what it saw');
    seen.reuse = false;
    mark = w.calls.length;
    await reconcile(ctx, d, { seen });
    assert.ok(w.has('links.attachVeth dl101', mark), 'the full pass sees eth0 missing and attaches it again');
    assert.is(seen.links.size, 0, 'and, having changed something, keeps nothing');
  });
});

test('a host whose netns cannot be read is not kept', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(1);
    const seen: HostLinksSeen = { links: new Map(), reuse: false };
    await reconcile(ctx, d, { seen });
    w.unobservable.add('dovelab-g1-h3');
    await reconcile(ctx, d, { seen });
    assert.not.ok(seen.links.has('dovelab-g1-h3'));
    assert.ok(seen.links.has('dovelab-g1-h1'), 'the others are (positive control)');
    w.unobservable.clear();
    seen.reuse = true;
    const mark = w.calls.length;
    await reconcile(ctx, d, { seen });
    assert.equal(hostReads(w, mark), ['hosts.pid dovelab-g1-h3', 'links.linksInNetns dovelab-g1-h3']);
  });
});

test.run();

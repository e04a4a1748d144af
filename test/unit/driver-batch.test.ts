// The driver's group commit against the recording fake world: verbs that wait for the lock go in
// one reconcile (one faucet.apply), each answered only once an apply that contains its change is
// live; a bad change fails alone; a Faucet refusal of a batch fails only the culprit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNetworkState, writeNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointDelete, endpointJoin, endpointLeave, NetworkError } from '../../agent/lab/networks.js';
import { endpointLinks } from '../../agent/lab/plan-networks.js';
import { FaucetRejected } from '../../agent/net/faucet/apply.js';
import { doc, iface, NET_A, withDriver } from './_driver.js';

const N = 6;
const eps = Array.from({ length: N }, (_, i) => `f${i}`.repeat(32));
const ofportOf = (i: number) => 4001 + i;
const applies = (w: { calls: string[] }, from: number) => w.calls.slice(from).filter((c) => c === 'faucet.apply').length;
/**
 * Join leaves work behind (the container's labels, asked of Docker once it lists the container):
 * waits until the joined endpoints have theirs, so none of it outlives the test's world.
 */
async function labelsFollowed(netJson: string, ids: string[]): Promise<void> {
  for (const until = Date.now() + 5_000; ; await new Promise((r) => setTimeout(r, 5))) {
    const eps = readNetworkState(netJson).endpoints.filter((e) => ids.includes(e.id));
    if (eps.length === ids.length && eps.every((e) => e.container)) return;
    if (Date.now() > until) assert.unreachable(`labels of ${ids.length} joins did not follow: ${JSON.stringify(eps.map((e) => e.container))}`);
  }
}

/** Plugin ports in Faucet's live config (ofport -> name). */
const livePorts = (text: string) => Object.entries(doc(text).dps.dovelab0!.interfaces).filter(([n]) => Number(n) >= 4001 && Number(n) <= 8999).map(([n]) => Number(n)).sort();

test(`${N} Joins at once: fewer reconciles than joins, each answered once its port is live in Faucet`, async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    for (const ep of eps) await endpointCreate(ctx, { network: NET_A, endpoint: ep });
    const mark = w.calls.length;
    // At each answer: is its port in the live config, and in the last config applied?
    const seen: { live: boolean; applied: number }[] = [];
    await Promise.all(eps.map((ep, i) => endpointJoin(ctx, NET_A, ep).then((r) => {
      assert.is(r.srcName, endpointLinks(ofportOf(i)).peer);
      seen[i] = { live: !!iface(w.faucetLive!, ofportOf(i)), applied: w.faucetApplied.length };
    })));
    const n = applies(w, mark);
    assert.ok(n >= 1 && n < N, `${n} faucet.apply for ${N} joins`);
    assert.ok(seen.every((s) => s.live), 'every join answered after an apply that has its port');
    assert.ok(w.faucetApplied.every((a) => a.ok));
    assert.equal(livePorts(w.faucetLive!), eps.map((_, i) => ofportOf(i)));
    assert.ok(readNetworkState(netJson).endpoints.every((e) => e.joined));
    for (let i = 0; i < N; i++) assert.ok(w.ports.has(`dl${ofportOf(i)}`));
    await labelsFollowed(netJson, eps);

    // And the teardown: Leave and Delete of all at once, fewer reconciles than containers too.
    const mark2 = w.calls.length;
    await Promise.all(eps.map((ep) => endpointLeave(ctx, NET_A, ep)));
    const leaves = applies(w, mark2);
    assert.ok(leaves >= 1 && leaves < N, `${leaves} faucet.apply for ${N} leaves`);
    assert.equal(livePorts(w.faucetLive!), []);
    await Promise.all(eps.map((ep) => endpointDelete(ctx, NET_A, ep)));
    assert.equal(readNetworkState(netJson).endpoints, []);
    for (let i = 0; i < N; i++) assert.ok(w.has(`links.deleteLink dl${ofportOf(i)}`, mark2));
  });
});

test('a bad change among good ones fails alone: an unknown endpoint (the change refuses) and a mirror the plan refuses', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    for (const ep of eps.slice(0, 3)) await endpointCreate(ctx, { network: NET_A, endpoint: ep });
    // The third's labels asked for a mirror the appliance does not have: its plan fails.
    const st = readNetworkState(netJson);
    writeNetworkState(netJson, { ...st, endpoints: st.endpoints.map((e) => (e.id === eps[2] ? { ...e, mirror: 'mir7' } : e)) });
    const mark = w.calls.length;
    const out = await Promise.all([...eps.slice(0, 3), eps[5]!].map((ep) => endpointJoin(ctx, NET_A, ep).then(() => 'ok', (e: Error) => e)));
    assert.is(out[0], 'ok');
    assert.is(out[1], 'ok');
    assert.instance(out[2], NetworkError);
    assert.match((out[2] as Error).message, /no mirror named mir7/);
    assert.instance(out[3], NetworkError);
    assert.match((out[3] as Error).message, /was not created on this appliance/);
    assert.equal(livePorts(w.faucetLive!), [4001, 4002]);
    assert.equal(readNetworkState(netJson).endpoints.map((e) => e.joined), [true, true, false]);
    assert.ok(applies(w, mark) <= 3, `${applies(w, mark)} applies`);
    await labelsFollowed(netJson, eps.slice(0, 2));
  });
});

test('Faucet refuses a batch: the culprit fails with Faucet\'s error, the others succeed; networks.json matches the live config and OVS', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    for (const ep of eps) await endpointCreate(ctx, { network: NET_A, endpoint: ep });
    // Faucet refuses any config with the fourth container's port.
    const culprit = `docker-${eps[3]!.slice(0, 12)}`;
    const check = ctx.faucet.check.bind(ctx.faucet);
    ctx.faucet.check = async (text) => {
      await check(text);
      if (text.includes(culprit)) throw new FaucetRejected(`bad port ${culprit}`);
    };
    // Hold the lock with the first join so that the others queue into one batch.
    const first = endpointJoin(ctx, NET_A, eps[0]!);
    const rest = eps.slice(1).map((ep) => endpointJoin(ctx, NET_A, ep).then(() => 'ok', (e: Error) => e));
    await first;
    const out = await Promise.all(rest);
    assert.instance(out[2], FaucetRejected);
    assert.match((out[2] as Error).message, /bad port/);
    assert.equal(out.filter((x) => x === 'ok').length, N - 2, 'all but the culprit');
    assert.ok(w.log.some((l) => /changes refused together .*bad port.*one by one/.test(l)), 'the culprit was in a batch (what this test is about)');
    const disk = readNetworkState(netJson).endpoints;
    assert.equal(disk.filter((e) => e.joined).map((e) => e.ofport), livePorts(w.faucetLive!), 'networks.json = Faucet\'s live config');
    assert.equal(livePorts(w.faucetLive!), [4001, 4002, 4003, 4005, 4006]);
    assert.not.ok(w.ports.has('dl4004'), 'the culprit\'s port is off OVS');
    for (const p of [4001, 4002, 4003, 4005, 4006]) assert.ok(w.ports.has(`dl${p}`));
    // Positive control: the culprit joins once Faucet agrees.
    ctx.faucet.check = check;
    await endpointJoin(ctx, NET_A, eps[3]!);
    assert.ok(iface(w.faucetLive!, 4004));
    await labelsFollowed(netJson, eps);
  });
});

test.run();

// Spare ports of the driver's networks, against the recording fake world: a network keeps ports
// ready (in Faucet's config with its VLAN and default ACLs; a veth pair made ahead, its host end on
// OVS; no container); a container without ACL or mirror labels of its own takes one at
// CreateEndpoint, so its CreateEndpoint makes no link and its Join and Leave change nothing on OVS
// or in Faucet (only networks.json); a spare whose port is not ready joins the usual way (its OVS
// port, Faucet asked to confirm its live config, never given an unchecked one); spares come back at
// Delete (their veth made again if the container took it along) and prune, are made again in one
// checked reload, are derived from networks.json after a restart, go with `docker network rm`, and
// are never shown as containers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointDelete, endpointJoin, endpointLeave, networkDelete, pendingRefills, pruneEndpoints, refillNetworks, setEndpointPolicy } from '../../agent/lab/networks.js';
import { formatDockerNetworks, slotName } from '../../agent/lab/plan-networks.js';
import { labRepair, withLabLock } from '../../agent/lab/service.js';
import { doc, iface, NET_A, NET_B, withDriver, type Ctx } from './_driver.js';
import type { FakeWorld } from './_fake-adapters.js';

const ep = (i: number) => `5${i}`.repeat(32);
const SPARES = 4;
const pluginNumbers = (text: string) => Object.keys(doc(text).dps.dovelab0!.interfaces).map(Number).filter((n) => n >= 4001 && n <= 8999).sort((a, b) => a - b);
const count = (w: FakeWorld, call: string, from: number) => w.calls.slice(from).filter((c) => c === call).length;

/** Records every text Faucet's check saw, so a test can tell whether an applied text was checked first. */
function recordChecks(ctx: Ctx): string[] {
  const seen: string[] = [];
  const check = ctx.faucet.check.bind(ctx.faucet);
  ctx.faucet.check = async (text) => { seen.push(text); await check(text); };
  return seen;
}

test('network create: the spares are in Faucet\'s checked config (VLAN, default ACLs, fixed names), their veths made and on OVS, not in status', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    const checked = recordChecks(ctx);
    await create(NET_A, { 'dovelab.vlan': '110', 'dovelab.default_acl': 'no-ping' });
    const st = readNetworkState(netJson);
    assert.equal(st.networks[0]!.spares, [4001, 4002, 4003, 4004]);
    assert.equal(st.endpoints, []);
    assert.equal(pluginNumbers(w.faucetLive!), [4001, 4002, 4003, 4004]);
    assert.equal(iface(w.faucetLive!, 4002), { name: slotName(4002), description: `port of docker network ${NET_A.slice(0, 12)}`, native_vlan: `docker-${NET_A.slice(0, 12)}`, acls_in: ['appliance-no-ping', 'dovelab-allow'] } as never);
    assert.ok(checked.includes(w.faucetLive!), 'the live config was checked');
    // Made ahead: each spare's veth pair (the peer for Docker to move in) and its OVS port, with ids no container changes.
    assert.equal([...w.ports.keys()].filter((p) => /^dl4/.test(p)).sort(), ['dl4001', 'dl4002', 'dl4003', 'dl4004']);
    assert.equal(w.ports.get('dl4002')!.externalIds, { 'dovelab-role': 'plugin', 'dovelab-network': NET_A, 'dovelab-slot': '4002' });
    for (const l of ['dl4001', 'dp4001', 'dl4004', 'dp4004']) assert.ok(w.interfaces.has(l), `${l} made ahead`);
    assert.ok(w.calls.includes('links.createEndpointVeth dl4003 dp4003 undefined'), 'no MAC yet: Docker sets the endpoint\'s');
    assert.not.match(formatDockerNetworks(st, {}), /4001|endpoint/, 'status shows no spare');
    // ovs.bridge.preallocate_ports decides how many (0: none, every join reloads).
    await create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.preallocate_ports': '2' });
    assert.equal(readNetworkState(netJson).networks[1]!.spares, [4005, 4006]);
  }, { spares: SPARES });
});

test('a container takes a spare: CreateEndpoint makes no link, Join and Leave change nothing on OVS or in Faucet; Delete gives the spare back with its veth', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.preallocate_ports': '0' });
    const live = w.faucetLive!;
    let before: string | undefined;
    let mark = w.calls.length;
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(1) });
    const e = readNetworkState(netJson).endpoints.find((x) => x.id === ep(1))!;
    assert.is(e.ofport, 4001);
    assert.ok(e.slot);
    assert.equal(readNetworkState(netJson).networks[0]!.spares, [4002, 4003, 4004]);
    assert.is(w.faucetLive, live, 'CreateEndpoint changed nothing in Faucet');
    assert.not.ok(w.calls.slice(mark).some((c) => c.startsWith('links.createEndpointVeth')), 'CreateEndpoint: the veth was made ahead');
    mark = w.calls.length;
    before = w.faucetLive;
    const r = await endpointJoin(ctx, NET_A, ep(1));
    assert.is(r.srcName, 'dp4001');
    assert.is(w.faucetLive, before, 'Join: the same Faucet config');
    assert.equal(w.changes(mark), [], 'Join: nothing changed on OVS, links or Faucet');
    assert.is(count(w, 'faucet.apply', mark) + count(w, 'faucet.check', mark) + count(w, 'faucet.ping', mark), 0, 'Join: Faucet not even asked (its config did not change)');
    assert.ok(w.log.some((l) => /join endpoint .* on spare port dl4001 .*no OVS change, no Faucet reload/.test(l)));
    assert.ok(readNetworkState(netJson).endpoints.find((x) => x.id === ep(1))!.joined);

    mark = w.calls.length;
    await endpointLeave(ctx, NET_A, ep(1));
    assert.is(w.faucetLive, live, 'Leave: the same Faucet config');
    assert.is(count(w, 'faucet.check', mark) + count(w, 'faucet.apply', mark), 0);
    assert.ok(w.ports.has('dl4001'), 'Leave left the port on OVS for the next container');
    await endpointDelete(ctx, NET_A, ep(1));
    assert.is(w.faucetLive, live, 'Delete: the same Faucet config');
    assert.equal(readNetworkState(netJson).networks[0]!.spares, [4001, 4002, 4003, 4004], 'the spare is back');
    assert.equal(w.changes(mark).filter((c) => !c.startsWith('endpoints.stopDhcp')), [], 'Leave and Delete: the veth (Docker moved the peer back) and the port stay');

    // A container that took the pair along (killed with its netns): Delete makes it again, port too.
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(2) });
    await endpointJoin(ctx, NET_A, ep(2));
    w.interfaces.delete('dl4001'); w.interfaces.delete('dp4001');
    mark = w.calls.length;
    await endpointDelete(ctx, NET_A, ep(2));
    assert.ok(w.has('links.createEndpointVeth dl4001 dp4001 undefined', mark), w.changes(mark).join('\n'));
    assert.ok(w.has('ovs.addPort dl4001 4001', mark));
    assert.ok(w.interfaces.has('dp4001'));
    assert.is(w.faucetLive, live, 'and Faucet\'s config is still the same');

    // Positive control: on a network without spares, the same join is a change, checked and reloaded.
    await endpointCreate(ctx, { network: NET_B, endpoint: ep(9) });
    before = w.faucetLive;
    mark = w.calls.length;
    await endpointJoin(ctx, NET_B, ep(9));
    assert.is.not(w.faucetLive, before, 'control: the join without a spare changed Faucet\'s config');
    assert.is(count(w, 'faucet.check', mark), 1, 'control: and that config was checked');
  }, { spares: SPARES });
});

test('a container with ACL labels of its own takes no spare (its port is a change for Faucet); the others do', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    w.dockerNetworks.set(NET_A, 'office');
    w.dockerContainers = [{ name: 'locked', network: 'office', state: 'created', endpoint: '', createdMs: Date.now(), labels: { 'dovelab.acl': 'no-ping' } }];
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(1) });
    w.dockerContainers = [{ name: 'plain', network: 'office', state: 'created', endpoint: '', createdMs: Date.now(), labels: {} }];
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(2) });
    const eps = readNetworkState(netJson).endpoints;
    assert.equal(eps.map((e) => [e.container, e.ofport, !!e.slot]), [['locked', 4005, false], ['plain', 4001, true]]);
    const live = w.faucetLive;
    await endpointJoin(ctx, NET_A, ep(1));
    assert.is.not(w.faucetLive, live, 'the labelled one reloaded');
    assert.equal(iface(w.faucetLive!, 4005)!.acls_in, ['appliance-no-ping', 'dovelab-allow']);
  }, { spares: SPARES });
});

test('a taken spare whose ACLs the console changed: a reload for the change, and Delete puts the spare back as it was (reloaded again)', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    const pristine = w.faucetLive!;
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(1) });
    await endpointJoin(ctx, NET_A, ep(1));
    // The container's labels follow Join (the fake's Docker names it then): before the console's change.
    for (const until = Date.now() + 5_000; !readNetworkState(netJson).endpoints[0]!.container; await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() > until) assert.unreachable('the labels did not follow');
    }
    await setEndpointPolicy(ctx, ep(1), { acls: ['no-ping'] });
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow'], 'the change is live');
    await endpointLeave(ctx, NET_A, ep(1));
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow'], 'Leave keeps the port as it is');
    const mark = w.calls.length;
    await endpointDelete(ctx, NET_A, ep(1));
    assert.ok(count(w, 'faucet.apply', mark) >= 1, 'Delete reloaded');
    assert.is(w.faucetLive, pristine, 'the spare is as it was made');
    assert.equal(readNetworkState(netJson).networks[0]!.spares, [4001, 4002, 4003, 4004]);
  }, { spares: SPARES });
});

test('refill: spares taken are made again in one checked reload once quiet, at once when a network ran out', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    const checked = recordChecks(ctx);
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(1) });
    assert.equal(pendingRefills(), [netJson], 'a refill waits for quiet');
    for (let i = 2; i <= SPARES; i++) await endpointCreate(ctx, { network: NET_A, endpoint: ep(i) });
    assert.equal(readNetworkState(netJson).networks[0]!.spares, []);
    // The fifth finds none: its own port, and the spares are made again now.
    const mark = w.calls.length;
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(5) });
    assert.is(readNetworkState(netJson).endpoints.find((e) => e.id === ep(5))!.ofport, 4005);
    for (const until = Date.now() + 5_000; (readNetworkState(netJson).networks[0]!.spares ?? []).length < SPARES; await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() > until) assert.unreachable('the spares were not made again');
    }
    assert.equal(readNetworkState(netJson).networks[0]!.spares, [4006, 4007, 4008, 4009]);
    assert.is(count(w, 'faucet.apply', mark), 1, 'one reload for all of them');
    assert.ok(checked.includes(w.faucetLive!), 'the refilled config was checked before it went live');
    assert.equal(pluginNumbers(w.faucetLive!), [4001, 4002, 4003, 4004, 4006, 4007, 4008, 4009], 'taken ones (not joined yet) and the new spares');
    // Nothing missing: a refill is no change.
    const mark2 = w.calls.length;
    await refillNetworks(ctx);
    assert.is(count(w, 'faucet.apply', mark2), 0);
  }, { spares: SPARES });
});

test('a refill once quiet that meets a Join in one commit gives way: the Join takes its spare without a reload; the refill waits for quiet again, and alone it reloads', async () => {
  await withDriver(async ({ w, ctx, cfg, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    // Docker lists each container as it starts: its labels are known at CreateEndpoint (nothing follows after Join).
    w.dockerNetworks.set(NET_A, 'office');
    for (const i of [1, 2]) {
      w.dockerContainers = [{ name: `c${i}`, network: 'office', state: 'created', endpoint: '', createdMs: Date.now(), labels: {} }];
      await endpointCreate(ctx, { network: NET_A, endpoint: ep(i) });
    }
    await endpointJoin(ctx, NET_A, ep(1));
    pendingRefills(true);
    // The second's OVS port was lost: its Join goes the usual way, through the driver's commit.
    w.ports.delete('dl4002');
    const mark = w.calls.length;
    let both: Promise<unknown> | undefined;
    // The lab lock held: both wait, and the driver's next commit takes them together.
    await withLabLock(cfg, async () => {
      both = Promise.all([refillNetworks(ctx, { yieldToVerbs: true }), endpointJoin(ctx, NET_A, ep(2))]);
      for (const until = Date.now() + 5_000; !w.calls.slice(mark).includes('faucet.ping'); await new Promise((r) => setTimeout(r, 5))) {
        if (Date.now() > until) assert.unreachable('the Join never asked whether Faucet answers');
      }
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    });
    await both;
    assert.ok(w.calls.slice(mark).some((c) => c.startsWith('ovs.addPort dl4002')), w.changes(mark).join('\n'));
    // The fast way asks Faucet to confirm its live config (an apply of the same text), never checks a new one.
    assert.is(count(w, 'faucet.check', mark), 0, `the Join went alone: no new config\n${w.calls.slice(mark).join('\n')}`);
    assert.is(count(w, 'faucet.apply', mark), 1);
    assert.equal(pendingRefills(), [netJson], 'the refill waits for quiet again');
    // Control: the same refill with no verb beside it reloads once, checked.
    await refillNetworks(ctx, { yieldToVerbs: true });
    assert.is(count(w, 'faucet.check', mark), 1);
    assert.is(count(w, 'faucet.apply', mark), 2);
    assert.equal(readNetworkState(netJson).networks[0]!.spares?.length, SPARES);
  }, { spares: SPARES });
});

test('restart: a new agent derives the spares from networks.json (its repair keeps Faucet\'s config); prune gives back a dead container\'s spare; network rm removes them', async () => {
  await withDriver(async ({ w, ctx, create, netJson, cfg }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: ep(1) });
    await endpointJoin(ctx, NET_A, ep(1));
    pendingRefills(true);
    const live = w.faucetLive;
    // A new agent: nothing of the old one's memory, the same files and world.
    const again: Ctx = { ...w.context(cfg), log: () => {} };
    const mark = w.calls.length;
    const r = await labRepair(again);
    assert.ok(r && r.faucet && !r.faucet.changed, 'the repair found Faucet\'s config as planned');
    assert.is(w.faucetLive, live);
    assert.is(count(w, 'faucet.check', mark), 0);
    assert.not.ok(r!.actions.some((a) => a.kind === 'remove-port' || a.kind === 'add-plugin-port'), 'the container\'s port stays as it is');
    // Positive control for the repair: a port OVS lost is put back.
    w.ports.delete('dl4001');
    const r2 = await labRepair(again);
    assert.ok(r2!.actions.some((a) => a.kind === 'add-plugin-port'));

    // The container died with its veth: prune forgets it and its spare is free again.
    w.interfaces.delete('dl4001');
    assert.is(await pruneEndpoints(again), 1);
    assert.equal(readNetworkState(netJson).networks[0]!.spares, [4001, 4002, 4003, 4004]);
    assert.equal(readNetworkState(netJson).endpoints, []);

    await networkDelete(again, NET_A);
    assert.equal(pluginNumbers(w.faucetLive!), [], 'no spare left in Faucet');
    assert.equal(readNetworkState(netJson).networks, []);
    assert.not.ok(doc(w.faucetLive!).dps.dovelab0!.interfaces[4002]);
  }, { spares: SPARES });
});

test.run();

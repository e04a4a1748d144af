// Removals never fail Docker: Leave, DeleteEndpoint and DeleteNetwork whose switch part fails
// (Faucet does not confirm) still answer OK with the removal recorded in networks.json, and the next
// repair takes the ports and VLAN off the switch. Docker keeps an endpoint whose Leave or Delete
// failed, and then refuses `docker network rm` ("has active endpoints"). Over the fake world.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointDelete, endpointJoin, endpointLeave, networkDelete } from '../../agent/lab/networks.js';
import { labRepair } from '../../agent/lab/service.js';
import { FaucetNotConfirmed } from '../../agent/net/faucet/apply.js';
import { EP_1, EP_2, iface, NET_A, NET_B, vids, withDriver } from './_driver.js';

test('Leave and DeleteEndpoint whose Faucet change is not confirmed: answered OK, recorded; the repair takes the port off', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    // Positive control of the failure: the same fault fails a Join (a change Docker must hear about).
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
    w.fail('faucet.apply', new FaucetNotConfirmed('Faucet did not confirm'));
    const joinErr = await endpointJoin(ctx, NET_A, EP_2).then(() => undefined, (e: Error) => e);
    assert.instance(joinErr, FaucetNotConfirmed, 'the fault is real: a Join fails on it');
    assert.ok(iface(w.faucetLive!, 4001), 'EP_1 is on the switch');

    await endpointLeave(ctx, NET_A, EP_1);
    const ep = readNetworkState(netJson).endpoints.find((e) => e.id === EP_1)!;
    assert.is(ep.joined, false, 'the Leave is recorded');
    assert.ok(w.log.some((l) => /leave endpoint e1e1e1e1e1e1: the switch part failed \(Faucet did not confirm\); recorded/.test(l)), w.log.join('\n'));
    await endpointDelete(ctx, NET_A, EP_1);
    assert.not.ok(readNetworkState(netJson).endpoints.some((e) => e.id === EP_1), 'the Delete is recorded');
    w.heal();

    const mark = w.calls.length;
    await labRepair(ctx);
    assert.is(iface(w.faucetLive!, 4001), undefined, 'the repair took the port out of Faucet');
    assert.ok(w.has('ovs.deletePort dl4001', mark) || !w.ports.has('dl4001'), 'and off the bridge');
    assert.not.ok(w.ports.has('dl4001'));
  });
});

test('DeleteNetwork whose Faucet change is not confirmed: answered OK, the network gone from networks.json; the repair takes its VLAN off; another network stays', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await create(NET_B, { 'dovelab.vlan': '120' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(vids(w.faucetLive!), [110, 120, 4094]);
    w.fail('faucet.apply', new FaucetNotConfirmed('Faucet did not confirm'));
    await networkDelete(ctx, NET_A);
    const st = readNetworkState(netJson);
    assert.equal(st.networks.map((n) => n.id), [NET_B]);
    assert.equal(st.endpoints, [], 'its endpoint went with it');
    assert.ok(w.has('links.deleteLink dl4001'), 'its endpoint\'s link is gone');
    assert.equal(vids(w.faucetLive!), [110, 120, 4094], 'Faucet still runs the config before (precondition of the repair)');
    assert.ok(w.log.some((l) => /delete network a1a1a1a1a1a1: the switch part failed/.test(l)), w.log.join('\n'));
    w.heal();
    await labRepair(ctx);
    assert.equal(vids(w.faucetLive!), [120, 4094], 'the repair took VLAN 110 off');
    // Docker retries: nothing.
    const mark = w.calls.length;
    await networkDelete(ctx, NET_A);
    assert.equal(w.changes(mark), []);
  });
});

test.run();

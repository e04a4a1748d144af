// The driver's policies (issue 9): the appliance's ACL file (lesson and Faucet syntax), container
// labels read at CreateEndpoint (dovelab.acl / dovesnap.faucet.portacl, mirror, mac_prefix), labels learnt
// late when Join cannot tell which container joins, and live changes from the console
// (setEndpointPolicy) — all against the recording fake world.
import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApplianceAclError, BUILTIN_ACLS, compileApplianceAcls, parseApplianceAcls } from '../../agent/lab/appliance-acls.js';
import { paths } from '../../agent/config.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointJoin, NetworkError, pickJoining, setEndpointPolicy } from '../../agent/lab/networks.js';
import { doc, EP_1, EP_2, fails, iface, NET_A, withDriver } from './_driver.js';

const F = '/etc/dovelab/acls.yaml';

function aclError(text: string, ...res: RegExp[]) {
  try { parseApplianceAcls(text, F); } catch (e) {
    assert.instance(e, ApplianceAclError, String(e));
    for (const re of res) assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`accepted: ${text}`);
}

test('ACL file: built-ins without a file; lesson and Faucet syntax read to the same Faucet rules', () => {
  assert.equal(Object.keys(parseApplianceAcls('', F)).sort(), Object.keys(BUILTIN_ACLS).sort());
  const book = parseApplianceAcls(`
acls:
  web-only:
    - {match: {tcp_dst: 80}, action: allow}
    - {match: {eth_type: arp}, action: allow}
    - {action: drop}
  faucet-web:
    - rule: {dl_type: 0x800, nw_proto: 6, tcp_dst: 80, actions: {allow: 1}}
    - rule: {dl_type: 0x806, actions: {allow: true}}
    - rule: {actions: {allow: 0}}
  no-ping: [{match: {ip_proto: icmp}, action: allow}]
`, F);
  const c = compileApplianceAcls(book, ['web-only', 'faucet-web', 'no-ping']);
  assert.equal(c['faucet-web'], c['web-only'], 'the two syntaxes mean the same rules');
  assert.equal(c['web-only']![0], { match: { eth_type: 0x0800, ip_proto: 6, tcp_dst: 80 }, actions: { allow: true } }, 'prerequisites added');
  assert.equal(c['no-ping'], [{ match: { eth_type: 0x0800, ip_proto: 1 }, actions: { allow: true } }], 'the file replaces a built-in of the same name');
  assert.ok(book['deny-all'], 'the other built-ins stay');
});

test('ACL file: refusals name the file, the ACL, the rule and the field', () => {
  aclError('acls: [', /^\/etc\/dovelab\/acls\.yaml: not YAML/);
  aclError('rules: {}', /acls\.yaml: rules: unknown key/);
  aclError('acls: {x: []}', /acls\.x: expected a non-empty list/);
  aclError('acls: {"bad name": [{action: drop}]}', /acls\.bad name: not an ACL name/);
  aclError('acls: {x: [{match: {tcp_dst: 99999}, action: drop}]}', /acls\.x\[0\]\.match\.tcp_dst/);
  aclError('acls: {x: [{match: {ip_proto: udp, tcp_dst: 80}, action: drop}]}', /acls\.x: rule 0: match\.tcp_dst: tcp_dst needs ip_proto tcp/);
  aclError('acls: {x: [{rule: {dl_type: 0x800, actions: {meter: lossy}}}]}', /acls\.x\[0\]\.rule\.actions\.meter: not supported/);
  aclError('acls: {x: [{rule: {vlan_vid: 5, actions: {allow: 1}}}]}', /acls\.x\[0\]\.rule\.vlan_vid: match field not supported/);
  aclError('acls: {x: [{rule: {dl_type: 0x800}}]}', /acls\.x\[0\]\.rule\.actions: missing/);
  aclError('acls: {x: [{rule: {dl_type: 0x800, eth_type: 0x800, actions: {allow: 1}}}]}', /eth_type is given twice/);
  aclError('acls: {x: [{rule: {nw_proto: 17, tcp_dst: 80, actions: {allow: 1}}}]}', /rule 0: match\.tcp_dst/);
  // Positive control: the same shapes, valid.
  assert.ok(parseApplianceAcls('acls: {x: [{rule: {dl_type: 0x800, nw_proto: 17, udp_dst: 53, actions: {allow: 1}}}]}', F).x);
});

/** A Docker network `office` (NET_A) with a container being started on it, as Docker's lists show it. */
function dockerSees(w: import('./_fake-adapters.js').FakeWorld, containers: { name: string; labels: Record<string, string>; state?: string; endpoint?: string; createdMs?: number }[]) {
  w.dockerNetworks.set(NET_A, 'office');
  w.dockerContainers = containers.map((c) => ({ network: 'office', state: 'created', endpoint: '', createdMs: Date.now(), ...c }));
}

test('CreateEndpoint reads the starting container\'s labels: its ACLs and name on the port at Join, the network\'s name recorded', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'web1', labels: { 'dovelab.acl': 'no-ping' } }, { name: 'old', labels: {}, state: 'running', endpoint: 'x'.repeat(64) }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow']);
    const acls = (doc(w.faucetLive!) as unknown as { acls: Record<string, unknown[]> }).acls;
    // Each rule also carries its flow cookie (hit counters; test/unit/acl-counters.test.ts): not compared here.
    const noCookie = (r: unknown) => { const { cookie: _c, ...rule } = (r as { rule: Record<string, unknown> }).rule; return { rule }; };
    assert.equal(acls['appliance-no-ping']!.map(noCookie), [
      { rule: { eth_type: 0x0800, ip_proto: 1, actions: { allow: 0 } } },
      { rule: { eth_type: 0x86dd, ip_proto: 58, actions: { allow: 0 } } },
    ].map((r) => r), 'the ACL itself is in the config');
    const st = readNetworkState(netJson);
    assert.equal([st.endpoints[0]!.container, st.endpoints[0]!.policy, st.networks[0]!.name], ['web1', 'labels', 'office']);
  });
});

test('CreateEndpoint: an unknown ACL label fails it with the label\'s name, and makes nothing; a known one joins', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'web1', labels: { 'dovesnap.faucet.portacl': 'nosuchacl' } }]);
    const mark = w.calls.length;
    const err = await fails(endpointCreate(ctx, { network: NET_A, endpoint: EP_1 }));
    assert.instance(err, NetworkError);
    assert.match(err.message, /dovesnap\.faucet\.portacl/);
    assert.match(err.message, /nosuchacl/);
    assert.equal(w.changes(mark), [], 'no veth made');
    assert.equal(readNetworkState(netJson).endpoints, []);
    // Positive control: the same container with an ACL the appliance has.
    dockerSees(w, [{ name: 'web1', labels: { 'dovesnap.faucet.portacl': 'deny-all' } }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-deny-all', 'dovelab-allow']);
  });
});

test('Join: ACLs from the appliance\'s ACL file, in Faucet syntax, per network (Dovesnap\'s net:value form)', async () => {
  await withDriver(async ({ w, ctx, cfg, create }) => {
    writeFileSync(cfg.aclFile, 'acls:\n  ratelimitit:\n    - rule: {actions: {allow: 1}}\n');
    await create(NET_A, { 'dovelab.vlan': '110', 'ovs.bridge.default_acl': 'ratelimitit' });
    dockerSees(w, [{ name: 'c1', labels: { 'dovesnap.faucet.portacl': 'othernet:deny-all/office:no-ping' } }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow'], 'the value for this network');
    dockerSees(w, [{ name: 'c1', labels: {}, state: 'running', endpoint: EP_1 }, { name: 'c2', labels: {} }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
    await endpointJoin(ctx, NET_A, EP_2);
    assert.equal(iface(w.faucetLive!, 4002)!.acls_in, ['appliance-ratelimitit', 'dovelab-allow'], 'no label: the network\'s default ACL');
  });
});

test('mirror=true copies the port to the appliance\'s mirror dongle (its own output-only port); mac_prefix is in the MAC Docker is given', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'tap1', labels: { 'dovelab.mirror': 'true', 'dovesnap.faucet.mac_prefix': '0e:99' } }]);
    const made = await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    assert.match(made.mac ?? '', /^0e:99:/, 'Docker records the prefixed MAC (Dovesnap changed it behind Docker\'s back)');
    assert.is(readNetworkState(netJson).endpoints[0]!.mac, made.mac);
    await endpointJoin(ctx, NET_A, EP_1);
    const mir = Object.entries(doc(w.faucetLive!).dps.dovelab0!.interfaces).find(([, i]) => i.name === 'mir0');
    assert.ok(mir, 'mir0 is on the bridge');
    assert.equal((mir![1] as { mirror?: number[]; output_only?: boolean }).mirror, [4001]);
    assert.is((mir![1] as { output_only?: boolean }).output_only, true);
    // With --mac-address as well: which one is meant is unclear, so neither.
    dockerSees(w, [{ name: 'tap1', labels: {}, state: 'running', endpoint: EP_1 }, { name: 'tap2', labels: { 'dovelab.mac_prefix': '0e:98' } }]);
    const err = await fails(endpointCreate(ctx, { network: NET_A, endpoint: EP_2, mac: '0e:99:00:00:00:07' }));
    assert.match(err.message, /dovelab\.mac_prefix 0e:98 and --mac-address 0e:99:00:00:00:07: give one of them/);
  });
});

test('mirror to a name the appliance does not have fails the join, naming the mirrors there are', async () => {
  await withDriver(async ({ w, ctx, create }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'tap1', labels: { 'dovelab.mirror': 'mir7' } }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    const err = await fails(endpointJoin(ctx, NET_A, EP_1));
    assert.match(err.message, /no mirror named mir7 \(mirrors here: mir0\)/);
    dockerSees(w, [{ name: 'tap2', labels: { 'dovelab.mirror': 'mir0' } }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
    await endpointJoin(ctx, NET_A, EP_2);
    assert.ok(w.ports.has('mir0'), 'positive control: mir0 by name');
  });
});

test('two containers starting at once: the driver does not guess; the labels follow once Docker lists the endpoint', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'a', labels: { 'dovelab.acl': 'deny-all' } }, { name: 'b', labels: { 'dovelab.acl': 'no-ping' } }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    // Answered with the network's defaults (none): no guess between a and b.
    const first = readNetworkState(netJson).endpoints[0]!;
    assert.equal([first.acls, first.container], [[], undefined]);
    // Docker's list now names the endpoint's container: b.
    w.dockerContainers[1]!.endpoint = EP_1;
    for (let i = 0; i < 400 && readNetworkState(netJson).endpoints[0]!.policy !== 'labels'; i++) await new Promise((r) => setTimeout(r, 5));
    const later = readNetworkState(netJson).endpoints[0]!;
    assert.equal([later.acls, later.container, later.policy], [['no-ping'], 'b', 'labels']);
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow']);
  });
});

test('pickJoining: the only container not running, else the only one just created; never a guess', () => {
  const now = 1_000_000;
  const c = (name: string, state: string, createdAgoMs: number, endpoint = '') => ({ name, state, endpoint, createdMs: now - createdAgoMs });
  const pick = (list: ReturnType<typeof c>[], joined: string[] = []) => pickJoining(list, new Set(joined), now)?.name;
  assert.is(pick([c('a', 'created', 60_000)]), 'a', 'the only one, however old (docker start of a stopped container)');
  assert.is(pick([c('a', 'running', 1), c('b', 'exited', 3_600_000)]), 'b', 'running ones are started already');
  assert.is(pick([c('a', 'exited', 3_600_000, 'ep1'), c('b', 'created', 500)], ['ep1']), 'b', 'an endpoint of ours already joined is not it');
  assert.is(pick([c('failed', 'created', 60_000), c('new', 'created', 300)]), 'new', 'docker run beside a container that failed a minute ago');
  assert.is(pick([c('a', 'created', 300), c('b', 'created', 900)]), undefined, 'two just created: no guess');
  assert.is(pick([c('a', 'exited', 60_000), c('b', 'exited', 120_000)]), undefined, 'two old stopped ones: no guess');
  assert.is(pick([]), undefined);
});

test('setEndpointPolicy (the console): ACLs and mirror of a container by name; an unknown ACL changes nothing', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'web1', labels: {} }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    await setEndpointPolicy(ctx, 'web1', { acls: ['no-ping'], mirror: true });
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['appliance-no-ping', 'dovelab-allow']);
    assert.ok(w.ports.has('mir0'));
    const live = w.faucetLive;
    const err = await fails(setEndpointPolicy(ctx, 'web1', { acls: ['nosuch'] }));
    assert.match(err.message, /ACL nosuch is not one of the appliance's \(known: allow-all, deny-all, no-ping\)/);
    assert.is(w.faucetLive, live);
    assert.instance(await fails(setEndpointPolicy(ctx, 'nobody', { acls: [] })), NetworkError);
    // Back to none, and the mirror off.
    await setEndpointPolicy(ctx, 'web1', { acls: [], mirror: false });
    assert.equal(iface(w.faucetLive!, 4001)!.acls_in, ['dovelab-allow']);
    assert.equal(readNetworkState(netJson).endpoints[0]!.policy, 'console');
    assert.not.ok(Object.values(doc(w.faucetLive!).dps.dovelab0!.interfaces).some((i) => i.name === 'mir0'), 'no mirrored port: no mirror port');
  });
});

test('dovelab.mirror=true with no mirror dongle: the networks\' mirror port (output_only, from 49 down) copies the container, its end in netns dovelab-mirror; gone with the last mirrored container', async () => {
  await withDriver(async ({ w, ctx, cfg, create }) => {
    cfg.dongles = { up0: 'uplink' };
    await create(NET_A, { 'dovelab.vlan': '110' });
    dockerSees(w, [{ name: 'web1', labels: {} }]);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    // Control: no mirrored container, no mirror port.
    assert.is(iface(w.faucetLive!, 49), undefined);
    const from = w.calls.length;
    await setEndpointPolicy(ctx, 'web1', { mirror: true });
    assert.equal(iface(w.faucetLive!, 49), { name: 'docker-mirror', description: 'mirror of Docker networks (tcpdump -i docker-mirror in netns dovelab-mirror)', output_only: true, mirror: [4001] });
    assert.ok(w.changes(from).includes('links.attachCapture dl49 dovelab-mirror:docker-mirror'), w.changes(from).join('\n'));
    assert.equal(w.ports.get('dl49')?.externalIds, { 'dovelab-lab': 'docker', 'dovelab-role': 'capture', 'dovelab-group': 'docker' });
    assert.is(readNetworkState(paths(cfg).networks).endpoints[0]!.mirror, true);
    // The console names it like a dongle: the same port.
    await setEndpointPolicy(ctx, 'web1', { mirror: 'docker-mirror' });
    assert.equal(iface(w.faucetLive!, 49)?.mirror, [4001]);
    await setEndpointPolicy(ctx, 'web1', { mirror: false });
    assert.is(iface(w.faucetLive!, 49), undefined, 'no mirrored container: no mirror port');
    assert.not.ok(w.ports.has('dl49'));
    // With a mirror dongle, `true` means the dongle again.
    cfg.dongles = { up0: 'uplink', mir0: 'mirror' };
    await setEndpointPolicy(ctx, 'web1', { mirror: true });
    assert.ok(w.ports.has('mir0'));
    assert.is(iface(w.faucetLive!, 49)?.name, 'mir0');
  });
});

test.run();

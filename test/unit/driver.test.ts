// The Docker network driver (issue 9) without Docker: the pure planning of driver networks beside
// a lesson (withNetworks, chooseVid, freeOfport), the verbs under the lab lock against the
// recording fake world (networks.json, OVS ports, the live Faucet config, refusals that change
// nothing, Faucet rejections that put the previous state back, a running lesson beside the
// networks), and libnetwork's remote-driver protocol through the hono app.
// Tests that say "was a bug" pin a defect found and fixed.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ConfigSchema, type Config } from '../../agent/config.js';
import { planDesired, type DesiredState, type PlanSettings } from '../../agent/lab/desired.js';
import { idleDesired } from '../../agent/lab/engine.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointDelete, endpointJoin, endpointLeave, endpointMac, networkDelete, NetworkError, type CreateNetworkRequest } from '../../agent/lab/networks.js';
import {
  chooseVid, emptyPluginState, endpointLinks, freeOfport, networkVlanName, PLUGIN_OFPORT_FIRST, PLUGIN_OFPORT_LAST, withNetworks,
  type PluginEndpoint, type PluginNetwork, type PluginState,
} from '../../agent/lab/plan-networks.js';
import { LabError, labDown, labRepair, labUp, restOf, setAcls, withLabLock } from '../../agent/lab/service.js';
import { TopologySchema, type Topology } from '../../agent/lesson/schema.js';
import { FaucetNotConfirmed, FaucetRejected } from '../../agent/net/faucet/apply.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { ALLOW_ALL, IDLE_VLAN } from '../../agent/net/faucet/model.js';
import { pluginApp } from '../../agent/web/plugin.js';
import { FakeWorld, isRead } from './_fake-adapters.js';
import { doc, EP_1, EP_2, EP_3, fails, iface, NET_A, NET_B, NET_C, planError, vids, vlanNamed, withDriver } from './_driver.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers


// ---------------------------------------------------------------------------------------------
// 1. Pure planning

const topo = (text: string): Topology => TopologySchema.parse(parse(text));
const settings: PlanSettings = { lab: 'demo', groups: 1, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' };
/** A lesson with an uplink (ofport 1), a mirror (2), a per-group network (101) and a shared one (110). */
const LESSON_TOPO = topo(`
dovelab: 1
networks: {lab: {}, office: {vlan: 110, shared: true}}
uplinks:
  wan: {interface: up0, networks: [lab]}
mirrors:
  tap: {interface: mir0, from: [h1.eth0]}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 198.51.100.1/24}}}
  h1: {interfaces: {eth0: {network: lab, ip: 192.0.2.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 192.0.2.12/24}}}
`);
const lessonDesired = (): DesiredState => planDesired(LESSON_TOPO, settings);
/** The default config (only its bridge and dp id matter to idleDesired; no dirs are touched). */
function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

const network = (id: string, vid: number, extra: Partial<PluginNetwork> = {}): PluginNetwork => ({
  id, vid, mode: 'flat', dhcp: false, mtu: 1500, tagged: false, uplinks: [], defaultAcls: [], options: {},
  createdAt: '2026-01-01T00:00:00.000Z', ...extra,
});
const endpoint = (id: string, net: string, ofport: number, joined = true): PluginEndpoint => ({
  id, network: net, ofport, ...endpointLinks(ofport), mac: endpointMac(id), acls: [], joined,
});

test('withNetworks: two networks beside a lesson: VLANs, joined endpoints as ports, uplinks numbered, faucet.yaml valid', () => {
  const d = lessonDesired();
  assert.equal(d.uplinks.map((u) => [u.iface, u.ofport]), [['up0', 1], ['mir0', 2]], 'the lesson\'s own uplinks (precondition)');
  const state: PluginState = {
    networks: [
      network(NET_A, 200, { uplinks: [{ iface: 'odsaddport1', ofport: 40, acls: [] }, { iface: 'odsaddport2', acls: [] }] }),
      network(NET_B, 300, { name: 'testnet', uplinks: [{ iface: 'odstest1', acls: [], vlan: 20 }, { iface: 'odstest2', acls: [], vlan: 300 }] }),
    ],
    endpoints: [endpoint(EP_1, NET_A, 4001), endpoint(EP_2, NET_A, 4002, false), endpoint(EP_3, NET_B, 4003)],
  };
  const before = structuredClone(d);
  const out = withNetworks(d, state);
  assert.equal(d, before, 'the desired state given is not changed');

  const vlanA = `docker-${NET_A.slice(0, 12)}`;
  assert.is(networkVlanName(state.networks[0]!), vlanA);
  assert.is(networkVlanName(state.networks[1]!), `docker-${NET_B.slice(0, 12)}`, 'known by its id even with a name (learnt late; a rename would be cold)');
  const byName = new Map(out.faucet.vlans.map((v) => [v.name, v.vid]));
  assert.is(byName.get(vlanA), 200);
  assert.is(byName.get(`docker-${NET_B.slice(0, 12)}`), 300);
  assert.is(byName.get('g1-lab'), 101, 'the lesson\'s VLANs stay');
  assert.is(byName.get('office'), 110);
  assert.is(byName.get(IDLE_VLAN.name), IDLE_VLAN.vid);

  // Joined endpoints are ports in their network's VLAN; one not joined is no port.
  const ports = new Map(out.faucet.dp.interfaces.map((i) => [i.number, i]));
  assert.is(ports.get(4001)?.name, `docker-${EP_1.slice(0, 12)}`);
  assert.is(ports.get(4001)?.native_vlan, vlanA);
  assert.is(ports.get(4001)?.acls_in?.at(-1), ALLOW_ALL, 'the ACL list ends in allow (warm swaps)');
  assert.is(ports.get(4003)?.native_vlan, `docker-${NET_B.slice(0, 12)}`);
  assert.is(ports.get(4003)?.acls_in?.at(-1), ALLOW_ALL);
  assert.not.ok(ports.has(4002), 'an endpoint not joined is no port');
  assert.equal(out.pluginPorts?.map((p) => [p.ofport, p.hostEnd, p.endpoint, p.network, p.vid]), [
    [4001, 'dl4001', EP_1, NET_A, 200], [4003, 'dl4003', EP_3, NET_B, 300],
  ]);

  // Uplinks: an asked port number is kept; the others get the highest free from 49 down, away from
  // the lesson's (1 up), so a lesson coming or going does not renumber them.
  const up = new Map(out.uplinks.map((u) => [u.iface, u]));
  assert.is(up.get('odsaddport1')?.ofport, 40);
  assert.is(up.get('odsaddport2')?.ofport, 49);
  assert.is(up.get('odstest1')?.ofport, 48);
  assert.is(up.get('odstest2')?.ofport, 47);
  for (const i of ['odsaddport1', 'odsaddport2', 'odstest1', 'odstest2']) {
    assert.is(up.get(i)?.owner, 'docker', `${i} belongs to Docker, not to the lesson`);
    assert.is(up.get(i)?.role, 'uplink');
  }
  assert.is(up.get('up0')?.owner, undefined, 'the lesson\'s uplink is the lesson\'s');
  assert.is(ports.get(40)?.native_vlan, vlanA);
  assert.is(ports.get(49)?.native_vlan, vlanA);
  // A per-port VLAN (add_ports' 4th field) is its own VLAN on that port; the network's own vid is just the network.
  const perPort = `docker-${NET_B.slice(0, 12)}-odstest1`;
  assert.is(byName.get(perPort), 20);
  assert.is(ports.get(48)?.native_vlan, perPort);
  assert.is(ports.get(47)?.native_vlan, `docker-${NET_B.slice(0, 12)}`, 'a 4th field equal to the network\'s VLAN is the network');
  for (const n of [40, 49, 48, 47]) assert.is(ports.get(n)?.acls_in?.at(-1), ALLOW_ALL);

  // The lesson's ports are all still there, unchanged.
  for (const i of d.faucet.dp.interfaces) assert.equal(ports.get(i.number), i);

  const yaml = emitFaucetYaml(out.faucet); // throws on a model Faucet would refuse
  assert.equal(vids(yaml), [20, 101, 110, 200, 300, 4094]);
  assert.is(iface(yaml, 4001)?.native_vlan, vlanA);
  assert.is(iface(yaml, 40)?.name, 'odsaddport1');
});

test('withNetworks: no networks -> the desired state unchanged but for pluginPorts: [] and slots: []', () => {
  for (const d of [lessonDesired(), idleDesired(defaultConfig())]) {
    assert.equal(withNetworks(d, emptyPluginState()), { ...d, pluginPorts: [], slots: [] });
    // Endpoints without their network are nothing either.
    assert.equal(withNetworks(d, { networks: [], endpoints: [endpoint(EP_1, NET_A, 4001)] }), { ...d, pluginPorts: [], slots: [] });
  }
  // Positive control: one network changes the plan.
  const d = lessonDesired();
  assert.not.equal(withNetworks(d, { networks: [network(NET_A, 200)], endpoints: [] }).faucet, d.faucet);
});

test('withNetworks: a network on the idle appliance: its uplinks from port 49 down, endpoints at theirs', () => {
  const out = withNetworks(idleDesired(defaultConfig()), {
    networks: [network(NET_A, 100, { uplinks: [{ iface: 'odsaddport1', acls: [] }] })],
    endpoints: [endpoint(EP_1, NET_A, 4001)],
  });
  assert.equal(out.uplinks.map((u) => [u.iface, u.ofport, u.native]), [['odsaddport1', 49, `docker-${NET_A.slice(0, 12)}`]]);
  const yaml = emitFaucetYaml(out.faucet);
  assert.equal(vids(yaml), [100, 4094]);
  assert.equal(Object.keys(doc(yaml).dps.dovelab0!.interfaces).map(Number).sort((a, b) => a - b), [49, 4001, 0xfe00]);
});

test('withNetworks: a tagged network carries its VLAN tagged on its uplinks', () => {
  const out = withNetworks(idleDesired(defaultConfig()), {
    networks: [network(NET_A, 120, { tagged: true, uplinks: [{ iface: 'trunk0', acls: [] }] })], endpoints: [],
  });
  const p = out.faucet.dp.interfaces.find((i) => i.name === 'trunk0');
  assert.is(p?.native_vlan, undefined);
  assert.equal(p?.tagged_vlans, [`docker-${NET_A.slice(0, 12)}`]);
  emitFaucetYaml(out.faucet);
});

test('withNetworks: clashes are PlanErrors naming both sides', () => {
  const d = lessonDesired();
  // A network's VLAN equal to a lesson VLAN (the shared network office, 110).
  planError(() => withNetworks(d, { networks: [network(NET_A, 110)], endpoints: [] }), /VLAN 110/, new RegExp(NET_A), /office/);
  // ... and to a per-group one (g1-lab, 101), by name.
  planError(() => withNetworks(d, { networks: [network(NET_A, 101, { name: 'testnet' })], endpoints: [] }), /network testnet: VLAN 101/, /g1-lab/);
  // Two networks with the same VLAN.
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { name: 'one' }), network(NET_B, 200, { name: 'two' })], endpoints: [] }),
    /network two: VLAN 200 is already used by network one/);
  // A per-port VLAN equal to a lesson's.
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { name: 'one', uplinks: [{ iface: 'odstest1', acls: [], vlan: 110 }] })], endpoints: [] }),
    /network one: odstest1's VLAN 110 is already used by office/);
  // An asked port number equal to a lesson port (g1-h1-eth0 is 101; the mirror is 2).
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsaddport1', ofport: 101, acls: [] }] })], endpoints: [] }),
    /uplink odsaddport1: port number 101 is already used by g1-h1-eth0/);
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsaddport1', ofport: 2, acls: [] }] })], endpoints: [] }),
    /uplink odsaddport1: port number 2 is already used by mir0/);
  // Two networks asking for the same port number.
  planError(() => withNetworks(d, {
    networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsa', ofport: 30, acls: [] }] }), network(NET_B, 300, { uplinks: [{ iface: 'odsb', ofport: 30, acls: [] }] })],
    endpoints: [],
  }), /uplink odsb: port number 30 is already used by uplink odsa/);
  // An endpoint on a port number an uplink asked for.
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsa', ofport: 4001, acls: [] }] })], endpoints: [endpoint(EP_1, NET_A, 4001)] }),
    new RegExp(`docker-${EP_1.slice(0, 12)}: port number 4001 is already used by uplink odsa`));
  // An interface that is the lesson's uplink, or mirror, and a network's.
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { name: 'one', uplinks: [{ iface: 'up0', acls: [] }] })], endpoints: [] }),
    /network one: interface up0 is already used by uplink wan/);
  planError(() => withNetworks(d, { networks: [network(NET_A, 200, { name: 'one', uplinks: [{ iface: 'mir0', acls: [] }] })], endpoints: [] }),
    /network one: interface mir0 is already used by mirror tap/);
  // Two networks bridging the same interface.
  planError(() => withNetworks(d, {
    networks: [network(NET_A, 200, { name: 'one', uplinks: [{ iface: 'odsa', acls: [] }] }), network(NET_B, 300, { name: 'two', uplinks: [{ iface: 'odsa', acls: [] }] })],
    endpoints: [],
  }), /network two: odsa already carries network one untagged; only one network may/);
  // Tagged, they share it as a trunk: one port, both VLANs tagged.
  const trunk = withNetworks(d, {
    networks: [network(NET_A, 200, { name: 'one', tagged: true, uplinks: [{ iface: 'odsa', acls: [] }] }), network(NET_B, 300, { name: 'two', tagged: true, uplinks: [{ iface: 'odsa', acls: [] }] })],
    endpoints: [],
  });
  assert.equal(trunk.uplinks.filter((u) => u.iface === 'odsa').map((u) => [u.native, u.tagged]), [[undefined, [`docker-${NET_A.slice(0, 12)}`, `docker-${NET_B.slice(0, 12)}`]]]);
  // The reserved idle VLAN.
  planError(() => withNetworks(d, { networks: [network(NET_A, IDLE_VLAN.vid)], endpoints: [] }), /VLAN 4094 is already used by dovelab-idle/);

  // Positive control: the same shapes without the clash plan fine.
  const ok = withNetworks(d, {
    networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsa', ofport: 30, acls: [] }] }), network(NET_B, 300, { uplinks: [{ iface: 'odsb', ofport: 31, acls: [] }] })],
    endpoints: [endpoint(EP_1, NET_A, 4001)],
  });
  emitFaucetYaml(ok.faucet);
});

test('withNetworks: numbers asked for are given first, whatever the order of add_ports', () => {
  // `-o ovs.bridge.add_ports=odsaddport1,odsaddport2/1` on the idle appliance (was a bug: list order won).
  const st: PluginState = { networks: [network(NET_A, 100, { uplinks: [{ iface: 'odsaddport1', acls: [] }, { iface: 'odsaddport2', ofport: 1, acls: [] }] })], endpoints: [] };
  let out: DesiredState | undefined;
  try { out = withNetworks(idleDesired(defaultConfig()), st); } catch (e) {
    assert.unreachable(`refused: ${(e as Error).message}`);
  }
  assert.equal(out!.uplinks.map((u) => [u.iface, u.ofport]).sort(), [['odsaddport1', 49], ['odsaddport2', 1]]);
});

test('chooseVid: the VLAN asked if free; none asked: 100 if free; refusals name the option', () => {
  assert.is(chooseVid(110, new Set([100, 4094])), 110);
  assert.is(chooseVid(1, new Set()), 1);
  assert.is(chooseVid(4093, new Set([4094])), 4093);
  assert.is(chooseVid(undefined, new Set()), 100);
  assert.is(chooseVid(undefined, new Set([101, 102, 4094])), 100);
  planError(() => chooseVid(110, new Set([110])), /^dovelab\.vlan: VLAN 110 is already used/);
  planError(() => chooseVid(110, new Set([110]), 'ovs.bridge.vlan'), /^ovs\.bridge\.vlan: VLAN 110/);
  planError(() => chooseVid(IDLE_VLAN.vid, new Set()), /^dovelab\.vlan: VLAN 4094 is reserved/);
  // Every VLAN taken.
  const all = new Set(Array.from({ length: 4094 }, (_, i) => i + 1));
  planError(() => chooseVid(undefined, all), /no free VLAN/);
  // Only one left: it is found wherever it is.
  for (const free of [2, 99, 101, 4093]) {
    const taken = new Set(all);
    taken.delete(free);
    assert.is(chooseVid(undefined, taken), free, `only ${free} free`);
  }
});

test('chooseVid: with 100 taken and none asked, never a VLAN lessons give their groups (101..3099)', () => {
  // Was a bug: it took 101, every lesson's group-1 VLAN, so every later `dovelab up` was refused.
  assert.is(chooseVid(undefined, new Set([100, 4094])), 3100);
  assert.is(chooseVid(undefined, new Set([100, 4094, ...Array.from({ length: 994 }, (_, i) => 3100 + i)])), 2);
});

test('freeOfport: the lowest of 4001..8999 used by no endpoint and no port of the plan', () => {
  const d = lessonDesired();
  assert.is(freeOfport(emptyPluginState(), d), PLUGIN_OFPORT_FIRST);
  const st = (...ofports: number[]): PluginState => ({ networks: [network(NET_A, 200)], endpoints: ofports.map((p, i) => endpoint(`${i}`.repeat(64).slice(0, 64), NET_A, p, i % 2 === 0)) });
  assert.is(freeOfport(st(4001, 4002), d), 4003, 'joined or not, an endpoint holds its number');
  assert.is(freeOfport(st(4002, 4003), d), 4001, 'a gap is reused');
  // A port of the plan (here an uplink asking for 4001) holds its number too.
  const withUplink = withNetworks(d, { networks: [network(NET_A, 200, { uplinks: [{ iface: 'odsa', ofport: 4001, acls: [] }] })], endpoints: [] });
  assert.is(freeOfport(emptyPluginState(), withUplink), 4002);
  // The last one, then none.
  const range = Array.from({ length: PLUGIN_OFPORT_LAST - PLUGIN_OFPORT_FIRST + 1 }, (_, i) => PLUGIN_OFPORT_FIRST + i);
  const full: PluginState = { networks: [], endpoints: range.map((p) => ({ ...endpoint(String(p), NET_A, p), id: String(p) })) };
  assert.is(freeOfport({ networks: [], endpoints: full.endpoints.slice(0, -1) }, d), PLUGIN_OFPORT_LAST);
  planError(() => freeOfport(full, d), /no free port numbers left/);
});

test('endpointMac: a locally administered unicast MAC, stable for the endpoint id', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = `${i}`.padStart(64, 'f');
    const mac = endpointMac(id);
    assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const first = parseInt(mac.slice(0, 2), 16);
    assert.ok(first & 0x02, `${mac}: locally administered`);
    assert.not.ok(first & 0x01, `${mac}: unicast`);
    assert.is(endpointMac(id), mac, 'stable');
    seen.add(mac);
  }
  assert.is(seen.size, 200, 'different endpoints, different MACs');
});

// ---------------------------------------------------------------------------------------------
// 2. The verbs over the fake world

const read = (file: string) => readFileSync(file, 'utf8');

test('dhcp=true: after Join the client starts in the container\'s netns with the container\'s name; Leave stops it', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.dhcp': 'true', 'dovelab.uplink': 'odsaddport2' }, { ipv4: [] });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    const mac = readNetworkState(netJson).endpoints[0]!.mac;
    await endpointJoin(ctx, NET_A, EP_1, '/var/run/docker/netns/abc123');
    // Set off before Join answers (it then waits for Docker, outside the lock).
    assert.ok(w.has(`endpoints.containerOf ${EP_1.slice(0, 12)}`));
    const started = `endpoints.startDhcp ${mac} ctr-${EP_1.slice(0, 6)}`;
    for (let i = 0; i < 200 && !readNetworkState(netJson).endpoints[0]!.dhcpPid; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(w.has(started), 'the client started, named after the container');
    const ep = readNetworkState(netJson).endpoints[0]!;
    assert.equal([ep.dhcpPid, ep.ifname, ep.container, ep.sandbox], [424242, 'eth0', `ctr-${EP_1.slice(0, 6)}`, '/var/run/docker/netns/abc123']);
    await endpointLeave(ctx, NET_A, EP_1);
    assert.ok(w.has('endpoints.stopDhcp 424242'), 'Leave stops it');
    assert.is(readNetworkState(netJson).endpoints[0]!.dhcpPid, undefined);
  });
  // A network without dhcp: Join sets nothing off (the same check as above, which saw it).
  await withDriver(async ({ w, ctx, create }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1, '/var/run/docker/netns/abc123');
    assert.ok(w.has(`endpoints.containerOf ${EP_1.slice(0, 12)}`), 'the container is still looked up (for its labels)');
    assert.not.ok(w.calls.some((c) => c.startsWith('endpoints.startDhcp')));
  });
});

test('Join while OVS or Faucet does not answer (dockerd restoring containers): recorded and answered at once; the next repair puts the port on', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    w.fail('faucet.ping', 'connect ECONNREFUSED 127.0.0.1:9302');
    const mark = w.calls.length;
    const r = await endpointJoin(ctx, NET_A, EP_1);
    assert.is(r.srcName, 'dp4001');
    assert.ok(readNetworkState(netJson).endpoints[0]!.joined, 'recorded as joined');
    assert.not.ok(w.has('faucet.apply', mark) || w.has('ovs.addPort dl4001 4001', mark), 'nothing applied while Faucet is away');
    w.heal();
    await labRepair(ctx);
    assert.ok(w.has('ovs.addPort dl4001 4001', mark), 'the repair put the port on');
    assert.ok(iface(w.faucetLive!, 4001), 'and into the live config');
  });
});

test('Join while OVS and Faucet answer but Docker does not (dockerd restoring, its API waits on our Joins): answered without the lab lock; the next repair puts the port on', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    w.fail('hosts.list', 'Docker: list lab hosts: no answer within 30 s');
    const mark = w.calls.length;
    // A repair would hold the lab lock while it waits on Docker: the Join must not wait for it.
    const r = await withLabLock(ctx.cfg, () => endpointJoin(ctx, NET_A, EP_1));
    assert.is(r.srcName, 'dp4001');
    assert.ok(w.has(`ovs.bridgeExists ${ctx.cfg.bridge}`, mark) && w.has('faucet.ping', mark), 'OVS and Faucet were asked (and answered)');
    assert.ok(readNetworkState(netJson).endpoints[0]!.joined, 'recorded as joined');
    assert.not.ok(w.has('faucet.apply', mark) || w.has('ovs.addPort dl4001 4001', mark), 'nothing applied while Docker is away');
    w.heal();
    await labRepair(ctx);
    assert.ok(w.has('ovs.addPort dl4001 4001', mark), 'the repair put the port on');
  });
});

test('a repair that read the networks before a Join answered without the lab lock leaves that endpoint\'s veth alone (the name of a port OVS still had from before)', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.ok(w.has('ovs.addPort dl4001 4001'), 'control: the port is on');
    // dockerd stops: OVS is away, Leave and Delete go to the file only; OVS keeps dl4001 for EP_1.
    w.fail(`ovs.bridgeExists ${ctx.cfg.bridge}`, 'OVSDB: connection to ovsdb-server lost');
    await endpointLeave(ctx, NET_A, EP_1);
    await endpointDelete(ctx, NET_A, EP_1);
    w.heal();
    // dockerd restores: a repair reads the networks, then waits on Docker; meanwhile a new
    // endpoint is made and joins without the lab lock (Docker does not answer) on the same name.
    const list = ctx.hosts.list;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let waiting = false;
    ctx.hosts.list = async () => {
      if (!waiting) { waiting = true; await gate; return list(); }
      throw new Error('Docker: list lab hosts: no answer within 30 s');
    };
    const repair = labRepair(ctx);
    while (!waiting) await new Promise((r) => setImmediate(r));
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
    await endpointJoin(ctx, NET_A, EP_2);
    const ep2 = readNetworkState(netJson).endpoints.find((e) => e.id === EP_2)!;
    assert.is(ep2.hostEnd, 'dl4001', 'the new endpoint has the old name');
    assert.ok(ep2.joined);
    const mark = w.calls.length;
    ctx.hosts.list = list;
    release();
    await repair;
    assert.not.ok(w.has('links.deleteLink dl4001', mark), 'the stale repair did not delete the new endpoint\'s veth');
    // Positive control: the next repair sees EP_2 and puts its port on.
    await labRepair(ctx);
    assert.ok(w.has('ovs.addPort dl4001 4001', mark), 'the next repair set the port right');
    assert.is(readNetworkState(netJson).endpoints.find((e) => e.id === EP_2)?.joined, true);
  });
});

test('networkCreate: networks.json has the network, the live Faucet config its VLAN; the same id again changes nothing', async () => {
  await withDriver(async ({ w, create, netJson }) => {
    assert.not.ok(existsSync(netJson));
    const r = await create(NET_A, { 'dovelab.vlan': '110' });
    assert.is(r.vid, 110);
    const st = readNetworkState(netJson);
    assert.equal(st.networks.map((n) => [n.id, n.vid, n.mode, n.gateway, n.options]), [[NET_A, 110, 'flat', '198.51.100.1/24', { 'dovelab.vlan': '110' }]]);
    assert.equal(st.endpoints, []);
    assert.ok(w.faucetLive, 'a faucet.yaml was applied');
    assert.is(vlanNamed(w.faucetLive!, 110), `docker-${NET_A.slice(0, 12)}`);
    assert.equal(vids(w.faucetLive!), [110, 4094]);
    assert.ok(w.has('faucet.check'), 'Faucet checked the new config');
    // Docker may send CreateNetwork again (a retry): the same network, no change.
    const before = read(netJson);
    const mark = w.calls.length;
    assert.is((await create(NET_A, { 'dovelab.vlan': '110' })).vid, 110);
    assert.is(read(netJson), before);
    assert.equal(w.changes(mark), []);
    // Without a VLAN asked: 100.
    assert.is((await create(NET_B)).vid, 100);
    assert.equal(vids(w.faucetLive!), [100, 110, 4094]);
  });
});

test('networkCreate: an uplink (add_ports) is hardened and on the bridge, owned by docker, in the network\'s VLAN', async () => {
  await withDriver(async ({ w, create }) => {
    const r = await create(NET_A, { 'ovs.bridge.add_ports': 'odsaddport1', 'ovs.bridge.vlan': '120', 'ovs.bridge.preallocate_ports': '10' });
    assert.is(r.vid, 120);
    assert.match(r.warnings.join('\n'), /preallocate_ports/);
    assert.match(w.log.join('\n'), /preallocate_ports/, 'warnings are logged');
    assert.ok(w.has('dongles.harden odsaddport1'));
    assert.ok(w.has('ovs.addPort odsaddport1 49'));
    assert.is(w.ports.get('odsaddport1')?.externalIds['dovelab-lab'], 'docker');
    assert.is(iface(w.faucetLive!, 49)?.native_vlan, vlanNamed(w.faucetLive!, 120));
    assert.ok(w.firewall.at(-1)?.includes('odsaddport1'), 'the firewall drops what comes in on it');
  });
});

test('networkCreate refusals (bad option, unknown interface, the appliance\'s own interface, VLAN clash, nat without IPAM, routed over the appliance\'s subnet) change nothing', async () => {
  await withDriver(async ({ w, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    w.interfaces.add('dl101');
    const json = read(netJson);
    const live = w.faucetLive;
    const refusals: [Record<string, unknown>, RegExp, Partial<CreateNetworkRequest>?][] = [
      [{ 'dovelab.vlan': '5000' }, /^dovelab\.vlan: "5000"/],
      [{ 'dovelab.vlna': '120' }, /^dovelab\.vlna: unknown option/],
      [{ 'ovs.bridge.add_ports': 'nope0' }, /^nope0: no such interface on the appliance/],
      [{ 'ovs.bridge.add_ports': 'eth0' }, /^eth0 cannot be bridged into a network: eth0 has an address \(192\.168\.1\.20\/24\)/],
      [{ 'dovelab.uplink': 'dl101' }, /^dl101 cannot be bridged into a network: dl101 is reserved for Dovelab's lab ports/],
      [{ 'dovelab.vlan': '110' }, /VLAN 110 is already used/],
      [{ 'dovelab.vlan': '4094' }, /4094/],
      [{ 'dovelab.mode': 'nat' }, /^dovelab\.mode: nat needs the network's IP config/, { ipv4: [] }],
      [{ 'ovs.bridge.mode': 'routed' }, /^ovs\.bridge\.mode: routed network 192\.168\.1\.0\/24 overlaps the appliance's own 192\.168\.1\.20\/24 on eth0/,
        { ipv4: [{ Pool: '192.168.1.0/24', Gateway: '192.168.1.1/24' }] }],
    ];
    for (const [generic, re, extra] of refusals) {
      const mark = w.calls.length;
      const err = await fails(create(NET_B, generic, extra));
      assert.instance(err, NetworkError, `${JSON.stringify(generic)}: ${err}`);
      assert.match(err.message, re, JSON.stringify(generic));
      assert.equal(w.changes(mark), [], `${JSON.stringify(generic)}: only reads`);
      assert.is(read(netJson), json, `${JSON.stringify(generic)}: networks.json unchanged`);
      assert.is(w.faucetLive, live, `${JSON.stringify(generic)}: live config unchanged`);
    }
    // Positive control: a good create of the same id changes both.
    await create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.add_ports': 'odsaddport1' });
    assert.is.not(read(netJson), json);
    assert.equal(readNetworkState(netJson).networks.map((n) => n.vid), [110, 120]);
    assert.is.not(w.faucetLive, live);
    assert.ok(vlanNamed(w.faucetLive!, 120));
  });
});

test('networkCreate: a VLAN clash given as ovs.bridge.vlan is reported as dovelab.vlan', async () => {
  // lab/networks.ts networkCreate calls chooseVid(o.vlan, …) without the option's name, so a
  // Dovesnap command line (-o ovs.bridge.vlan=110) is told about an option it never gave.
  await withDriver(async ({ create }) => {
    await create(NET_A, { 'ovs.bridge.vlan': '110' });
    const err = await fails(create(NET_B, { 'ovs.bridge.vlan': '110' }));
    assert.instance(err, NetworkError);
    assert.match(err.message, /VLAN 110 is already used/, 'the clash itself (precondition)');
    assert.match(err.message, /^ovs\.bridge\.vlan: /);
  });
});

test('networkCreate: a Faucet rejection (check or apply) puts networks.json and the live config back', async () => {
  await withDriver(async ({ w, create, netJson }) => {
    // The first network: "no networks" is what comes back.
    w.fail('faucet.check', new FaucetRejected('bad config'), 1);
    assert.instance(await fails(create(NET_A, { 'dovelab.vlan': '110' })), FaucetRejected);
    assert.equal(readNetworkState(netJson), emptyPluginState());
    assert.ok(w.faucetLive === undefined || vids(w.faucetLive).join() === '4094', 'no VLAN 110 live (at most the idle config, put back)');
    assert.not.ok(w.calls.some((c) => c.startsWith('ovs.addPort')));

    await create(NET_A, { 'dovelab.vlan': '110' });
    const json = read(netJson);
    const live = w.faucetLive;

    w.fail('faucet.check', new FaucetRejected('bad config'), 1);
    assert.instance(await fails(create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.add_ports': 'odsaddport1' })), FaucetRejected);
    assert.is(read(netJson), json, 'check refused: networks.json byte for byte');
    assert.is(w.faucetLive, live);
    assert.not.ok(w.has('dongles.harden odsaddport1'), 'refused before any change');

    w.fail('faucet.apply', new FaucetNotConfirmed('Faucet did not confirm'), 1);
    const mark = w.calls.length;
    assert.instance(await fails(create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.add_ports': 'odsaddport1' })), FaucetNotConfirmed);
    assert.is(read(netJson), json, 'apply failed: networks.json byte for byte');
    assert.equal(w.faucetApplied.slice(-2).map((a) => [a.ok, a.text === live]), [[false, false], [true, true]], 'the new config failed, the previous one went back');
    assert.is(w.faucetLive, live);
    assert.ok(w.has('ovs.addPort odsaddport1 49', mark) && w.has('ovs.deletePort odsaddport1', mark) && w.has('dongles.release odsaddport1', mark),
      'the uplink added for the failed change was taken off again');
    assert.not.ok(w.ports.has('odsaddport1'));

    // Positive control: the same create, Faucet agreeing.
    await create(NET_B, { 'dovelab.vlan': '120', 'ovs.bridge.add_ports': 'odsaddport1' });
    assert.equal(readNetworkState(netJson).networks.map((n) => n.vid), [110, 120]);
    assert.ok(vlanNamed(w.faucetLive!, 120));
    assert.ok(w.ports.has('odsaddport1'));
  });
});

test('endpointCreate: a veth pair with the chosen MAC (or Docker\'s); refuses an unknown network and a multicast MAC', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    const live = w.faucetLive;
    const mark = w.calls.length;
    const r = await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    assert.is(r.mac, endpointMac(EP_1), 'the MAC chosen is the endpoint\'s stable one');
    const first = parseInt(r.mac!.slice(0, 2), 16);
    assert.ok((first & 0x02) && !(first & 0x01), `${r.mac}: locally administered unicast`);
    assert.ok(w.has(`links.createEndpointVeth dl4001 dp4001 ${r.mac}`, mark));
    assert.equal(w.changes(mark), [`links.createEndpointVeth dl4001 dp4001 ${r.mac}`], 'only the veth: no port, no Faucet change before Join');
    assert.is(w.faucetLive, live);
    assert.not.ok(w.ports.has('dl4001'));
    assert.equal(readNetworkState(netJson).endpoints.map((e) => [e.id, e.network, e.ofport, e.hostEnd, e.peer, e.mac, e.joined]),
      [[EP_1, NET_A, 4001, 'dl4001', 'dp4001', r.mac, false]]);
    // Docker asks again for the same endpoint: the same MAC, no second veth.
    const mark2 = w.calls.length;
    assert.equal(await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 }), { mac: r.mac });
    assert.equal(w.changes(mark2), []);

    // Docker gave a MAC (--mac-address): it is used, and not sent back.
    const r2 = await endpointCreate(ctx, { network: NET_A, endpoint: EP_2, mac: '0E:99:00:00:00:07', address: '198.51.100.22/24' });
    assert.equal(r2, {});
    assert.ok(w.has('links.createEndpointVeth dl4002 dp4002 0e:99:00:00:00:07'));
    assert.is(readNetworkState(netJson).endpoints[1]?.address, '198.51.100.22/24');

    // Refusals: nothing made, nothing written.
    const json = read(netJson);
    for (const [req, re] of [
      [{ network: NET_C, endpoint: EP_3 }, /network c3c3c3c3c3c3 is not one of this appliance's/],
      [{ network: NET_A, endpoint: EP_3, mac: '01:00:5e:00:00:07' }, /01:00:5e:00:00:07: not a unicast MAC/],
      [{ network: NET_A, endpoint: EP_3, mac: 'not-a-mac' }, /not a unicast MAC/],
    ] as const) {
      const m = w.calls.length;
      const err = await fails(endpointCreate(ctx, req));
      assert.instance(err, NetworkError, String(err));
      assert.match(err.message, re);
      assert.equal(w.changes(m), [], `${JSON.stringify(req)}: nothing made`);
      assert.is(read(netJson), json);
    }
    // Positive control: EP_3 with a unicast MAC on NET_A is made.
    assert.equal(await endpointCreate(ctx, { network: NET_A, endpoint: EP_3, mac: '02:00:5e:00:00:07' }), {});
    assert.ok(w.has('links.createEndpointVeth dl4003 dp4003 02:00:5e:00:00:07'));
  });
});

test('endpointCreate: a veth that cannot be made leaves no endpoint in networks.json', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    w.fail(`links.createEndpointVeth dl4001 dp4001 ${endpointMac(EP_1)}`, 'RTNETLINK answers: File exists', 1);
    await fails(endpointCreate(ctx, { network: NET_A, endpoint: EP_1 }));
    assert.equal(readNetworkState(netJson).endpoints, []);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    assert.equal(readNetworkState(netJson).endpoints.map((e) => e.id), [EP_1]);
  });
});

test('endpointJoin/Leave/Delete: the OVS port in the network\'s VLAN after Faucet confirms; leave takes it off; delete the link', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    const mark = w.calls.length;
    const j = await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(j, { srcName: 'dp4001' });
    assert.ok(w.has('ovs.addPort dl4001 4001', mark));
    assert.is(w.ports.get('dl4001')?.externalIds['dovelab-endpoint'], EP_1);
    assert.is(w.ports.get('dl4001')?.externalIds['dovelab-role'], 'plugin');
    const vlan = vlanNamed(w.faucetLive!, 110);
    assert.is(vlan, `docker-${NET_A.slice(0, 12)}`);
    assert.equal(iface(w.faucetLive!, 4001), { name: `docker-${EP_1.slice(0, 12)}`, description: `container on ${NET_A.slice(0, 12)}`, native_vlan: vlan, acls_in: [ALLOW_ALL] });
    // Answers once Faucet confirmed: the apply is the last change of the join.
    const changes = w.changes(mark);
    assert.is(changes.at(-1), 'faucet.apply', `${changes}`);
    assert.ok(w.calls.indexOf('ovs.addPort dl4001 4001', mark) < w.calls.lastIndexOf('faucet.apply'));
    assert.ok(readNetworkState(netJson).endpoints[0]?.joined);

    // Leave: the port is off the bridge and out of Faucet; the VLAN stays.
    const mark2 = w.calls.length;
    await endpointLeave(ctx, NET_A, EP_1);
    assert.ok(w.has('ovs.deletePort dl4001', mark2));
    assert.not.ok(w.ports.has('dl4001'));
    assert.is(iface(w.faucetLive!, 4001), undefined);
    assert.equal(vids(w.faucetLive!), [110, 4094]);
    assert.equal(readNetworkState(netJson).endpoints.map((e) => [e.id, e.joined]), [[EP_1, false]]);
    // A second Leave: nothing to do.
    const mark3 = w.calls.length;
    await endpointLeave(ctx, NET_A, EP_1);
    assert.equal(w.changes(mark3), []);

    // Delete: the link goes, and the endpoint.
    const mark4 = w.calls.length;
    await endpointDelete(ctx, NET_A, EP_1);
    assert.ok(w.has('links.deleteLink dl4001', mark4));
    assert.equal(readNetworkState(netJson).endpoints, []);
    // Its number is free again.
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 });
    assert.equal(readNetworkState(netJson).endpoints.map((e) => e.ofport), [4001]);
  });
});

test('endpointJoin: unknown endpoint refused; a Faucet apply that fails leaves the endpoint not joined and no port', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    assert.instance(await fails(endpointJoin(ctx, NET_A, EP_2)), NetworkError);
    assert.instance(await fails(endpointJoin(ctx, NET_B, EP_1)), NetworkError, 'the endpoint of another network');
    const json = read(netJson);
    const live = w.faucetLive;
    w.fail('faucet.apply', new FaucetNotConfirmed('no'), 1);
    assert.instance(await fails(endpointJoin(ctx, NET_A, EP_1)), FaucetNotConfirmed);
    assert.is(read(netJson), json);
    assert.is(w.faucetLive, live);
    assert.not.ok(w.ports.has('dl4001'), 'the port added for the failed join was taken off');
    // Positive control.
    await endpointJoin(ctx, NET_A, EP_1);
    assert.ok(w.ports.has('dl4001'));
    assert.ok(iface(w.faucetLive!, 4001));
  });
});

test('networkDelete: the network\'s VLAN, ports, uplinks and endpoints go; another network stays', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110', 'dovelab.uplink': 'odsaddport2' });
    await create(NET_B, { 'dovelab.vlan': '120' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2 }); // made, never joined
    await endpointCreate(ctx, { network: NET_B, endpoint: EP_3 });
    await endpointJoin(ctx, NET_B, EP_3);
    assert.equal(vids(w.faucetLive!), [110, 120, 4094]);
    assert.ok(w.ports.has('odsaddport2') && w.ports.has('dl4001') && w.ports.has('dl4003'));

    const mark = w.calls.length;
    await networkDelete(ctx, NET_A);
    assert.equal(vids(w.faucetLive!), [120, 4094]);
    assert.is(iface(w.faucetLive!, 4001), undefined);
    assert.ok(iface(w.faucetLive!, 4003), 'the other network\'s port stays');
    assert.ok(w.has('ovs.deletePort dl4001', mark) && w.has('ovs.deletePort odsaddport2', mark));
    assert.ok(w.has('dongles.release odsaddport2', mark), 'the uplink gets its settings back');
    assert.ok(w.has('links.deleteLink dl4001', mark) && w.has('links.deleteLink dl4002', mark), 'both endpoints\' links go');
    assert.not.ok(w.calls.slice(mark).some((c) => c.includes('dl4003') && !isRead(c)), 'the other network untouched');
    assert.ok(w.ports.has('dl4003'));
    const st = readNetworkState(netJson);
    assert.equal(st.networks.map((n) => n.id), [NET_B]);
    assert.equal(st.endpoints.map((e) => e.id), [EP_3]);
    // Deleting it again (Docker retries): nothing.
    const mark2 = w.calls.length;
    await networkDelete(ctx, NET_A);
    assert.equal(w.changes(mark2), []);
  });
});

const LESSON = `
dovelab: 1
id: svc
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 192.0.2.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 192.0.2.12/24}}}
acls:
  no-ping:
    - {match: {ip_proto: icmp}, action: drop}
`;

test('with a lesson running: a network\'s ports survive setAcls, labRepair and labDown; labDown keeps the network', async () => {
  await withDriver(async ({ w, ctx, cfg, create, lesson, netJson, labJson }) => {
    await labUp(ctx, lesson(LESSON), 1);
    await create(NET_A, { 'dovelab.vlan': '110', 'dovelab.uplink': 'odsaddport2' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1 });
    await endpointJoin(ctx, NET_A, EP_1);
    assert.equal(vids(w.faucetLive!), [101, 110, 4094]);
    assert.is(iface(w.faucetLive!, 101)?.name, 'g1-h1-eth0');
    assert.is(iface(w.faucetLive!, 4001)?.native_vlan, vlanNamed(w.faucetLive!, 110));
    const json = read(netJson);
    /** Changes to the network's port and uplink since `from`. */
    const touched = (from: number) => w.calls.slice(from).filter((c) =>
      /^(ovs\.(addPort|deletePort)|links\.(deleteLink|setLinkUp|createEndpointVeth)|dongles\.(harden|release)) (dl4001|odsaddport2)\b/.test(c));

    let mark = w.calls.length;
    await setAcls(ctx, 'h1.eth0', ['no-ping']);
    assert.equal(iface(w.faucetLive!, 101)?.acls_in, ['lesson-no-ping', ALLOW_ALL], 'the lesson change applied');
    assert.equal(touched(mark), [], 'setAcls left the network\'s ports alone');
    assert.is(iface(w.faucetLive!, 4001)?.native_vlan, vlanNamed(w.faucetLive!, 110));

    mark = w.calls.length;
    const r = await labRepair(ctx);
    assert.ok(r);
    assert.equal(touched(mark), [], 'labRepair left them alone too');
    assert.ok(iface(w.faucetLive!, 4001));

    mark = w.calls.length;
    await labDown(ctx);
    assert.not.ok(existsSync(labJson), 'the lab is gone');
    assert.not.ok(w.hosts.size, 'its hosts too');
    assert.ok(w.has('ovs.deletePort dl101', mark), 'its ports too');
    assert.equal(touched(mark), [], 'labDown left the network\'s ports alone');
    assert.ok(w.ports.has('dl4001') && w.ports.has('odsaddport2'));
    assert.is(read(netJson), json, 'the network is kept');
    assert.is(w.faucetLive, emitFaucetYaml(restOf(cfg).faucet), 'live: the idle config plus the network');
    assert.equal(vids(w.faucetLive!), [110, 4094]);
    assert.ok(iface(w.faucetLive!, 4001) && iface(w.faucetLive!, 49));

    // No lab: labRepair still repairs the network (a port lost, e.g. OVS restarted).
    w.ports.delete('dl4001');
    mark = w.calls.length;
    await labRepair(ctx);
    assert.ok(w.has('ovs.addPort dl4001 4001', mark), 'repaired with no lab');

    // Positive control for "left alone": a Leave does take the port off.
    mark = w.calls.length;
    await endpointLeave(ctx, NET_A, EP_1);
    assert.ok(touched(mark).includes('ovs.deletePort dl4001'));
  });
});

test('labUp of a lesson whose VLAN is a network\'s fails with a clear error, changing nothing', async () => {
  await withDriver(async ({ w, ctx, create, lesson, labJson }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    const live = w.faucetLive;
    const shared = (vlan: number) => `
dovelab: 1
id: office
networks: {office: {vlan: ${vlan}, shared: true}}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 198.51.100.1/24}}}
`;
    const mark = w.calls.length;
    const err = await fails(labUp(ctx, lesson(shared(110), 'clash'), 1));
    assert.instance(err, LabError);
    assert.match(err.message, /VLAN 110 is already used by office/);
    assert.match(err.message, new RegExp(`network ${NET_A}`), 'names the network');
    assert.equal(w.changes(mark), []);
    assert.not.ok(existsSync(labJson));
    assert.is(w.faucetLive, live);
    // Positive control: on VLAN 120 it comes up beside the network.
    await labUp(ctx, lesson(shared(120), 'fine'), 1);
    assert.ok(existsSync(labJson));
    assert.equal(vids(w.faucetLive!), [110, 120, 4094]);
  });
});

test('two networks without dovelab.vlan (100, then 101): the next `dovelab up` of a one-group lesson is refused', async () => {
  // lab/plan-networks.ts chooseVid: with 100 taken it takes 101, the first VLAN of every lesson's
  // group 1 (desired.ts vlanOf: group*100+k). The Docker networks then block every lesson.
  await withDriver(async ({ ctx, create, lesson }) => {
    assert.is((await create(NET_A)).vid, 100);
    const second = (await create(NET_B)).vid;
    try {
      await labUp(ctx, lesson(LESSON), 1);
    } catch (e) {
      assert.unreachable(`second network on VLAN ${second}; dovelab up refused: ${(e as Error).message}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. The protocol (libnetwork's remote driver) through the hono app

interface Reply { status: number; body: Record<string, unknown>; type: string | null }

async function withPlugin(fn: (p: { call: (path: string, body?: unknown) => Promise<Reply>; w: FakeWorld; netJson: string; logs: Record<string, unknown>[] }) => Promise<void>) {
  await withDriver(async ({ w, ctx, netJson }) => {
    const logs: Record<string, unknown>[] = [];
    const app = pluginApp(ctx, (f) => { logs.push(f); });
    const call = async (path: string, body?: unknown): Promise<Reply> => {
      const res = await app.request(path, { method: 'POST', body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: Record<string, unknown>;
      try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { assert.unreachable(`${path}: the reply is not JSON: ${text}`); throw new Error(); }
      return { status: res.status, body: parsed, type: res.headers.get('content-type') };
    };
    await fn({ call, w, netJson, logs });
  });
}

/** Docker's CreateNetwork request for `docker network create -d dovelab --internal --subnet 198.51.100.0/24 -o …`. */
const createNetworkBody = (id: string, generic: Record<string, string>) => ({
  NetworkID: id,
  Options: { 'com.docker.network.generic': generic, 'com.docker.network.internal': true },
  IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '198.51.100.0/24', Gateway: '198.51.100.1/24' }],
  IPv6Data: [],
});

test('protocol: Activate, GetCapabilities (local), the calls that do nothing', async () => {
  await withPlugin(async ({ call }) => {
    const a = await call('/Plugin.Activate');
    assert.equal([a.status, a.body], [200, { Implements: ['NetworkDriver'] }]);
    assert.is(a.type, 'application/vnd.docker.plugins.v1.2+json');
    const c = await call('/NetworkDriver.GetCapabilities', 'null');
    assert.is(c.status, 200);
    assert.is(c.body.Scope, 'local');
    assert.ok(c.body.ConnectivityScope === undefined || c.body.ConnectivityScope === 'local');
    for (const [path, want] of [
      ['/NetworkDriver.AllocateNetwork', { Options: {} }], ['/NetworkDriver.FreeNetwork', {}],
      ['/NetworkDriver.DiscoverNew', {}], ['/NetworkDriver.DiscoverDelete', {}],
      ['/NetworkDriver.ProgramExternalConnectivity', {}], ['/NetworkDriver.RevokeExternalConnectivity', {}],
      ['/NetworkDriver.EndpointOperInfo', { Value: {} }],
    ] as const) {
      const r = await call(path, { NetworkID: NET_A, EndpointID: EP_1 });
      assert.equal([r.status, r.body], [200, want], path);
    }
  });
});

test('protocol: CreateNetwork with Docker\'s request -> {}; CreateEndpoint, Join, Leave, DeleteEndpoint, DeleteNetwork', async () => {
  await withPlugin(async ({ call, w, netJson, logs }) => {
    const n = await call('/NetworkDriver.CreateNetwork', createNetworkBody(NET_A, { 'dovelab.vlan': '110' }));
    assert.equal([n.status, n.body], [200, {}]);
    const st = readNetworkState(netJson);
    assert.equal(st.networks.map((x) => [x.id, x.vid, x.gateway]), [[NET_A, 110, '198.51.100.1/24']]);
    assert.ok(vlanNamed(w.faucetLive!, 110));
    assert.ok(logs.some((l) => l.msg === 'plugin' && l.call === 'CreateNetwork' && l.network === NET_A.slice(0, 12)));

    // Docker gave a MAC: it must come back empty (else Docker rolls back).
    const e1 = await call('/NetworkDriver.CreateEndpoint', { NetworkID: NET_A, EndpointID: EP_1, Interface: { Address: '198.51.100.21/24', AddressIPv6: '', MacAddress: '0e:99:00:00:00:07' }, Options: {} });
    assert.equal([e1.status, e1.body], [200, {}]);
    assert.ok(w.has('links.createEndpointVeth dl4001 dp4001 0e:99:00:00:00:07'));
    // No MAC given: ours, in Interface.MacAddress, and no address (Docker's IPAM has it).
    const e2 = await call('/NetworkDriver.CreateEndpoint', { NetworkID: NET_A, EndpointID: EP_2, Interface: { Address: '198.51.100.22/24', AddressIPv6: '', MacAddress: '' }, Options: {} });
    assert.equal([e2.status, e2.body], [200, { Interface: { MacAddress: endpointMac(EP_2) } }]);
    assert.ok(w.has(`links.createEndpointVeth dl4002 dp4002 ${endpointMac(EP_2)}`));

    const j = await call('/NetworkDriver.Join', { NetworkID: NET_A, EndpointID: EP_1, SandboxKey: '/var/run/docker/netns/0123456789ab', Options: {} });
    assert.is(j.status, 200);
    assert.equal(j.body.InterfaceName, { SrcName: 'dp4001', DstPrefix: 'eth' });
    assert.is(j.body.DisableGatewayService, true);
    assert.ok(w.ports.has('dl4001'));
    assert.is(iface(w.faucetLive!, 4001)?.native_vlan, vlanNamed(w.faucetLive!, 110));

    const l = await call('/NetworkDriver.Leave', { NetworkID: NET_A, EndpointID: EP_1 });
    assert.equal([l.status, l.body], [200, {}]);
    assert.not.ok(w.ports.has('dl4001'));
    const d = await call('/NetworkDriver.DeleteEndpoint', { NetworkID: NET_A, EndpointID: EP_1 });
    assert.equal([d.status, d.body], [200, {}]);
    assert.equal(readNetworkState(netJson).endpoints.map((e) => e.id), [EP_2]);
    const dn = await call('/NetworkDriver.DeleteNetwork', { NetworkID: NET_A });
    assert.equal([dn.status, dn.body], [200, {}]);
    assert.equal(readNetworkState(netJson), emptyPluginState());
    assert.equal(vids(w.faucetLive!), [4094]);
  });
});

test('protocol: refusals are 500 {"Err": "dovelab: …"} naming the option or field; bad JSON 400; unknown paths 404', async () => {
  await withPlugin(async ({ call, w, netJson, logs }) => {
    const bad = await call('/NetworkDriver.CreateNetwork', createNetworkBody(NET_A, { 'dovelab.vlan': '5000' }));
    assert.is(bad.status, 500);
    assert.match(String(bad.body.Err), /^dovelab: dovelab\.vlan: "5000"/);
    assert.is(bad.type, 'application/vnd.docker.plugins.v1.2+json');
    assert.not.ok(existsSync(netJson));
    assert.ok(logs.some((l) => l.msg === 'plugin refused' && l.call === 'CreateNetwork'));
    const unknown = await call('/NetworkDriver.CreateNetwork', createNetworkBody(NET_A, { 'ovs.bridge.add_ports': 'nope0' }));
    assert.is(unknown.status, 500);
    assert.match(String(unknown.body.Err), /^dovelab: nope0: no such interface/);

    // Ids that are not ids: 500 naming the field, nothing done.
    const mark = w.calls.length;
    for (const [path, body, field] of [
      ['/NetworkDriver.CreateNetwork', { ...createNetworkBody(NET_A, {}), NetworkID: '../../etc' }, 'NetworkID'],
      ['/NetworkDriver.CreateNetwork', { Options: {} }, 'NetworkID'],
      ['/NetworkDriver.DeleteNetwork', { NetworkID: 42 }, 'NetworkID'],
      ['/NetworkDriver.CreateEndpoint', { NetworkID: NET_A, EndpointID: 'x y' }, 'EndpointID'],
      ['/NetworkDriver.Join', { NetworkID: NET_A, EndpointID: 'a'.repeat(129) }, 'EndpointID'],
      ['/NetworkDriver.Leave', { NetworkID: 'a;b', EndpointID: EP_1 }, 'NetworkID'],
      ['/NetworkDriver.DeleteEndpoint', { NetworkID: NET_A }, 'EndpointID'],
    ] as const) {
      const r = await call(path, body);
      assert.is(r.status, 500, `${path} ${JSON.stringify(body)}`);
      assert.match(String(r.body.Err), new RegExp(`^dovelab: ${field}: missing or not an id`), path);
    }
    assert.equal(w.changes(mark), []);
    assert.not.ok(existsSync(netJson));

    const notJson = await call('/NetworkDriver.CreateNetwork', '{"NetworkID": ');
    assert.is(notJson.status, 400);
    assert.match(String(notJson.body.Err), /not JSON/);
    const nope = await call('/NetworkDriver.Frobnicate', {});
    assert.is(nope.status, 404);
    assert.match(String(nope.body.Err), /not implemented/);

    // Positive control: the same request with a good option works.
    const ok = await call('/NetworkDriver.CreateNetwork', createNetworkBody(NET_A, { 'dovelab.vlan': '110' }));
    assert.equal([ok.status, ok.body], [200, {}]);
    assert.equal(readNetworkState(netJson).networks.map((n) => n.vid), [110]);
  });
});

test('protocol: CreateEndpoint on an unknown network and Join of an unknown endpoint are 500s Docker shows', async () => {
  await withPlugin(async ({ call }) => {
    const e = await call('/NetworkDriver.CreateEndpoint', { NetworkID: NET_B, EndpointID: EP_1, Interface: {} });
    assert.is(e.status, 500);
    assert.match(String(e.body.Err), /^dovelab: network b2b2b2b2b2b2 is not one of this appliance's/);
    const j = await call('/NetworkDriver.Join', { NetworkID: NET_B, EndpointID: EP_1 });
    assert.is(j.status, 500);
    assert.match(String(j.body.Err), /^dovelab: endpoint e1e1e1e1e1e1 was not created/);
    // Positive control.
    assert.is((await call('/NetworkDriver.CreateNetwork', createNetworkBody(NET_B, {}))).status, 200);
    assert.is((await call('/NetworkDriver.CreateEndpoint', { NetworkID: NET_B, EndpointID: EP_1, Interface: {} })).status, 200);
    assert.is((await call('/NetworkDriver.Join', { NetworkID: NET_B, EndpointID: EP_1 })).status, 200);
  });
});

test.run();

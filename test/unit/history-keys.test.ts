// Traffic history: which person-known owner a Gauge port label belongs to (agent/metrics/history-keys.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired } from '../../agent/lab/desired.js';
import { endpointLinks, withNetworks, type PluginState } from '../../agent/lab/plan-networks.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { faucetPortNames, ownerLabel, portDirectory, readGauge, seriesKey, type FaucetPortNames } from '../../agent/metrics/history-keys.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { parseMetrics } from '../../agent/metrics/prometheus.js';

const TOPO = TopologySchema.parse(parse(`
dovelab: 1
networks: {lab: {}, office: {vlan: 110, shared: true}}
uplinks:
  wan: {interface: up0, networks: [lab]}
mirrors:
  tap: {interface: mir0, from: [h1.eth0]}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 198.51.100.1/24}}}
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}, eth1: {network: office}}}
`));
const NET = 'a1'.repeat(32);
const EP = 'e1'.repeat(32);
const STATE: PluginState = {
  networks: [{ id: NET, name: 'office-net', vid: 200, mode: 'flat', dhcp: false, mtu: 1500, tagged: false, uplinks: [], defaultAcls: [], options: {}, createdAt: '2026-01-01T00:00:00.000Z' }],
  endpoints: [{ id: EP, network: NET, ofport: 4001, ...endpointLinks(4001), mac: '0e:00:00:00:00:01', acls: [], joined: true, container: 'web1', ifname: 'eth0' }],
};
const desired = withNetworks(planDesired(TOPO, { lab: 'demo', groups: 2, bridge: 'dovelab0', dpId: 1, defaultImage: 'x' }), STATE);
const dir = portDirectory({ desired, labRun: '2026-12-07T10:00:00.000Z', networks: STATE });

// Gauge's lines as seen on this stack: a name when Gauge read one, the bare ofport otherwise.
const gauge = (rows: [string, number, number, number, number][]) => parseMetrics(rows.flatMap(([port, rp, tp, rb, tb]) => [
  `of_port_rx_packets{dp_id="0x1",dp_name="dovelab0",port="${port}",port_description="${port}"} ${rp}.0`,
  `of_port_tx_packets{dp_id="0x1",dp_name="dovelab0",port="${port}",port_description="${port}"} ${tp}.0`,
  `of_port_rx_bytes{dp_id="0x1",dp_name="dovelab0",port="${port}",port_description="${port}"} ${rb}.0`,
  `of_port_tx_bytes{dp_id="0x1",dp_name="dovelab0",port="${port}",port_description="${port}"} ${tb}.0`,
]).join('\n') + '\n');

test('key mapping table: lesson hosts per group, shared hosts, containers, uplinks; captures and mirrors left out', () => {
  const table = [...dir.byName.values()].map((e) => [e.faucetName, e.ofport, seriesKey(e.owner), ownerLabel(e.owner)]).sort((a, b) => Number(a[1]) - Number(b[1]));
  assert.equal(table, [
    ['up0', 1, 'uplink/up0', 'uplink up0'],
    ['srv-eth0', 50, 'host/demo/0/srv/eth0', 'srv.eth0 (demo)'],
    ['g1-h1-eth0', 101, 'host/demo/1/h1/eth0', 'g1-h1.eth0 (demo)'],
    ['g1-h2-eth0', 102, 'host/demo/1/h2/eth0', 'g1-h2.eth0 (demo)'],
    ['g1-h2-eth1', 103, 'host/demo/1/h2/eth1', 'g1-h2.eth1 (demo)'],
    ['g2-h1-eth0', 201, 'host/demo/2/h1/eth0', 'g2-h1.eth0 (demo)'],
    ['g2-h2-eth0', 202, 'host/demo/2/h2/eth0', 'g2-h2.eth0 (demo)'],
    ['g2-h2-eth1', 203, 'host/demo/2/h2/eth1', 'g2-h2.eth1 (demo)'],
    [`docker-${EP.slice(0, 12)}`, 4001, 'container/office-net/web1/eth0', 'web1.eth0 on office-net'],
  ]);
  assert.not.ok(dir.byName.has('mir0'), 'the mirror dongle is a copy of other ports');
  assert.not.ok([...dir.byName.keys()].some((n) => n.startsWith('dovelab-capture')), 'capture ports are copies too');
  assert.is(dir.byName.get('g1-h1-eth0')!.token, 'demo@2026-12-07T10:00:00.000Z', 'the lab run is the token');
  assert.is(dir.byName.get(`docker-${EP.slice(0, 12)}`)!.token, EP, "a container's endpoint is its token");
});

// The live faucet.yaml of this lab, as the agent emits it.
const LIVE = faucetPortNames(parse(emitFaucetYaml(desired.faucet)), 'dovelab0');
const owners = (r: { owned: { entry: { owner: Parameters<typeof seriesKey>[0] }; counters: unknown }[] }) => r.owned.map((o) => [seriesKey(o.entry.owner), o.counters]);

test('faucet.yaml -> ports of the DP: integer keys with names, named keys with number:, the default name', () => {
  assert.is(LIVE.byName.get('g1-h1-eth0'), 101);
  assert.is(LIVE.byNumber.get(1), 'up0');
  assert.is(LIVE.byNumber.get(4001), `docker-${EP.slice(0, 12)}`);
  const hand = faucetPortNames(parse('dps: {sw: {dp_id: 1, interfaces: {7: {native_vlan: v}, p9: {number: 9}, 8: {name: x}}}}'), 'sw');
  assert.equal([...hand.byNumber].sort((a, b) => a[0] - b[0]), [[7, '7'], [8, 'x'], [9, 'p9']]);
  assert.throws(() => faucetPortNames(parse('dps: {sw: {interfaces: {p9: {}}}}'), 'sw'), /dps\.sw\.interfaces\.p9: no port number/);
  assert.throws(() => faucetPortNames(parse('dps: {}'), 'dovelab0'), /dps\.dovelab0: missing/);
});

test('Gauge in step with faucet.yaml: names map to owners; LOCAL, ports faucet.yaml does not name, other bridges and half scrapes are skipped', () => {
  const s = gauge([['g1-h1-eth0', 1, 2, 3, 4], ['g2-h2-eth0', 5, 6, 7, 8], ['LOCAL', 0, 0, 0, 0], ['7777', 1, 1, 1, 1], ['mir0', 9, 9, 9, 9]]);
  s.push({ name: 'of_port_rx_packets', labels: { dp_name: 'other', port: 'g1-h2-eth0' }, value: 1 });
  s.push({ name: 'of_port_rx_packets', labels: { dp_name: 'dovelab0', port: 'g1-h2-eth0' }, value: 1 });
  const r = readGauge(s, dir, 'dovelab0', LIVE);
  assert.is(r.lag, undefined);
  assert.is(r.ports, 6);
  assert.equal(owners(r), [
    ['host/demo/1/h1/eth0', { rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: 4 }],
    ['host/demo/2/h2/eth0', { rxPackets: 5, txPackets: 6, rxBytes: 7, txBytes: 8 }],
  ]);
});

test('Gauge behind faucet.yaml (it still runs the config of a lab that is gone): nothing is owned, and lag says why', () => {
  // Seen on the real stack: Gauge keeps the names (and frozen counters) of the lab it started
  // with, and shows the ports of the lab now running by number.
  const behind = readGauge(gauge([['g1-h1-eth0', 9, 9, 900, 900], ['102', 5, 5, 5, 5]]), dir, 'dovelab0', LIVE);
  assert.equal(behind.owned, []);
  assert.match(behind.lag!, /Gauge shows port 102 by number, faucet.yaml names it g1-h2-eth0/);
  const gone = readGauge(gauge([['g1-h1-eth0', 9, 9, 900, 900], ['g1-r1-eth0', 5, 5, 5, 5]]), dir, 'dovelab0', LIVE);
  assert.equal(gone.owned, []);
  assert.match(gone.lag!, /Gauge names a port g1-r1-eth0, which faucet.yaml does not have/);
  // Control: the same h1 line alone is owned.
  assert.equal(owners(readGauge(gauge([['g1-h1-eth0', 9, 9, 900, 900]]), dir, 'dovelab0', LIVE)), [['host/demo/1/h1/eth0', { rxPackets: 9, txPackets: 9, rxBytes: 900, txBytes: 900 }]]);
});

test('a name faucet.yaml puts on another ofport than the desired state does is skipped (mid-change), the others map', () => {
  const moved: FaucetPortNames = { byNumber: new Map(LIVE.byNumber), byName: new Map(LIVE.byName) };
  moved.byNumber.delete(101); moved.byNumber.set(109, 'g1-h1-eth0'); moved.byName.set('g1-h1-eth0', 109);
  const r = readGauge(gauge([['g1-h1-eth0', 1, 1, 1, 1], ['g1-h2-eth0', 2, 2, 2, 2]]), dir, 'dovelab0', moved);
  assert.is(r.lag, undefined);
  assert.equal(owners(r).map((x) => x[0]), ['host/demo/1/h2/eth0']);
});

test('no port on the page (Gauge has just reloaded and not polled yet): ports 0, nothing owned, no lag', () => {
  assert.equal(readGauge([], dir, 'dovelab0', LIVE), { owned: [], ports: 0 });
});

test('the same port name in another lesson maps to that lesson\'s owner (a different key)', () => {
  const other = planDesired(TOPO, { lab: 'other-lesson', groups: 1, bridge: 'dovelab0', dpId: 1, defaultImage: 'x' });
  const d2 = portDirectory({ desired: other, labRun: 'r2' });
  const live2 = faucetPortNames(parse(emitFaucetYaml(other.faucet)), 'dovelab0');
  const a = readGauge(gauge([['g1-h1-eth0', 1, 1, 1, 1]]), dir, 'dovelab0', LIVE).owned[0]!;
  const b = readGauge(gauge([['g1-h1-eth0', 1, 1, 1, 1]]), d2, 'dovelab0', live2).owned[0]!;
  assert.is(seriesKey(a.entry.owner), 'host/demo/1/h1/eth0');
  assert.is(seriesKey(b.entry.owner), 'host/other-lesson/1/h1/eth0');
});

test.run();

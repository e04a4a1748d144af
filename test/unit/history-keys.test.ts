// Traffic history: which person-known owner a Gauge port label belongs to (agent/metrics/history-keys.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired } from '../../agent/lab/desired.js';
import { endpointLinks, withNetworks, type PluginState } from '../../agent/lab/plan-networks.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { ownedCounters, ownerLabel, portDirectory, seriesKey } from '../../agent/metrics/history-keys.js';
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

test('Gauge labels: names and bare ofports both map; LOCAL, unknown ports, other bridges and half scrapes are skipped', () => {
  const s = gauge([['g1-h1-eth0', 1, 2, 3, 4], ['202', 5, 6, 7, 8], ['LOCAL', 0, 0, 0, 0], ['77', 1, 1, 1, 1], ['mir0', 9, 9, 9, 9]]);
  s.push({ name: 'of_port_rx_packets', labels: { dp_name: 'other', port: 'g1-h2-eth0' }, value: 1 });
  s.push({ name: 'of_port_rx_packets', labels: { dp_name: 'dovelab0', port: 'g1-h2-eth0' }, value: 1 });
  const got = ownedCounters(s, dir, 'dovelab0').map((o) => [seriesKey(o.entry.owner), o.counters]);
  assert.equal(got, [
    ['host/demo/1/h1/eth0', { rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: 4 }],
    ['host/demo/2/h2/eth0', { rxPackets: 5, txPackets: 6, rxBytes: 7, txBytes: 8 }],
  ]);
});

test('a port under both labels (a frozen number beside its name): the name\'s counters win', () => {
  const got = ownedCounters(gauge([['101', 5, 5, 5, 5], ['g1-h1-eth0', 9, 9, 900, 900], ['101', 5, 5, 5, 5]]), dir, 'dovelab0');
  assert.equal(got.map((o) => o.counters), [{ rxPackets: 9, txPackets: 9, rxBytes: 900, txBytes: 900 }]);
  // Control: the number alone is used.
  assert.equal(ownedCounters(gauge([['101', 5, 5, 5, 5]]), dir, 'dovelab0').map((o) => o.counters.rxBytes), [5]);
});

test('an ofport reused by another lesson maps to the new owner (a different key)', () => {
  const other = planDesired(TOPO, { lab: 'other-lesson', groups: 1, bridge: 'dovelab0', dpId: 1, defaultImage: 'x' });
  const d2 = portDirectory({ desired: other, labRun: 'r2' });
  const a = ownedCounters(gauge([['101', 1, 1, 1, 1]]), dir, 'dovelab0')[0]!;
  const b = ownedCounters(gauge([['101', 1, 1, 1, 1]]), d2, 'dovelab0')[0]!;
  assert.is(seriesKey(a.entry.owner), 'host/demo/1/h1/eth0');
  assert.is(seriesKey(b.entry.owner), 'host/other-lesson/1/h1/eth0');
});

test.run();

// Traffic history: what a person asks for -> series; CSV (agent/metrics/history-query.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PortOwner } from '../../agent/metrics/history-keys.js';
import { matches, ofGroup, parseSince, parseTarget, toCsv, HistoryQueryError } from '../../agent/metrics/history-query.js';

const NOW = Date.parse('2026-12-07T15:00:00Z');
const h = (group: number, host: string, iface = 'eth0', lab = 'demo'): PortOwner => ({ kind: 'host', lab, group, host, iface });

test('--since: durations and ISO times; anything else is a clear error', () => {
  assert.is(parseSince('10m', NOW), NOW - 600_000);
  assert.is(parseSince('2h', NOW), NOW - 7_200_000);
  assert.is(parseSince('90s', NOW), NOW - 90_000);
  assert.is(parseSince('1d', NOW), NOW - 86_400_000);
  assert.is(parseSince('2026-12-07T14:00:00Z', NOW), NOW - 3_600_000);
  for (const bad of ['10', 'yesterday', '5w', '']) assert.throws(() => parseSince(bad, NOW), (e: Error) => e instanceof HistoryQueryError && /--since/.test(e.message));
});

test('targets: host.iface with --group, gN-host.iface, containers, uplinks', () => {
  const t1 = parseTarget('h2.eth0', 3);
  assert.ok(matches(h(3, 'h2'), t1));
  assert.not.ok(matches(h(2, 'h2'), t1));
  assert.not.ok(matches(h(3, 'h2', 'eth1'), t1));
  const t2 = parseTarget('g3-h2.eth0');
  assert.equal(t2, { name: 'h2', iface: 'eth0', group: 3 });
  assert.ok(matches(h(3, 'h2'), t2));
  assert.ok(matches(h(1, 'h2'), parseTarget('h2.eth0')), 'no group: any group');
  assert.ok(matches(h(0, 'srv'), parseTarget('srv.eth0', 0)), 'shared hosts are group 0');
  assert.ok(matches({ kind: 'container', network: 'office', container: 'web1', iface: 'eth0' }, parseTarget('web1')));
  assert.not.ok(matches({ kind: 'container', network: 'office', container: 'web1', iface: 'eth0' }, parseTarget('web1', 1)));
  assert.ok(matches({ kind: 'uplink', iface: 'up0' }, parseTarget('up0')));
  assert.not.ok(matches(h(1, 'h1'), parseTarget('h1.eth0', 1, 'other')));
  assert.throws(() => parseTarget('h1 eth0'), /expected host.interface/);
});

test('a group owns only its lesson hosts of the running lab', () => {
  assert.ok(ofGroup(h(2, 'h1'), 2, 'demo'));
  assert.not.ok(ofGroup(h(1, 'h1'), 2, 'demo'));
  assert.not.ok(ofGroup(h(0, 'srv'), 2, 'demo'));
  assert.not.ok(ofGroup(h(2, 'h1', 'eth0', 'old'), 2, 'demo'));
  assert.not.ok(ofGroup({ kind: 'uplink', iface: 'up0' }, 2, 'demo'));
});

test('CSV: a header, one row per point, from the interface\'s side', () => {
  const csv = toCsv([{ info: { id: 'host/demo/1/h1/eth0@1', key: 'host/demo/1/h1/eth0', owner: h(1, 'h1'), since: 1, ofport: 101, token: 't' }, lastSeen: 2,
    points: [{ t: NOW, dt: 5, rxPps: 1, txPps: 2, rxBps: 100, txBps: 200 }] }]);
  assert.is(csv, 'series,lab,group,host,interface,time,seconds,rx_packets_per_s,tx_packets_per_s,rx_bytes_per_s,tx_bytes_per_s\n' +
    'host/demo/1/h1/eth0@1,demo,1,h1,eth0,2026-12-07T15:00:00.000Z,5,1,2,100,200\n');
});

test.run();

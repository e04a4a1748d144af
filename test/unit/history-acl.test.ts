// ACL rule hits in the traffic history: switch rows (Faucet ACL, rule, port) -> series keyed by the
// lesson's ACL, rule and the port's owner; a rule's flows re-added by Faucet (counters from zero)
// carry on the same series; the segment format keeps them; `dovelab history <acl>` finds them; the
// collector records them with the Gauge scrape, and an ACL read that fails costs only the ACL series.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHistory } from '../../agent/metrics/history-collect.js';
import { decodeSegment, encodeBatch } from '../../agent/metrics/history-codec.js';
import { aclOwned, ownerLabel, seriesKey, type FaucetPortNames, type PortDirectory, type PortEntry } from '../../agent/metrics/history-keys.js';
import { matches, parseTarget, toCsv } from '../../agent/metrics/history-query.js';
import { step, type SeriesInfo, type Track } from '../../agent/metrics/history-rates.js';
import type { AclHit } from '../../agent/net/faucet/acl-hits.js';
import { parseMetrics } from '../../agent/metrics/prometheus.js';
import { tempConfig } from './_fake-adapters.js';

const WEB: PortEntry = { ofport: 103, faucetName: 'g1-web-eth0', token: 'acl-firewall@r1', owner: { kind: 'host', lab: 'acl-firewall', group: 1, host: 'web', iface: 'eth0' } };
const DIR: PortDirectory = { byName: new Map([[WEB.faucetName, WEB]]), byOfport: new Map([[103, WEB]]) };
const LIVE: FaucetPortNames = { byNumber: new Map([[103, 'g1-web-eth0']]), byName: new Map([['g1-web-eth0', 103]]) };
const hit = (acl: string, rule: number, packets: number, port = 'g1-web-eth0', ofport = 103): AclHit => ({ acl, rule, port, ofport, packets, bytes: packets * 98 });

test('hits map to (lesson ACL, rule, port owner); the appliance\'s own allow rules and ports on another ofport are left out', () => {
  const owned = aclOwned([
    hit('lesson-web-only', 2, 4), hit('dovelab-allow', 0, 50), hit('office-acl', 0, 7),
    hit('lesson-web-only', 0, 9, 'g1-web-eth0', 104), hit('lesson-web-only', 1, 3, 'g9-x-eth0', 200),
  ], DIR, LIVE);
  assert.equal(owned.map((o) => seriesKey(o.entry.owner)), ['acl/web-only/2/host/acl-firewall/1/web/eth0', 'acl/office-acl/0/host/acl-firewall/1/web/eth0']);
  assert.equal(owned[0]!.counters, { rxPackets: 4, txPackets: 0, rxBytes: 392, txBytes: 0 });
  assert.is(owned[0]!.entry.token, WEB.token, 'a new lab run starts new ACL series too');
  assert.is(ownerLabel(owned[0]!.entry.owner), 'ACL web-only rule 2 on g1-web.eth0 (acl-firewall)');
});

test('a rule whose flows Faucet re-added (counters from zero) goes on in the same series; a port\'s reset starts a new one (control)', () => {
  const run = (entry: PortEntry, counts: number[]) => {
    let tracks = new Map<string, Track>();
    const series = new Set<string>();
    const deltas: number[] = [];
    counts.forEach((n, k) => {
      const r = step(tracks, [{ entry, counters: { rxPackets: n, txPackets: 0, rxBytes: n * 98, txBytes: 0 } }], 1000 + k * 5000, k ? 1000 + (k - 1) * 5000 : undefined);
      tracks = r.tracks;
      for (const d of r.deltas) { series.add(d.series); deltas.push(d.d.rxPackets); }
    });
    return { series: series.size, deltas };
  };
  const acl = aclOwned([hit('lesson-web-only', 2, 0)], DIR, LIVE)[0]!.entry;
  const a = run(acl, [10, 14, 3, 5]);
  assert.equal(a, { series: 1, deltas: [4, 3, 2] });
  const p = run(WEB, [10, 14, 3, 5]);
  assert.is(p.series, 2, 'a port whose counters went back is a new veth: a new series');
});

test('the segment format keeps ACL series; an ACL owner without its port, or nested, is skipped as junk', () => {
  const owner = aclOwned([hit('lesson-web-only', 2, 4)], DIR, LIVE)[0]!.entry.owner;
  const info: SeriesInfo = { id: `${seriesKey(owner)}@1000`, key: seriesKey(owner), owner, since: 1000, ofport: 103, token: WEB.token };
  const bad = (o: unknown): SeriesInfo => ({ ...info, id: `x${JSON.stringify(o).length}@1`, owner: o as SeriesInfo['owner'] });
  const text = encodeBatch({ t: 60_000, defs: [{ n: 1, info }, { n: 2, info: bad({ kind: 'acl', acl: 'a', rule: 0 }) }, { n: 3, info: bad({ kind: 'acl', acl: 'a', rule: 0, port: owner }) }], minutes: [{ n: 1, minute: 0, d: { rxPackets: 4, txPackets: 0, rxBytes: 392, txBytes: 0 } }], checkpoints: [] });
  const d = decodeSegment(text);
  assert.equal([...d.series.values()], [info]);
  assert.is(d.badLines, 2);
});

test('`dovelab history web-only [--group N]` finds the ACL\'s series; a host\'s name does not; CSV rows carry the port\'s host', () => {
  const owner = aclOwned([hit('lesson-web-only', 2, 4)], DIR, LIVE)[0]!.entry.owner;
  assert.ok(matches(owner, parseTarget('web-only')));
  assert.ok(matches(owner, parseTarget('web-only', 1)));
  assert.not.ok(matches(owner, parseTarget('web-only', 2)));
  assert.not.ok(matches(owner, parseTarget('web.eth0', 1)), 'the host\'s traffic is asked for by host.iface; the ACL\'s by its name');
  assert.ok(matches(WEB.owner, parseTarget('web.eth0', 1)), 'control: the host matches its own name');
  const info: SeriesInfo = { id: `${seriesKey(owner)}@1000`, key: seriesKey(owner), owner, since: 1000, ofport: 103, token: WEB.token };
  const csv = toCsv([{ info, lastSeen: 6000, points: [{ t: 6000, dt: 5, rxPps: 0, txPps: 0.8, rxBps: 0, txBps: 78.4 }] }]).split('\n');
  assert.is(csv[1], `${info.id},acl-firewall,1,web,eth0,1970-01-01T00:00:06.000Z,5,0,0.8,0,78.4`);
});

test('the collector records ACL series with the Gauge scrape; a failing ACL read logs once and the ports are still recorded', async () => {
  const t = tempConfig();
  try {
    const lines: string[] = [];
    let now = 1_000_000;
    let n = 10;
    let aclRead: () => Promise<AclHit[]> = async () => [hit('lesson-web-only', 2, n)];
    const page = () => parseMetrics(['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes']
      .map((m) => `of_port_${m}{dp_id="0x1",dp_name="dovelab0",port="g1-web-eth0"} ${n}.0`).join('\n') + '\n');
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, {
      log: (s) => lines.push(s), directory: () => DIR, livePorts: () => LIVE, samples: async () => page(), aclHits: () => aclRead(), now: () => now,
    });
    try {
      // The collector's own first scrape runs at start: wait for it (a baseline of both series).
      for (let k = 0; k < 100 && h.store.list().length < 2; k++) await new Promise((r) => setTimeout(r, 5));
      assert.is(h.store.list().length, 2);
      now += 5000; n = 20;
      assert.is(await h.scrapeOnce(), 2);
      assert.equal(h.store.list().map((s) => s.key).sort(), ['acl/web-only/2/host/acl-firewall/1/web/eth0', 'host/acl-firewall/1/web/eth0']);
      const [acl] = await h.store.series([h.store.list().find((s) => s.owner.kind === 'acl')!.id], 0);
      assert.equal(acl!.points.map((p) => p.txPps), [2], '10 hits in 5 s');
      aclRead = () => Promise.reject(new Error('reading flow counters from /run/dovelab/ovs/dovelab0.mgmt: no answer within 5 s'));
      now += 5000; n = 30;
      assert.is(await h.scrapeOnce(), 1, 'the port is recorded');
      now += 5000; n = 40;
      assert.is(await h.scrapeOnce(), 1);
      assert.is(lines.filter((l) => /ACL counters: reading flow counters/.test(l)).length, 1, lines.join('\n'));
      aclRead = async () => [hit('lesson-web-only', 2, n)];
      now += 5000; n = 50;
      assert.is(await h.scrapeOnce(), 2);
      assert.ok(lines.some((l) => /reading ACL counters again/.test(l)));
    } finally { await h.stop(); }
  } finally { t.done(); }
});

test.run();

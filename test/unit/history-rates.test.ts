// Traffic history: counters -> deltas per incarnation, resets, minute rollups (agent/metrics/history-rates.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OwnedCounters, PortCounters, PortEntry } from '../../agent/metrics/history-keys.js';
import { ratePoint, rollUp, spreadDelta, step, type Track } from '../../agent/metrics/history-rates.js';

const H1: PortEntry = { ofport: 101, faucetName: 'g1-h1-eth0', token: 'demo@run1', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h1', iface: 'eth0' } };
const c = (rxPackets: number, rxBytes: number, txPackets = 0, txBytes = 0): PortCounters => ({ rxPackets, txPackets, rxBytes, txBytes });
const seen = (counters: PortCounters, entry: PortEntry = H1): OwnedCounters[] => [{ entry, counters }];

/** Runs scrapes at t = 5 s, 10 s, … and returns every delta with its series. */
function scrapes(list: { counters: PortCounters; entry?: PortEntry }[], t0 = 1_000_000): { tracks: Map<string, Track>; deltas: { series: string; d: PortCounters }[]; started: string[] } {
  let tracks = new Map<string, Track>();
  const deltas: { series: string; d: PortCounters }[] = [];
  const started: string[] = [];
  let prev: number | undefined;
  list.forEach((x, k) => {
    const t = t0 + k * 5000;
    const r = step(tracks, seen(x.counters, x.entry), t, prev);
    prev = t;
    tracks = r.tracks;
    deltas.push(...r.deltas.map((d) => ({ series: d.series, d: d.d })));
    started.push(...r.started.map((s) => s.id));
  });
  return { tracks, deltas, started };
}

test('first sight is a baseline; then deltas of what went on', () => {
  const r = scrapes([{ counters: c(100, 10_000) }, { counters: c(110, 11_000) }, { counters: c(110, 11_000) }]);
  assert.equal(r.started, ['host/demo/1/h1/eth0@1000000']);
  assert.equal(r.deltas, [
    { series: 'host/demo/1/h1/eth0@1000000', d: c(10, 1000) },
    { series: 'host/demo/1/h1/eth0@1000000', d: c(0, 0) },
  ]);
});

test('counter reset (host recreated): a NEW series counted from zero; the old one keeps what it had', () => {
  const r = scrapes([{ counters: c(100, 10_000) }, { counters: c(110, 11_000) }, { counters: c(3, 300) }, { counters: c(5, 500) }]);
  assert.equal(r.started, ['host/demo/1/h1/eth0@1000000', 'host/demo/1/h1/eth0@1010000']);
  assert.equal(r.deltas, [
    { series: 'host/demo/1/h1/eth0@1000000', d: c(10, 1000) },
    { series: 'host/demo/1/h1/eth0@1010000', d: c(3, 300) },
    { series: 'host/demo/1/h1/eth0@1010000', d: c(2, 200) },
  ]);
  // Control: counters that only grow never start a new series.
  assert.is(scrapes([{ counters: c(1, 1) }, { counters: c(2, 2) }, { counters: c(3, 3) }]).started.length, 1);
});

test('all-zero counters are no news: a Gauge restart (zeros, then the counters carry on) keeps the series; a removed port starts none; a recreated one starts one when it moves', () => {
  const restart = scrapes([{ counters: c(100, 10_000) }, { counters: c(0, 0) }, { counters: c(150, 15_000) }]);
  assert.equal(restart.started, ['host/demo/1/h1/eth0@1000000'], 'a Gauge restart is not a reset');
  assert.equal(restart.deltas.map((d) => d.d), [c(50, 5000)]);
  const gone = scrapes([{ counters: c(100, 10_000) }, { counters: c(0, 0) }, { counters: c(0, 0) }]);
  assert.is(gone.started.length, 1, 'a removed port starts nothing');
  const back = scrapes([{ counters: c(100, 10_000) }, { counters: c(0, 0) }, { counters: c(0, 0) }, { counters: c(2, 84) }, { counters: c(3, 126) }]);
  assert.equal(back.started, ['host/demo/1/h1/eth0@1000000', 'host/demo/1/h1/eth0@1015000']);
  assert.equal(back.deltas.filter((d) => d.series.endsWith('@1015000')).map((d) => d.d), [c(2, 84), c(1, 42)]);
  assert.ok(back.deltas.filter((d) => d.series.endsWith('@1000000')).every((d) => d.d.rxBytes === 0), 'the old series gets none of it');
});

test('a new lab run (token) or another ofport at the same key starts a new series with a baseline: counters that may be the old owner\'s go nowhere', () => {
  const run2 = { ...H1, token: 'demo@run2' };
  const moved = { ...H1, ofport: 105 };
  const a = scrapes([{ counters: c(1, 100) }, { counters: c(5, 500), entry: run2 }, { counters: c(7, 700), entry: run2 }]);
  assert.equal(a.started, ['host/demo/1/h1/eth0@1000000', 'host/demo/1/h1/eth0@1005000']);
  assert.equal(a.deltas, [{ series: 'host/demo/1/h1/eth0@1005000', d: c(2, 200) }], 'only what came after the change of hands');
  // Lower counters after a change of hands are no proof of a new port either (another port's counters).
  const b = scrapes([{ counters: c(9, 900) }, { counters: c(5, 500), entry: moved }, { counters: c(6, 600), entry: moved }]);
  assert.equal(b.started, ['host/demo/1/h1/eth0@1000000', 'host/demo/1/h1/eth0@1005000']);
  assert.equal(b.deltas, [{ series: 'host/demo/1/h1/eth0@1005000', d: c(1, 100) }]);
  // Control: the same hands with counters that went back count from zero (a recreated veth).
  assert.equal(scrapes([{ counters: c(9, 900) }, { counters: c(5, 500) }]).deltas, [{ series: 'host/demo/1/h1/eth0@1005000', d: c(5, 500) }]);
});

test('spreadDelta: within one minute as is; across minutes in proportion, pieces add up exactly', () => {
  assert.equal(spreadDelta(60_000, 65_000, c(7, 700)), [{ minute: 1, d: c(7, 700) }]);
  assert.equal(spreadDelta(115_000, 120_000, c(7, 700)), [{ minute: 1, d: c(7, 700) }], '(t0, t1] ending on a minute boundary stays in that minute');
  const parts = spreadDelta(90_000, 210_000, c(1001, 120_000));
  assert.equal(parts.map((p) => p.minute), [1, 2, 3]);
  assert.equal(parts.map((p) => p.d.rxBytes), [30_000, 60_000, 30_000]);
  assert.is(parts.reduce((s, p) => s + p.d.rxPackets, 0), 1001);
});

test('rollUp: minutes of a series add up; zero deltas write nothing', () => {
  const r = rollUp(new Map(), [
    { series: 's', t0: 60_000, t1: 65_000, d: c(1, 100) }, { series: 's', t0: 65_000, t1: 70_000, d: c(2, 200) },
    { series: 's', t0: 120_000, t1: 125_000, d: c(4, 400) }, { series: 'z', t0: 0, t1: 5000, d: c(0, 0) },
  ]);
  assert.equal([...r.keys()], ['s']);
  assert.equal([...r.get('s')!], [[1, c(3, 300)], [2, c(4, 400)]]);
});

test('ratePoint: per second, from the interface\'s side (the switch\'s rx is what the host sent: tx)', () => {
  assert.equal(ratePoint(0, 5000, { rxPackets: 50, txPackets: 10, rxBytes: 5000, txBytes: 1000 }), { t: 5000, dt: 5, rxPps: 2, txPps: 10, rxBps: 200, txBps: 1000 });
});

test.run();

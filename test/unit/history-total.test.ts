// The kiosk's class total (agent/web/history-total.ts): points of many series summed into even
// buckets, traffic spread by time, half-filled buckets not shown as dips; download file names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RatePoint } from '../../agent/metrics/history-rates.js';
import { bucketMs, classTotal } from '../../agent/web/history-total.js';
import { downloadName } from '../../agent/web/history.js';

const pt = (t: number, dt: number, txBps: number, rxBps = 0): RatePoint => ({ t, dt, txBps, rxBps, txPps: txBps / 100, rxPps: rxBps / 100 });

test('bucket length: about 60 buckets, multiples of 5 s, at least 5 s', () => {
  assert.is(bucketMs(15 * 60_000), 15_000);
  assert.is(bucketMs(60 * 60_000), 60_000);
  assert.is(bucketMs(60_000), 5000);
});

test('two hosts scraped every 5 s add up per 15 s bucket; each bucket is a rate, not a sum', () => {
  const a = [5, 10, 15, 20, 25, 30].map((s) => pt(s * 1000, 5, 100));
  const b = [5, 10, 15, 20, 25, 30].map((s) => pt(s * 1000, 5, 50, 10));
  const out = classTotal([{ points: a }, { points: b }], 0, 30_000, 15_000);
  assert.equal(out.map((p) => [p.t, p.txBps, p.rxBps]), [[15_000, 150, 10], [30_000, 150, 10]]);
  // Control: one host alone gives its own rate.
  assert.equal(classTotal([{ points: a }], 0, 30_000, 15_000).map((p) => p.txBps), [100, 100]);
});

test('a bucket the scrapes half filled shows the rate so far (no dip); a minute point spreads over its buckets', () => {
  const a = [5, 10, 15, 20].map((s) => pt(s * 1000, 5, 100)); // 20 s: the second bucket has 5 of 15 s
  assert.equal(classTotal([{ points: a }], 0, 20_000, 15_000).map((p) => [p.t, p.txBps]), [[15_000, 100], [20_000, 100]]);
  const minute = [pt(60_000, 60, 30)];
  const out = classTotal([{ points: minute }], 0, 60_000, 15_000);
  assert.is(out.length, 4);
  assert.ok(out.every((p) => p.txBps === 30), JSON.stringify(out));
  // Points outside (since, until] are cut at the edges.
  assert.equal(classTotal([{ points: minute }], 30_000, 60_000, 15_000).map((p) => p.t), [45_000, 60_000]);
  assert.equal(classTotal([], 0, 60_000, 15_000), []);
});

test('download names: the target, safe for a file system', () => {
  assert.is(downloadName('g3-h2.eth0', 'csv'), 'history-g3-h2.eth0.csv');
  assert.is(downloadName('../x y"z', 'json'), 'history-x_y_z.json');
  assert.is(downloadName('', 'csv'), 'history-series.csv');
});

test.run();

// Traffic history: the segment format, torn last batches, expiry (agent/metrics/history-codec.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseExpired, decodeSegment, encodeBatch, segmentName, segmentStart, type Batch } from '../../agent/metrics/history-codec.js';
import type { SeriesInfo } from '../../agent/metrics/history-rates.js';

const INFO: SeriesInfo = { id: 'host/demo/1/h1/eth0@1000', key: 'host/demo/1/h1/eth0', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h1', iface: 'eth0' }, since: 1000, ofport: 101, token: 'demo@r' };
const c = (n: number) => ({ rxPackets: n, txPackets: n, rxBytes: n * 100, txBytes: n * 100 });
const b1: Batch = { t: 60_000, defs: [{ n: 1, info: INFO }], minutes: [{ n: 1, minute: 0, d: c(1) }], checkpoints: [{ n: 1, t: 59_000, c: c(10) }] };
const b2: Batch = { t: 120_000, defs: [], minutes: [{ n: 1, minute: 0, d: c(2) }, { n: 1, minute: 1, d: c(3) }], checkpoints: [{ n: 1, t: 119_000, c: c(15) }] };
const text = encodeBatch(b1) + encodeBatch(b2);

test('round trip: series, minutes (lines of one minute add up), the latest checkpoint', () => {
  const d = decodeSegment(text);
  assert.equal([...d.series.values()], [INFO]);
  assert.equal([...d.minutes.get(INFO.id)!], [[0, c(3)], [1, c(3)]]);
  assert.equal(d.checkpoints.get(INFO.id), { t: 119_000, c: c(15) });
  assert.is(d.droppedLines, 0);
  assert.is(d.badLines, 0);
});

test('a torn last batch is dropped whole, wherever it was cut; whole batches before it stay', () => {
  const first = encodeBatch(b1).length;
  for (let cut = first + 1; cut < text.length; cut++) {
    const d = decodeSegment(text.slice(0, cut));
    assert.equal([...d.minutes.get(INFO.id)!], [[0, c(1)]], `cut at ${cut}`);
    assert.equal(d.checkpoints.get(INFO.id), { t: 59_000, c: c(10) }, `cut at ${cut}`);
    assert.ok(d.droppedLines > 0, `cut at ${cut}`);
  }
  // Control: the whole text has both batches.
  assert.equal(decodeSegment(text).checkpoints.get(INFO.id)!.t, 119_000);
});

test('junk inside a whole batch is counted and skipped, never a crash', () => {
  const d = decodeSegment(`${encodeBatch(b1).replace('["b"', '{"x":1}\n[99,0,1,1,1,1]\n["d",2,{"id":5}]\n["b"')}`);
  assert.is(d.badLines, 3);
  assert.equal([...d.minutes.get(INFO.id)!], [[0, c(1)]]);
});

test('the filter keeps only asked-for minutes; definitions and checkpoints stay', () => {
  const d = decodeSegment(text, undefined, (_id, m) => m >= 1);
  assert.equal([...d.minutes.get(INFO.id)!], [[1, c(3)]]);
  assert.ok(d.checkpoints.has(INFO.id));
});

test('segment names sort by age', () => {
  assert.is(segmentName(1_700_000_000_000), 'seg-1700000000000.jsonl');
  assert.is(segmentStart(segmentName(42)), 42);
  assert.ok(segmentName(9_999) < segmentName(10_000));
});

test('expiry table: oldest first until under the cap, never the current segment', () => {
  const segs = [{ name: segmentName(3), bytes: 10 }, { name: segmentName(1), bytes: 10 }, { name: segmentName(2), bytes: 10 }];
  assert.equal(chooseExpired(segs, 30), [], 'at the cap: nothing');
  assert.equal(chooseExpired(segs, 29), [segmentName(1)]);
  assert.equal(chooseExpired(segs, 10), [segmentName(1), segmentName(2)]);
  assert.equal(chooseExpired(segs, 0, segmentName(3)), [segmentName(1), segmentName(2)], 'the current one stays even over the cap');
  assert.equal(chooseExpired(segs, 5, segmentName(1)), [segmentName(2), segmentName(3)]);
});

test.run();

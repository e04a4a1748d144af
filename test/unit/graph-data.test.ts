// The pages' pure graph helpers (kiosk-ui/src/shared/graph-data.ts): rates in words, points ->
// chart columns with gaps, live merges, the caption (the graphs' text alternative), the console's
// picker, sparkline paths, ACL counters kept from polling. The browser module is bundled with
// esbuild (as kiosk-ui/build.mjs does) and imported here, so the root tsc never compiles page code.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AclCounterRow, HistoryPoint, HistorySeriesView } from '../../agent/web/api-types.js';

type Columns = [number[], (number | null)[], (number | null)[]];
type AclHistory = Map<string, { t: number; packets: number }[]>;
interface GraphData {
  byteRate(v: number): string;
  packetRate(v: number): string;
  shortNumber(v: number): string;
  toColumns(p: HistoryPoint[], m: 'bytes' | 'packets'): Columns;
  mergePoints(old: HistoryPoint[], fresh: HistoryPoint[], from: number): HistoryPoint[];
  captionText(label: string, p: HistoryPoint[], now: number, within: string): string;
  ago(s: number): string;
  keyOf(id: string): string;
  pickList(s: HistorySeriesView[]): { running: { id: string; text: string }[]; gone: { id: string; text: string }[] };
  hostQuery(s: HistorySeriesView): string;
  hostName(s: HistorySeriesView): string;
  sparkPath(v: number[], w: number, h: number, floor?: number): string;
  pushAclRows(h: AclHistory, rows: AclCounterRow[], t: number, keep?: number): AclHistory;
  hitsPerPoll(s: { t: number; packets: number }[]): number[];
}

const SRC = fileURLToPath(new URL('../../../kiosk-ui/src/shared/graph-data.ts', import.meta.url));
const bundled = await build({ entryPoints: [SRC], bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'silent' });
const g = (await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0]!.text).toString('base64')}`)) as GraphData;

const pt = (t: number, txBps: number, rxBps = 0, dt = 5): HistoryPoint => ({ t, dt, txBps, rxBps, txPps: txBps / 100, rxPps: rxBps / 100 });

test('rates in words: bytes in 1000s, packets singular and plural, short axis ticks', () => {
  assert.equal([0, -3, 0.5, 512, 1250, 1500, 10_000, 123_456, 12e6, 3.2e9].map(g.byteRate),
    ['0 B/s', '0 B/s', '0.5 B/s', '512 B/s', '1.25 kB/s', '1.5 kB/s', '10 kB/s', '123 kB/s', '12 MB/s', '3.2 GB/s']);
  assert.equal([0, 1, 2, 0.2, 2500, 3e6].map(g.packetRate), ['0 packets/s', '1 packet/s', '2 packets/s', '0.2 packets/s', '2.5k packets/s', '3M packets/s']);
  assert.equal([0, 0.5, 200, 1000, 2500, 4e6].map(g.shortNumber), ['0', '0.5', '200', '1k', '2.5k', '4M']);
});

test('columns: seconds, rx and tx of the measure; a gap longer than a point and a scrape breaks the line', () => {
  const pts = [pt(10_000, 100, 1), pt(5000, 50, 2), pt(15_000, 100, 3), pt(60_000, 7, 4)];
  const [xs, rx, tx] = g.toColumns(pts, 'bytes');
  assert.equal(xs, [5, 10, 15, 16, 60]);
  assert.equal(tx, [50, 100, 100, null, 7]);
  assert.equal(rx, [2, 1, 3, null, 4]);
  assert.equal(g.toColumns(pts, 'packets')[2], [0.5, 1, 1, null, 0.07]);
  // Control: points 5 s apart (and a minute point right after the raw ones) stay one line.
  assert.equal(g.toColumns([pt(5000, 1), pt(10_000, 1), pt(70_000, 1, 0, 60)], 'bytes')[2], [1, 1, 1]);
});

test('live merge: fresh points added, a point of the same time replaced, none before the window', () => {
  const m = g.mergePoints([pt(5000, 1), pt(10_000, 2)], [pt(10_000, 3), pt(15_000, 4)], 6000);
  assert.equal(m.map((p) => [p.t, p.txBps]), [[10_000, 3], [15_000, 4]]);
});

test('caption: the latest rates, peaks, and how old the latest point is', () => {
  const pts = [pt(5000, 4000, 100), pt(10_000, 1250, 500)];
  assert.is(g.captionText('g1-h1.eth0', pts, 12_000, 'in the last 15 min'),
    'g1-h1.eth0 now: sent 1.25 kB/s (12.5 packets/s), received 500 B/s (5 packets/s). Peak in the last 15 min: sent 4 kB/s, received 500 B/s.');
  assert.match(g.captionText('x', pts, 10_000 + 40 * 60_000, 'while it ran'), /^x 40 min ago: sent 1\.25 kB\/s/);
  assert.is(g.captionText('x', [], 0, 'in the last 5 min'), 'x: no traffic counted in the last 5 min.');
  assert.equal([30, 120, 7200, 3 * 86_400].map(g.ago), ['30 s', '2 min', '2 h', '3 days']);
});

const view = (id: string, label: string, current: boolean, since: number, lastSeen: number, owner: HistorySeriesView['owner']): HistorySeriesView =>
  ({ id, label, current, since, lastSeen, owner });
const h = (lab: string, group: number, host: string) => ({ kind: 'host' as const, lab, group, host, iface: 'eth0' });

test('picker: running first by label (g2 before g10), then gone, newest first; incarnations numbered', () => {
  const list = [
    view('host/a/10/h1/eth0@1', 'g10-h1.eth0 (a)', true, 1, 9, h('a', 10, 'h1')),
    view('host/a/2/h1/eth0@5', 'g2-h1.eth0 (a)', true, 5, 9, h('a', 2, 'h1')),
    view('host/a/2/h1/eth0@1', 'g2-h1.eth0 (a)', false, 1, 4, h('a', 2, 'h1')),
    view('host/old/3/h2/eth0@1', 'g3-h2.eth0 (old)', false, 1, 2, h('old', 3, 'h2')),
  ];
  const p = g.pickList(list);
  assert.equal(p.running.map((x) => x.text), ['g2-h1.eth0 (a) #2 of 2', 'g10-h1.eth0 (a)']);
  assert.equal(p.gone.map((x) => x.id), ['host/a/2/h1/eth0@1', 'host/old/3/h2/eth0@1']);
  assert.match(p.gone[0]!.text, /^g2-h1\.eth0 \(a\) #1 of 2 · /);
  assert.is(g.keyOf('host/a/2/h1/eth0@5'), 'host/a/2/h1/eth0');
  assert.is(g.hostQuery(list[3]!), 'host=h2&group=3&lab=old');
  assert.is(g.hostName(list[3]!), 'g3-h2');
  const c = view('container/office/web1/eth0@1', 'web1.eth0 on office', true, 1, 2, { kind: 'container', network: 'office', container: '/web1', iface: 'eth0' });
  assert.is(g.hostQuery(c), 'host=web1');
  assert.is(g.hostName(view('uplink/up0@1', 'uplink up0', true, 1, 2, { kind: 'uplink', iface: 'up0' })), 'uplink up0');
  assert.is(g.hostName(view('x@1', 'h1.eth0 (a)', true, 1, 2, h('a', 0, 'h1'))), 'h1', 'a shared host has no group prefix');
});

test('sparkline path: scaled to the maximum (or the floor), y down, nothing for fewer than 2 values', () => {
  assert.is(g.sparkPath([0, 10, 5], 100, 12), 'M0.0 11.0 L50.0 1.0 L100.0 6.0');
  assert.is(g.sparkPath([0, 0], 10, 12), 'M0.0 11.0 L10.0 11.0');
  assert.is(g.sparkPath([1, 1], 10, 12, 2), 'M0.0 6.0 L10.0 6.0', 'below the floor: half way');
  assert.is(g.sparkPath([3], 10, 12), '');
});

const row = (rule: number, packets: number): AclCounterRow => ({ target: 'web.eth0', group: 1, acl: 'no-ping', rule, action: 'drop', match: 'any', packets, bytes: packets * 98 });

test('ACL counters from polling: hits per poll, a restart of the counter starts over, at most `keep` polls, gone rules dropped', () => {
  let hist: AclHistory = new Map();
  for (const [t, n] of [[0, 0], [3, 5], [6, 5], [9, 12]] as const) hist = g.pushAclRows(hist, [row(0, n)], t);
  assert.equal(g.hitsPerPoll(hist.get('1/web.eth0/no-ping/0')!), [5, 0, 7]);
  hist = g.pushAclRows(hist, [row(0, 2)], 12); // switched off and on: the switch counts from 0 again
  assert.equal(hist.get('1/web.eth0/no-ping/0')!.map((s) => s.packets), [2]);
  for (let t = 15; t < 60; t += 3) hist = g.pushAclRows(hist, [row(0, t)], t, 4);
  assert.is(hist.get('1/web.eth0/no-ping/0')!.length, 4);
  assert.is(g.pushAclRows(hist, [row(1, 0)], 99).has('1/web.eth0/no-ping/0'), false);
});

test.run();

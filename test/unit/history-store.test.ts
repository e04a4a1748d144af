// Traffic history: the store on a temp dir: batches, restart, torn tail, expiry (agent/metrics/history-store.ts).
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OwnedCounters, PortCounters, PortEntry } from '../../agent/metrics/history-keys.js';
import { HistoryStore } from '../../agent/metrics/history-store.js';

const H1: PortEntry = { ofport: 101, faucetName: 'g1-h1-eth0', token: 'demo@run1', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h1', iface: 'eth0' } };
const H2: PortEntry = { ofport: 102, faucetName: 'g1-h2-eth0', token: 'demo@run1', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h2', iface: 'eth0' } };
const c = (rxPackets: number, rxBytes: number): PortCounters => ({ rxPackets, txPackets: 0, rxBytes, txBytes: 0 });
const seen = (...x: [PortEntry, PortCounters][]): OwnedCounters[] => x.map(([entry, counters]) => ({ entry, counters }));
const T0 = Date.parse('2026-12-07T10:00:00Z');
let dir: string;
const store = (opts: Partial<{ maxBytes: number; segmentBytes: number }> = {}) => new HistoryStore({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, now: () => T0 + 3_600_000, ...opts });
/** Total bytes the host sent (the switch's rx) over a series' points. */
const sent = async (s: HistoryStore, id: string) => (await s.series([id], 0))[0]!.points.reduce((sum, p, k, all) => sum + p.txBps * ((p.t - (k ? all[k - 1]!.t : p.t - 60_000)) / 1000), 0);

test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'dovelab-history-')); });
test.after.each(() => { rmSync(dir, { recursive: true, force: true }); });

test('a restart reloads the series and carries on the same incarnation; minutes add up across the restart', async () => {
  const a = store({ recentMs: 0 } as object);
  a.record(seen([H1, c(0, 0)]), T0);
  a.record(seen([H1, c(10, 6000)]), T0 + 5000);
  a.flush(T0 + 6000);
  const b = store();
  b.load();
  assert.equal(b.list().map((s) => s.id), [`host/demo/1/h1/eth0@${T0}`]);
  b.record(seen([H1, c(20, 12_000)]), T0 + 65_000); // counters went on: the same series
  assert.equal(b.list().map((s) => s.id), [`host/demo/1/h1/eth0@${T0}`]);
  b.flush(T0 + 66_000);
  const d = new HistoryStore({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, recentMs: 0, now: () => T0 + 3_600_000 });
  assert.is(d.facts.bytes, 0);
  d.load();
  // Its size on disk (dovelab_history_store_bytes) is known from the load, before any batch of its own.
  assert.equal([d.facts.segments, d.facts.bytes], [2, readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)]);
  assert.ok(d.facts.bytes > 0);
  const got = (await d.series([`host/demo/1/h1/eth0@${T0}`], 0))[0]!;
  const total = got.points.reduce((s, p) => s + p.txBps * 60, 0);
  assert.is(Math.round(total), 12_000, 'every byte counted once, across the restart');
});

test('a torn last batch (kill -9 mid-write) loses only that batch', async () => {
  const a = store();
  a.record(seen([H1, c(0, 0)]), T0);
  a.record(seen([H1, c(10, 6000)]), T0 + 5000);
  a.flush(T0 + 6000);
  const seg = readdirSync(dir)[0]!;
  appendFileSync(join(dir, seg), '[1,29000000,5,0,500,0]\n[1,"c",1');
  const b = store();
  const loaded = b.load();
  assert.is(loaded.droppedLines, 2);
  assert.is(Math.round(await sent(b, `host/demo/1/h1/eth0@${T0}`)), 6000);
});

test('a removed host keeps its series; a reused ofport (another owner) is a new series', async () => {
  const a = store();
  a.record(seen([H1, c(0, 0)], [H2, c(0, 0)]), T0);
  a.record(seen([H1, c(5, 500)], [H2, c(1, 100)]), T0 + 5000);
  const other: PortEntry = { ...H2, token: 'other@run2', owner: { kind: 'host', lab: 'other', group: 1, host: 'web', iface: 'eth0' } };
  a.record(seen([H1, c(6, 600)], [other, c(0, 0)]), T0 + 10_000); // h2 gone, ofport 102 now web's
  a.flush(T0 + 11_000);
  const ids = a.list().map((s) => s.id).sort();
  assert.equal(ids, [`host/demo/1/h1/eth0@${T0}`, `host/demo/1/h2/eth0@${T0}`, `host/other/1/web/eth0@${T0 + 10_000}`]);
  const b = store();
  b.load();
  assert.is(Math.round(await sent(b, `host/demo/1/h2/eth0@${T0}`)), 100, 'the removed host is still served after a restart');
});

test('a series that ended (a reset) keeps when it was last seen across a restart', () => {
  const a = store();
  a.record(seen([H1, c(0, 0)]), T0);
  a.record(seen([H1, c(10, 1000)]), T0 + 5000);
  a.record(seen([H1, c(1, 60)]), T0 + 10_000); // reset: a new series
  a.flush(T0 + 11_000);
  const b = store();
  b.load();
  const old = b.list().find((s) => s.id === `host/demo/1/h1/eth0@${T0}`)!;
  assert.is(old.lastSeen, T0 + 5000);
  assert.is(old.current, false);
  assert.is(b.list().length, 2);
});

test('the size cap deletes the oldest segments; their series are forgotten', () => {
  const a = store({ maxBytes: 3000, segmentBytes: 500 });
  let n = 0;
  for (let k = 0; k < 40; k++) {
    const e: PortEntry = { ...H1, owner: { ...H1.owner, host: `h${k}` } as PortEntry['owner'] };
    a.record(seen([e, c(0, 0)]), T0 + k * 60_000);
    a.record(seen([e, c(1, 100)]), T0 + k * 60_000 + 5000);
    a.flush(T0 + k * 60_000 + 6000);
    n++;
  }
  const total = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  assert.ok(total <= 3000, `${total} bytes on disk`);
  assert.ok(readdirSync(dir).length > 1);
  const hosts = a.list().map((s) => (s.owner.kind === 'host' ? s.owner.host : ''));
  assert.ok(hosts.includes('h39'), 'the newest stays');
  assert.not.ok(hosts.includes('h0'), 'the oldest is gone');
  assert.is(n, 40);
});

test.run();

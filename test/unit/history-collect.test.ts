// Traffic history's collector (agent/metrics/history-collect.ts) with Gauge played by the test:
// a Gauge that does not answer costs one log line and the loop goes on; when it answers again the
// ports are recorded; stop() writes what is pending. A Gauge still on an older faucet.yaml records
// nothing, costs one log line, and is asked to reload when that lasts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { startHistory } from '../../agent/metrics/history-collect.js';
import type { FaucetPortNames, PortDirectory, PortEntry } from '../../agent/metrics/history-keys.js';
import { parseMetrics, type Sample } from '../../agent/metrics/prometheus.js';
import { DeadlineExceeded } from '../../agent/sys/deadline.js';
import { tempConfig } from './_fake-adapters.js';

const H1: PortEntry = { ofport: 101, faucetName: 'g1-h1-eth0', token: 'demo@r', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h1', iface: 'eth0' } };
const DIR: PortDirectory = { byName: new Map([[H1.faucetName, H1]]), byOfport: new Map([[101, H1]]) };
const LIVE: FaucetPortNames = { byNumber: new Map([[101, 'g1-h1-eth0']]), byName: new Map([['g1-h1-eth0', 101]]) };
const page = (n: number, port = 'g1-h1-eth0') => parseMetrics(['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes']
  .map((m) => `of_port_${m}{dp_id="0x1",dp_name="dovelab0",port="${port}",port_description="${port}"} ${n}.0`).join('\n') + '\n');

test('Gauge silent: one log line, no crash; back: recorded; stop() writes the batch', async () => {
  const t = tempConfig();
  try {
    const lines: string[] = [];
    let answer: () => Promise<Sample[]> = () => Promise.reject(new DeadlineExceeded("reading Gauge's port counters", 2000));
    let now = 1_000_000;
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, { log: (s) => lines.push(s), directory: () => DIR, livePorts: () => LIVE, samples: () => answer(), now: () => now });
    try {
      assert.is(await h.scrapeOnce(), 0);
      assert.is(await h.scrapeOnce(), 0);
      assert.is(lines.filter((l) => /no answer within 2 s/.test(l)).length, 1, lines.join('\n'));
      answer = async () => page(10);
      now += 5000;
      assert.is(await h.scrapeOnce(), 1);
      answer = async () => page(60);
      now += 5000;
      assert.is(await h.scrapeOnce(), 1);
      assert.ok(lines.some((l) => /reading Gauge again/.test(l)));
      assert.equal(h.store.list().map((s) => s.id), ['host/demo/1/h1/eth0@1005000']);
    } finally { await h.stop(); }
    const dir = paths(t.cfg).history;
    const segs = readdirSync(dir);
    assert.is(segs.length, 1);
    assert.match(readFileSync(join(dir, segs[0]!), 'utf8'), /"host\/demo\/1\/h1\/eth0@1005000"/);
  } finally { t.done(); }
});

test('Gauge behind faucet.yaml: nothing recorded, one log line; asked to reload once it lasted; in step again: recorded', async () => {
  const t = tempConfig();
  try {
    const lines: string[] = [];
    let answer = page(10, '101'); // port 101 by number: Gauge has not read the name faucet.yaml gives it
    let now = 1_000_000;
    let reloads = 0;
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, {
      log: (s) => lines.push(s), directory: () => DIR, livePorts: () => LIVE, samples: async () => answer, now: () => now,
      reloadGauge: async () => { reloads++; },
    });
    try {
      await new Promise((r) => setImmediate(r)); // the start's own first scrape (at 1 000 000 s)
      for (let k = 0; k < 2; k++) { now += 5000; assert.is(await h.scrapeOnce(), 0); }
      assert.is(lines.filter((l) => /not recording: Gauge shows port 101 by number, faucet.yaml names it g1-h1-eth0/.test(l)).length, 1, lines.join('\n'));
      assert.is(reloads, 0, 'not yet: 10 s of lag');
      now += 5000; await h.scrapeOnce();
      assert.is(reloads, 1, 'asked after 15 s');
      now += 5000; await h.scrapeOnce();
      assert.is(reloads, 1, 'once a minute at most');
      assert.equal(h.store.list(), []);
      // Gauge reloaded: no port on its page until its first poll (nothing recorded, no log), then names.
      answer = [];
      now += 5000; assert.is(await h.scrapeOnce(), 0);
      answer = page(20);
      now += 5000; assert.is(await h.scrapeOnce(), 1);
      assert.ok(lines.some((l) => /match faucet.yaml again/.test(l)), lines.join('\n'));
      assert.equal(h.store.list().map((x) => x.id), ['host/demo/1/h1/eth0@1030000']);
    } finally { await h.stop(); }
  } finally { t.done(); }
});

test('faucet.yaml missing: not recording (one log line), never a crash', async () => {
  const t = tempConfig();
  try {
    const lines: string[] = [];
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, { log: (s) => lines.push(s), directory: () => DIR, samples: async () => page(1) });
    try {
      assert.is(await h.scrapeOnce(), 0);
      assert.is(await h.scrapeOnce(), 0);
      assert.is(lines.filter((l) => /not recording: faucet.yaml not readable \(ENOENT/.test(l)).length, 1, lines.join('\n'));
    } finally { await h.stop(); }
  } finally { t.done(); }
});

test('read faster than Gauge polls, a steady rate stays steady: a scrape with Gauge\'s page unchanged is no news, unless nothing moved for two polls (idle: a zero point)', async () => {
  const t = tempConfig();
  try {
    let now = 1_000_000;
    let n = 0;
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, { log: () => {}, directory: () => DIR, livePorts: () => LIVE, samples: async () => page(n), now: () => now });
    try {
      for (let k = 0; k < 100 && !h.store.list().length; k++) await new Promise((r) => setTimeout(r, 5));
      // Gauge polls every 5 s; the agent reads every second: 1000 packets more at each of Gauge's polls.
      const recorded: number[] = [];
      for (let s = 1; s <= 15; s++) {
        now += 1000;
        if (s % 5 === 0) n += 1000;
        recorded.push(await h.scrapeOnce());
      }
      assert.equal(recorded, [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
      // Idle (no poll changes anything): after two of Gauge's polls a zero point is recorded.
      const idle: number[] = [];
      for (let s = 1; s <= 10; s++) { now += 1000; idle.push(await h.scrapeOnce()); }
      assert.equal(idle, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      const [series] = await h.store.series([h.store.list()[0]!.id], 0);
      assert.equal(series!.points.map((p) => [p.dt, p.txPps]), [[5, 200], [5, 200], [5, 200], [10, 0]]);
    } finally { await h.stop(); }
  } finally { t.done(); }
});

test.run();

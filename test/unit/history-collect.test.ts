// Traffic history's collector (agent/metrics/history-collect.ts) with Gauge played by the test:
// a Gauge that does not answer costs one log line and the loop goes on; when it answers again the
// ports are recorded; stop() writes what is pending.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { startHistory } from '../../agent/metrics/history-collect.js';
import type { PortDirectory, PortEntry } from '../../agent/metrics/history-keys.js';
import { parseMetrics, type Sample } from '../../agent/metrics/prometheus.js';
import { DeadlineExceeded } from '../../agent/sys/deadline.js';
import { tempConfig } from './_fake-adapters.js';

const H1: PortEntry = { ofport: 101, faucetName: 'g1-h1-eth0', token: 'demo@r', owner: { kind: 'host', lab: 'demo', group: 1, host: 'h1', iface: 'eth0' } };
const DIR: PortDirectory = { byName: new Map([[H1.faucetName, H1]]), byOfport: new Map([[101, H1]]) };
const page = (n: number) => parseMetrics(['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes']
  .map((m) => `of_port_${m}{dp_id="0x1",dp_name="dovelab0",port="101",port_description="101"} ${n}.0`).join('\n') + '\n');

test('Gauge silent: one log line, no crash; back: recorded (a bare ofport label mapped); stop() writes the batch', async () => {
  const t = tempConfig();
  try {
    const lines: string[] = [];
    let answer: () => Promise<Sample[]> = () => Promise.reject(new DeadlineExceeded("reading Gauge's port counters", 2000));
    let now = 1_000_000;
    const h = startHistory({ ...t.cfg, history: { ...t.cfg.history, intervalS: 300, flushS: 3600 } }, { log: (s) => lines.push(s), directory: () => DIR, samples: () => answer(), now: () => now });
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

test.run();

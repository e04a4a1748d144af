// Faucet's and Gauge's logs capped (agent/sys/log-cap.ts): a file past its cap keeps its tail from
// a whole line in <file>.1 and starts again from empty, and an appending writer goes on at the new
// end; a file under its cap and a missing one are left alone.
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capLogs } from '../../agent/sys/log-cap.js';

const line = (i: number) => `Dec 07 21:48:${String(i % 60).padStart(2, '0')} faucet.valve INFO     DPID 1 (0x1) dovelab0 L2 learned on Port 103 0e:00:00:00:01:0${i % 10} (L2 type 0x0800, L2 dst ff:ff:ff:ff:ff:ff, L3 src 198.51.100.11, L3 dst 198.51.100.255) Port 103 VLAN 101 (${i} hosts total)\n`;

test('over the cap: the tail from a whole line in .1, the file empty; an appending writer goes on at the new end; under the cap and missing files: untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-logcap-'));
  try {
    const big = join(dir, 'faucet.log'); const small = join(dir, 'gauge.log');
    writeFileSync(big, Array.from({ length: 2000 }, (_, i) => line(i)).join(''));
    writeFileSync(small, line(1));
    const size = statSync(big).size;
    // Faucet's handler: a file opened for appending, kept open across the cut.
    const writer = openSync(big, 'a');
    const r = capLogs([big, small, join(dir, 'nothing.log')], 100_000, 20_000);
    assert.equal(r.map((x) => [x.file, x.bytes]), [[big, size]]);
    const kept = readFileSync(`${big}.1`, 'utf8');
    assert.ok(kept.length <= 20_000 && kept.length > 19_000, `${kept.length} bytes kept`);
    assert.ok(kept.startsWith('Dec 07'), 'from a line start');
    assert.ok(kept.endsWith(line(1999)), 'up to the last line');
    assert.is(statSync(big).size, 0);
    writeSync(writer, line(2000)); closeSync(writer);
    assert.is(readFileSync(big, 'utf8'), line(2000), 'the writer appends at the new end, no hole before it');
    assert.is(readFileSync(small, 'utf8'), line(1), 'under the cap: untouched');
    assert.not.ok(existsSync(`${small}.1`));
    // Cut again later: .1 replaced by the newer tail.
    appendFileSync(big, Array.from({ length: 2000 }, (_, i) => line(5000 + i)).join(''));
    capLogs([big], 100_000, 20_000);
    assert.ok(readFileSync(`${big}.1`, 'utf8').endsWith(line(6999)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();

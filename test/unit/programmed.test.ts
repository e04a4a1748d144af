// lab/programmed.ts: which (re)added ports Faucet has programmed, from a flow dump.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unprogrammed, type AddedPort } from '../../agent/lab/programmed.js';
import type { FlowStat } from '../../agent/net/faucet/acl-hits.js';

const flow = (inPort: number | undefined, ageMs: number | undefined, table = 0): FlowStat => ({ cookie: 0, table, packets: 0, bytes: 0, ...(inPort !== undefined ? { inPort } : {}), ...(ageMs !== undefined ? { ageMs } : {}) });
const NOW = 1_000_000;
const port = (ofport: number, agoMs: number): AddedPort => ({ name: `dl${ofport}`, ofport, sinceMs: NOW - agoMs });

test('a port with a flow made after its add is programmed; one with none, or only older ones, is not', () => {
  const added = [port(101, 50), port(102, 50), port(103, 50)];
  const flows = [
    flow(101, 20), flow(101, 20, 1), // made 20 ms ago: after the add 50 ms ago
    flow(102, 5000), // older than the add: the port's previous life
    flow(undefined, 1), // no in_port (a flood rule): says nothing about a port
  ];
  assert.equal(unprogrammed(flows, added, NOW).map((p) => p.name), ['dl102', 'dl103']);
  // Positive control: the old port's flows replaced by young ones: programmed.
  assert.equal(unprogrammed([...flows, flow(102, 3), flow(103, 49)], added, NOW), []);
});

test('the youngest flow of a port decides; 1 ms of rounding is allowed, not more', () => {
  assert.equal(unprogrammed([flow(7, 9000), flow(7, 10)], [port(7, 100)], NOW), []);
  assert.equal(unprogrammed([flow(7, 101)], [port(7, 100)], NOW), []);
  assert.equal(unprogrammed([flow(7, 102)], [port(7, 100)], NOW).map((p) => p.ofport), [7]);
  // A flow without its age (a reader that did not give one) never counts.
  assert.equal(unprogrammed([flow(7, undefined)], [port(7, 100)], NOW).map((p) => p.ofport), [7]);
});

test.run();

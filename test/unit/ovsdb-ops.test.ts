// Building the lab's OVSDB transactions and reading their results (agent/net/ovsdb/ops.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addPortPlan, bumpNextCfg, changes, deletePortPlan, foundOf, guard, lookupOps, missedExpectation, nextCfgOf,
  setInterfaceOptionsPlan, transactionError,
} from '../../agent/net/ovsdb/ops.js';

const spec = { bridge: 'dovelab0', name: 'dl101', ofport: 101, externalIds: { 'dovelab-lab': 'l1', 'dovelab-host': 'h1' } };

test('a new port: Interface and Port inserted with named-uuids, put on the bridge, which must exist', () => {
  const p = addPortPlan(spec, {}, 'c0');
  assert.equal(p.ops, [
    { op: 'insert', table: 'Interface', 'uuid-name': 'c0_iface', row: { name: 'dl101', ofport_request: 101, external_ids: ['map', [['dovelab-lab', 'l1'], ['dovelab-host', 'h1']]] } },
    { op: 'insert', table: 'Port', 'uuid-name': 'c0_port', row: { name: 'dl101', interfaces: ['named-uuid', 'c0_iface'] } },
    { op: 'mutate', table: 'Bridge', where: [['name', '==', 'dovelab0']], mutations: [['ports', 'insert', ['set', [['named-uuid', 'c0_port']]]]] },
  ]);
  assert.is(missedExpectation(p, [{ uuid: ['uuid', 'a'] }, { uuid: ['uuid', 'b'] }, { count: 1 }], 0), undefined);
  assert.is(missedExpectation(p, [{}, {}, { count: 0 }], 0), 'no bridge dovelab0');
  // Offsets: the plan's results sit where its operations sat in the transaction.
  assert.is(missedExpectation(p, [{ count: 0 }, {}, {}, { count: 1 }], 1), undefined);
});

test('an existing port: only its Interface is updated (request, ids set key by key), guarded by its uuids', () => {
  const f = { port: { uuid: 'P', interfaces: ['I'] }, iface: 'I' };
  const p = addPortPlan(spec, f, 'c3');
  assert.equal(p.ops, [
    ...guard('dl101', f),
    { op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', 'I']]], row: { ofport_request: 101 } },
    { op: 'mutate', table: 'Interface', where: [['_uuid', '==', ['uuid', 'I']]], mutations: [
      ['external_ids', 'delete', ['set', ['dovelab-lab', 'dovelab-host']]],
      ['external_ids', 'insert', ['map', [['dovelab-lab', 'l1'], ['dovelab-host', 'h1']]]],
    ] },
  ]);
  assert.equal(guard('dl101', f)[0], { op: 'wait', table: 'Port', where: [['name', '==', 'dl101']], columns: ['_uuid'], until: '==', rows: [{ _uuid: ['uuid', 'P'] }], timeout: 0 });
  assert.equal(guard('dl101', {})[1], { op: 'wait', table: 'Interface', where: [['name', '==', 'dl101']], columns: ['_uuid'], until: '==', rows: [], timeout: 0 });
  assert.throws(() => addPortPlan(spec, { iface: 'I' }, 'c0'), /dl101 exists only half/);
});

test('delete: the port leaves whatever bridge holds it; an absent one only asserts it is absent', () => {
  const f = { port: { uuid: 'P', interfaces: ['I'] }, iface: 'I' };
  assert.equal(deletePortPlan('dl101', f).ops.at(-1), {
    op: 'mutate', table: 'Bridge', where: [['ports', 'includes', ['set', [['uuid', 'P']]]]], mutations: [['ports', 'delete', ['set', [['uuid', 'P']]]]],
  });
  const none = deletePortPlan('dl101', {});
  assert.equal(none.ops, guard('dl101', {}));
  assert.not.ok(changes(none.ops), 'nothing to apply: no ovs-vswitchd wait');
  assert.ok(changes(deletePortPlan('dl101', f).ops));
});

test('interface options are set key by key; a missing interface is an error', () => {
  const p = setInterfaceOptionsPlan('dl101', { 'n_rxq': '2' }, { iface: 'I' });
  assert.equal(p.ops.at(-1), { op: 'mutate', table: 'Interface', where: [['_uuid', '==', ['uuid', 'I']]], mutations: [['options', 'delete', ['set', ['n_rxq']]], ['options', 'insert', ['map', [['n_rxq', '2']]]]] });
  assert.throws(() => setInterfaceOptionsPlan('dl9', { a: 'b' }, {}), /no interface dl9/);
});

test('next_cfg: bumped then read back; lookups decode', () => {
  assert.equal(bumpNextCfg().map((o) => o.op), ['mutate', 'select']);
  assert.is(nextCfgOf({ rows: [{ next_cfg: 42 }] }), 42);
  assert.throws(() => nextCfgOf({ rows: [] }), /no next_cfg/);
  assert.equal(lookupOps('dl101').map((o) => o.table), ['Port', 'Interface']);
  assert.equal(foundOf([{ rows: [{ _uuid: ['uuid', 'P'], interfaces: ['uuid', 'I'] }] }, { rows: [{ _uuid: ['uuid', 'I'] }] }]), { port: { uuid: 'P', interfaces: ['I'] }, iface: 'I' });
  assert.equal(foundOf([{ rows: [{ _uuid: ['uuid', 'P'], interfaces: ['set', [['uuid', 'I'], ['uuid', 'J']]] }] }, { rows: [] }]), { port: { uuid: 'P', interfaces: ['I', 'J'] } });
  assert.equal(foundOf([{ rows: [] }, { rows: [] }]), {});
});

test('transaction results: an operation error names the operation; a commit error is the extra result', () => {
  const ops = addPortPlan(spec, {}, 'c0').ops;
  assert.is(transactionError(ops, [{ uuid: ['uuid', 'a'] }, { uuid: ['uuid', 'b'] }, { count: 1 }]), undefined);
  assert.is(transactionError(ops, [{ uuid: ['uuid', 'a'] }, { error: 'constraint violation', details: 'bad ofport_request' }, null]),
    'operation 2 (insert Port): constraint violation: bad ofport_request');
  assert.is(transactionError(ops, [{}, {}, { count: 1 }, { error: 'constraint violation', details: 'duplicate name dl101' }]),
    'commit: constraint violation: duplicate name dl101');
  assert.is(transactionError(ops, [{}]), 'only 1 results for 3 operations');
});

test.run();

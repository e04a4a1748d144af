// OVSDB's value encodings (agent/net/ovsdb/encoding.ts) and the monitor's mirror (mirror.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecodeError, decodeMap, decodeOptional, decodeSet, decodeUuid, decodeUuidSet, map, namedUuid, set, uuid } from '../../agent/net/ovsdb/encoding.js';
import { Mirror, type TableUpdates } from '../../agent/net/ovsdb/mirror.js';

test('sets: a lone atom is a set of one; ["set", []] is empty; optional columns', () => {
  assert.equal(decodeSet(5, 'c'), [5]);
  assert.equal(decodeSet(['set', [1, 2]], 'c'), [1, 2]);
  assert.equal(decodeSet(['uuid', 'u1'], 'c'), [['uuid', 'u1']]);
  assert.is(decodeOptional(['set', []], 'ofport'), undefined);
  assert.is(decodeOptional(101, 'ofport'), 101);
  assert.throws(() => decodeOptional(['set', [1, 2]], 'ofport'), /ofport: expected at most one value, got 2/);
  assert.throws(() => decodeSet(['map', []], 'ports'), (e: Error) => e instanceof DecodeError && /ports: expected an atom or \["set"/.test(e.message));
});

test('uuids, uuid sets and maps decode; bad shapes name the column', () => {
  assert.is(decodeUuid(['uuid', 'abc'], 'x'), 'abc');
  assert.equal(decodeUuidSet(['set', [['uuid', 'a'], ['uuid', 'b']]], 'ports'), ['a', 'b']);
  assert.equal(decodeUuidSet(['uuid', 'a'], 'ports'), ['a']);
  assert.equal(decodeMap(['map', [['dovelab-lab', 'l1'], ['n', 7]]], 'external_ids'), { 'dovelab-lab': 'l1', n: '7' });
  assert.throws(() => decodeUuid(['named-uuid', 'x'], 'Port p interfaces'), /Port p interfaces: expected \["uuid"/);
  assert.throws(() => decodeMap(['set', []], 'external_ids'), /external_ids: expected \["map"/);
  assert.throws(() => decodeMap(['map', [['k']]], 'external_ids'), /not a \[key, value\] pair/);
});

test('encoders give the wire forms', () => {
  assert.equal(uuid('u'), ['uuid', 'u']);
  assert.equal(namedUuid('n'), ['named-uuid', 'n']);
  assert.equal(set([1, 'a']), ['set', [1, 'a']]);
  assert.equal(map({ a: '1', b: '2' }), ['map', [['a', '1'], ['b', '2']]]);
});

const iface = (name: string, ofport: unknown, extra: Record<string, unknown> = {}) => ({
  name, ofport, ofport_request: ['set', []], external_ids: ['map', []], link_state: 'up', error: ['set', []], type: '', options: ['map', []], ...extra,
});

test('the mirror follows initial state, inserts, modifies and deletes; bridge ports read like list-ports', () => {
  const m = new Mirror();
  const initial: TableUpdates = {
    Open_vSwitch: { root: { new: { cur_cfg: 4, next_cfg: 4, external_ids: ['map', [['dovelab-datapath', 'netdev']]] } } },
    Bridge: { b1: { new: { name: 'dovelab0', ports: ['set', [['uuid', 'p1'], ['uuid', 'p2'], ['uuid', 'p0']]] } }, b2: { new: { name: 'other', ports: ['uuid', 'p3'] } } },
    // p0: the bridge's own local port, which list-ports leaves out.
    Port: { p0: { new: { name: 'dovelab0', interfaces: ['uuid', 'i0'], external_ids: ['map', []] } }, p1: { new: { name: 'dl102', interfaces: ['uuid', 'i1'], external_ids: ['map', []] } }, p2: { new: { name: 'dl101', interfaces: ['uuid', 'i2'], external_ids: ['map', []] } }, p3: { new: { name: 'x', interfaces: ['uuid', 'i3'], external_ids: ['map', []] } } },
    Interface: {
      i0: { new: iface('dovelab0', 65534, { type: 'internal' }) },
      i1: { new: iface('dl102', 102, { ofport_request: 102, external_ids: ['map', [['dovelab-lab', 'l']]] }) },
      i2: { new: iface('dl101', ['set', []], { error: 'could not open', link_state: ['set', []] }) },
      i3: { new: iface('x', 1) },
    },
  };
  m.apply(initial);
  assert.is(m.curCfg(), 4);
  assert.equal(m.bridgePorts('dovelab0'), [
    { name: 'dl101', ofport: -1, ofportRequest: undefined, externalIds: {}, error: 'could not open', type: '', linkState: undefined },
    { name: 'dl102', ofport: 102, ofportRequest: 102, externalIds: { 'dovelab-lab': 'l' }, error: undefined, type: '', linkState: 'up' },
  ]);
  assert.is(m.bridgePorts('nope'), undefined);
  assert.equal(m.found('dl101'), { port: { uuid: 'p2', interfaces: ['i2'] }, iface: 'i2' });
  assert.equal(m.found('dl199'), {});
  // vswitchd assigns the ofport (a modify: `new` holds the whole row), then the port goes.
  m.apply({ Interface: { i2: { old: { ofport: ['set', []] }, new: iface('dl101', 101) } }, Open_vSwitch: { root: { old: { cur_cfg: 4 }, new: { cur_cfg: 5, next_cfg: 5, external_ids: ['map', []] } } } });
  assert.is(m.bridgePorts('dovelab0')!.find((p) => p.name === 'dl101')!.ofport, 101);
  assert.is(m.curCfg(), 5);
  m.apply({ Bridge: { b1: { old: {}, new: { name: 'dovelab0', ports: ['set', [['uuid', 'p1'], ['uuid', 'p0']]] } } }, Port: { p2: { old: {} } }, Interface: { i2: { old: {} } } });
  assert.equal(m.bridgePorts('dovelab0')!.map((p) => p.name), ['dl102']);
  assert.equal(m.found('dl101'), {});
  m.clear();
  assert.is(m.curCfg(), -1);
});

test.run();

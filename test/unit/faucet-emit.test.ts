import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseDocument } from 'yaml';
import { emitFaucetYaml, FaucetModelError } from '../../agent/net/faucet/emit.js';
import { ALLOW_ALL, allowAll, type FaucetModel } from '../../agent/net/faucet/model.js';

const model = (): FaucetModel => ({
  dp: {
    name: 'dovelab0', dpId: 0xd0e1ab,
    interfaces: [
      { number: 102, name: 'g1-h2-eth0', native_vlan: 'g1-lab', acls_in: [ALLOW_ALL] },
      { number: 101, name: 'g1-h1-eth0', native_vlan: 'g1-lab', acls_in: ['no-ping'] },
      { number: 2, name: 'mir0', output_only: true, mirror: [101] },
      { number: 1, name: 'up0', tagged_vlans: ['g1-lab', 'office'] },
    ],
  },
  vlans: [{ name: 'g1-lab', vid: 101 }, { name: 'office', vid: 110, description: 'school' }],
  acls: {
    [ALLOW_ALL]: allowAll(),
    'no-ping': [{ match: { dl_type: 0x800, nw_proto: 1 }, actions: { allow: false } }, { match: {}, actions: { allow: true } }],
  },
});

test('interface keys are YAML integers, not strings', () => {
  const doc = parseDocument(emitFaucetYaml(model()));
  const ifaces = doc.getIn(['dps', 'dovelab0', 'interfaces']) as { items: { key: { value: unknown } }[] };
  const keys = ifaces.items.map((i) => i.key.value);
  assert.equal(keys, [1, 2, 101, 102]);
  for (const k of keys) assert.type(k, 'number');
});

test('dp_id is an integer written in hex', () => {
  const text = emitFaucetYaml(model());
  assert.match(text, /dp_id: 0xd0e1ab/);
  assert.is(parse(text).dps.dovelab0.dp_id, 0xd0e1ab);
});

test('mirror port: output_only, mirror list of port numbers, no VLANs', () => {
  const mir = parse(emitFaucetYaml(model())).dps.dovelab0.interfaces[2];
  assert.equal(mir, { name: 'mir0', mirror: [101], output_only: true });
});

test('ACL rules become rule/actions stanzas with allow as 0/1', () => {
  const withCookies = parse(emitFaucetYaml(model())).acls as Record<string, { rule: Record<string, unknown> }[]>;
  assert.ok(Object.values(withCookies).flat().every((r) => typeof r.rule.cookie === 'number'), 'every rule has its flow cookie');
  // Cookies themselves: test/unit/acl-counters.test.ts.
  const acls = Object.fromEntries(Object.entries(withCookies).map(([n, rules]) => [n, rules.map((r) => { const { cookie: _c, ...rule } = r.rule; return { rule }; })]));
  assert.equal(acls['no-ping'], [
    { rule: { dl_type: 0x800, nw_proto: 1, actions: { allow: 0 } } },
    { rule: { actions: { allow: 1 } } },
  ]);
  assert.equal(acls[ALLOW_ALL], [{ rule: { actions: { allow: 1 } } }]);
});

test('trunk: tagged_vlans by name; vlans carry vid', () => {
  const y = parse(emitFaucetYaml(model()));
  assert.equal(y.dps.dovelab0.interfaces[1].tagged_vlans, ['g1-lab', 'office']);
  assert.equal(y.vlans.office, { vid: 110, description: 'school' });
});

const bad: [string, (m: FaucetModel) => void, RegExp][] = [
  ['vid out of range', (m) => { m.vlans[0]!.vid = 4095; }, /vid 4095/],
  ['duplicate vid', (m) => { m.vlans[1]!.vid = 101; }, /vid 101 used by two/],
  ['duplicate port number', (m) => { m.dp.interfaces[0]!.number = 101; }, /port number used twice/],
  ['unknown vlan', (m) => { m.dp.interfaces[0]!.native_vlan = 'nope'; }, /unknown vlan nope/],
  ['unknown acl', (m) => { m.dp.interfaces[0]!.acls_in = ['nope']; }, /unknown acl nope/],
  ['mirror port with a vlan', (m) => { m.dp.interfaces[2]!.native_vlan = 'g1-lab'; }, /cannot carry VLANs/],
  ['mirror of unknown port', (m) => { m.dp.interfaces[2]!.mirror = [999]; }, /mirrors unknown port 999/],
  ['empty acl', (m) => { m.acls['no-ping'] = []; }, /no rules/],
];
for (const [name, mutate, why] of bad) {
  test(`rejects: ${name}`, () => {
    const m = model(); mutate(m);
    assert.throws(() => emitFaucetYaml(m), (e: unknown) => e instanceof FaucetModelError && why.test((e as Error).message));
  });
}

test.run();

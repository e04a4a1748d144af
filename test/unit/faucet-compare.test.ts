import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onlyListsSwapped } from '../../agent/net/faucet/compare.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { ALLOW_ALL, allowAll, type FaucetModel } from '../../agent/net/faucet/model.js';

const base = (): FaucetModel => ({
  dp: { name: 'dovelab0', dpId: 1, interfaces: [
    { number: 3, name: 'mir0', output_only: true, mirror: [101] },
    { number: 101, name: 'g1-h1-eth0', native_vlan: 'g1-lab', acls_in: [ALLOW_ALL] },
    { number: 102, name: 'g1-h2-eth0', native_vlan: 'g1-lab', acls_in: [ALLOW_ALL] },
  ] },
  vlans: [{ name: 'g1-lab', vid: 101 }],
  acls: { [ALLOW_ALL]: allowAll(), 'lesson-no-ping': [{ match: { eth_type: 0x800, ip_proto: 1 }, actions: { allow: false } }] },
});
const swap = (f: (m: FaucetModel) => void) => { const m = base(); f(m); return onlyListsSwapped(emitFaucetYaml(base()), emitFaucetYaml(m)); };

test('swapping a port ACL list or mirror sources needs no pre-check', () => {
  assert.ok(swap((m) => { m.dp.interfaces[2]!.acls_in = ['lesson-no-ping', ALLOW_ALL]; }));
  assert.ok(swap((m) => { m.dp.interfaces[0]!.mirror = [101, 102]; }));
  assert.ok(swap((m) => { m.dp.interfaces[0]!.mirror = []; }));
});

test('anything else needs the pre-check', () => {
  assert.not.ok(swap((m) => { m.dp.interfaces.push({ number: 103, name: 'g1-h3-eth0', native_vlan: 'g1-lab', acls_in: [ALLOW_ALL] }); }), 'new port');
  assert.not.ok(swap((m) => { m.vlans[0]!.vid = 102; }), 'VLAN change');
  assert.not.ok(swap((m) => { m.acls['lesson-no-ping'] = [{ match: { ip_proto: 1 }, actions: { allow: false } }]; }), 'ACL body change');
  assert.not.ok(swap((m) => { m.dp.interfaces[1]!.native_vlan = undefined; m.dp.interfaces[1]!.tagged_vlans = ['g1-lab']; }), 'native -> tagged');
});
test.run();

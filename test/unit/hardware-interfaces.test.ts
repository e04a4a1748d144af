// Interface facts: the parser on output captured from iproute2 (this VM and a throwaway netns),
// then one real read of the root netns (needs root, like the dongle test): lo has 127.0.0.1, a
// veth we create has no address and is a veth; the veth is deleted afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseInterfaceFacts, readInterfaceFacts } from '../../agent/hardware/interfaces.js';
import { lessonInterfaceProblems } from '../../agent/lab/interfaces.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { run } from '../../agent/sys/run.js';

// `ip -j -d addr show` on this VM (verbose fields trimmed): lo, an ifb, management eth0, docker0
// and a container's veth; plus a veth with addresses (IPv4, global and tentative link-local IPv6)
// and one with a lifetime-only addr_info entry, which some iproute2 versions print.
const ADDR = JSON.stringify([
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], link_type: 'loopback', address: '00:00:00:00:00:00',
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' }, { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' }] },
  { ifindex: 2, ifname: 'ifb0', flags: ['BROADCAST', 'NOARP'], link_type: 'ether', addr_info: [] },
  { ifindex: 4, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], link_type: 'ether',
    addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24, broadcast: '192.0.2.255', scope: 'global', label: 'eth0' },
      { family: 'inet6', local: 'fd00::2', prefixlen: 64, scope: 'global', nodad: true }, { family: 'inet6', local: 'fe80::fc:ff:fe00:1', prefixlen: 64, scope: 'link' }] },
  { ifindex: 5, ifname: 'docker0', link_type: 'ether', linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0, vlan_filtering: 0 } },
    addr_info: [{ family: 'inet', local: '172.17.0.1', prefixlen: 16, scope: 'global', label: 'docker0' }, { family: 'inet6', local: 'fe80::42:b2ff:fe30:ce7a', prefixlen: 64, scope: 'link' }] },
  { ifindex: 7, link_index: 6, ifname: 'vethc8c7a8b', master: 'docker0', link_type: 'ether', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge' }, link_netnsid: 0,
    addr_info: [{ family: 'inet6', local: 'fe80::28f0:deff:fe15:b63d', prefixlen: 64, scope: 'link' }] },
  { ifindex: 3, link: 'd1p', ifname: 'd1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], link_type: 'ether', linkinfo: { info_kind: 'veth' },
    addr_info: [{ family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global', label: 'd1' }, { family: 'inet6', local: '2001:db8::2', prefixlen: 64, scope: 'global', nodad: true },
      { family: 'inet6', local: 'fe80::20be:75ff:fe94:a8cb', prefixlen: 64, scope: 'link', tentative: true }] },
  { ifindex: 8, ifname: 'd2', link_type: 'ether', linkinfo: { info_kind: 'veth' }, addr_info: [{ valid_life_time: 4294967295, preferred_life_time: 4294967295 }] },
  { ifindex: 9, ifname: 'dovelab0', link_type: 'ether', linkinfo: { info_kind: 'openvswitch' }, addr_info: [] },
]);
// `ip -j route show default`: a multipath default (captured in a throwaway netns) …
const ROUTE4_MULTIPATH = '[{"dst":"default","flags":[],"nexthops":[{"gateway":"198.51.100.1","dev":"d1","weight":1,"flags":[]},{"gateway":"203.0.113.1","dev":"d2","weight":1,"flags":[]}]}]';
// … and this VM's plain ones.
const ROUTE4 = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]';
const ROUTE6 = '[{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]';

test('parse: addresses as CIDR, kinds, default routes (IPv4 and IPv6)', () => {
  const f = parseInterfaceFacts({ names: ['lo', 'ifb0', 'eth0', 'docker0', 'vethc8c7a8b', 'd1', 'd2', 'dovelab0', 'wlan0'], wireless: ['wlan0'],
    addrJson: ADDR, routeJsons: [ROUTE4, '[]'] });
  assert.equal(f.lo, { addresses: ['127.0.0.1/8', '::1/128'], defaultRoute: false, kind: 'loopback' });
  assert.equal(f.ifb0, { addresses: [], defaultRoute: false });
  assert.equal(f.eth0, { addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'], defaultRoute: true });
  assert.equal(f.docker0, { addresses: ['172.17.0.1/16', 'fe80::42:b2ff:fe30:ce7a/64'], defaultRoute: false, kind: 'bridge' });
  assert.equal(f.vethc8c7a8b!.kind, 'veth');
  assert.equal(f.d1, { addresses: ['198.51.100.2/24', '2001:db8::2/64', 'fe80::20be:75ff:fe94:a8cb/64'], defaultRoute: false, kind: 'veth' });
  assert.equal(f.d2, { addresses: [], defaultRoute: false, kind: 'veth' });
  assert.is(f.dovelab0!.kind, 'openvswitch');
  // Known from sysfs only (e.g. appeared between the two reads): still present, and Wi-Fi.
  assert.equal(f.wlan0, { addresses: [], defaultRoute: false, kind: 'wlan' });
});

test('parse: a default route only over IPv6 counts', () => {
  const f = parseInterfaceFacts({ names: ['eth0'], wireless: [], addrJson: ADDR, routeJsons: ['[]', ROUTE6] });
  assert.is(f.eth0!.defaultRoute, true);
  assert.is(f.lo!.defaultRoute, false);
});

test('parse: every device of a multipath default route', () => {
  const f = parseInterfaceFacts({ names: [], wireless: [], addrJson: ADDR, routeJsons: [ROUTE4_MULTIPATH, ''] });
  assert.is(f.d1!.defaultRoute, true);
  assert.is(f.d2!.defaultRoute, true);
  assert.is(f.eth0!.defaultRoute, false);
});

test('parse: interfaces only sysfs knows are present with no addresses; names are own keys only', () => {
  const f = parseInterfaceFacts({ names: ['up0', 'constructor'], wireless: [], addrJson: '[]', routeJsons: ['[]', '[]'] });
  assert.equal(Object.keys(f).sort(), ['constructor', 'up0']);
  assert.equal(f.up0, { addresses: [], defaultRoute: false });
});

test('parse: output that is not a JSON array is an error naming the command', () => {
  assert.throws(() => parseInterfaceFacts({ names: [], wireless: [], addrJson: 'Error: oops', routeJsons: [] }), /ip -j -d addr show: not JSON/);
  assert.throws(() => parseInterfaceFacts({ names: [], wireless: [], addrJson: '[]', routeJsons: ['{}'] }), /route show default \(#1\): expected a JSON array/);
});

test('parse → check: eth0 of this VM is refused, a sim dongle accepted', () => {
  const facts = parseInterfaceFacts({ names: ['up0'], wireless: [], addrJson: ADDR, routeJsons: [ROUTE4, ROUTE6] });
  const t = (iface: string) => TopologySchema.parse({ dovelab: 1, networks: { lab: {} }, hosts: {}, uplinks: { x: { interface: iface, network: 'lab' } } });
  const dongles = { up0: 'uplink', eth0: 'uplink' } as const;
  assert.equal(lessonInterfaceProblems(t('up0'), dongles, facts, 'dovelab0'), []);
  assert.match(lessonInterfaceProblems(t('eth0'), dongles, facts, 'dovelab0')[0]?.message ?? '', /^eth0 carries the appliance's default route/);
});

test('real read of the root netns: lo has 127.0.0.1 (positive), a fresh veth has no address (negative)', async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (it creates a veth in the root netns)');
  const near = `ift${process.pid}`.slice(0, 15);
  const far = `ifp${process.pid}`.slice(0, 15);
  await run(['ip', 'link', 'add', near, 'type', 'veth', 'peer', 'name', far]);
  try {
    const f = await readInterfaceFacts();
    assert.ok(f.lo, 'lo is present');
    assert.ok(f.lo!.addresses.includes('127.0.0.1/8'), `lo addresses: ${f.lo!.addresses.join(', ')}`);
    assert.is(f.lo!.kind, 'loopback');
    assert.ok(f[near], `${near} is present`);
    assert.equal(f[near], { addresses: [], defaultRoute: false, kind: 'veth' });
    // The same facts let a dongle of that name through, and refuse lo.
    const t = (iface: string) => TopologySchema.parse({ dovelab: 1, networks: { lab: {} }, hosts: {}, uplinks: { x: { interface: iface, network: 'lab' } } });
    assert.equal(lessonInterfaceProblems(t(near), { [near]: 'uplink' }, f, 'dovelab0'), []);
    assert.is(lessonInterfaceProblems(t('lo'), { [near]: 'uplink' }, f, 'dovelab0').length, 1);
  } finally {
    await run(['ip', 'link', 'del', near], { allowFail: true });
  }
  assert.is((await run(['ip', 'link', 'show', 'dev', near], { allowFail: true })).code !== 0, true, 'veth removed');
});

test.run();

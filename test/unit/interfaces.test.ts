// Which appliance interfaces a lesson may take: only configured dongles of the right role, never
// the appliance's own (management Ethernet, Wi-Fi, Docker's, ours). Pure: facts are given.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../../agent/config.js';
import { lessonInterfaceProblems, meaningfulAddresses, type InterfaceFacts } from '../../agent/lab/interfaces.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const BRIDGE = 'dovelab0';
/** The default config's dongles: the sim world's. */
const SIM = ConfigSchema.parse({}).dongles;

/** A host like this VM or a Pi: management eth0 + Wi-Fi, Docker, the bridge, sim dongles with no address. */
const FACTS: InterfaceFacts = {
  lo: { addresses: ['127.0.0.1/8', '::1/128'], defaultRoute: false, kind: 'loopback' },
  eth0: { addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'], defaultRoute: true },
  wlan0: { addresses: [], defaultRoute: false, kind: 'wlan' },
  docker0: { addresses: ['172.17.0.1/16'], defaultRoute: false, kind: 'bridge' },
  vethc8c7a8b: { addresses: ['fe80::28f0:deff:fe15:b63d/64'], defaultRoute: false, kind: 'veth' },
  dovelab0: { addresses: [], defaultRoute: false, kind: 'openvswitch' },
  'ovs-system': { addresses: [], defaultRoute: false, kind: 'openvswitch' },
  dl3: { addresses: [], defaultRoute: false, kind: 'veth' },
  up0: { addresses: [], defaultRoute: false, kind: 'veth' },
  // Up with IPv6 on: a link-local address comes by itself and does not count.
  up1: { addresses: ['fe80::1/64'], defaultRoute: false, kind: 'veth' },
  mir0: { addresses: [], defaultRoute: false, kind: 'veth' },
  mgmt9: { addresses: [], defaultRoute: false },
};

const lesson = (uplinks: Record<string, unknown>, mirrors: Record<string, unknown> = {}) => TopologySchema.parse({
  dovelab: 1, networks: { lab: {}, b: { vlan: 20, shared: true } }, uplinks, mirrors,
  hosts: { h1: { interfaces: { eth0: { network: 'lab', ip: '198.51.100.11/24' } } } },
});
const up = (iface: string) => lesson({ x: { interface: iface, network: 'lab' } });
const mirror = (iface: string) => lesson({}, { m: { interface: iface, from: ['h1'] } });

type Case = [name: string, t: ReturnType<typeof lesson>, dongles: Record<string, 'uplink' | 'mirror' | 'lab'>, facts: InterfaceFacts, want: [path: string, message: RegExp][]];

const UPLINKS = /\(uplink dongles: up0, up1\)$/;
const MIRRORS = /\(mirror dongles: mir0\)$/;

const cases: Case[] = [
  // Positive controls: the sim dongles, no address, right role.
  ['sim uplink up0 (no address)', up('up0'), SIM, FACTS, []],
  ['sim uplink up1 (only a link-local IPv6 address)', up('up1'), SIM, FACTS, []],
  ['sim mirror mir0', mirror('mir0'), SIM, FACTS, []],
  ['trunk on up0 and mirror on mir0 together', lesson({ t: { interface: 'up0', networks: ['lab', 'b'] } }, { m: { interface: 'mir0', from: ['h1'] } }), SIM, FACTS, []],
  ['absent (unplugged) dongle is not a problem here', up('up0'), SIM, {}, []],
  ['a Pi dongle with its own name', up('school'), { school: 'uplink' }, { ...FACTS, school: { addresses: [], defaultRoute: false } }, []],
  ['no uplinks, no mirrors', lesson({}), SIM, FACTS, []],
  // The bug: any interface could be seized.
  ['unknown interface mgmt9', up('mgmt9'), SIM, FACTS, [['uplinks.x.interface', /^mgmt9 is not a dongle of this appliance \(uplink dongles: up0, up1\)$/]]],
  ['unknown and absent interface', up('eth7'), SIM, FACTS, [['uplinks.x.interface', /^eth7 is not a dongle of this appliance/]]],
  ['management eth0', up('eth0'), SIM, FACTS, [['uplinks.x.interface', /^eth0 carries the appliance's default route.*\(uplink dongles: up0, up1\)$/]]],
  ['Wi-Fi wlan0', up('wlan0'), SIM, FACTS, [['uplinks.x.interface', /^wlan0 is a Wi-Fi interface/]]],
  ['lo', up('lo'), SIM, FACTS, [['uplinks.x.interface', /^lo is the loopback interface/]]],
  ['docker0', up('docker0'), SIM, FACTS, [['uplinks.x.interface', /^docker0 is a Docker bridge/]]],
  ['a Docker network bridge', up('br-0123abcd'), SIM, FACTS, [['uplinks.x.interface', /^br-0123abcd is a Docker network bridge/]]],
  ["a container's veth", up('vethc8c7a8b'), SIM, FACTS, [['uplinks.x.interface', /^vethc8c7a8b is a Docker container's link/]]],
  ['our own lab port end', up('dl3'), SIM, FACTS, [['uplinks.x.interface', /^dl3 is reserved for Dovelab's lab ports/]]],
  ['ovs-system', up('ovs-system'), SIM, FACTS, [['uplinks.x.interface', /^ovs-system is Open vSwitch's own interface/]]],
  ['the lab bridge', up('dovelab0'), SIM, FACTS, [['uplinks.x.interface', /^dovelab0 is the lab bridge itself/]]],
  ['a name the config does not list', up('labbr'), SIM, FACTS, [['uplinks.x.interface', /^labbr is not a dongle of this appliance/]]],
  // Wrong role.
  ['mirror dongle as uplink', up('mir0'), SIM, FACTS, [['uplinks.x.interface', /^mir0 is a mirror dongle, not an uplink dongle \(uplink dongles: up0, up1\)$/]]],
  ['uplink dongle as mirror', mirror('up0'), SIM, FACTS, [['mirrors.m.interface', /^up0 is an uplink dongle, not a mirror dongle \(mirror dongles: mir0\)$/]]],
  ['lab dongle as uplink', up('lab1'), { ...SIM, lab1: 'lab' }, FACTS, [['uplinks.x.interface', /^lab1 is a lab dongle, not an uplink dongle/]]],
  ['unknown mirror interface', mirror('eth0'), SIM, FACTS, [['mirrors.m.interface', /^eth0 carries the appliance's default route.*\(mirror dongles: mir0\)$/]]],
  // A wrong config must not cut the appliance off either.
  ['eth0 configured as an uplink dongle', up('eth0'), { ...SIM, eth0: 'uplink' }, FACTS,
    [['uplinks.x.interface', /^eth0 carries the appliance's default route.*dongle config lists it as uplink, which is wrong \(uplink dongles: up0, up1\)$/]]],
  ['a configured dongle that got an address', up('up0'), SIM, { ...FACTS, up0: { addresses: ['198.51.100.9/24'], defaultRoute: false } },
    [['uplinks.x.interface', /^up0 has an address \(198\.51\.100\.9\/24\).*\(uplink dongles: up1\)$/]]],
  ['a configured dongle with a global IPv6 address', up('up0'), SIM, { ...FACTS, up0: { addresses: ['fe80::1/64', '2001:db8::5/64'], defaultRoute: false } },
    [['uplinks.x.interface', /^up0 has an address \(2001:db8::5\/64\)/]]],
  ['a configured dongle carrying a default route (no address)', up('up1'), SIM, { ...FACTS, up1: { addresses: [], defaultRoute: true } },
    [['uplinks.x.interface', /^up1 carries the appliance's default route.*\(uplink dongles: up0\)$/]]],
  ['wlan0 configured as a dongle', up('wlan0'), { wlan0: 'uplink' }, FACTS, [['uplinks.x.interface', /^wlan0 is a Wi-Fi interface.*\(uplink dongles: none\)$/]]],
  ['docker0 configured as a dongle', up('docker0'), { docker0: 'uplink' }, FACTS, [['uplinks.x.interface', /^docker0 is a Docker bridge; the appliance's dongle config lists it as uplink/]]],
  ['a bridge by kind, not by name', up('lanbr'), { ...SIM, lanbr: 'uplink' }, { ...FACTS, lanbr: { addresses: [], defaultRoute: false, kind: 'bridge' } },
    [['uplinks.x.interface', /^lanbr is a bridge/]]],
  ['no dongles configured at all', up('up0'), {}, FACTS, [['uplinks.x.interface', /^up0 is not a dongle of this appliance \(uplink dongles: none\)$/]]],
  ['__proto__-like names are just unknown', up('constructor'), SIM, FACTS, [['uplinks.x.interface', /^constructor is not a dongle/]]],
  // Every problem is reported, in document order.
  ['two bad, one good', lesson({ a: { interface: 'eth0', network: 'lab' }, b: { interface: 'up0', network: 'b' } }, { m: { interface: 'mgmt9', from: ['h1'] } }), SIM, FACTS,
    [['uplinks.a.interface', UPLINKS], ['mirrors.m.interface', MIRRORS]]],
];

for (const [name, t, dongles, facts, want] of cases) {
  test(`lesson interfaces: ${name}`, () => {
    const got = lessonInterfaceProblems(t, dongles, facts, BRIDGE);
    assert.is(got.length, want.length, JSON.stringify(got));
    want.forEach(([path, message], k) => {
      assert.is(got[k]!.path, path);
      assert.match(got[k]!.message, message);
    });
  });
}

test('meaningfulAddresses drops only IPv6 link-local', () => {
  assert.equal(meaningfulAddresses(['fe80::1/64', 'FEBF::2/64', '169.254.1.1/16', 'fec0::1/64', '10.0.0.1/8', '::1/128']),
    ['169.254.1.1/16', 'fec0::1/64', '10.0.0.1/8', '::1/128']);
});

test.run();

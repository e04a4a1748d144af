// The Docker network driver's options and labels (issue 9): ours and Dovesnap's names, Dovesnap's
// own test command lines, every bad value an error naming its option, and a seeded fuzz.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyMacPrefix, badIfname, forNetwork, KNOWN_NETWORK_OPTIONS, NetworkOptionError, parseAddPorts, parseEndpointLabels,
  parseGoBool, parseNetworkOptions, type NetworkOptions, type NetworkOptionsContext,
} from '../../agent/lab/plan-network-options.js';
import { rng } from './_rng.js';

const ACLS = ['ratelimitit', 'allowall', 'denyall'];
const CONTROLLERS = ['tcp:127.0.0.1:6653', 'tcp:127.0.0.1:6654'];
const CTX: NetworkOptionsContext = { network: 'testnet', bridge: 'dovelab0', dpId: 1, controllers: CONTROLLERS, acls: ACLS, internal: true, hasIpam: true };

const parse = (generic: Record<string, unknown>, ctx: Partial<NetworkOptionsContext> = {}) => parseNetworkOptions(generic, { ...CTX, ...ctx });

/** Runs `fn`, which must throw a NetworkOptionError whose message matches `re`; returns the error. */
function throwsOption(fn: () => unknown, re: RegExp, what = ''): NetworkOptionError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, NetworkOptionError, `${what}: ${String(e)}`);
    assert.match((e as Error).message, re, what);
    return e as NetworkOptionError;
  }
  assert.unreachable(`${what}: no error (wanted ${re})`);
  throw new Error('unreachable');
}

/** The network create / run command lines of Dovesnap's tests, as Docker would pass them. */
function dockerLine(line: string): { generic: Record<string, string>; labels: Record<string, string>; ctx: Partial<NetworkOptionsContext> } {
  const words = line.split(/\s+/).filter(Boolean);
  const generic: Record<string, string> = {};
  const labels: Record<string, string> = {};
  let ipamNull = false;
  words.forEach((w, i) => {
    const kv = (s: string) => { const at = s.indexOf('='); return [s.slice(0, at), s.slice(at + 1)] as const; };
    if (w === '-o') { const [k, v] = kv(words[i + 1]!); generic[k] = v; }
    if (w.startsWith('--label=')) { const [k, v] = kv(w.slice('--label='.length).replace(/^"|"$/g, '')); labels[k] = v; }
    if (w === '--ipam-driver' && words[i + 1] === 'null') ipamNull = true;
  });
  const network = words[words.indexOf('create') + 1];
  return { generic, labels, ctx: { internal: words.includes('--internal'), hasIpam: !ipamNull, ...(words.includes('create') ? { network } : {}) } };
}

const C = 'tcp:127.0.0.1:6653,tcp:127.0.0.1:6654';
const DOVESNAP = {
  dhcp: {
    create: `docker network create testnet -d dovesnap --internal --ipam-driver null -o ovs.bridge.add_ports=odsaddport1/101 -o ovs.bridge.dhcp=true -o ovs.bridge.mode=flat -o ovs.bridge.dpid=0x1 -o ovs.bridge.controller=${C} -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --label="dovesnap.faucet.portacl=ratelimitit" --label="dovesnap.faucet.mirror=true" --net=testnet --rm --name=testcon busybox sleep 1h',
  },
  vlanConfig: {
    create: `docker network create testnet -d dovesnap --internal -o ovs.bridge.mode=nat -o ovs.bridge.dpid=0x1 -o ovs.bridge.vlan=100 -o ovs.bridge.controller=${C} -o ovs.bridge.add_ports=odstest1/1//20,odstest2/2//30,odstest3/3//40 -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --net=testnet --rm --name=testcon busybox sleep 1h',
  },
  routed: {
    create: `docker network create testnet -d dovesnap --internal -o ovs.bridge.mode=routed -o ovs.bridge.dpid=0x1 -o ovs.bridge.controller=${C} -o ovs.bridge.ovs_local_mac=0e:01:00:00:00:23 -o ovs.bridge.vlan_out_acl=allowall -o ovs.bridge.add_ports=odsaddport1/888/denyall -o ovs.bridge.mtu=1400 -o ovs.bridge.default_acl=denyall -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --label="dovesnap.faucet.portacl=testnet:ratelimitit" --label="dovesnap.faucet.mac_prefix=0e:99" --net=testnet --rm --name=testcon -p 80:80 busybox sleep 1h',
  },
  standalone: {
    create: `docker network create testnet -d dovesnap --internal -o ovs.bridge.mode=nat -o ovs.bridge.dpid=0x1 -o ovs.bridge.controller=${C} -o ovs.bridge.ovs_local_mac=0e:01:00:00:00:23 -o ovs.bridge.vlan_out_acl=allowall -o ovs.bridge.add_ports=odsaddport1/888/denyall -o ovs.bridge.default_acl=denyall -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --label="dovesnap.faucet.portacl=testnet:ratelimitit" --label="dovesnap.faucet.mac_prefix=0e:99" --net=testnet --rm --name=testcon -p 80:80 busybox sleep 1h',
  },
  mirror: {
    create: `docker network create testnet -d dovesnap --internal -o ovs.bridge.mode=nat -o ovs.bridge.dpid=0x1 -o ovs.bridge.controller=${C} -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --label="dovesnap.faucet.portacl=ratelimitit" --label="dovesnap.faucet.mirror=testnet:true" --mac-address=0e:99:00:00:00:07 --net=testnet --rm --name=testcon busybox sleep 1h',
  },
  standalone2: {
    create: `docker network create test2net -d dovesnap --internal -o ovs.bridge.mode=nat -o ovs.bridge.dpid=0x2 -o ovs.bridge.controller=${C} -o ovs.bridge.ovs_local_mac=0e:02:00:00:00:23 -o ovs.bridge.vlan_out_acl=allowall -o ovs.bridge.mtu=1400 -o ovs.bridge.default_acl=denyall -o ovs.bridge.preallocate_ports=10`,
    run: 'docker run -d --net=test2net --rm --name=testcon2 busybox sleep 1h',
  },
  stack: {
    create: `docker network create testnet -d dovesnap --internal -o ovs.bridge.mode=nat -o ovs.bridge.dpid=0x1 -o ovs.bridge.controller=${C} -o ovs.bridge.lbport=99`,
    run: 'docker run -d --net=testnet --rm --name=testcon busybox sleep 1h',
  },
};

const created = (name: keyof typeof DOVESNAP) => { const d = dockerLine(DOVESNAP[name].create); return parse(d.generic, d.ctx); };
const labelled = (name: keyof typeof DOVESNAP, network: string | undefined) => parseEndpointLabels(dockerLine(DOVESNAP[name].run).labels, network, ACLS);
const PREALLOC_WARNING = /^ovs\.bridge\.preallocate_ports: .*shared bridge dovelab0/;
const base = { vlan: undefined, mtu: 1500, tagged: false, defaultAcls: [], natAcls: [], vlanOutAcls: [], macForGateway: undefined };
const pick = (o: NetworkOptions) => ({ ...base, ...o, warnings: undefined });

// --- Dovesnap's own test command lines -------------------------------------------------------

test('Dovesnap DHCP test: flat, DHCP, one add_port with an ofport; portacl + mirror=true', () => {
  const o = created('dhcp');
  assert.equal(pick(o), { ...base, mode: 'flat', dhcp: true, uplinks: [{ iface: 'odsaddport1', ofport: 101, acls: [] }], preallocatePorts: 10, warnings: undefined });
  assert.equal(o.warnings.length, 1);
  assert.match(o.warnings[0]!, PREALLOC_WARNING);
  assert.equal(labelled('dhcp', 'testnet'), { acls: ['ratelimitit'], mirror: true });
});

test('Dovesnap VLAN-config test: nat, VLAN 100, three add_ports with their own VLANs and empty ACL fields', () => {
  const o = created('vlanConfig');
  assert.equal(pick(o), {
    ...base, vlan: 100, mode: 'nat', dhcp: false, preallocatePorts: 10, warnings: undefined,
    uplinks: [
      { iface: 'odstest1', ofport: 1, acls: [], vlan: 20 },
      { iface: 'odstest2', ofport: 2, acls: [], vlan: 30 },
      { iface: 'odstest3', ofport: 3, acls: [], vlan: 40 },
    ],
  });
  assert.equal(o.warnings.length, 1);
  assert.equal(labelled('vlanConfig', 'testnet'), {});
});

test('Dovesnap routed test: gateway MAC, vlan_out_acl, add_port ACL, MTU, default ACL; portacl in network form + mac_prefix', () => {
  const o = created('routed');
  assert.equal(pick(o), {
    ...base, mode: 'routed', dhcp: false, mtu: 1400, preallocatePorts: 10, warnings: undefined,
    uplinks: [{ iface: 'odsaddport1', ofport: 888, acls: ['denyall'] }],
    defaultAcls: ['denyall'], vlanOutAcls: ['allowall'], macForGateway: '0e:01:00:00:00:23',
  });
  assert.equal(o.warnings.length, 2);
  assert.match(o.warnings.join('\n'), /vlan_out_acl: allowall on frames leaving the network's ports; Faucet's egress pipeline goes on/);
  assert.equal(labelled('routed', 'testnet'), { acls: ['ratelimitit'], macPrefix: '0e:99' });
  // The network's name is not known yet: testnet:… does not apply, the MAC prefix still does.
  assert.equal(labelled('routed', undefined), { macPrefix: '0e:99' });
  assert.equal(labelled('routed', 'othernet'), { macPrefix: '0e:99' });
});

test('Dovesnap standalone test: as routed, nat, default MTU', () => {
  const o = created('standalone');
  assert.is(o.mode, 'nat');
  assert.is(o.mtu, 1500);
  assert.equal(o.uplinks, [{ iface: 'odsaddport1', ofport: 888, acls: ['denyall'] }]);
  assert.equal([o.defaultAcls, o.vlanOutAcls, o.macForGateway], [['denyall'], ['allowall'], '0e:01:00:00:00:23']);
  assert.equal(labelled('standalone', 'testnet'), { acls: ['ratelimitit'], macPrefix: '0e:99' });
});

test('Dovesnap mirror test: nat, nothing else; mirror=testnet:true applies on testnet only', () => {
  const o = created('mirror');
  assert.equal(pick(o), { ...base, mode: 'nat', dhcp: false, uplinks: [], preallocatePorts: 10, warnings: undefined });
  assert.equal(labelled('mirror', 'testnet'), { acls: ['ratelimitit'], mirror: true });
  assert.equal(labelled('mirror', 'othernet'), { acls: ['ratelimitit'] });
});

test('Dovesnap standalone_2 test: a second network with dpid 0x2 is a warning naming the shared bridge', () => {
  const o = created('standalone2');
  assert.is(o.mode, 'nat');
  assert.is(o.mtu, 1400);
  assert.ok(o.warnings.some((w) => /^ovs\.bridge\.dpid: 0x2 .*one bridge \(dovelab0\).*dp_id 0x1$/.test(w)), o.warnings.join('\n'));
});

test('Dovesnap stack test: lbport is accepted with a warning', () => {
  const o = created('stack');
  assert.equal(o.warnings.length, 1);
  assert.match(o.warnings[0]!, /^ovs\.bridge\.lbport: 99 is not used: mirrored traffic goes to the mirror dongle/);
});

test('Dovesnap noconfig test: add_copro_ports is refused, naming the option', () => {
  throwsOption(() => parse({ 'ovs.bridge.add_ports': 'odsaddport1/888', 'ovs.bridge.add_copro_ports': 'odsaddcoprop1/777' }),
    /^ovs\.bridge\.add_copro_ports: coprocessor ports are not supported/);
  // A bad value is reported as such before that.
  throwsOption(() => parse({ 'ovs.bridge.add_copro_ports': 'odsaddcoprop1/x' }), /^ovs\.bridge\.add_copro_ports: "x" is not an OpenFlow port/);
  assert.is(parse({ 'ovs.bridge.add_copro_ports': '' }).warnings.length, 0);
});

// --- Defaults and every option ----------------------------------------------------------------

test('no options: Dovesnap defaults (flat, MTU 1500), VLAN left to the caller, no warnings', () => {
  assert.equal(parse({}), { mode: 'flat', dhcp: false, mtu: 1500, uplinks: [], tagged: false, defaultAcls: [], natAcls: [], vlanOutAcls: [], preallocatePorts: 0, warnings: [] });
});

test('parseGoBool: exactly Go strconv.ParseBool', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.is(parseGoBool('x', t), true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.is(parseGoBool('x', f), false, f);
  for (const bad of ['', 'yes', 'no', 'on', 'tRUE', 'TRue', ' true', 'true ', '2', '01', 'y']) {
    throwsOption(() => parseGoBool('ovs.bridge.dhcp', bad), /^ovs\.bridge\.dhcp: ".*" is not a boolean/, bad);
  }
});

const goodOptions: [string, Record<string, string>, Partial<NetworkOptions>, Partial<NetworkOptionsContext>?][] = [
  ['dovelab.vlan', { 'dovelab.vlan': '200' }, { vlan: 200 }],
  ['ovs.bridge.vlan', { 'ovs.bridge.vlan': '100' }, { vlan: 100 }],
  ['VLAN 1 and 4093', { 'ovs.bridge.vlan': '1' }, { vlan: 1 }],
  ['VLAN with a leading zero (Go ParseUint)', { 'ovs.bridge.vlan': '0100' }, { vlan: 100 }],
  ['VLAN 4093', { 'dovelab.vlan': '4093' }, { vlan: 4093 }],
  ['dovelab.mode nat', { 'dovelab.mode': 'nat' }, { mode: 'nat' }],
  ['ovs.bridge.mode routed', { 'ovs.bridge.mode': 'routed' }, { mode: 'routed' }],
  ["mode '' is the default (Dovesnap)", { 'ovs.bridge.mode': '' }, { mode: 'flat' }],
  ['dovelab.mtu', { 'dovelab.mtu': '9000' }, { mtu: 9000 }],
  ['ovs.bridge.mtu bounds', { 'ovs.bridge.mtu': '68' }, { mtu: 68 }],
  ['mtu 9216', { 'ovs.bridge.mtu': '9216' }, { mtu: 9216 }],
  ['dovelab.uplink one', { 'dovelab.uplink': 'up0' }, { uplinks: [{ iface: 'up0', acls: [] }] }],
  ['dovelab.uplink two', { 'dovelab.uplink': 'up0,up1' }, { uplinks: [{ iface: 'up0', acls: [] }, { iface: 'up1', acls: [] }] }],
  ['dovelab.uplink in add_ports form', { 'dovelab.uplink': 'up0/5/allowall/7' }, { uplinks: [{ iface: 'up0', ofport: 5, acls: ['allowall'], vlan: 7 }] }],
  ['uplinks from both names, merged', { 'dovelab.uplink': 'up0', 'ovs.bridge.add_ports': 'up1/3' }, { uplinks: [{ iface: 'up0', acls: [] }, { iface: 'up1', ofport: 3, acls: [] }] }],
  ['the same uplink in both, the same way', { 'dovelab.uplink': 'up0/3', 'ovs.bridge.add_ports': 'up0/3' }, { uplinks: [{ iface: 'up0', ofport: 3, acls: [] }] }],
  ['dovelab.tagged', { 'dovelab.tagged': 'true', 'dovelab.uplink': 'up0' }, { tagged: true, uplinks: [{ iface: 'up0', acls: [] }] }],
  ['dovelab.tagged=0', { 'dovelab.tagged': '0' }, { tagged: false }],
  ['dovelab.dhcp', { 'dovelab.dhcp': 'True' }, { dhcp: true }, { hasIpam: false }],
  ['ovs.bridge.dhcp=1', { 'ovs.bridge.dhcp': '1' }, { dhcp: true }, { hasIpam: false }],
  ['dhcp=false with IPAM', { 'ovs.bridge.dhcp': 'false' }, { dhcp: false }],
  ['dovelab.default_acl list', { 'dovelab.default_acl': 'allowall,ratelimitit' }, { defaultAcls: ['allowall', 'ratelimitit'] }],
  ['default_acl network form', { 'ovs.bridge.default_acl': 'denyall/testnet:allowall/other:ratelimitit' }, { defaultAcls: ['allowall'] }],
  ['default_acl for another network: the default item', { 'ovs.bridge.default_acl': 'denyall/other:allowall' }, { defaultAcls: ['denyall'] }],
  ["default_acl '' is none", { 'ovs.bridge.default_acl': '' }, { defaultAcls: [] }],
  ['default_acl duplicates dropped', { 'ovs.bridge.default_acl': 'denyall,denyall' }, { defaultAcls: ['denyall'] }],
  ['nat_acl', { 'ovs.bridge.mode': 'nat', 'ovs.bridge.nat_acl': 'allowall' }, { mode: 'nat', natAcls: ['allowall'] }],
  ['ovs_local_mac in nat (lowercased)', { 'ovs.bridge.mode': 'nat', 'ovs.bridge.ovs_local_mac': '0E:01:00:00:00:23' }, { mode: 'nat', macForGateway: '0e:01:00:00:00:23' }],
  ["ovs_local_mac ''", { 'ovs.bridge.ovs_local_mac': '' }, {}],
  ['preallocate_ports 0', { 'ovs.bridge.preallocate_ports': '0' }, { preallocatePorts: 0 }],
  ['userspace=false', { 'ovs.bridge.userspace': 'false' }, {}],
  ['dpid equal to the appliance', { 'ovs.bridge.dpid': '0x0000000000000001' }, {}],
  ['dpid upper case 0X', { 'ovs.bridge.dpid': '0X1' }, {}],
  ['controller equal, other order', { 'ovs.bridge.controller': 'tcp:127.0.0.1:6654,tcp:127.0.0.1:6653' }, {}],
  ["controller ''", { 'ovs.bridge.controller': '' }, {}],
  ['name equal to the bridge', { 'ovs.bridge.name': 'dovelab0' }, {}],
  ["name ''", { 'ovs.bridge.name': '' }, {}],
  ["bind_interface ''", { 'ovs.bridge.bind_interface': '' }, {}],
];
for (const [name, opts, want, ctx] of goodOptions) {
  test(`option good: ${name}`, () => {
    const o = parse(opts, ctx);
    assert.equal(o, { ...parse({}), ...want, warnings: o.warnings });
    assert.equal(o.warnings, [], 'no warnings');
  });
}

const warned: [string, Record<string, string>, RegExp][] = [
  ['vlan_out_acl', { 'ovs.bridge.vlan_out_acl': 'testnet:denyall' }, /^ovs\.bridge\.vlan_out_acl: denyall on frames leaving the network's ports/],
  ['preallocate_ports > 0', { 'ovs.bridge.preallocate_ports': '10' }, PREALLOC_WARNING],
  ['lbport', { 'ovs.bridge.lbport': '77' }, /^ovs\.bridge\.lbport: 77 is not used/],
  ['userspace=true', { 'ovs.bridge.userspace': 'true' }, /^ovs\.bridge\.userspace: the shared bridge dovelab0 keeps the kernel datapath/],
  ['dpid differs', { 'ovs.bridge.dpid': '0xAB' }, /^ovs\.bridge\.dpid: 0xAB is not used: the appliance uses one bridge \(dovelab0\) for all networks, with dp_id 0x1$/],
  ['64-bit dpid', { 'ovs.bridge.dpid': '0xffffffffffffffff' }, /^ovs\.bridge\.dpid: 0xffffffffffffffff is not used/],
  ['controller differs', { 'ovs.bridge.controller': 'tcp:10.0.0.1:6653' }, /^ovs\.bridge\.controller: "tcp:10\.0\.0\.1:6653" is not used: .* controlled by tcp:127\.0\.0\.1:6653,tcp:127\.0\.0\.1:6654$/],
  ['controller by host name and IPv6', { 'ovs.bridge.controller': 'tcp:faucet.local:6653,ssl:[::1]:6654' }, /^ovs\.bridge\.controller: /],
  ['name differs', { 'ovs.bridge.name': 'odsbr12345' }, /^ovs\.bridge\.name: "odsbr12345" is not used: the appliance's bridge is dovelab0$/],
  ['mirror_tunnel_vid', { 'ovs.bridge.mirror_tunnel_vid': '356' }, /^ovs\.bridge\.mirror_tunnel_vid: not used/],
  ['bind_interface', { 'ovs.bridge.bind_interface': 'eth1' }, /^ovs\.bridge\.bind_interface: not used/],
  ['nat_acl in flat mode', { 'ovs.bridge.nat_acl': 'allowall' }, /^ovs\.bridge\.nat_acl: no effect in flat mode/],
  ['ovs_local_mac in flat mode', { 'ovs.bridge.ovs_local_mac': '0e:01:00:00:00:23' }, /^ovs\.bridge\.ovs_local_mac: no effect in flat mode/],
  ['tagged without uplinks', { 'dovelab.tagged': 'true' }, /^dovelab\.tagged: no uplinks/],
];
for (const [name, opts, re] of warned) {
  test(`option accepted with a warning: ${name}`, () => {
    const o = parse(opts);
    assert.equal(o.warnings.length, 1, o.warnings.join('\n'));
    assert.match(o.warnings[0]!, re);
  });
}

const bad: [string, Record<string, unknown>, RegExp, Partial<NetworkOptionsContext>?][] = [
  // Unknown keys and non-string values.
  ['unknown key', { 'ovs.bridge.vlans': '100' }, /^ovs\.bridge\.vlans: unknown option \(known: dovelab\.vlan, ovs\.bridge\.vlan, /],
  ['a label is not an option', { 'dovelab.acl': 'allowall' }, /^dovelab\.acl: unknown option/],
  ["Docker's generic MTU is not ours", { 'com.docker.network.driver.mtu': '1400' }, /^com\.docker\.network\.driver\.mtu: unknown option/],
  ['key case matters', { 'OVS.BRIDGE.VLAN': '100' }, /^OVS\.BRIDGE\.VLAN: unknown option/],
  ['non-string value', { 'ovs.bridge.vlan': 100 }, /^ovs\.bridge\.vlan: expected a string value, got number/],
  ['null value', { 'dovelab.dhcp': null }, /^dovelab\.dhcp: expected a string value, got null/],
  // VLAN.
  ['VLAN 5000', { 'ovs.bridge.vlan': '5000' }, /^ovs\.bridge\.vlan: "5000" is not a VLAN \(1\.\.4094\)$/],
  ['VLAN 0', { 'dovelab.vlan': '0' }, /^dovelab\.vlan: "0" is not a VLAN/],
  ['VLAN 4095', { 'dovelab.vlan': '4095' }, /^dovelab\.vlan: "4095" is not a VLAN/],
  ['VLAN 4094 is the idle VLAN', { 'ovs.bridge.vlan': '4094' }, /^ovs\.bridge\.vlan: "4094": VLAN 4094 is reserved by Dovelab/],
  ["VLAN ''", { 'ovs.bridge.vlan': '' }, /^ovs\.bridge\.vlan: "" is not a VLAN/],
  ['VLAN -1', { 'ovs.bridge.vlan': '-1' }, /^ovs\.bridge\.vlan: "-1" is not a VLAN/],
  ['VLAN +1', { 'ovs.bridge.vlan': '+1' }, /^ovs\.bridge\.vlan: "\+1" is not a VLAN/],
  ['VLAN hex', { 'ovs.bridge.vlan': '0x10' }, /^ovs\.bridge\.vlan: "0x10" is not a VLAN/],
  ['VLAN with a space', { 'ovs.bridge.vlan': ' 10' }, /^ovs\.bridge\.vlan: " 10" is not a VLAN/],
  ['VLAN 1e2', { 'ovs.bridge.vlan': '1e2' }, /^ovs\.bridge\.vlan: "1e2" is not a VLAN/],
  ['VLAN 10.0', { 'ovs.bridge.vlan': '10.0' }, /^ovs\.bridge\.vlan: "10\.0" is not a VLAN/],
  ['VLAN 1_0', { 'ovs.bridge.vlan': '1_0' }, /^ovs\.bridge\.vlan: "1_0" is not a VLAN/],
  ['VLAN huge', { 'ovs.bridge.vlan': '99999999999999999999999' }, /^ovs\.bridge\.vlan: "9+" is not a VLAN/],
  // MTU.
  ['MTU 67', { 'ovs.bridge.mtu': '67' }, /^ovs\.bridge\.mtu: "67" is not an MTU \(68\.\.9216\)$/],
  ['MTU 9217', { 'dovelab.mtu': '9217' }, /^dovelab\.mtu: "9217" is not an MTU/],
  ['MTU text', { 'ovs.bridge.mtu': '1500b' }, /^ovs\.bridge\.mtu: "1500b" is not an MTU/],
  ["MTU ''", { 'ovs.bridge.mtu': '' }, /^ovs\.bridge\.mtu: "" is not an MTU/],
  // Booleans.
  ['dhcp yes', { 'ovs.bridge.dhcp': 'yes' }, /^ovs\.bridge\.dhcp: "yes" is not a boolean/],
  ["dhcp ''", { 'dovelab.dhcp': '' }, /^dovelab\.dhcp: "" is not a boolean/],
  ['tagged on', { 'dovelab.tagged': 'on' }, /^dovelab\.tagged: "on" is not a boolean/],
  ["tagged ''", { 'dovelab.tagged': '' }, /^dovelab\.tagged: "" is not a boolean/],
  ['userspace 2', { 'ovs.bridge.userspace': '2' }, /^ovs\.bridge\.userspace: "2" is not a boolean/],
  ["userspace ''", { 'ovs.bridge.userspace': '' }, /^ovs\.bridge\.userspace: "" is not a boolean/],
  // Mode.
  ['mode bridge', { 'ovs.bridge.mode': 'bridge' }, /^ovs\.bridge\.mode: "bridge" is not a valid mode \(flat, nat or routed\)$/],
  ['mode FLAT', { 'dovelab.mode': 'FLAT' }, /^dovelab\.mode: "FLAT" is not a valid mode/],
  // dpid.
  ['dpid 1 without 0x', { 'ovs.bridge.dpid': '1' }, /^ovs\.bridge\.dpid: "1" is not a datapath id \(0x and 1\.\.16 hex digits/],
  ['dpid 0x', { 'ovs.bridge.dpid': '0x' }, /^ovs\.bridge\.dpid: "0x" is not a datapath id/],
  ['dpid 0x0', { 'ovs.bridge.dpid': '0x0' }, /^ovs\.bridge\.dpid: "0x0": a datapath id must not be zero/],
  ['dpid 0x0000', { 'ovs.bridge.dpid': '0x0000' }, /^ovs\.bridge\.dpid: "0x0000": a datapath id must not be zero/],
  ['dpid not hex', { 'ovs.bridge.dpid': '0xg1' }, /^ovs\.bridge\.dpid: "0xg1" is not a datapath id/],
  ['dpid 17 digits', { 'ovs.bridge.dpid': '0x10000000000000000' }, /^ovs\.bridge\.dpid: "0x10000000000000000" is not a datapath id/],
  ["dpid ''", { 'ovs.bridge.dpid': '' }, /^ovs\.bridge\.dpid: "" is not a datapath id/],
  // controller.
  ['controller without port', { 'ovs.bridge.controller': 'tcp:127.0.0.1' }, /^ovs\.bridge\.controller: "tcp:127\.0\.0\.1" is not a controller \(tcp:host:port/],
  ['controller udp', { 'ovs.bridge.controller': 'udp:127.0.0.1:6653' }, /^ovs\.bridge\.controller: "udp:127\.0\.0\.1:6653" is not a controller/],
  ['controller port 0', { 'ovs.bridge.controller': 'tcp:127.0.0.1:0' }, /^ovs\.bridge\.controller: "tcp:127\.0\.0\.1:0" is not a controller/],
  ['controller port 70000', { 'ovs.bridge.controller': 'tcp:127.0.0.1:70000' }, /is not a controller/],
  ['controller trailing comma', { 'ovs.bridge.controller': 'tcp:127.0.0.1:6653,' }, /^ovs\.bridge\.controller: "" is not a controller/],
  ['controller host with a space', { 'ovs.bridge.controller': 'tcp:a b:6653' }, /^ovs\.bridge\.controller: "tcp:a b:6653" is not a controller/],
  // name, bind_interface.
  ['name with /', { 'ovs.bridge.name': 'br/0' }, /^ovs\.bridge\.name: "br\/0" is not a Linux interface name/],
  ['name too long', { 'ovs.bridge.name': 'abcdefghijklmnop' }, /^ovs\.bridge\.name: "abcdefghijklmnop" is too long/],
  ['bind_interface ..', { 'ovs.bridge.bind_interface': '..' }, /^ovs\.bridge\.bind_interface: "\.\." is not a Linux interface name/],
  // ovs_local_mac.
  ['ovs_local_mac multicast', { 'ovs.bridge.ovs_local_mac': '01:00:5e:00:00:01' }, /^ovs\.bridge\.ovs_local_mac: "01:00:5e:00:00:01" is a multicast MAC/],
  ['ovs_local_mac short', { 'ovs.bridge.ovs_local_mac': '0e:01:00:00:00' }, /^ovs\.bridge\.ovs_local_mac: "0e:01:00:00:00" is not a MAC/],
  ['ovs_local_mac dashes', { 'ovs.bridge.ovs_local_mac': '0e-01-00-00-00-23' }, /^ovs\.bridge\.ovs_local_mac: .* is not a MAC/],
  ['ovs_local_mac zero', { 'ovs.bridge.ovs_local_mac': '00:00:00:00:00:00' }, /^ovs\.bridge\.ovs_local_mac: .* is the all-zero MAC/],
  // Numbers of Dovesnap-only options.
  ['preallocate_ports text', { 'ovs.bridge.preallocate_ports': 'ten' }, /^ovs\.bridge\.preallocate_ports: "ten" is not a number of ports \(0\.\.4096\)$/],
  ['preallocate_ports -1', { 'ovs.bridge.preallocate_ports': '-1' }, /^ovs\.bridge\.preallocate_ports: "-1"/],
  ['preallocate_ports too many', { 'ovs.bridge.preallocate_ports': '4097' }, /^ovs\.bridge\.preallocate_ports: "4097"/],
  ['lbport 0', { 'ovs.bridge.lbport': '0' }, /^ovs\.bridge\.lbport: "0" is not an OpenFlow port \(1\.\.65279\)$/],
  ['lbport 65280', { 'ovs.bridge.lbport': '65280' }, /^ovs\.bridge\.lbport: "65280" is not an OpenFlow port/],
  ['mirror_tunnel_vid 4095', { 'ovs.bridge.mirror_tunnel_vid': '4095' }, /^ovs\.bridge\.mirror_tunnel_vid: "4095" is not a VLAN/],
  // ACL options.
  ['unknown ACL', { 'ovs.bridge.default_acl': 'nope' }, /^ovs\.bridge\.default_acl: unknown ACL "nope" in "nope" \(known: allowall, denyall, ratelimitit\)$/],
  ['unknown ACL, ours', { 'dovelab.default_acl': 'allowall,nope' }, /^dovelab\.default_acl: unknown ACL "nope"/],
  ['unknown ACL for another network too', { 'ovs.bridge.default_acl': 'allowall/other:nope' }, /^ovs\.bridge\.default_acl: unknown ACL "nope"/],
  ['empty ACL in a list', { 'ovs.bridge.default_acl': 'allowall,,denyall' }, /^ovs\.bridge\.default_acl: an empty ACL name/],
  ['network form with two colons', { 'ovs.bridge.vlan_out_acl': 'a:b:allowall' }, /^ovs\.bridge\.vlan_out_acl: "a:b:allowall" is neither a value nor network:value/],
  ['network form with no network', { 'ovs.bridge.nat_acl': ':allowall' }, /^ovs\.bridge\.nat_acl: ":allowall" is neither/],
  ['nat_acl unknown', { 'ovs.bridge.nat_acl': 'testnet:nope' }, /^ovs\.bridge\.nat_acl: unknown ACL "nope"/],
  ['no ACLs known', { 'ovs.bridge.default_acl': 'allowall' }, /^ovs\.bridge\.default_acl: unknown ACL "allowall" in "allowall" \(no ACLs are defined\)$/, { acls: [] }],
  // Uplinks.
  ['uplink bad ofport', { 'dovelab.uplink': 'up0/x' }, /^dovelab\.uplink: "x" is not an OpenFlow port/],
  ['uplink bad VLAN', { 'ovs.bridge.add_ports': 'up0///5000' }, /^ovs\.bridge\.add_ports: "5000" is not a VLAN/],
  ['uplink given differently in both', { 'dovelab.uplink': 'up0/3', 'ovs.bridge.add_ports': 'up0/4' }, /^dovelab\.uplink: up0 is given differently in dovelab\.uplink="up0\/3" and ovs\.bridge\.add_ports="up0\/4"$/],
  ['two uplinks, one ofport, across names', { 'dovelab.uplink': 'up0/3', 'ovs.bridge.add_ports': 'up1/3' }, /^dovelab\.uplink: up0 and ovs\.bridge\.add_ports's up1 both ask for OpenFlow port 3$/],
  ['tagged with a per-port VLAN', { 'dovelab.tagged': 'true', 'dovelab.uplink': 'up0///20' }, /^dovelab\.tagged: .* up0 asks for its own VLAN 20$/],
  // Ours and Dovesnap's disagreeing.
  ['vlan disagrees', { 'dovelab.vlan': '200', 'ovs.bridge.vlan': '100' }, /^dovelab\.vlan: "200" disagrees with ovs\.bridge\.vlan="100": give one of them$/],
  ['mode disagrees', { 'dovelab.mode': 'nat', 'ovs.bridge.mode': 'routed' }, /^dovelab\.mode: "nat" disagrees with ovs\.bridge\.mode="routed"/],
  ['dhcp disagrees', { 'dovelab.dhcp': 'true', 'ovs.bridge.dhcp': 'false' }, /^dovelab\.dhcp: "true" disagrees with ovs\.bridge\.dhcp="false"/],
  ['mtu disagrees', { 'dovelab.mtu': '1400', 'ovs.bridge.mtu': '1500' }, /^dovelab\.mtu: "1400" disagrees with ovs\.bridge\.mtu="1500"/],
  ['default_acl disagrees', { 'dovelab.default_acl': 'allowall', 'ovs.bridge.default_acl': 'denyall' }, /^dovelab\.default_acl: "allowall" disagrees with ovs\.bridge\.default_acl="denyall"/],
  // DHCP: Dovesnap's rules and words, prefixed by the option given.
  ['DHCP not flat', { 'ovs.bridge.dhcp': 'true', 'ovs.bridge.mode': 'nat' }, /^ovs\.bridge\.dhcp: network must be flat when DHCP in use$/, { hasIpam: false }],
  ['DHCP with IP config', { 'ovs.bridge.dhcp': 'true' }, /^ovs\.bridge\.dhcp: network must not have IP config when DHCP in use$/, { hasIpam: true }],
  ['DHCP not internal', { 'dovelab.dhcp': 't' }, /^dovelab\.dhcp: network must be internal when DHCP in use$/, { hasIpam: false, internal: false }],
  // A gateway needs an address.
  ['nat without IP config', { 'ovs.bridge.mode': 'nat' }, /^ovs\.bridge\.mode: nat needs the network's IP config for its gateway/, { hasIpam: false }],
  ['routed without IP config', { 'dovelab.mode': 'routed' }, /^dovelab\.mode: routed needs the network's IP config/, { hasIpam: false }],
];
for (const [name, opts, re, ctx] of bad) {
  test(`option bad: ${name}`, () => { throwsOption(() => parse(opts, ctx), re, name); });
}

test('ours and Dovesnap\'s agreeing (after parsing) is fine', () => {
  const o = parse({ 'dovelab.vlan': '100', 'ovs.bridge.vlan': '0100', 'dovelab.dhcp': 'true', 'ovs.bridge.dhcp': '1', 'dovelab.mode': 'flat', 'ovs.bridge.mode': '',
    'dovelab.default_acl': 'allowall', 'ovs.bridge.default_acl': 'testnet:allowall', 'dovelab.mtu': '1400', 'ovs.bridge.mtu': '1400' }, { hasIpam: false });
  assert.equal([o.vlan, o.dhcp, o.mode, o.defaultAcls, o.mtu], [100, true, 'flat', ['allowall'], 1400]);
});

test('every known option has a good and a bad case above', () => {
  const good = new Set([...goodOptions.flatMap(([, o]) => Object.keys(o)), ...warned.flatMap(([, o]) => Object.keys(o))]);
  const badKeys = new Set(bad.flatMap(([, o]) => Object.keys(o)));
  // add_copro_ports has its own test (Dovesnap's noconfig line).
  for (const k of KNOWN_NETWORK_OPTIONS.filter((o) => o !== 'ovs.bridge.add_copro_ports')) {
    assert.ok(good.has(k), `no good case for ${k}`);
    assert.ok(badKeys.has(k), `no bad case for ${k}`);
  }
});

// --- The network form ------------------------------------------------------------------------

test('forNetwork: Dovesnap getStrForNetwork', () => {
  const cases: [string, string | undefined, string][] = [
    ['testnet:ratelimitit', 'testnet', 'ratelimitit'],
    ['testnet:ratelimitit', 'other', ''],
    ['testnet:ratelimitit', undefined, ''],
    ['a/net1:b/net2:c', 'net1', 'b'],
    ['a/net1:b/net2:c', 'net2', 'c'],
    ['a/net1:b/net2:c', 'net3', 'a'],
    ['a/net1:b/net2:c', undefined, 'a'],
    ['net1:b/a', 'net1', 'a'], // last wins, the default too
    ['net1:b/net1:c', 'net1', 'c'],
    ['a/b', 'x', 'b'],
    ['plain', 'x', 'plain'],
    ['', 'x', ''],
    ['a/', 'x', ''],
    ['x:y:z', 'x', ''], // skipped, as in Dovesnap
    ['a/x:y:z', 'x', 'a'],
    ['net1:true', 'net1', 'true'],
  ];
  for (const [v, n, want] of cases) assert.is(forNetwork(v, n), want, `${v} @ ${n}`);
});

// --- add_ports ----------------------------------------------------------------------------

test('parseAddPorts: the forms and empty fields', () => {
  const p = (v: string, net: string | undefined = 'testnet') => parseAddPorts('ovs.bridge.add_ports', v, net, ACLS);
  const pNoNet = (v: string) => parseAddPorts('ovs.bridge.add_ports', v, undefined, ACLS);
  assert.equal(p(''), []);
  assert.equal(p('odstest1/1//20'), [{ iface: 'odstest1', ofport: 1, acls: [], vlan: 20 }]);
  assert.equal(p('if///20'), [{ iface: 'if', acls: [], vlan: 20 }]);
  assert.equal(p('if'), [{ iface: 'if', acls: [] }]);
  assert.equal(p('if/'), [{ iface: 'if', acls: [] }]);
  assert.equal(p('if//'), [{ iface: 'if', acls: [] }]);
  assert.equal(p('if///'), [{ iface: 'if', acls: [] }]);
  assert.equal(p('if/0'), [{ iface: 'if', acls: [] }], 'ofport 0: any (Dovesnap)');
  assert.equal(p('if/65279'), [{ iface: 'if', ofport: 65279, acls: [] }]);
  assert.equal(p('odsaddport1/888/denyall'), [{ iface: 'odsaddport1', ofport: 888, acls: ['denyall'] }]);
  assert.equal(p('if//allowall'), [{ iface: 'if', acls: ['allowall'] }]);
  assert.equal(p('if/1/testnet:denyall'), [{ iface: 'if', ofport: 1, acls: ['denyall'] }]);
  assert.equal(p('if/1/testnet:denyall', 'other'), [{ iface: 'if', ofport: 1, acls: [] }]);
  assert.equal(pNoNet('if/1/testnet:denyall'), [{ iface: 'if', ofport: 1, acls: [] }]);
  assert.equal(p('a/1/allowall/4093,b/2,c'), [{ iface: 'a', ofport: 1, acls: ['allowall'], vlan: 4093 }, { iface: 'b', ofport: 2, acls: [] }, { iface: 'c', acls: [] }]);
  assert.equal(p('a,b/0,c/0'), [{ iface: 'a', acls: [] }, { iface: 'b', acls: [] }, { iface: 'c', acls: [] }], 'several "any" ports');
  assert.equal(p('enx00e04c680001'), [{ iface: 'enx00e04c680001', acls: [] }], '15 characters');
  // One ACL per port: a comma starts the next port (here an interface named denyall), as in Dovesnap.
  assert.equal(p('if/1/allowall,denyall'), [{ iface: 'if', ofport: 1, acls: ['allowall'] }, { iface: 'denyall', acls: [] }]);
  assert.equal(p('eth0.100'), [{ iface: 'eth0.100', acls: [] }]);
});

test('parseAddPorts: bad items name the option', () => {
  const bads: [string, RegExp][] = [
    [',', /an empty interface name/],
    ['a,,b', /an empty interface name/],
    ['a,', /an empty interface name/],
    ['/1', /"\/1": an empty interface name/],
    ['if/x', /"x" is not an OpenFlow port \(1\.\.65279\)/],
    ['if/-1', /"-1" is not an OpenFlow port/],
    ['if/65280', /"65280" is not an OpenFlow port/],
    ['if/4294967294', /"4294967294" is not an OpenFlow port/],
    ['if/1/2/3/4', /"if\/1\/2\/3\/4" has more than 4 fields/],
    ['if/1/nope', /unknown ACL "nope"/],
    ['if/1/other:nope', /unknown ACL "nope"/],
    ['if/1/a:b:c', /is neither a value nor network:value/],
    ['if///0', /"0" is not a VLAN/],
    ['if///4095', /"4095" is not a VLAN/],
    ['if///4094', /VLAN 4094 is reserved by Dovelab/],
    ['if///x', /"x" is not a VLAN/],
    ['a/1,b/1', /b and a both ask for OpenFlow port 1/],
    ['a,a', /interface a is given twice/],
    ['a/1,a/2', /interface a is given twice/],
    ['abcdefghijklmnop', /too long for an interface name/],
    ['a b', /not a Linux interface name/],
    ['a\tb', /not a Linux interface name/],
    ['eth0:1', /not a Linux interface name/],
    ['.', /not a Linux interface name/],
    ['..', /not a Linux interface name/],
    ['-x', /not a Linux interface name/],
    ['a\u0000', /not a Linux interface name/],
    ['ééééééééé', /too long/],
  ];
  for (const [v, re] of bads) {
    const e = throwsOption(() => parseAddPorts('ovs.bridge.add_ports', v, 'testnet', ACLS), re, JSON.stringify(v));
    assert.match(e.message, /^ovs\.bridge\.add_ports: /);
    assert.is(e.option, 'ovs.bridge.add_ports');
  }
});

test('badIfname: the kernel rule', () => {
  for (const ok of ['e', 'eth0', 'up0', 'enx00e04c680001', 'wlan0', 'br-lan', 'a_b.c', 'é']) assert.is(badIfname(ok), undefined, ok);
  for (const no of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a\nb', '-a', '0123456789abcdef']) assert.type(badIfname(no), 'string', no);
});

// --- Labels -------------------------------------------------------------------------------------

const labels = (l: Record<string, string>) => parseEndpointLabels(l, 'testnet', ACLS);

test('labels: good values', () => {
  const cases: [Record<string, string>, object][] = [
    [{}, {}],
    [{ 'dovelab.acl': 'allowall' }, { acls: ['allowall'] }],
    [{ 'dovelab.acl': 'allowall,ratelimitit' }, { acls: ['allowall', 'ratelimitit'] }],
    [{ 'dovesnap.faucet.portacl': 'ratelimitit' }, { acls: ['ratelimitit'] }],
    [{ 'dovesnap.faucet.portacl': 'testnet:ratelimitit' }, { acls: ['ratelimitit'] }],
    [{ 'dovesnap.faucet.portacl': 'allowall/testnet:denyall,ratelimitit' }, { acls: ['denyall', 'ratelimitit'] }],
    [{ 'dovesnap.faucet.portacl': 'other:denyall' }, {}],
    [{ 'dovesnap.faucet.portacl': '' }, {}],
    [{ 'dovelab.acl': 'allowall', 'dovesnap.faucet.portacl': 'testnet:allowall' }, { acls: ['allowall'] }],
    [{ 'dovelab.mirror': 'true' }, { mirror: true }],
    [{ 'dovelab.mirror': '1' }, { mirror: true }],
    [{ 'dovelab.mirror': 'false' }, {}],
    [{ 'dovelab.mirror': 'mir0' }, { mirror: 'mir0' }],
    [{ 'dovelab.mirror': 'capture-1' }, { mirror: 'capture-1' }],
    [{ 'dovesnap.faucet.mirror': 'testnet:true' }, { mirror: true }],
    [{ 'dovesnap.faucet.mirror': 'other:true' }, {}],
    [{ 'dovesnap.faucet.mirror': 'true/testnet:false' }, {}],
    [{ 'dovesnap.faucet.mirror': 'T' }, { mirror: true }],
    [{ 'dovelab.mirror': 'True', 'dovesnap.faucet.mirror': 'testnet:1' }, { mirror: true }],
    [{ 'dovelab.mac_prefix': '0e:99' }, { macPrefix: '0e:99' }],
    [{ 'dovesnap.faucet.mac_prefix': '0E99' }, { macPrefix: '0e:99' }],
    [{ 'dovesnap.faucet.mac_prefix': '0e' }, { macPrefix: '0e' }],
    [{ 'dovesnap.faucet.mac_prefix': '0e:01:02:03:04' }, { macPrefix: '0e:01:02:03:04' }],
    [{ 'dovelab.mac_prefix': '0e99', 'dovesnap.faucet.mac_prefix': '0e:99' }, { macPrefix: '0e:99' }],
    // Other labels are not ours.
    [{ 'com.docker.compose.project': 'x', 'dovelab.lab': 'demo', 'dovesnap.namespace': 'y', maintainer: 'z' }, {}],
  ];
  for (const [l, want] of cases) assert.equal(labels(l), want, JSON.stringify(l));
});

test('labels: bad values name the label', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'dovelab.acl': 'nope' }, /^dovelab\.acl: unknown ACL "nope" in "nope" \(known: allowall, denyall, ratelimitit\)$/],
    [{ 'dovesnap.faucet.portacl': 'testnet:nope' }, /^dovesnap\.faucet\.portacl: unknown ACL "nope"/],
    [{ 'dovesnap.faucet.portacl': 'other:nope' }, /^dovesnap\.faucet\.portacl: unknown ACL "nope"/],
    [{ 'dovesnap.faucet.portacl': 'a:b:c' }, /^dovesnap\.faucet\.portacl: "a:b:c" is neither a value nor network:value/],
    [{ 'dovelab.acl': 'allowall,' }, /^dovelab\.acl: an empty ACL name/],
    [{ 'dovelab.acl': 'allowall', 'dovesnap.faucet.portacl': 'denyall' }, /^dovelab\.acl: "allowall" disagrees with dovesnap\.faucet\.portacl="denyall"/],
    [{ 'dovelab.mirror': 'yes please' }, /^dovelab\.mirror: "yes please" is neither a boolean nor a mirror name/],
    [{ 'dovesnap.faucet.mirror': 'other:bad name' }, /^dovesnap\.faucet\.mirror: "bad name" is neither/],
    [{ 'dovesnap.faucet.mirror': 'x:y:z' }, /^dovesnap\.faucet\.mirror: "x:y:z" is neither a value nor network:value/],
    [{ 'dovelab.mirror': 'mir0', 'dovesnap.faucet.mirror': 'true' }, /^dovelab\.mirror: "mir0" disagrees with dovesnap\.faucet\.mirror="true"/],
    [{ 'dovelab.mac_prefix': '0e:99:00:00:00:01' }, /^dovelab\.mac_prefix: "0e:99:00:00:00:01" is not a MAC prefix \(1\.\.5 hex bytes/],
    [{ 'dovesnap.faucet.mac_prefix': '0e:9' }, /^dovesnap\.faucet\.mac_prefix: "0e:9" is not a MAC prefix/],
    [{ 'dovesnap.faucet.mac_prefix': '0e9:9' }, /^dovesnap\.faucet\.mac_prefix: "0e9:9" is not a MAC prefix/],
    [{ 'dovesnap.faucet.mac_prefix': '' }, /^dovesnap\.faucet\.mac_prefix: "" is not a MAC prefix/],
    [{ 'dovesnap.faucet.mac_prefix': 'zz' }, /^dovesnap\.faucet\.mac_prefix: "zz" is not a MAC prefix/],
    [{ 'dovesnap.faucet.mac_prefix': '01:00' }, /^dovesnap\.faucet\.mac_prefix: "01:00" would make multicast MACs/],
    [{ 'dovelab.mac_prefix': '0e:98', 'dovesnap.faucet.mac_prefix': '0e:99' }, /^dovelab\.mac_prefix: "0e:98" disagrees with dovesnap\.faucet\.mac_prefix="0e:99"/],
    [{ 'dovesnap.faucet.portacls': 'allowall' }, /^dovesnap\.faucet\.portacls: unknown label \(known: dovesnap\.faucet\.portacl, dovesnap\.faucet\.mirror, dovesnap\.faucet\.mac_prefix\)$/],
  ];
  for (const [l, re] of cases) throwsOption(() => labels(l), re, JSON.stringify(l));
});

// --- MAC prefix -----------------------------------------------------------------------------

test('applyMacPrefix: overwrites the leading bytes', () => {
  assert.is(applyMacPrefix('02:42:ac:11:00:02', '0e:99'), '0e:99:ac:11:00:02');
  assert.is(applyMacPrefix('02:42:AC:11:00:02', '0E99'), '0e:99:ac:11:00:02');
  assert.is(applyMacPrefix('02:42:ac:11:00:02', '0e'), '0e:42:ac:11:00:02');
  assert.is(applyMacPrefix('02:42:ac:11:00:02', '0e:01:02:03:04'), '0e:01:02:03:04:02');
  // The mirror test's --mac-address with the routed test's prefix.
  assert.is(applyMacPrefix('0e:99:00:00:00:07', '0e:99'), '0e:99:00:00:00:07');
});

test('applyMacPrefix: bad MAC, bad prefix, or a result that is not a unicast MAC', () => {
  throwsOption(() => applyMacPrefix('02:42:ac:11:00:02', '01'), /^mac_prefix: "01" would make multicast MACs/);
  throwsOption(() => applyMacPrefix('02:42:ac:11:00:02', '0e:99:00:00:00:01'), /^mac_prefix: .* is not a MAC prefix/);
  throwsOption(() => applyMacPrefix('02:42:ac:11:00', '0e'), /^mac_prefix: "02:42:ac:11:00" is not a MAC/);
  throwsOption(() => applyMacPrefix('02:42:ac:11:00:02', 'x'), /^mac_prefix: "x" is not a MAC prefix/);
  throwsOption(() => applyMacPrefix('02:00:00:00:00:00', '00'), /^mac_prefix: "00:00:00:00:00:00" is the all-zero MAC/);
});

// --- Fuzz -------------------------------------------------------------------------------------


const INTERESTING = ['', '0', '1', '-1', '+1', '4093', '4094', '4095', '5000', '65279', '65280', '1e3', '0x', '0x0', '0x1', '0xfffffffffffffffff',
  'true', 'True', 'TRUE', 'false', 'yes', 'nat', 'routed', 'flat', 'FLAT', '/', '//', ':', '::', ',', ',,', 'a:b:c', 'testnet:allowall',
  'other:nope', 'allowall/testnet:denyall', 'up0/1//20', 'if///20', 'a/1,a/2', '0e:99', '01:00', '0e:01:00:00:00:23', 'tcp:127.0.0.1:6653',
  'tcp::', '\u0000', ' ', '\n', 'é', 'x'.repeat(300), '..', '-x', '{}', 'null', 'undefined', '__proto__', 'constructor'];
const KEY_SPICE = ['__proto__', 'constructor', 'toString', 'ovs.bridge.', 'dovelab.', 'ovs.bridge.vlan ', 'Ovs.bridge.vlan', 'com.docker.network.driver.mtu'];

function mutateString(s: string, r: () => number): string {
  const pos = Math.floor(r() * (s.length + 1));
  switch (Math.floor(r() * 6)) {
    case 0: return INTERESTING[Math.floor(r() * INTERESTING.length)]!;
    case 1: return s.slice(0, pos) + s.slice(pos + 1); // delete a character
    case 2: return s.slice(0, pos) + String.fromCharCode(32 + Math.floor(r() * 95)) + s.slice(pos); // insert printable
    case 3: return s.slice(0, pos) + '/:,.0x'[Math.floor(r() * 6)] + s.slice(pos); // insert a separator
    case 4: return s + s; // repeat
    default: return s.slice(0, pos) + INTERESTING[Math.floor(r() * INTERESTING.length)]! + s.slice(pos);
  }
}

/** Every throw is a NetworkOptionError whose message starts with the option it names. */
function expectOptionErrorOr<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof NetworkOptionError)) assert.unreachable(`${what}: ${e instanceof Error ? e.stack : String(e)}`);
    const err = e as NetworkOptionError;
    assert.ok(err.message.startsWith(`${err.option}: `), `${what}: message names its option: ${err.message}`);
    return undefined;
  }
}

function checkOptions(o: NetworkOptions, what: string) {
  const inAcls = (l: string[]) => l.every((a) => ACLS.includes(a));
  assert.ok(o.vlan === undefined || (Number.isInteger(o.vlan) && o.vlan >= 1 && o.vlan <= 4093), `${what}: vlan ${o.vlan}`);
  assert.ok(Number.isInteger(o.mtu) && o.mtu >= 68 && o.mtu <= 9216, `${what}: mtu`);
  assert.ok(['flat', 'nat', 'routed'].includes(o.mode), `${what}: mode`);
  assert.ok(inAcls(o.defaultAcls) && inAcls(o.natAcls) && inAcls(o.vlanOutAcls), `${what}: ACLs`);
  for (const u of o.uplinks) {
    assert.is(badIfname(u.iface), undefined, `${what}: uplink ${u.iface}`);
    assert.ok(u.ofport === undefined || (u.ofport >= 1 && u.ofport <= 65279), `${what}: ofport`);
    assert.ok(u.vlan === undefined || (u.vlan >= 1 && u.vlan <= 4093), `${what}: port vlan`);
    assert.ok(inAcls(u.acls), `${what}: port ACLs`);
  }
  assert.ok(o.macForGateway === undefined || /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(o.macForGateway), `${what}: mac`);
  for (const w of o.warnings) assert.ok(KNOWN_NETWORK_OPTIONS.some((k) => w.startsWith(`${k}: `)), `${what}: warning names its option: ${w}`);
}

test('fuzz: mutated Dovesnap option sets parse or throw NetworkOptionError, never anything else', () => {
  const lines = Object.values(DOVESNAP).map((d) => dockerLine(d.create));
  let parsed = 0; let refused = 0;
  for (const seed of [1, 7, 42, 2026]) {
    const r = rng(seed);
    for (let i = 0; i < 1500; i++) {
      const line = lines[Math.floor(r() * lines.length)]!;
      const generic: Record<string, unknown> = { ...line.generic };
      const n = 1 + Math.floor(r() * 3);
      for (let m = 0; m < n; m++) {
        const keys = Object.keys(generic);
        const key = keys.length ? keys[Math.floor(r() * keys.length)]! : KNOWN_NETWORK_OPTIONS[0]!;
        const roll = r();
        if (roll < 0.55) generic[key] = mutateString(String(generic[key] ?? ''), r);
        else if (roll < 0.65) delete generic[key];
        else if (roll < 0.8) generic[KNOWN_NETWORK_OPTIONS[Math.floor(r() * KNOWN_NETWORK_OPTIONS.length)]!] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        else if (roll < 0.88) { const v = generic[key]; delete generic[key]; generic[r() < 0.5 ? mutateString(key, r) : KEY_SPICE[Math.floor(r() * KEY_SPICE.length)]!] = v; }
        else if (roll < 0.94) generic[key] = [42, null, undefined, true, {}, ['x']][Math.floor(r() * 6)];
        else { // our name for Dovesnap's (or the reverse), often with the same value
          const other = key.startsWith('ovs.bridge.') ? key.replace('ovs.bridge.', 'dovelab.') : key.replace('dovelab.', 'ovs.bridge.');
          generic[other] = r() < 0.5 ? generic[key] : INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        }
      }
      const ctx: Partial<NetworkOptionsContext> = { ...line.ctx, ...(r() < 0.2 ? { network: undefined } : {}), ...(r() < 0.2 ? { hasIpam: !line.ctx.hasIpam } : {}), ...(r() < 0.1 ? { internal: false } : {}) };
      const what = `seed ${seed} #${i}: ${JSON.stringify(generic)}`;
      const o = expectOptionErrorOr(() => parse(generic, ctx), what);
      if (o) { checkOptions(o, what); parsed++; } else refused++;
    }
  }
  // The mutations must exercise both outcomes.
  assert.ok(parsed > 300 && refused > 300, `parsed ${parsed}, refused ${refused}`);
});

test('fuzz: mutated labels, add_ports, forNetwork and MAC prefixes', () => {
  const runs = Object.values(DOVESNAP).map((d) => dockerLine(d.run).labels).filter((l) => Object.keys(l).length);
  const labelKeys = ['dovelab.acl', 'dovesnap.faucet.portacl', 'dovelab.mirror', 'dovesnap.faucet.mirror', 'dovelab.mac_prefix', 'dovesnap.faucet.mac_prefix', 'dovesnap.faucet.x', 'other'];
  let ok = 0; let refused = 0;
  for (const seed of [3, 11, 99]) {
    const r = rng(seed);
    for (let i = 0; i < 1500; i++) {
      const l: Record<string, string> = { ...runs[Math.floor(r() * runs.length)]! };
      const key = r() < 0.3 ? labelKeys[Math.floor(r() * labelKeys.length)]! : Object.keys(l)[Math.floor(r() * Object.keys(l).length)]!;
      l[key] = mutateString(l[key] ?? '', r);
      const net = r() < 0.2 ? undefined : r() < 0.5 ? 'testnet' : mutateString('testnet', r);
      const got = expectOptionErrorOr(() => parseEndpointLabels(l, net, ACLS), `labels seed ${seed} #${i}: ${JSON.stringify(l)}`);
      if (got) {
        ok++;
        assert.ok(got.acls === undefined || (got.acls.length > 0 && got.acls.every((a) => ACLS.includes(a))));
        assert.ok(got.mirror === undefined || got.mirror === true || /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(got.mirror));
        if (got.macPrefix !== undefined) {
          const mac = applyMacPrefix('02:42:ac:11:00:02', got.macPrefix);
          assert.ok(mac.startsWith(got.macPrefix));
        }
      } else refused++;

      const ports = mutateString(mutateString('odstest1/1//20,odstest2/2/testnet:allowall/30,odsaddport1/888/denyall', r), r);
      expectOptionErrorOr(() => parseAddPorts('ovs.bridge.add_ports', ports, net, ACLS), `add_ports ${JSON.stringify(ports)}`);
      const form = mutateString('a/net1:b/testnet:c', r);
      assert.type(forNetwork(form, net), 'string');
      const prefix = mutateString('0e:99', r);
      const mac = mutateString('02:42:ac:11:00:02', r);
      const out = expectOptionErrorOr(() => applyMacPrefix(mac, prefix), `mac ${mac} ${prefix}`);
      if (out) assert.ok(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(out) && (parseInt(out.slice(0, 2), 16) & 1) === 0, out);
    }
  }
  assert.ok(ok > 300 && refused > 300, `ok ${ok}, refused ${refused}`);
});

test.run();

// The topology format, rule by rule: small documents that must load, or fail with a named path
// and reason. Read as documentation of lesson.yaml (like Faucet's test_config.py).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crossCheck, LessonError, parseTopology } from '../../agent/lesson/load.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const ok = `
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
`;

test('a valid topology parses with defaults', () => {
  const t = parseTopology(ok, 'lesson.yaml');
  assert.is(t.networks.lab!.shared, false);
  assert.is(t.hosts.h1!.interfaces.eth0!.ip, '198.51.100.11/24');
});

const bad: [string, string, RegExp][] = [
  ['unknown network', ok.replace('network: lab,', 'network: nope,'), /lesson\.yaml: hosts\.h1\.interfaces\.eth0\.network: unknown network "nope" \(known: lab\)/],
  ['unknown key', ok.replace('networks:', 'colour: red\nnetworks:'), /lesson\.yaml: \(top\): Unrecognized key: "colour"/],
  ['VLAN out of range', ok.replace('lab: {}', 'lab: {vlan: 5000}'), /networks\.lab\.vlan: Too big/],
  ['bad address', ok.replace('198.51.100.11/24', '198.51.100.311/24'), /hosts\.h1\.interfaces\.eth0\.ip/],
  ['bad interface name', ok.replace('eth0:', '"eth 0":'), /hosts\.h1\.interfaces\.eth 0: not a valid Linux interface name/],
  ['wrong version', ok.replace('dovelab: 1', 'dovelab: 2'), /dovelab: Invalid input: expected 1/],
  ['duplicate key', ok + '  h1: {interfaces: {}}\n', /Map keys must be unique/],
  ['VLAN clash', 'dovelab: 1\nnetworks: {a: {vlan: 7, shared: true}, b: {vlan: 7, shared: true}}\nhosts: {}\n', /networks\.b\.vlan: VLAN 7 is already used by network "a"/],
  // The kernel has neigh/default only in its first namespace: a host's container would not start.
  ['neigh.default sysctl', ok.replace('ip: 198.51.100.11/24}}}', 'ip: 198.51.100.11/24}}, sysctl: {net.ipv4.neigh.default.retrans_time_ms: 20}}'),
    /hosts\.h1\.sysctl\.net\.ipv4\.neigh\.default\.retrans_time_ms: .*exists only in the appliance's own namespace.*net\.ipv4\.neigh\.eth0/],
];

test('a per-interface neigh sysctl is accepted (control for the neigh.default refusal)', () => {
  const t = parseTopology(ok.replace('ip: 198.51.100.11/24}}}', 'ip: 198.51.100.11/24}}, sysctl: {net.ipv4.neigh.eth0.retrans_time_ms: 20}}'), 'lesson.yaml');
  assert.equal(t.hosts.h1!.sysctl, { 'net.ipv4.neigh.eth0.retrans_time_ms': 20 });
});
for (const [name, doc, why] of bad) {
  test(`rejects: ${name}`, () => {
    try { parseTopology(doc, 'lesson.yaml'); } catch (e) {
      assert.instance(e, LessonError);
      assert.match((e as Error).message, why);
      return;
    }
    assert.unreachable('accepted a bad topology');
  });
}

// ---- Cross-field rules -------------------------------------------------------------------------
// Each document is written out in full below `dovelab: 1`.
const doc = (body: string) => `dovelab: 1\n${body.replace(/^\n/, '')}`;

/** Must load without problems. */
const valid: [string, string][] = [
  ['a shared network with its own VLAN next to a per-group one', `
networks: {lab: {}, office: {shared: true, vlan: 10}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}, eth1: {network: office, ip: dhcp}}}
  printer: {interfaces: {eth0: {network: office, ip: 203.0.113.9/24}}}
`],
  ['one address on two networks, one explicit MAC on two networks', `
networks: {a: {}, b: {}}
hosts:
  h1: {interfaces: {eth0: {network: a, ip: 198.51.100.1/24, mac: 0e:00:00:00:00:01}}}
  h2: {interfaces: {eth0: {network: b, ip: 198.51.100.1/24, mac: 0e:00:00:00:00:01}}}
`],
  ['same address, different prefix, different networks', `
networks: {a: {}, b: {}}
hosts:
  h1: {interfaces: {eth0: {network: a, ip: 198.51.100.1/24}, eth1: {network: b, ip: 198.51.100.1/25}}}
`],
  ['a gateway inside the subnet of a static address', `
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24, gateway: 198.51.100.1}}}
  r1: {interfaces: {eth0: {network: lab, ip: 198.51.100.1/24}}}
`],
  ['an access uplink and a trunk with a native network', `
networks: {lab: {}, office: {shared: true, vlan: 10}, guests: {shared: true, vlan: 20}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
uplinks:
  school: {interface: up0, network: office}
  trunk: {interface: up1, networks: [office, lab], native: guests}
`],
  ['mirrors of a whole host and of one interface', `
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  h2: {interfaces: {eth0: {network: lab}, eth1: {network: lab}}}
mirrors:
  wireshark: {interface: mir0, from: [h1, h2.eth1]}
  idle: {interface: mir1}
`],
  ['ACLs applied to host interfaces, prerequisites left to the compiler', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
acls:
  no-ping: [{match: {ip_proto: icmp}, action: drop}]
  no-web: [{match: {tcp_dst: 80, ip_dst: 198.51.100.0/24}, action: drop}, {action: allow}]
apply: {h1.eth0: [no-ping, no-web]}
`],
];
for (const [name, body] of valid) {
  test(`accepts: ${name}`, () => {
    assert.ok(parseTopology(doc(body), 'lesson.yaml'));
  });
}

/** Must fail with exactly these problems (path, reason), in this order. */
const invalid: [string, string, [string, RegExp][]][] = [
  // networks
  ['vlan on a per-group network', `
networks: {lab: {vlan: 10}}
hosts: {}
`, [['networks.lab.vlan', /^vlan is only for shared networks; per-group networks get N\*100\+k/]]],
  ['a shared network without vlan', `
networks: {office: {shared: true}}
hosts: {}
`, [['networks.office.vlan', /^a shared network needs a vlan \(1\.\.4093\)/]]],
  ['two shared networks on one VLAN', `
networks: {a: {shared: true, vlan: 10}, b: {shared: true, vlan: 10}}
hosts: {}
`, [['networks.b.vlan', /^VLAN 10 is already used by network "a"/]]],
  ['VLAN 4094 is reserved', `
networks: {office: {shared: true, vlan: 4094}}
hosts: {}
`, [['networks.office.vlan', /Too big: expected number to be <=4093/]]],
  ['a shared VLAN that group 1 gets for a per-group network', `
networks: {lab: {}, dmz: {}, office: {shared: true, vlan: 102}}
hosts: {}
`, [['networks.office.vlan', /^VLAN 102 is group 1's VLAN of per-group network "dmz"/]]],
  // interfaces
  ['an interface on an unknown network', `
networks: {lab: {}, office: {shared: true, vlan: 10}}
hosts: {h1: {interfaces: {eth0: {network: labb}}}}
`, [['hosts.h1.interfaces.eth0.network', /^unknown network "labb" \(known: lab, office\)$/]]],
  ['a network named like a built-in object property is still unknown', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: constructor}}}}
uplinks: {school: {interface: up0, network: toString}}
`, [['hosts.h1.interfaces.eth0.network', /^unknown network "constructor"/], ['uplinks.school.network', /^unknown network "toString"/]]],
  ['two interfaces with one MAC on one network (case ignored)', `
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, mac: 0e:00:00:00:00:AA}}}
  h2: {interfaces: {eth0: {network: lab, mac: 0e:00:00:00:00:aa}}}
`, [['hosts.h2.interfaces.eth0.mac', /^MAC 0e:00:00:00:00:aa is already used by h1\.eth0 on network "lab"$/]]],
  ['a multicast MAC', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, mac: 01:00:5e:00:00:01}}}}
`, [['hosts.h1.interfaces.eth0.mac', /multicast MAC/]]],
  ['the all-zero MAC', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, mac: 00:00:00:00:00:00}}}}
`, [['hosts.h1.interfaces.eth0.mac', /not a usable interface MAC/]]],
  ['one static address twice on one network (prefix ignored)', `
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/25}}}
`, [['hosts.h2.interfaces.eth0.ip', /^198\.51\.100\.11 is already the address of h1\.eth0 on network "lab"$/]]],
  ['one static address twice on one host and network', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}, eth1: {network: lab, ip: 198.51.100.11/24}}}}
`, [['hosts.h1.interfaces.eth1.ip', /already the address of h1\.eth0/]]],
  ['a gateway with dhcp', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, ip: dhcp, gateway: 198.51.100.1}}}}
`, [['hosts.h1.interfaces.eth0.gateway', /^a gateway needs a static ip, but this interface has ip: dhcp/]]],
  ['a gateway without ip (none)', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, gateway: 198.51.100.1}}}}
`, [['hosts.h1.interfaces.eth0.gateway', /^a gateway needs a static ip, but this interface has ip: none$/]]],
  ['a gateway outside the subnet', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/25, gateway: 198.51.100.129}}}}
`, [['hosts.h1.interfaces.eth0.gateway', /^198\.51\.100\.129 is outside 198\.51\.100\.0\/25, this interface's subnet/]]],
  ['a gateway that is the interface itself', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24, gateway: 198.51.100.11}}}}
`, [['hosts.h1.interfaces.eth0.gateway', /own address/]]],
  ['a gateway that is no address', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24, gateway: 198.51.100.300}}}}
`, [['hosts.h1.interfaces.eth0.gateway', /^expected an IPv4 address \(four numbers 0\.\.255\), got 198\.51\.100\.300$/]]],
  ['two gateways on one host', `
networks: {a: {}, b: {}}
hosts: {h1: {interfaces: {eth0: {network: a, ip: 198.51.100.11/24, gateway: 198.51.100.1}, eth1: {network: b, ip: 203.0.113.11/24, gateway: 203.0.113.1}}}}
`, [['hosts.h1.interfaces.eth1.gateway', /^h1 already has its default route via eth0 \(198\.51\.100\.1\): a host has one gateway$/]]],
  // uplinks
  ['an uplink of an unknown network', `
networks: {lab: {}}
hosts: {}
uplinks: {school: {interface: up0, network: office}}
`, [['uplinks.school.network', /^unknown network "office" \(known: lab\)$/]]],
  ['a trunk with an unknown network', `
networks: {lab: {}}
hosts: {}
uplinks: {trunk: {interface: up0, networks: [lab, office]}}
`, [['uplinks.trunk.networks.1', /^unknown network "office"/]]],
  ['a trunk listing a network twice', `
networks: {lab: {}}
hosts: {}
uplinks: {trunk: {interface: up0, networks: [lab, lab]}}
`, [['uplinks.trunk.networks.1', /^network "lab" is listed twice$/]]],
  ['native on an access uplink', `
networks: {lab: {}, office: {shared: true, vlan: 10}}
hosts: {}
uplinks: {school: {interface: up0, network: office, native: lab}}
`, [['uplinks.school.native', /^native is only for trunks/]]],
  ['native that is unknown', `
networks: {office: {shared: true, vlan: 10}}
hosts: {}
uplinks: {trunk: {interface: up0, networks: [office], native: guests}}
`, [['uplinks.trunk.native', /^unknown network "guests"/]]],
  ['native also listed as tagged', `
networks: {office: {shared: true, vlan: 10}}
hosts: {}
uplinks: {trunk: {interface: up0, networks: [office], native: office}}
`, [['uplinks.trunk.native', /^network "office" is also listed in networks/]]],
  ['two uplinks on one interface', `
networks: {lab: {}, office: {shared: true, vlan: 10}}
hosts: {}
uplinks: {a: {interface: up0, network: lab}, b: {interface: up0, network: office}}
`, [['uplinks.b.interface', /^interface up0 is already used by uplink "a"/]]],
  ['neither network nor networks on an uplink (schema)', `
networks: {lab: {}}
hosts: {}
uplinks: {school: {interface: up0}}
`, [['uplinks.school', /give either network \(untagged\) or networks \(tagged trunk\)/]]],
  // mirrors
  ['a mirror on an uplink interface', `
networks: {lab: {}}
hosts: {}
uplinks: {school: {interface: up0, network: lab}}
mirrors: {wireshark: {interface: up0}}
`, [['mirrors.wireshark.interface', /^interface up0 is already used by uplink "school"/]]],
  ['two mirrors on one interface', `
networks: {lab: {}}
hosts: {}
mirrors: {a: {interface: mir0}, b: {interface: mir0}}
`, [['mirrors.b.interface', /^interface mir0 is already used by mirror "a"/]]],
  ['a mirror of an unknown host', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
mirrors: {wireshark: {interface: mir0, from: [h1, h9]}}
`, [['mirrors.wireshark.from.1', /^unknown host "h9" \(known: h1\)$/]]],
  ['a mirror of an unknown interface', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
mirrors: {wireshark: {interface: mir0, from: [h1.eth1]}}
`, [['mirrors.wireshark.from.0', /^host "h1" has no interface "eth1" \(it has: eth0\)$/]]],
  ['a mirror source listed twice, or as host and interface', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
mirrors: {a: {interface: mir0, from: [h1.eth0, h1.eth0]}, b: {interface: mir1, from: [h1.eth0, h1]}}
`, [['mirrors.a.from.1', /^listed twice \(also entry 0\)$/], ['mirrors.b.from.1', /^overlaps entry 0 \(h1\.eth0\)/]]],
  ['a mirror source that is not host or host.interface (schema)', `
networks: {lab: {}}
hosts: {}
mirrors: {wireshark: {interface: mir0, from: [H1]}}
`, [['mirrors.wireshark.from.0', /expected host or host\.interface/]]],
  // acls
  ['a reserved ACL name', `
networks: {lab: {}}
hosts: {}
acls: {dovelab-mine: [{action: allow}]}
`, [['acls.dovelab-mine', /reserved/]]],
  ['apply to a key that is not host.interface', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
acls: {a: [{action: drop}]}
apply: {h1: [a]}
`, [['apply.h1', /^expected host\.interface, e\.g\. h1\.eth0$/]]],
  ['apply to an unknown host or interface', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
acls: {a: [{action: drop}]}
apply: {h2.eth0: [a], h1.eth1: [a]}
`, [['apply.h2.eth0', /^unknown host "h2" \(known: h1\)$/], ['apply.h1.eth1', /^host "h1" has no interface "eth1"/]]],
  ['apply of an unknown or repeated ACL', `
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}}}
acls: {a: [{action: drop}]}
apply: {h1.eth0: [a, b, a, dovelab-allow]}
`, [['apply.h1.eth0.1', /^unknown ACL "b" \(known: a\)$/], ['apply.h1.eth0.2', /^ACL "a" is listed twice$/], ['apply.h1.eth0.3', /^unknown ACL "dovelab-allow"/]]],
  ['impossible ACL matches', `
networks: {lab: {}}
hosts: {}
acls:
  web:
    - {match: {tcp_dst: 80}, action: allow}
    - {match: {eth_type: arp, ip_proto: tcp}, action: drop}
    - {match: {ip_proto: udp, tcp_dst: 22}, action: drop}
`, [['acls.web.1.match.ip_proto', /matches IP packets only .* but eth_type is arp/], ['acls.web.2.match.tcp_dst', /^tcp_dst needs ip_proto tcp \(6\), but ip_proto is udp \(17\)$/]]],
  ['an empty ACL (schema)', `
networks: {lab: {}}
hosts: {}
acls: {a: []}
`, [['acls.a', /Too small/]]],
];

function problemsOf(text: string): { path: string; message: string }[] {
  try { parseTopology(text, 'lesson.yaml'); } catch (e) {
    assert.instance(e, LessonError);
    return (e as LessonError).problems;
  }
  return [];
}

for (const [name, body, want] of invalid) {
  test(`rejects: ${name}`, () => {
    const got = problemsOf(doc(body));
    assert.equal(got.map((p) => p.path), want.map(([path]) => path), `paths of ${JSON.stringify(got)}`);
    want.forEach(([, why], k) => assert.match(got[k]!.message, why));
  });
}

test('one document with many problems reports all of them, in document order', () => {
  const got = problemsOf(doc(`
networks: {lab: {vlan: 5}, office: {shared: true}}
hosts:
  h1: {interfaces: {eth0: {network: nope, ip: dhcp, gateway: 198.51.100.1}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.2/24, mac: 0e:00:00:00:00:01}, eth1: {network: lab, ip: 198.51.100.2/24, mac: 0e:00:00:00:00:01}}}
uplinks: {school: {interface: up0, network: guests}}
mirrors: {wireshark: {interface: up0, from: [h3]}}
acls: {dovelab-x: [{match: {ip_src: 198.51.100.0/24, eth_type: ipv6}, action: drop}]}
apply: {h1.eth9: [nope]}
`));
  assert.equal(got.map((p) => p.path), [
    'networks.lab.vlan', 'networks.office.vlan',
    'hosts.h1.interfaces.eth0.network', 'hosts.h1.interfaces.eth0.gateway',
    'hosts.h2.interfaces.eth1.mac', 'hosts.h2.interfaces.eth1.ip',
    'uplinks.school.network',
    'mirrors.wireshark.interface', 'mirrors.wireshark.from.0',
    'acls.dovelab-x', 'acls.dovelab-x.0.match.ip_src',
    'apply.h1.eth9', 'apply.h1.eth9.0',
  ]);
  const text = new LessonError('lesson.yaml', got).message.split('\n');
  assert.is(text.length, got.length);
  assert.match(text[0]!, /^lesson\.yaml: networks\.lab\.vlan: vlan is only for shared networks/);
});

test('crossCheck also guards topologies built in code: VLAN 4094 is reserved', () => {
  const t = TopologySchema.parse({ dovelab: 1, networks: { office: { shared: true, vlan: 10 } }, hosts: {} });
  t.networks.office!.vlan = 4094;
  assert.equal(crossCheck(t).map((p) => p.path), ['networks.office.vlan']);
  assert.match(crossCheck(t)[0]!.message, /VLAN 4094 is reserved/);
});

test('the loaded topology is what the document says: validation changes nothing', () => {
  const t = parseTopology(doc(`
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab, mac: 0E:00:00:00:00:AA}}}}
acls: {a: [{match: {tcp_dst: 80}, action: drop}]}
`), 'lesson.yaml');
  assert.is(t.hosts.h1!.interfaces.eth0!.mac, '0E:00:00:00:00:AA');
  assert.equal(t.acls.a![0]!.match, { tcp_dst: 80 });
});

test.run();

// hosts.<h>.files targets: paths inside the host, checked as written (issue 7).
const withTarget = (target: string) => ok.replace('h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}',
  `h1:\n    interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}\n    files: {${JSON.stringify(target)}: files/motd.txt}`);

const goodTargets = ['/etc/motd', '/root/notes.txt', '/var/www/html/index.html', '/devices/x', '/procfs.txt', '/etc/..hidden', '/etc/.profile', '/srv/a b/c'];
const badTargets: [string, RegExp][] = [
  ['/etc/../shadow', /has a "\.\." segment/],
  ['/..', /has a "\.\." segment/],
  ['/etc/./motd', /has a "\." segment/],
  ['/etc//motd', /has an empty segment \(\/\/\)/],
  ['/etc/', /names a folder/],
  ['/', /names a folder/],
  ['/etc/mo\0td', /has a NUL character/],
  ['/proc/sys/net/ipv4/ip_forward', /under \/proc, a kernel filesystem/],
  ['/proc', /under \/proc/],
  ['/sys/class/net/eth0/mtu', /under \/sys/],
  ['/dev/sda', /under \/dev/],
  ['etc/motd', /expected an absolute path inside the host/],
];

test('files targets: ordinary absolute paths load (positive control for the table below)', () => {
  for (const target of goodTargets) {
    const t = parseTopology(withTarget(target), 'lesson.yaml');
    assert.equal(Object.keys(t.hosts.h1!.files!), [target], target);
  }
});

for (const [target, why] of badTargets) {
  test(`files target ${JSON.stringify(target)} is refused with its path`, () => {
    try { parseTopology(withTarget(target), 'lesson.yaml'); } catch (e) {
      assert.instance(e, LessonError);
      const shown = target.replace('\0', '\\u0000');
      assert.ok((e as Error).message.startsWith(`lesson.yaml: hosts.h1.files.${shown}: `), (e as Error).message);
      assert.match((e as Error).message, why);
      return;
    }
    assert.unreachable(`${JSON.stringify(target)} loaded`);
  });
}

test('controls: listed ports and ACLs of a group\'s own hosts only', () => {
  const base = `
dovelab: 1
networks: {lab: {}, hall: {shared: true, vlan: 50}}
hosts:
  web: {interfaces: {eth0: {network: lab, ip: 198.51.100.80/24}}}
  srv: {interfaces: {eth0: {network: hall, ip: 203.0.113.1/24}}}
acls:
  no-ping: [{match: {ip_proto: icmp}, action: drop}, {action: allow}]
`;
  const good = parseTopology(`${base}controls: {acls: {web.eth0: [no-ping]}, capture: [web.eth0]}\n`, 'lesson.yaml');
  assert.equal(good.controls?.acls, { 'web.eth0': ['no-ping'] });
  assert.equal(good.controls?.capture, ['web.eth0']);
  const cases: [string, RegExp][] = [
    ['controls: {acls: {web.eth1: [no-ping]}}', /controls\.acls\.web\.eth1: host "web" has no interface "eth1"/],
    ['controls: {acls: {web: [no-ping]}}', /controls\.acls\.web: expected host\.interface/],
    ['controls: {acls: {web.eth0: [nope]}}', /controls\.acls\.web\.eth0\.0: unknown ACL "nope" \(known: no-ping\)/],
    ['controls: {acls: {web.eth0: [no-ping, no-ping]}}', /controls\.acls\.web\.eth0\.1: ACL "no-ping" is listed twice/],
    ['controls: {acls: {srv.eth0: [no-ping]}}', /controls\.acls\.srv\.eth0: srv is shared by all groups/],
    ['controls: {acls: {web.eth0: []}}', /controls\.acls\.web\.eth0/],
    ['controls: {capture: [web.eth9]}', /controls\.capture\.0: host "web" has no interface "eth9"/],
    ['controls: {capture: [web]}', /controls\.capture\.0: expected host\.interface/],
    ['controls: {capture: [web.eth0, web.eth0]}', /controls\.capture\.1: web\.eth0 is listed twice/],
    ['controls: {capture: [srv.eth0]}', /controls\.capture\.0: srv is shared by all groups: a group may only capture its own hosts/],
    ['controls: {capture: web.eth0}', /controls\.capture/],
    ['controls: {pcap: [web.eth0]}', /controls: Unrecognized key: "pcap"/],
  ];
  for (const [line, why] of cases) {
    assert.throws(() => parseTopology(`${base}${line}\n`, 'lesson.yaml'), (e: Error) => e instanceof LessonError && why.test(e.message), line);
  }
});

// Hub networks (kind: hub): planning (lab/plan-hubs.ts through planDesired), Faucet emit, and the
// Kathará importer's choice of hubs (lesson/import/hubs.ts). The data plane is proven in
// test/integration/hub.test.ts.
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { planDesired, PlanError, type LabOverrides } from '../../agent/lab/desired.js';
import { emitFaucetYaml, FaucetModelError, validateFaucetModel } from '../../agent/net/faucet/emit.js';
import { importLab, lessonText } from '../../agent/lesson/import/index.js';
import { parseTopology } from '../../agent/lesson/load.js';
import { chooseHubs } from '../../agent/lesson/import/hubs.js';
import { scratchLab } from '../fixtures/import/helpers.js';

const LESSON = `
dovelab: 1
networks: {lan: {kind: hub}, wan: {}, all: {kind: hub, shared: true, vlan: 42}}
acls: {no-ping: [{match: {ip_proto: icmp}, action: drop}, {match: {tcp_dst: 22}, action: allow}]}
apply: {a.eth0: [no-ping]}
hosts:
  a: {interfaces: {eth0: {network: lan, ip: 198.51.100.1/24}}}
  b: {interfaces: {eth0: {network: lan}, eth1: {network: wan}}}
  c: {interfaces: {eth0: {network: lan}}}
  s: {interfaces: {eth0: {network: all}}}
  t: {interfaces: {eth0: {network: all}}}
`;
const plan = (y = LESSON, groups = 2, overrides?: LabOverrides) =>
  planDesired(TopologySchema.parse(parse(y)), { lab: 'x', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'img', overrides, now: Date.parse('2026-12-01T00:00:00Z') });
const iface = (d: ReturnType<typeof plan>, name: string) => d.faucet.dp.interfaces.find((i) => i.name === name)!;

test('hub ports end in their hub\'s output rule; switch ports still end in dovelab-allow', () => {
  const d = plan();
  assert.equal(iface(d, 'g1-b-eth0').acls_in, ['dovelab-hub-g1-lan']);
  assert.equal(iface(d, 'g1-b-eth1').acls_in, ['dovelab-allow'], 'wan is a switch');
  assert.is(iface(d, 'g1-b-eth0').native_vlan, 'g1-lan', 'a hub port keeps its VLAN');
  assert.equal(d.faucet.acls['dovelab-hub-g1-lan'], [{ match: {}, actions: { output: { ports: [101, 102, 104] } } }]);
  assert.equal(d.faucet.acls['dovelab-hub-g2-lan'], [{ match: {}, actions: { output: { ports: [201, 202, 204] } } }], 'each group its own hub');
  // A shared hub network: one hub of the shared hosts, named after the network.
  const s = d.ports.find((p) => p.faucetName === 's-eth0')!;
  assert.equal(iface(d, 's-eth0').acls_in, ['dovelab-hub-all']);
  assert.equal(d.faucet.acls['dovelab-hub-all']![0]!.actions.output!.ports, [s.ofport, d.ports.find((p) => p.faucetName === 't-eth0')!.ofport]);
});

test('a lesson ACL on a hub port: a variant whose allow outputs to the hub, drops kept; toggles swap variants', () => {
  const d = plan();
  assert.equal(iface(d, 'g1-a-eth0').acls_in, ['lesson-no-ping-hub-g1-lan', 'dovelab-hub-g1-lan']);
  assert.equal(d.faucet.acls['lesson-no-ping-hub-g1-lan'], [
    { match: { eth_type: 0x0800, ip_proto: 1 }, actions: { allow: false } },
    { match: { eth_type: 0x0800, ip_proto: 6, tcp_dst: 22 }, actions: { output: { ports: [101, 102, 104] } } },
  ]);
  assert.ok(d.faucet.acls['lesson-no-ping-hub-g2-lan'] && d.faucet.acls['lesson-no-ping-hub-all'], 'every lesson ACL has a variant per hub from the start');
  assert.ok(d.faucet.acls['lesson-no-ping'], 'and its switch form');
  // A student toggle (overrides) on c and off on a.
  const t = plan(LESSON, 2, { acls: { 'g1-c-eth0': ['no-ping'], 'g1-a-eth0': [] } });
  assert.equal(iface(t, 'g1-c-eth0').acls_in, ['lesson-no-ping-hub-g1-lan', 'dovelab-hub-g1-lan']);
  assert.equal(iface(t, 'g1-a-eth0').acls_in, ['dovelab-hub-g1-lan']);
  assert.equal(Object.keys(t.faucet.acls).sort(), Object.keys(d.faucet.acls).sort(), 'same ACL definitions: the toggle only swaps lists');
});

test('mirrors and captures of a hub port copy the whole hub', () => {
  const y = `${LESSON}mirrors: {m: {interface: mir0, from: [c]}}\n`;
  const d = plan(y, 1, { captures: { 'g1-a-eth0': '2999-01-01T00:00:00Z' } });
  const mir = d.uplinks.find((u) => u.role === 'mirror')!;
  const cap = d.captures!.find((c) => c.group === 1)!;
  assert.equal(cap.mirrors, [101]);
  assert.equal(d.faucet.acls['dovelab-hub-g1-lan']![0]!.actions.output!.ports, [mir.ofport, 101, 102, 104, cap.ofport].sort((a, b) => a - b));
  // Without the capture, the capture port is not in the hub's output.
  assert.not.ok(plan(y, 1).faucet.acls['dovelab-hub-g1-lan']![0]!.actions.output!.ports!.includes(cap.ofport));
});

test('an uplink carrying a hub network is refused, naming the uplink; a switch network is fine', () => {
  const y = (net: string) => `${LESSON}uplinks: {up: {interface: up0, networks: [${net}]}}\n`;
  assert.not.throws(() => plan(y('wan')));
  assert.throws(() => plan(y('lan')), (e: Error) => e instanceof PlanError && /uplinks\.up: g1-lan is a hub network/.test(e.message));
});

test('emit: output ports as Faucet\'s `output: {ports: [...]}`; an unknown output port is a model error', () => {
  const d = plan();
  const text = emitFaucetYaml(d.faucet);
  const doc = parse(text) as { acls: Record<string, { rule: { actions: unknown } }[]> };
  assert.equal(doc.acls['dovelab-hub-g1-lan']![0]!.rule.actions, { output: { ports: [101, 102, 104] } });
  const bad = structuredClone(d.faucet);
  bad.acls['dovelab-hub-g1-lan']![0]!.actions.output!.ports!.push(999);
  assert.throws(() => validateFaucetModel(bad), (e: Error) => e instanceof FaucetModelError && /dovelab-hub-g1-lan: output to unknown port 999/.test(e.message));
});

test('schema: kind is switch or hub, anything else named', () => {
  assert.is(TopologySchema.parse(parse(LESSON)).networks.wan!.kind, undefined);
  const r = TopologySchema.safeParse(parse(LESSON.replace('kind: hub, shared', 'kind: bus, shared')));
  assert.not.ok(r.success);
  assert.equal(r.error!.issues[0]!.path, ['networks', 'all', 'kind']);
});

test('import: chooseHubs marks the networks of bridging, VLAN, STP and sniffing hosts, one line per reason', () => {
  const nets = { a: {}, b: {}, c: {}, d: {} } as Record<string, { kind?: 'hub' }>;
  const lines = chooseHubs(nets, {
    br: { interfaces: { eth0: { network: 'a' }, eth1: { network: 'b' } }, startup: 'ip link add br0 type bridge\nip link set eth0 master br0\n' },
    sw: { interfaces: { eth0: { network: 'b' } }, startup: 'brctl addbr br0\nbrctl stp br0 on\n' },
    sn: { interfaces: { eth0: { network: 'c' } }, startup: 'tcpdump -i eth0 -w /shared/c.pcap &\n' },
    pc: { interfaces: { eth0: { network: 'd' } }, startup: 'ip addr add 198.51.100.9/24 dev eth0\n' },
  });
  assert.equal(Object.fromEntries(Object.entries(nets).map(([n, v]) => [n, v.kind])), { a: 'hub', b: 'hub', c: 'hub', d: undefined });
  assert.is(lines.length, 3);
  assert.match(lines[0]!, /collision domains a, b are hubs .*br, sw makes a bridge/);
  assert.match(lines[1]!, /collision domain b is a hub .*sw runs STP/);
  assert.match(lines[2]!, /collision domain c is a hub .*sn sniffs/);
  assert.equal(chooseHubs({ a: {} }, { pc: { interfaces: { eth0: { network: 'a' } }, startup: 'ping -c1 198.51.100.1' } }), [], 'a plain host: no hub, no line');
});

test('import: chooseHubs: a device named as a sniffer with no address makes its network a hub (students run tcpdump by hand)', () => {
  const nets = { a: {}, b: {}, c: {} } as Record<string, { kind?: 'hub' }>;
  const lines = chooseHubs(nets, {
    sniffer: { interfaces: { eth0: { network: 'a' } } },
    eve: { interfaces: { eth0: { network: 'b' } }, startup: 'ip link set eth0 up\n' },
    // Controls: a host called capture that has an address talks, it does not listen; an unnamed host without an address is just a host.
    capture: { interfaces: { eth0: { network: 'c', ip: '198.51.100.5/24' } } },
    pc: { interfaces: { eth0: { network: 'c' } } },
  });
  assert.equal(Object.fromEntries(Object.entries(nets).map(([n, v]) => [n, v.kind])), { a: 'hub', b: 'hub', c: undefined });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /collision domains a, b are hubs .*sniffer, eve is named as a sniffer and has no address/);
  // A sniffer that runs tcpdump from its startup is named once, for that.
  const one = chooseHubs({ a: {} }, { sniffer: { interfaces: { eth0: { network: 'a' } }, startup: 'tcpdump -i eth0 -w /shared/x.pcap &' } });
  assert.equal(one.length, 1);
  assert.match(one[0]!, /sniffer sniffs its neighbours/);
});

test('import: a Kathará lab with a bridge in a host imports with a hub network and a report line', () => {
  const lab = scratchLab({
    'lab.conf': 'pc1[0]="A"\nsw[0]="A"\nsw[1]="B"\npc2[0]="B"\npc3[0]="C"\npc4[0]="C"\n',
    'sw.startup': 'brctl addbr br0\nbrctl addif br0 eth0\nbrctl addif br0 eth1\nip link set br0 up\n',
    'pc1.startup': 'ip addr add 198.51.100.1/24 dev eth0\n',
    'pc2.startup': 'ip addr add 198.51.100.2/24 dev eth0\n',
  });
  try {
    const r = importLab(lab.dir);
    const t = parseTopology(lessonText(r), 'lesson.yaml');
    assert.is(t.networks.a!.kind, 'hub');
    assert.is(t.networks.b!.kind, 'hub');
    assert.is(t.networks.c!.kind, undefined, 'C has no bridge, sniffer, VLANs or STP: a switch');
    assert.ok(r.warnings.some((w) => /collision domains a, b are hubs \(kind: hub, as in Kathará\): sw makes a bridge/.test(w)), r.warnings.join('\n'));
  } finally { lab.remove(); }
});

test.run();

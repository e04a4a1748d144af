import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired, stableMac, PlanError, type PlanSettings } from '../../agent/lab/desired.js';
import { captureExternalIds, diff, hostLabels, portExternalIds, type ObservedState } from '../../agent/lab/diff.js';
import { TopologySchema, type Topology } from '../../agent/lesson/schema.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { IDLE_PORT, IDLE_VLAN } from '../../agent/net/faucet/model.js';

const topo = (doc: string): Topology => TopologySchema.parse(parse(doc));
const settings = (groups = 1): PlanSettings => ({ lab: 'demo', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' });
const TWO = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24, mac: "0E:00:00:00:01:02"}}}
`);

test('two hosts: pinned ofports, dl<ofport> port names, one VLAN per group', () => {
  const d = planDesired(TWO, settings());
  assert.equal(d.ports.map((p) => [p.faucetName, p.ofport, p.hostEnd, p.vid]), [
    ['g1-h1-eth0', 101, 'dl101', 101], ['g1-h2-eth0', 102, 'dl102', 101],
  ]);
  assert.equal(d.hosts.map((h) => [h.container, h.hostname, h.image]), [
    ['dovelab-g1-h1', 'g1-h1', 'dovelab/labhost'], ['dovelab-g1-h2', 'g1-h2', 'dovelab/labhost'],
  ]);
  assert.is(d.ports[0]!.address, '198.51.100.11/24');
});

test('MACs: stable, locally administered unicast; explicit MAC kept (lower case)', () => {
  const d = planDesired(TWO, settings());
  assert.is(d.ports[0]!.mac, stableMac('demo', 1, 'h1', 'eth0'));
  assert.is(planDesired(TWO, settings()).ports[0]!.mac, d.ports[0]!.mac);
  const first = parseInt(d.ports[0]!.mac.slice(0, 2), 16);
  assert.ok(first & 0x02, 'locally administered');
  assert.not.ok(first & 0x01, 'unicast');
  assert.is(d.ports[1]!.mac, '0e:00:00:00:01:02');
});

test('groups: hosts copied per group with own VLANs and ofport ranges', () => {
  const d = planDesired(TWO, settings(3));
  assert.equal(d.ports.map((p) => `${p.faucetName}:${p.ofport}:${p.vid}`), [
    'g1-h1-eth0:101:101', 'g2-h1-eth0:201:201', 'g3-h1-eth0:301:301',
    'g1-h2-eth0:102:101', 'g2-h2-eth0:202:201', 'g3-h2-eth0:302:301',
  ]);
  assert.is(new Set(d.ports.filter((p) => p.host === 'h1').map((p) => p.mac)).size, 3);
  // An explicit MAC is kept in every group: the groups' VLANs keep them apart.
  assert.equal(d.ports.filter((p) => p.host === 'h2').map((p) => p.mac), Array(3).fill('0e:00:00:00:01:02'));
  assert.equal(d.faucet.vlans.map((v) => v.vid).sort(), [101, 201, 301, 4094]);
});

test('shared network: one VLAN (literal id), host exists once', () => {
  const t = topo(`
dovelab: 1
networks: {office: {vlan: 110, shared: true}, lab: {}}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 198.51.100.1/24}}}
  h1: {interfaces: {eth0: {network: lab}, eth1: {network: office, ip: dhcp}}}
`);
  const d = planDesired(t, settings(2));
  assert.equal(d.hosts.map((h) => h.key), ['srv', 'g1-h1', 'g2-h1']);
  assert.equal(d.ports.map((p) => `${p.faucetName}:${p.ofport}:${p.vid}`), [
    'srv-eth0:50:110', 'g1-h1-eth0:101:101', 'g1-h1-eth1:102:110', 'g2-h1-eth0:201:201', 'g2-h1-eth1:202:110',
  ]);
  assert.ok(d.ports[2]!.dhcp);
});

test('every lab port carries an ACL list ending in allow; the config emits', () => {
  const d = planDesired(TWO, settings(2));
  const lab = d.faucet.dp.interfaces.filter((i) => i.number !== IDLE_PORT.number && !i.output_only);
  assert.is(lab.length, 4);
  for (const i of lab) assert.equal(i.acls_in, ['dovelab-allow']);
  const y = parse(emitFaucetYaml(d.faucet));
  // The idle placeholder stays, so a DP never loses its last interface.
  // Each group's capture port (N*100+99) is output_only from the start, copying nothing yet.
  assert.equal(Object.keys(y.dps.dovelab0.interfaces).map(Number), [101, 102, 199, 201, 202, 299, IDLE_PORT.number]);
  assert.equal(y.dps.dovelab0.interfaces[199], { name: 'dovelab-capture-1', description: 'capture (group 1)', output_only: true });
  assert.equal(y.dps.dovelab0.interfaces[IDLE_PORT.number], { name: IDLE_PORT.name, description: IDLE_PORT.description, native_vlan: IDLE_VLAN.name, acls_in: ['dovelab-allow'] });
});

test('clashes are plan errors: literal VLAN equal to an allocated one, duplicate MAC', () => {
  const clash = topo(`
dovelab: 1
networks: {office: {vlan: 101, shared: true}, lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}, eth1: {network: office}}}}
`);
  assert.throws(() => planDesired(clash, settings()), (e: unknown) => e instanceof PlanError && /VLAN 101/.test((e as Error).message));
  const mac = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, mac: "0e:00:00:00:00:01"}}}
  h2: {interfaces: {eth0: {network: lab, mac: "0e:00:00:00:00:01"}}}
`);
  assert.throws(() => planDesired(mac, settings()), /MAC 0e:00:00:00:00:01/);
});

const observedFrom = (d: ReturnType<typeof planDesired>): ObservedState => ({
  hosts: d.hosts.map((h) => ({ container: h.container, running: true, labels: hostLabels(d.lab, h), links: ['lo', 'eth0'] })),
  ports: [
    ...d.ports.map((p) => ({ name: p.hostEnd, ofport: p.ofport, externalIds: portExternalIds(d.lab, p) })),
    ...(d.captures ?? []).map((c) => ({ name: c.hostEnd, ofport: c.ofport, externalIds: captureExternalIds(d.lab, c) })),
  ],
  interfaces: ['lo', 'eth0', ...d.ports.map((p) => p.hostEnd)],
});
const kinds = (actions: ReturnType<typeof diff>) => actions.map((a) => {
  switch (a.kind) {
    case 'faucet': return 'faucet';
    case 'remove-port': return `${a.kind}:${a.port}`;
    case 'remove-host': return `${a.kind}:${a.container}`;
    case 'create-host': return `${a.kind}:${a.host.container}`;
    case 'attach': return `${a.kind}:${a.port.hostEnd}`;
    case 'add-capture': return `${a.kind}:${a.capture.hostEnd}`;
    default: return a.kind;
  }
});

test('diff: empty observed -> create hosts, attach ports, then one Faucet change', () => {
  const d = planDesired(TWO, settings());
  assert.equal(kinds(diff(d, { hosts: [], ports: [], interfaces: [] })), [
    'create-host:dovelab-g1-h1', 'create-host:dovelab-g1-h2', 'attach:dl101', 'attach:dl102', 'add-capture:dl199', 'faucet',
  ]);
});

test('diff: everything right -> only the (idempotent) Faucet step', () => {
  const d = planDesired(TWO, settings());
  assert.equal(kinds(diff(d, observedFrom(d))), ['faucet']);
});

test('diff: repairs only what differs', () => {
  const d = planDesired(TWO, settings());
  const o = observedFrom(d);
  o.ports = o.ports.filter((p) => p.name !== 'dl102');
  assert.equal(kinds(diff(d, o)), ['attach:dl102', 'faucet']);
  const o2 = observedFrom(d);
  o2.hosts[0]!.running = false;
  assert.equal(kinds(diff(d, o2)), ['remove-host:dovelab-g1-h1', 'create-host:dovelab-g1-h1', 'attach:dl101', 'faucet']);
  const o3 = observedFrom(d);
  o3.ports[0]!.error = 'could not open network device dl101 (No such device)';
  assert.equal(kinds(diff(d, o3)), ['attach:dl101', 'faucet']);
  const o4 = observedFrom(d);
  o4.hosts[1]!.links = ['lo'];
  assert.equal(kinds(diff(d, o4)), ['attach:dl102', 'faucet']);
});

test('diff: removes hosts and ports that are not in the lab, leaves foreign ports alone', () => {
  const d = planDesired(TWO, settings());
  const o = observedFrom(planDesired(TWO, settings(2)));
  o.ports.push({ name: 'up0', ofport: 1, externalIds: {} });
  assert.equal(kinds(diff(d, o)), ['remove-host:dovelab-g2-h1', 'remove-host:dovelab-g2-h2', 'remove-port:dl201', 'remove-port:dl202', 'remove-port:dl299', 'faucet']);
  // Group 2's capture port is our veth: deleted with its link, never "released" like a dongle.
  assert.ok(diff(d, o).some((a) => a.kind === 'remove-port' && a.port === 'dl299' && a.veth));
});

test.run();

test('host limits: the appliance default, more where the lesson asks, never above the maximum', () => {
  const limits = { default: { pids: 256, memory_mb: 256, cpus: 1 }, max: { pids: 1024, memory_mb: 1024, cpus: 2 } };
  const t = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  big: {interfaces: {eth0: {network: lab}}, resources: {memory_mb: 768, pids: 64}}
`);
  const d = planDesired(t, { ...settings(), limits });
  assert.equal(d.hosts.find((h) => h.host === 'h1')!.limits, limits.default);
  // More memory than the default is granted; fewer pids than the default is not a reduction.
  assert.equal(d.hosts.find((h) => h.host === 'big')!.limits, { pids: 256, memory_mb: 768, cpus: 1 });
  const greedy = topo(`
dovelab: 1
networks: {lab: {}}
hosts: {h1: {interfaces: {eth0: {network: lab}}, resources: {cpus: 4}}}
`);
  assert.throws(() => planDesired(greedy, { ...settings(), limits }), (e: Error) => e instanceof PlanError && /hosts\.h1\.resources\.cpus: 4 is more than this appliance allows \(at most 2\)/.test(e.message));
});

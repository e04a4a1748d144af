// Driver modes nat and routed without Docker (issue 9): the pure planning of gateway ports
// (ofport, VLAN, ACLs, names), Docker's port maps parsed (bad input is a clear error), the
// gateways' iptables rules computed purely, the diff's add/repair/remove of gateways, and the verbs
// and protocol over the recording fake world (create, Join with a port map, Leave, delete, repair).
import { mkdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import { BUILTIN_ACLS } from '../../agent/lab/appliance-acls.js';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { paths, type Config } from '../../agent/config.js';
import { type DesiredGateway, type DesiredState } from '../../agent/lab/desired.js';
import { diff, gatewayExternalIds, type ObservedState } from '../../agent/lab/diff.js';
import { idleDesired } from '../../agent/lab/engine.js';
import { readNetworkState, writeNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointJoin, endpointLeave, endpointPublish, networkCreate, networkDelete, NetworkError, type CreateNetworkRequest } from '../../agent/lab/networks.js';
import {
  checkPublished, cidrsOverlap, GATEWAY_CHAINS, gatewayFirewall, gatewayMac, gatewayOfport, parseCidr, parsePortMap, planGateway, PortMapError,
} from '../../agent/lab/plan-gateways.js';
import { networkVlanName, withNetworks, type PluginEndpoint, type PluginNetwork, type PluginState } from '../../agent/lab/plan-networks.js';
import { labDown, labRepair } from '../../agent/lab/service.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { ALLOW_ALL, allowAll, EGRESS_ALLOW, egressAllow } from '../../agent/net/faucet/model.js';
import { restoreText } from '../../agent/net/gateway-firewall.js';
import { pluginApp } from '../../agent/web/plugin.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';
import { planError } from './_driver.js';

const NET_A = 'a1'.repeat(32);
const NET_B = 'b2'.repeat(32);
const EP_1 = 'e1'.repeat(32);
const EP_2 = 'e2'.repeat(32);

const net = (over: Partial<PluginNetwork> = {}): PluginNetwork => ({
  id: NET_A, vid: 110, mode: 'nat', dhcp: false, mtu: 1500, tagged: false, uplinks: [], defaultAcls: [], gateway: '198.51.100.1/24',
  options: {}, createdAt: '2026-12-01T00:00:00Z', ...over,
});
const ep = (over: Partial<PluginEndpoint> = {}): PluginEndpoint => ({
  id: EP_1, network: NET_A, ofport: 4001, hostEnd: 'dl4001', peer: 'dp4001', mac: '0e:00:00:00:00:01', address: '198.51.100.2/24', acls: [], joined: true, ...over,
});
const idle = (): DesiredState => ({ lab: '', hosts: [], ports: [], uplinks: [], faucet: { dp: { name: 'dovelab0', dpId: 1, description: 'idle', interfaces: [] }, vlans: [], acls: {} } });

function portMapError(raw: unknown, re: RegExp): void {
  try { parsePortMap(raw); } catch (e) {
    assert.instance(e, PortMapError, String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`${JSON.stringify(raw)}: no PortMapError`);
}

// ---------------------------------------------------------------------------------------------
// 1. Pure planning

test('parseCidr / cidrsOverlap: the subnet of a gateway; overlaps either way', () => {
  assert.equal(parseCidr('198.51.100.1/24'), { ip: '198.51.100.1', prefix: 24, subnet: '198.51.100.0/24' });
  assert.equal(parseCidr('172.18.5.1/16')?.subnet, '172.18.0.0/16');
  for (const bad of ['198.51.100.1', '198.51.100.256/24', '198.51.100.1/33', 'fe80::1/64', '']) assert.is(parseCidr(bad), undefined, bad);
  assert.ok(cidrsOverlap('192.168.1.20/24', '192.168.1.0/24'));
  assert.ok(cidrsOverlap('10.0.0.0/8', '10.9.0.0/16'));
  assert.not.ok(cidrsOverlap('198.51.100.0/24', '203.0.113.1/24'));
});

test('planGateway: nat network -> gp/gw<vid>, ofport 10000+vid, its VLAN, gateway address and subnet, MTU, nat_acl ACLs', () => {
  const g = planGateway(net({ mtu: 1400, natAcls: ['no-ssh'] }), 'docker-x', [])!;
  assert.equal(g, {
    network: NET_A, mode: 'nat', vid: 110, vlan: 'docker-x', ofport: 10110, portEnd: 'gp110', addrEnd: 'gw110',
    address: '198.51.100.1/24', subnet: '198.51.100.0/24', mac: gatewayMac(NET_A), mtu: 1400, faucetName: 'docker-gw110', acls: ['no-ssh'], published: [],
  });
  assert.is(gatewayOfport(4094), 14094, 'the highest VLAN stays a valid OpenFlow port');
  assert.not.match(g.portEnd + g.addrEnd, /^dl|gpdl/, 'never dl* (the lab firewall drops dl+)');
  assert.is(planGateway(net({ mode: 'routed', gatewayMac: '0e:01:00:00:00:23' }), 'v', [])!.mac, '0e:01:00:00:00:23', 'ovs_local_mac honoured');
  const mac = gatewayMac(NET_A);
  assert.ok(parseInt(mac.slice(0, 2), 16) & 2, 'locally administered');
  assert.not.ok(parseInt(mac.slice(0, 2), 16) & 1, 'unicast');
  assert.is.not(gatewayMac(NET_B), mac);
  assert.is(planGateway(net({ mode: 'flat', gateway: undefined }), 'v', []), undefined, 'flat: no gateway');
});

test('planGateway: published ports of joined endpoints only; refusals (no gateway, flat with -p, no address) name the network', () => {
  const pub = [{ proto: 'tcp' as const, hostPort: 8089, port: 80 }];
  const g = planGateway(net(), 'v', [ep({ published: pub }), ep({ id: EP_2, joined: false, published: pub }), ep({ id: 'x', network: NET_B, published: pub })])!;
  assert.equal(g.published, [{ proto: 'tcp', hostPort: 8089, port: 80, ip: '198.51.100.2', endpoint: EP_1 }]);
  planError(() => planGateway(net({ gateway: undefined }), 'v', []), /network a1a1a1a1a1a1: mode nat needs an IPv4 IPAM gateway \(not --ipam-driver null\)/);
  planError(() => planGateway(net({ mode: 'routed', gateway: 'fd00::1/64' }), 'v', []), /routed needs an IPv4 IPAM gateway/);
  planError(() => planGateway(net({ mode: 'flat' }), 'v', [ep({ published: pub })]), /is flat: it has no gateway to publish ports on \(-p needs dovelab\.mode=nat or routed\)/);
  planError(() => planGateway(net(), 'v', [ep({ address: undefined, published: pub })]), /publishes ports but has no IPv4 address/);
});

test('withNetworks: the gateway port in faucet.yaml (number 10000+vid, native VLAN, ACLs then allow), valid; flat networks have none', () => {
  const st: PluginState = { networks: [net({ natAcls: ['no-ssh'] }), net({ id: NET_B, vid: 120, mode: 'flat', gateway: undefined })], endpoints: [ep()] };
  const d = withNetworks(idle(), st, { acls: { ...BUILTIN_ACLS, 'no-ssh': [{ match: { tcp_dst: 22 }, action: 'drop' }] }, mirrorDongles: [] });
  assert.equal(d.gateways!.map((g) => [g.network, g.ofport, g.portEnd]), [[NET_A, 10110, 'gp110']]);
  const i = d.faucet.dp.interfaces.find((x) => x.number === 10110)!;
  assert.equal(i, { number: 10110, name: 'docker-gw110', description: `gateway of docker network ${NET_A.slice(0, 12)}`, native_vlan: networkVlanName(st.networks[0]!), acls_in: ['appliance-no-ssh', ALLOW_ALL] });
  assert.is(d.faucet.dp.interfaces.filter((x) => x.number >= 10000).length, 1);
  // Emits (the ACLs defined by hand here; the ACL file defines them for real).
  const doc = parse(emitFaucetYaml({ ...d.faucet, acls: { ...d.faucet.acls, [ALLOW_ALL]: allowAll() } })) as { dps: Record<string, { interfaces: Record<string, { native_vlan?: string }> }> };
  assert.is(doc.dps.dovelab0!.interfaces['10110']?.native_vlan, networkVlanName(st.networks[0]!));
  // An uplink asking for the gateway's number clashes, naming both.
  planError(() => withNetworks(idle(), { networks: [net({ uplinks: [{ iface: 'odsaddport1', ofport: 10110, acls: [] }] })], endpoints: [] }), /port number 10110 is already used by/);
});

test('withNetworks: vlan_out_acl becomes the VLAN\'s acls_out (its ACLs, then allow), defined in faucet.yaml; none without it; an unknown one names the network', () => {
  const st: PluginState = { networks: [net({ name: 'office', mode: 'flat', gateway: undefined, vlanOutAcls: ['no-ping'] }), net({ id: NET_B, vid: 120, mode: 'flat', gateway: undefined })], endpoints: [ep()] };
  const d = withNetworks(idle(), st, { acls: BUILTIN_ACLS, mirrorDongles: [] });
  const vlan = (id: string) => d.faucet.vlans.find((v) => v.name === networkVlanName(st.networks.find((n) => n.id === id)!))!;
  assert.equal(vlan(NET_A).acls_out, ['appliance-no-ping', EGRESS_ALLOW]);
  assert.is(vlan(NET_B).acls_out, undefined, 'the other network has no egress ACLs');
  assert.ok(d.faucet.acls['appliance-no-ping']?.length, 'the ACL is defined for Faucet');
  const doc = parse(emitFaucetYaml({ ...d.faucet, acls: { ...d.faucet.acls, [ALLOW_ALL]: allowAll() } })) as { vlans: Record<string, { acls_out?: string[] }> };
  assert.equal(doc.vlans[networkVlanName(st.networks[0]!)]?.acls_out, ['appliance-no-ping', EGRESS_ALLOW]);
  assert.equal(d.faucet.acls[EGRESS_ALLOW], egressAllow(), 'the egress list\'s allow is defined (with its vlan_vid match)');
  assert.is(doc.vlans[networkVlanName(st.networks[1]!)]?.acls_out, undefined);
  // An egress ACL Faucet would not know is the model's error, before any I/O.
  assert.throws(() => emitFaucetYaml({ ...d.faucet, acls: { [ALLOW_ALL]: allowAll() } }), /vlan docker-.*: unknown acl appliance-no-ping/);
  planError(() => withNetworks(idle(), { networks: [net({ name: 'office', vlanOutAcls: ['nope'] })], endpoints: [] }, { acls: BUILTIN_ACLS, mirrorDongles: [] }), /ACL nope \(used by office\) is not one of the appliance's/);
});

test('checkPublished / withNetworks: one host port per protocol (any address clashes with a specific one); another protocol is fine', () => {
  const st = (a: object, b: object): PluginState => ({
    networks: [net(), net({ id: NET_B, vid: 120, gateway: '203.0.113.1/24' })],
    endpoints: [ep({ published: [{ proto: 'tcp', hostPort: 8089, port: 80, ...a }] }), ep({ id: EP_2, network: NET_B, ofport: 4002, hostEnd: 'dl4002', address: '203.0.113.5/24', published: [{ proto: 'tcp', hostPort: 8089, port: 81, ...b }] })],
  });
  planError(() => withNetworks(idle(), st({}, {})), /port 8089\/tcp is already published by endpoint e1e1e1e1e1e1 \(198\.51\.100\.2:80\)/);
  planError(() => withNetworks(idle(), st({ hostIp: '192.0.2.2' }, {})), /8089\/tcp is already published/);
  // Controls: udp beside tcp; two different specific addresses.
  withNetworks(idle(), st({}, { proto: 'udp' }));
  withNetworks(idle(), st({ hostIp: '192.0.2.2' }, { hostIp: '192.0.2.3' }));
  checkPublished([]);
});

test('parsePortMap: Docker\'s bindings (tcp 6, udp 17, HostIP, duplicates merged, IPv6 left out, a range takes its first port)', () => {
  assert.equal(parsePortMap(undefined), []);
  assert.equal(parsePortMap(null), []);
  assert.equal(parsePortMap([
    { Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8089, HostPortEnd: 8089 },
    { Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8089, HostPortEnd: 8089 },
    { Proto: 6, IP: '', Port: 80, HostIP: '::', HostPort: 8089, HostPortEnd: 8089 },
    { Proto: 17, IP: '', Port: 53, HostIP: '0.0.0.0', HostPort: 5353, HostPortEnd: 0 },
    { Proto: 6, IP: '', Port: 443, HostIP: '203.0.113.1', HostPort: 8443, HostPortEnd: 8450 },
  ]), [
    { proto: 'tcp', hostPort: 8089, port: 80 },
    { proto: 'udp', hostPort: 5353, port: 53 },
    { proto: 'tcp', hostPort: 8443, port: 443, hostIp: '203.0.113.1' },
  ]);
});

test('parsePortMap: bad input is a PortMapError naming the binding, the field and why', () => {
  const ok = { Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8089, HostPortEnd: 8089 };
  portMapError({}, /^com\.docker\.network\.portmap: not a list of port bindings/);
  portMapError('80:80', /not a list/);
  portMapError([ok, 7], /^com\.docker\.network\.portmap\[1\]: not a port binding/);
  portMapError([{ ...ok, Proto: 132 }], /\[0\]: protocol 132 is not published here \(only tcp 6 and udp 17\)/);
  portMapError([{ ...ok, Proto: 'tcp' }], /protocol "tcp"/);
  portMapError([{ ...ok, Port: 0 }], /\[0\]\.Port: 0 is not a port \(1\.\.65535\)/);
  portMapError([{ ...ok, Port: 70000 }], /\.Port: 70000/);
  portMapError([{ ...ok, Port: '80' }], /\.Port: "80"/);
  portMapError([{ ...ok, HostPort: 0, HostPortEnd: 0 }], /no host port for 80\/tcp: publish with an explicit host port \(-p H:80\)/);
  portMapError([{ ...ok, HostPort: 9000, HostPortEnd: 8000 }], /host port range 9000-8000 ends before it starts/);
  portMapError([{ ...ok, HostIP: 'somewhere' }], /\.HostIP: "somewhere" is not an IPv4 address/);
  portMapError([{ ...ok, HostIP: 5 }], /\.HostIP: not an address/);
  // Positive control: the same binding, unbroken.
  assert.equal(parsePortMap([ok]), [{ proto: 'tcp', hostPort: 8089, port: 80 }]);
});

const gw = (over: Partial<DesiredGateway> = {}): DesiredGateway => ({ ...planGateway(net(), 'docker-a', [])!, ...over });

test('gatewayFirewall: nothing without gateways (ours then removed); the exact rule set for a nat and a routed network with a published port', () => {
  assert.equal(gatewayFirewall([]), []);
  const nat = gw({ published: [{ proto: 'tcp', hostPort: 8089, port: 80, ip: '198.51.100.2', endpoint: EP_1 }, { proto: 'udp', hostIp: '203.0.113.1', hostPort: 5353, port: 53, ip: '198.51.100.2', endpoint: EP_1 }] });
  const routed = gw({ network: NET_B, mode: 'routed', vid: 120, addrEnd: 'gw120', portEnd: 'gp120', subnet: '172.18.0.0/16', address: '172.18.0.1/16' });
  const chains = gatewayFirewall([routed, nat]);
  assert.equal(chains.map((c) => [c.table, c.chain, c.hook]), [
    ['filter', 'DOVELAB-GW-IN', 'INPUT'], ['filter', 'DOVELAB-GW-FWD', 'FORWARD'], ['nat', 'DOVELAB-GW-PRE', 'PREROUTING'], ['nat', 'DOVELAB-GW-POST', 'POSTROUTING'],
  ]);
  const [input, forward, pre, post] = chains.map((c) => c.rules);
  assert.equal(input, [
    '-A DOVELAB-GW-IN -i gw+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A DOVELAB-GW-IN -i gw+ -p icmp -m icmp --icmp-type 8 -j ACCEPT',
    '-A DOVELAB-GW-IN -i gw+ -j DROP',
  ]);
  assert.equal(forward, [
    '-A DOVELAB-GW-FWD -i gw+ -o gw+ -j DROP',
    '-A DOVELAB-GW-FWD -o gw+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A DOVELAB-GW-FWD -d 198.51.100.2/32 -o gw110 -p udp -m udp --dport 53 -m conntrack --ctstate DNAT -j ACCEPT',
    '-A DOVELAB-GW-FWD -d 198.51.100.2/32 -o gw110 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT',
    '-A DOVELAB-GW-FWD -d 172.18.0.0/16 -o gw120 -j ACCEPT',
    '-A DOVELAB-GW-FWD -s 198.51.100.0/24 -i gw110 -j ACCEPT',
    '-A DOVELAB-GW-FWD -s 172.18.0.0/16 -i gw120 -j ACCEPT',
    '-A DOVELAB-GW-FWD -i gw+ -j DROP',
    '-A DOVELAB-GW-FWD -o gw+ -j DROP',
  ]);
  assert.equal(pre, [
    '-A DOVELAB-GW-PRE -i gw+ -j RETURN',
    '-A DOVELAB-GW-PRE -i gp+ -j RETURN',
    '-A DOVELAB-GW-PRE -i dl+ -j RETURN',
    '-A DOVELAB-GW-PRE -d 203.0.113.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 198.51.100.2:53',
    '-A DOVELAB-GW-PRE -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8089 -j DNAT --to-destination 198.51.100.2:80',
  ]);
  assert.equal(post, ['-A DOVELAB-GW-POST -s 198.51.100.0/24 ! -o gw110 -j MASQUERADE'], 'only the nat network is masqueraded');
  // Recomputed from scratch: the order of the networks does not matter.
  assert.equal(gatewayFirewall([nat, routed]), chains);
});

test('gatewayFirewall: the guarantees, for any set of networks (never an accept from a gateway to the appliance but echo; no gateway to gateway)', () => {
  for (const n of [1, 2, 5]) {
    const gws = Array.from({ length: n }, (_, i) => gw({ network: `n${i}`, vid: 200 + i, addrEnd: `gw${200 + i}`, portEnd: `gp${200 + i}`, mode: i % 2 ? 'routed' : 'nat', subnet: `10.${i}.0.0/16` }));
    const [input, forward] = gatewayFirewall(gws).map((c) => c.rules);
    assert.equal(input!.filter((r) => r.endsWith('-j ACCEPT') && !r.includes('ESTABLISHED')), ['-A DOVELAB-GW-IN -i gw+ -p icmp -m icmp --icmp-type 8 -j ACCEPT']);
    assert.is(input!.at(-1), '-A DOVELAB-GW-IN -i gw+ -j DROP');
    assert.is(forward![0], '-A DOVELAB-GW-FWD -i gw+ -o gw+ -j DROP', 'first: no network reaches another');
    assert.equal(forward!.slice(-2), ['-A DOVELAB-GW-FWD -i gw+ -j DROP', '-A DOVELAB-GW-FWD -o gw+ -j DROP']);
  }
});

test('restoreText: one atomic iptables-restore: each of our chains declared (so replaced whole), rules, COMMIT per table', () => {
  const chains = gatewayFirewall([gw()]);
  assert.is(restoreText(chains), [
    '*filter', ':DOVELAB-GW-IN - [0:0]', ':DOVELAB-GW-FWD - [0:0]', ...chains[0]!.rules, ...chains[1]!.rules, 'COMMIT',
    '*nat', ':DOVELAB-GW-PRE - [0:0]', ':DOVELAB-GW-POST - [0:0]', ...chains[3]!.rules, 'COMMIT', '',
  ].join('\n'));
  // The adapter removes exactly the chains planning makes.
  const adapterSource = readFileSync(new URL('../../agent/net/gateway-firewall.js', import.meta.url), 'utf8');
  for (const name of Object.values(GATEWAY_CHAINS)) assert.ok(adapterSource.includes(`'${name}'`), `${name} known to removeGatewayFirewall`);
});

// ---------------------------------------------------------------------------------------------
// 2. The diff

const observed = (over: Partial<ObservedState> = {}): ObservedState => ({ hosts: [], ports: [], interfaces: [], held: [], ...over });
const withGateway = (g: DesiredGateway): DesiredState => ({ ...idle(), gateways: [g] });
const kinds = (a: ReturnType<typeof diff>) => a.filter((x) => x.kind !== 'faucet').map((x) => `${x.kind} ${'why' in x ? x.why : ''}`);

test('diff: a gateway is added when missing, repaired when its port, link or address drifts, and left alone when right', () => {
  const g = gw();
  const right = { name: 'gp110', ofport: 10110, externalIds: gatewayExternalIds(g) };
  const ok = observed({ ports: [right], interfaces: ['gp110', 'gw110'], addresses: { gw110: ['198.51.100.1/24'] } });
  assert.equal(kinds(diff(withGateway(g), ok)), []);
  assert.equal(kinds(diff(withGateway(g), observed())), ['add-gateway port missing']);
  assert.equal(kinds(diff(withGateway(g), { ...ok, ports: [{ ...right, ofport: 7 }] })), ['add-gateway ofport 7 != 10110']);
  assert.equal(kinds(diff(withGateway(g), { ...ok, interfaces: ['gp110'] })), ['add-gateway gw110 missing']);
  assert.equal(kinds(diff(withGateway(g), { ...ok, addresses: { gw110: [] } })), ['add-gateway gw110 lost 198.51.100.1/24']);
  assert.equal(kinds(diff(withGateway(gw({ mtu: 1400 })), ok)), ['add-gateway port settings differ'], 'another MTU: made again');
  const a = diff(withGateway(g), observed()).find((x) => x.kind === 'add-gateway');
  assert.ok(a && a.kind === 'add-gateway' && a.gateway === g);
});

test('diff: a gateway whose network is gone is removed (its veth too), also when OVS lost the port; others are not touched', () => {
  const g = gw();
  const port = { name: 'gp110', ofport: 10110, externalIds: gatewayExternalIds(g) };
  const rm = diff(idle(), observed({ ports: [port], interfaces: ['gp110', 'gw110'] })).filter((x) => x.kind === 'remove-port');
  assert.equal(rm, [{ kind: 'remove-port', port: 'gp110', veth: true, why: 'its network is gone' }]);
  const orphan = diff(idle(), observed({ interfaces: ['gp120', 'gw120', 'gpx', 'eth0'] })).filter((x) => x.kind === 'remove-port');
  assert.equal(orphan, [{ kind: 'remove-port', port: 'gp120', veth: true, why: 'gateway of no network' }]);
  // Control: wanted, nothing removed.
  assert.equal(diff(withGateway(g), observed({ ports: [port], interfaces: ['gp110', 'gw110'] })).filter((x) => x.kind === 'remove-port'), []);
});

// ---------------------------------------------------------------------------------------------
// 3. Verbs and protocol over the fake world

interface Driver { w: FakeWorld; ctx: ReturnType<FakeWorld['context']>; cfg: Config; netJson: string; create: (id: string, generic?: Record<string, unknown>, extra?: Partial<CreateNetworkRequest>) => ReturnType<typeof networkCreate> }
async function withDriver(fn: (d: Driver) => Promise<void>): Promise<void> {
  const t = tempConfig();
  const w = new FakeWorld();
  w.interfaces.add('eth0');
  w.facts = { eth0: { addresses: ['192.0.2.2/24'], defaultRoute: true } };
  const ctx = w.context(t.cfg);
  const create = (id: string, generic: Record<string, unknown> = {}, extra: Partial<CreateNetworkRequest> = {}) =>
    networkCreate(ctx, { id, generic, internal: true, ipv4: [{ Pool: '198.51.100.0/24', Gateway: '198.51.100.1/24' }], ...extra });
  try { await fn({ w, ctx, cfg: t.cfg, netJson: paths(t.cfg).networks, create }); } finally { t.done(); }
}
const chain = (w: FakeWorld, name: string) => w.gatewayChains.find((c) => c.chain === name)?.rules ?? [];
const PORTMAP = [{ Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8089, HostPortEnd: 8089 }];

test('networkCreate nat: the gateway veth and port (10000+vid) are made after its rules; the live Faucet config has the port', async () => {
  await withDriver(async ({ w, ctx, create, netJson }) => {
    const mark = w.calls.length;
    await create(NET_A, { 'dovelab.mode': 'nat', 'dovelab.vlan': '110', 'dovelab.mtu': '1400' });
    const n = readNetworkState(netJson).networks[0]!;
    assert.equal([n.mode, n.gateway, n.natAcls], ['nat', '198.51.100.1/24', []]);
    assert.ok(w.has('links.createGateway gp110 gw110 198.51.100.1/24', mark));
    assert.ok(w.has('ovs.addPort gp110 10110', mark));
    assert.is(w.ports.get('gp110')?.externalIds['dovelab-role'], 'gateway');
    assert.ok(w.first('firewall.gateways 4', mark) < w.first('links.createGateway', mark), 'the rules are in before the gateway exists');
    assert.ok(w.has('firewall.ensure dl+,gp+', mark), 'the OVS end is a lab port for the lab firewall');
    assert.equal(chain(w, 'DOVELAB-GW-POST'), ['-A DOVELAB-GW-POST -s 198.51.100.0/24 ! -o gw110 -j MASQUERADE']);
    const live = parse(w.faucetLive!) as { dps: Record<string, { interfaces: Record<string, { native_vlan?: string }> }> };
    assert.is(live.dps.dovelab0!.interfaces['10110']?.native_vlan, `docker-${NET_A.slice(0, 12)}`);
    // A second reconcile with everything in place makes nothing again (the rules are recomputed, idempotent).
    const mark2 = w.calls.length;
    await labRepair(ctx);
    assert.not.ok(w.changes(mark2).some((c) => c.startsWith('links.') || c.startsWith('ovs.')), `${w.changes(mark2)}`);
    // `dovelab down` keeps driver networks, and so their gateways and rules.
    await labDown(ctx);
    assert.ok(w.ports.has('gp110'));
    assert.equal(w.gatewayChains.length, 4);
  });
});

test('networkCreate routed over an existing route of the appliance, or without a gateway: refused, nothing made', async () => {
  await withDriver(async ({ w, create, netJson }) => {
    const err = await create(NET_A, { 'ovs.bridge.mode': 'routed' }, { ipv4: [{ Pool: '192.0.2.0/24', Gateway: '192.0.2.1/24' }] }).catch((e: Error) => e);
    assert.instance(err, NetworkError);
    assert.match((err as Error).message, /^ovs\.bridge\.mode: routed network 192\.0\.2\.0\/24 overlaps the appliance's own 192\.0\.2\.2\/24 on eth0 \(choose another --subnet\)/);
    const err2 = await create(NET_A, { 'dovelab.mode': 'nat' }, { ipv4: [{ Pool: '198.51.100.0/24' }] }).catch((e: Error) => e);
    assert.instance(err2, NetworkError);
    assert.match((err2 as Error).message, /^dovelab\.mode: nat needs an IPv4 IPAM gateway/);
    assert.equal(w.changes(), []);
    assert.equal(readNetworkState(netJson).networks, []);
    // Control: the same with a free subnet.
    await create(NET_A, { 'ovs.bridge.mode': 'routed' });
    assert.equal(readNetworkState(netJson).networks.map((n) => n.mode), ['routed']);
  });
});

test('Join on nat: answers the gateway, records -p, DNATs it; Program/Revoke follow; Leave takes it away; -p on the web port refused', async () => {
  await withDriver(async ({ w, ctx, cfg, create, netJson }) => {
    await create(NET_A, { 'dovelab.mode': 'nat', 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1, address: '198.51.100.2/24' });
    const j = await endpointJoin(ctx, NET_A, EP_1, undefined, PORTMAP);
    assert.equal(j, { srcName: 'dp4001', gateway: '198.51.100.1' });
    assert.equal(readNetworkState(netJson).endpoints[0]!.published, [{ proto: 'tcp', hostPort: 8089, port: 80 }]);
    assert.ok(chain(w, 'DOVELAB-GW-PRE').includes('-A DOVELAB-GW-PRE -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8089 -j DNAT --to-destination 198.51.100.2:80'));
    // Program with the same map: nothing to do; Revoke: the port goes.
    const mark = w.calls.length;
    await endpointPublish(ctx, NET_A, EP_1, PORTMAP);
    assert.equal(w.changes(mark), []);
    await endpointPublish(ctx, NET_A, EP_1, []);
    assert.equal(readNetworkState(netJson).endpoints[0]!.published, undefined);
    assert.equal(chain(w, 'DOVELAB-GW-PRE'), []);
    await endpointPublish(ctx, NET_A, EP_1, PORTMAP);
    assert.equal(chain(w, 'DOVELAB-GW-PRE').length, 4);
    await endpointLeave(ctx, NET_A, EP_1);
    assert.equal(readNetworkState(netJson).endpoints[0]!.published, undefined, 'Leave clears it');
    assert.equal(chain(w, 'DOVELAB-GW-PRE'), []);
    // Refusals change nothing: the web port, a bad map; a second endpoint on the same host port.
    const json = readFileSync(netJson, 'utf8');
    const web = await endpointJoin(ctx, NET_A, EP_1, undefined, [{ ...PORTMAP[0], HostPort: cfg.web.port }]).catch((e: Error) => e);
    assert.match(String(web), new RegExp(`host port ${cfg.web.port} is the appliance's web UI on this appliance`));
    const bad = await endpointJoin(ctx, NET_A, EP_1, undefined, [{ ...PORTMAP[0], Proto: 132 }]).catch((e: Error) => e);
    assert.instance(bad, NetworkError);
    assert.match((bad as Error).message, /portmap\[0\]: protocol 132/);
    assert.is(readFileSync(netJson, 'utf8'), json);
    await endpointJoin(ctx, NET_A, EP_1, undefined, PORTMAP);
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_2, address: '198.51.100.3/24' });
    const clash = await endpointJoin(ctx, NET_A, EP_2, undefined, PORTMAP).catch((e: Error) => e);
    assert.instance(clash, NetworkError);
    assert.match((clash as Error).message, /port 8089\/tcp is already published by endpoint e1e1e1e1e1e1/);
    assert.not.ok(readNetworkState(netJson).endpoints[1]!.joined);
  });
});

test('flat stays as it was: Join answers no gateway; -p on it is refused', async () => {
  await withDriver(async ({ ctx, create }) => {
    await create(NET_A, { 'dovelab.vlan': '110' });
    await endpointCreate(ctx, { network: NET_A, endpoint: EP_1, address: '198.51.100.2/24' });
    const err = await endpointJoin(ctx, NET_A, EP_1, undefined, PORTMAP).catch((e: Error) => e);
    assert.instance(err, NetworkError);
    assert.match((err as Error).message, /is flat: it has no gateway to publish ports on/);
    assert.equal(await endpointJoin(ctx, NET_A, EP_1), { srcName: 'dp4001' });
  });
});

test('networkDelete: the gateway port and veth go, and every rule of ours (chains removed: none left)', async () => {
  await withDriver(async ({ w, create, ctx, netJson }) => {
    await create(NET_A, { 'dovelab.mode': 'nat', 'dovelab.vlan': '110' });
    await create(NET_B, { 'dovelab.mode': 'routed', 'dovelab.vlan': '120' }, { ipv4: [{ Pool: '203.0.113.0/24', Gateway: '203.0.113.1/24' }] });
    // nat: its subnet out; routed: out and in on its own addresses.
    assert.equal(chain(w, 'DOVELAB-GW-FWD').filter((r) => /gw1[12]0/.test(r)).length, 3);
    await networkDelete(ctx, NET_A);
    assert.not.ok(w.ports.has('gp110'));
    assert.ok(w.has('links.deleteLink gp110'));
    assert.not.ok(chain(w, 'DOVELAB-GW-FWD').some((r) => r.includes('gw110')), 'no rule of the deleted network');
    assert.ok(w.ports.has('gp120'), 'the other network keeps its gateway');
    const mark = w.calls.length;
    await networkDelete(ctx, NET_B);
    assert.ok(w.has('firewall.gateways 0', mark), 'no gateway left: our chains go');
    assert.equal(w.gatewayChains, []);
    assert.equal(readNetworkState(netJson).networks, []);
    assert.not.ok([...w.interfaces].some((i) => /^g[pw]/.test(i)));
  });
});

test('restart: an agent that finds networks.json but no gateway (reboot) makes the gateway and the rules again from it', async () => {
  await withDriver(async ({ cfg, netJson }) => {
    mkdirSync(cfg.dataDir, { recursive: true });
    writeNetworkState(netJson, { networks: [net()], endpoints: [ep({ published: [{ proto: 'tcp', hostPort: 8089, port: 80 }] })] });
    const fresh = new FakeWorld();
    fresh.interfaces.add('dl4001');
    const r = await labRepair(fresh.context(cfg));
    assert.ok(r?.actions.some((a) => a.kind === 'add-gateway'));
    assert.ok(fresh.has('links.createGateway gp110 gw110 198.51.100.1/24'));
    assert.equal(fresh.gatewayChains, gatewayFirewall(withNetworks(idleDesired(cfg), readNetworkState(netJson)).gateways!));
    assert.ok(chain(fresh, 'DOVELAB-GW-PRE').some((r2) => r2.includes('--dport 8089')));
  });
});

test('protocol: Join with Docker\'s portmap answers Gateway (a plain IP) on nat; ProgramExternalConnectivity without a map changes nothing', async () => {
  await withDriver(async ({ w, ctx, netJson }) => {
    const app = pluginApp(ctx, () => {});
    const call = async (path: string, body: unknown) => {
      const res = await app.request(path, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as Record<string, unknown> };
    };
    const n = await call('/NetworkDriver.CreateNetwork', {
      NetworkID: NET_A, Options: { 'com.docker.network.generic': { 'ovs.bridge.mode': 'nat' }, 'com.docker.network.internal': true },
      IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '198.51.100.0/24', Gateway: '198.51.100.1/24' }], IPv6Data: [],
    });
    assert.equal([n.status, n.body], [200, {}]);
    await call('/NetworkDriver.CreateEndpoint', { NetworkID: NET_A, EndpointID: EP_1, Interface: { Address: '198.51.100.2/24', AddressIPv6: '', MacAddress: '' }, Options: {} });
    const j = await call('/NetworkDriver.Join', { NetworkID: NET_A, EndpointID: EP_1, SandboxKey: '/var/run/docker/netns/0123456789ab', Options: { 'com.docker.network.portmap': PORTMAP } });
    assert.is(j.status, 200);
    assert.is(j.body.Gateway, '198.51.100.1');
    assert.equal(j.body.InterfaceName, { SrcName: 'dp4001', DstPrefix: 'eth' });
    const mark = w.calls.length;
    const p = await call('/NetworkDriver.ProgramExternalConnectivity', { NetworkID: NET_A, EndpointID: EP_1, Options: {} });
    assert.equal([p.status, p.body], [200, {}]);
    assert.equal(w.changes(mark), []);
    const bad = await call('/NetworkDriver.ProgramExternalConnectivity', { NetworkID: NET_A, EndpointID: EP_1, Options: { 'com.docker.network.portmap': 'nope' } });
    assert.is(bad.status, 500);
    assert.match(String(bad.body.Err), /^dovelab: com\.docker\.network\.portmap: not a list of port bindings/);
    const r = await call('/NetworkDriver.RevokeExternalConnectivity', { NetworkID: NET_A, EndpointID: EP_1 });
    assert.equal([r.status, r.body], [200, {}]);
    assert.equal(readNetworkState(netJson).endpoints[0]!.published, undefined);
  });
});

test.run();

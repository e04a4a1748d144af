// The Docker networks in the instructor's API (issue 9): GET /api/instructor/networks over networks
// made through the driver's real verbs in the fake world (no lab lock taken, damaged files a clear
// 500), POST /api/instructor/network-endpoint switching a container's ACLs and mirror (a refused ACL
// with its message beside an accepted one), the networks' diagram and `dovelab status` lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { networksDot, vlanColour } from '../../agent/lab/diagram.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointJoin, leaseFileOf } from '../../agent/lab/networks.js';
import { formatDockerNetworks, type PluginState } from '../../agent/lab/plan-networks.js';
import { withLabLock } from '../../agent/lab/service.js';
import type { ApiError, DiagramView, DockerNetworksView, OpResult } from '../../agent/web/api-types.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { EP_1, EP_2, EP_3, iface, NET_A, NET_B, withDriver, type Driver } from './_driver.js';

const PASSWORD = 'correct horse battery';
const HOST = 'dovelab.local';
const ORIGIN = { Origin: `http://${HOST}`, Host: HOST };
const url = (p: string) => `http://${HOST}${p}`;

interface NetWeb extends Driver { web: WebApp; cookie: string; get: <T>(p: string) => Promise<{ status: number; body: T }>; post: (body: unknown) => Promise<{ status: number; body: OpResult & ApiError }> }

/** office (flat, VLAN 110, uplink odsaddport1) with web1 and db1; school (dhcp via odsaddport2) with pc1 and its lease. */
async function withNetWeb(fn: (w: NetWeb) => Promise<void>): Promise<void> {
  await withDriver(async (d) => {
    d.cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
    await d.create(NET_A, { 'dovelab.vlan': '110', 'ovs.bridge.add_ports': 'odsaddport1' });
    await d.create(NET_B, { 'dovelab.dhcp': 'true', 'dovelab.uplink': 'odsaddport2', 'dovelab.vlan': '120' }, { ipv4: [] });
    d.w.dockerNetworks.set(NET_A, 'office').set(NET_B, 'school');
    const start = async (net: string, ep: string, name: string, address?: string) => {
      d.w.dockerContainers = [{ name, network: net === NET_A ? 'office' : 'school', state: 'created', endpoint: '', labels: {}, createdMs: Date.now() }];
      await endpointCreate(d.ctx, { network: net, endpoint: ep, ...(address ? { address } : {}) });
      await endpointJoin(d.ctx, net, ep, `/var/run/docker/netns/${name}`);
    };
    await start(NET_A, EP_1, 'web1', '198.51.100.10/24');
    await start(NET_A, EP_2, 'db1', '198.51.100.11/24');
    await start(NET_B, EP_3, 'pc1');
    const lease = leaseFileOf(d.cfg, EP_3);
    mkdirSync(dirname(lease), { recursive: true });
    writeFileSync(lease, JSON.stringify({ ip: '100.64.0.50', mask: '255.255.255.0', router: '100.64.0.1', hostname: 'pc1', at: '2026-12-01T10:00:00Z' }));
    const web = createApp({
      cfg: d.cfg, lab: d.ctx, now: Date.now, secret: Buffer.alloc(32, 9), log: () => {}, uiDir: join(d.cfg.dataDir, 'ui'), ipv4: () => '192.0.2.10',
      faucetStatus: async () => ({ hashes: [sha256(d.w.faucetLive ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5, clientIp: () => '198.51.100.99',
    });
    const r = await web.app.request(url('/api/instructor/login'), { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', ...ORIGIN } });
    assert.is(r.status, 200);
    const cookie = /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie') ?? '')![0];
    const get = async <T>(p: string) => { const x = await web.app.request(url(p), { headers: { ...ORIGIN, Cookie: cookie } }); return { status: x.status, body: await x.json() as T }; };
    const post = async (body: unknown) => {
      const x = await web.app.request(url('/api/instructor/network-endpoint'), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...ORIGIN, Cookie: cookie } });
      return { status: x.status, body: await x.json() as OpResult & ApiError };
    };
    try { await fn({ ...d, web, cookie, get, post }); } finally { await web.close(); }
  });
}

test('GET networks: each network with VLAN, mode, uplinks; its containers with interface, MAC, address, lease, ACLs, mirror', () => withNetWeb(async (w) => {
  const { status, body } = await w.get<DockerNetworksView>('/api/instructor/networks');
  assert.is(status, 200);
  assert.equal(body.acls, ['allow-all', 'deny-all', 'no-ping']);
  assert.equal(body.mirrors, ['mir0']);
  assert.equal(body.networks.map((n) => [n.name, n.vid, n.mode, n.dhcp, n.tagged, n.uplinks]), [
    ['office', 110, 'flat', false, false, [{ iface: 'odsaddport1' }]],
    ['school', 120, 'flat', true, false, [{ iface: 'odsaddport2' }]],
  ]);
  const office = body.networks[0]!;
  assert.equal(office.containers.map((c) => [c.container, c.address, c.acls, c.mirror, c.joined]), [
    ['web1', '198.51.100.10/24', [], null, true], ['db1', '198.51.100.11/24', [], null, true],
  ]);
  assert.match(office.containers[0]!.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(body.networks[1]!.containers[0]!.lease, { ip: '100.64.0.50', hostname: 'pc1' });
  assert.is(body.networks[1]!.containers[0]!.ifname, 'eth0');
}));

test('GET networks does not wait for the lab lock (a long reconcile holds it)', () => withNetWeb(async (w) => {
  let answered = 0;
  await withLabLock(w.cfg, async () => {
    const r = await w.get<DockerNetworksView>('/api/instructor/networks');
    answered = r.status;
  });
  assert.is(answered, 200);
}));

test('POST network-endpoint: an ACL switched on reaches Faucet; an unknown ACL is a 400 with its message and changes nothing', () => withNetWeb(async (w) => {
  const ok = await w.post({ container: 'web1', acls: ['no-ping'] });
  assert.is(ok.status, 200, ok.body.error);
  assert.match(ok.body.message, /^web1: no-ping; mirror off$/);
  const port = readNetworkState(w.netJson).endpoints.find((e) => e.id === EP_1)!.ofport;
  assert.equal(iface(w.w.faucetLive!, port)!.acls_in, ['appliance-no-ping', 'dovelab-allow']);
  const live = w.w.faucetLive;
  const bad = await w.post({ container: 'web1', acls: ['no-ping', 'web-only'] });
  assert.is(bad.status, 400);
  assert.match(bad.body.error, /ACL web-only is not one of the appliance's \(known: allow-all, deny-all, no-ping\)/);
  assert.is(w.w.faucetLive, live, 'Faucet untouched');
  assert.equal(readNetworkState(w.netJson).endpoints.find((e) => e.id === EP_1)!.acls, ['no-ping'], 'the applied ACL stays');
  // Mirror on by the network's name, then off; the ACLs stay as they are (not given).
  const on = await w.post({ container: 'db1', network: 'office', mirror: true });
  assert.is(on.status, 200, on.body.error);
  assert.ok(w.w.ports.has('mir0'), 'the mirror dongle is on the bridge');
  const v = (await w.get<DockerNetworksView>('/api/instructor/networks')).body;
  assert.equal(v.networks[0]!.containers.map((c) => [c.container, c.acls, c.mirror]), [['web1', ['no-ping'], null], ['db1', [], 'mir0']]);
  assert.is((await w.post({ container: 'db1', mirror: false })).status, 200);
  assert.is(readNetworkState(w.netJson).endpoints.find((e) => e.id === EP_2)!.mirror, undefined);
  assert.equal(readNetworkState(w.netJson).endpoints.find((e) => e.id === EP_1)!.acls, ['no-ping']);
}));

test('POST network-endpoint: refusals are 400 with a reason (body, container, network, mirror); 401 without a session', () => withNetWeb(async (w) => {
  const cases: [unknown, RegExp][] = [
    ['not json', /expected JSON/],
    [{ acls: [] }, /container: /],
    [{ container: 'web1', acls: 'no-ping' }, /acls: /],
    [{ container: 'web1', acls: ['no ping'] }, /acls\.0: an ACL name/],
    [{ container: 'web1', mirror: 'mir0; rm' }, /mirror: /],
    [{ container: 'web1', extra: 1 }, /Unrecognized key/i],
    [{ container: 'web1' }, /nothing to change/],
    [{ container: 'nobody', acls: [] }, /nobody: no such container or endpoint on the Docker networks/],
    [{ container: 'web1', network: 'school', acls: [] }, /web1: no such container/],
    [{ container: 'web1', network: 'nowhere', acls: [] }, /nowhere: no such Docker network/],
    [{ container: 'web1', mirror: 'mir7' }, /no mirror named mir7 \(mirrors here: mir0\)/],
  ];
  for (const [body, re] of cases) {
    const r = await w.post(body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error, re, JSON.stringify(body));
  }
  // Positive control: the same container by its endpoint id and network id.
  assert.is((await w.post({ container: EP_1, network: NET_A, acls: ['deny-all'] })).status, 200);
  const anon = await w.web.app.request(url('/api/instructor/network-endpoint'), { method: 'POST', body: JSON.stringify({ container: 'web1', acls: [] }), headers: { 'Content-Type': 'application/json', ...ORIGIN } });
  assert.is(anon.status, 401);
  const cross = await w.web.app.request(url('/api/instructor/network-endpoint'), { method: 'POST', body: JSON.stringify({ container: 'web1', acls: [] }), headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example', Host: HOST, Cookie: w.cookie } });
  assert.is(cross.status, 403);
  assert.is((await w.get<ApiError>('/api/instructor/networks')).status, 200, 'control: the session works');
}));

test('damaged networks.json or ACL file: GET answers 500 with the file and the reason, and the app keeps answering', () => withNetWeb(async (w) => {
  writeFileSync(w.cfg.aclFile, 'acls: [');
  const acl = await w.get<ApiError>('/api/instructor/networks');
  assert.is(acl.status, 500);
  assert.match(acl.body.error, /acls\.yaml: not YAML/);
  const post = await w.post({ container: 'web1', acls: ['no-ping'] });
  assert.is(post.status, 500);
  assert.match(post.body.error, /acls\.yaml/);
  writeFileSync(w.cfg.aclFile, 'acls: {web-only: [{match: {tcp_dst: 80}, action: allow}, {action: drop}]}\n');
  assert.equal((await w.get<DockerNetworksView>('/api/instructor/networks')).body.acls, ['allow-all', 'deny-all', 'no-ping', 'web-only'], 'control: the file is read');
  writeFileSync(paths(w.cfg).networks, '{"version": 1, "networks": [{}]');
  const net = await w.get<ApiError>('/api/instructor/networks');
  assert.is(net.status, 500);
  assert.match(net.body.error, /networks\.json: the Docker networks' state is damaged \(not JSON/);
  writeFileSync(paths(w.cfg).networks, '{"version": 1, "networks": [{"id": ""}], "endpoints": []}');
  assert.match((await w.get<ApiError>('/api/instructor/networks')).body.error, /damaged \(networks\.0\.id/);
  assert.is((await w.get<ApiError>('/api/instructor/networks/diagram')).status, 500);
  assert.is((await w.get<unknown>('/api/instructor/class')).status, 200, 'the rest of the console answers');
}));

test('GET networks/diagram: an SVG with the networks, containers and uplinks', () => withNetWeb(async (w) => {
  const r = await w.get<DiagramView>('/api/instructor/networks/diagram');
  assert.is(r.status, 200);
  for (const s of ['office', 'school', 'web1', 'db1', 'pc1', 'odsaddport1', 'VLAN 110', '100.64.0.50 (dhcp)']) assert.ok(r.body.svg.includes(s), s);
}));

const STATE: PluginState = {
  networks: [
    { id: NET_A, name: 'office "A"', vid: 110, mode: 'nat', dhcp: false, mtu: 1500, tagged: true, uplinks: [{ iface: 'odsaddport1', ofport: 7, acls: ['no-ping'], vlan: 7 }], defaultAcls: [], gateway: '198.51.100.1/24', options: {}, createdAt: '' },
    { id: NET_B, vid: 120, mode: 'flat', dhcp: true, mtu: 1500, tagged: false, uplinks: [], defaultAcls: [], gateway: '192.0.2.1/24', options: {}, createdAt: '' },
  ],
  endpoints: [
    { id: EP_1, network: NET_A, ofport: 4001, hostEnd: 'dl4001', peer: 'dp4001', mac: '0e:00:00:00:00:01', address: '198.51.100.10/24', acls: ['deny-all'], mirror: true, joined: true, container: 'web<1>', ifname: 'eth0', published: [{ proto: 'tcp', hostPort: 8089, port: 80 }] },
    { id: EP_2, network: NET_B, ofport: 4002, hostEnd: 'dl4002', peer: 'dp4002', mac: '0e:00:00:00:00:02', acls: [], joined: false },
  ],
};

test('networksDot: a VLAN node per network in its colour, containers and uplinks wired to it, gateway, mirror; names escaped', () => {
  const dot = networksDot(STATE, { mirrorDongle: 'mir0', leases: { [EP_2]: { ip: '192.0.2.77' } } });
  assert.ok(dot.includes(`"vlan:${NET_A}" [shape=ellipse, style=filled, fillcolor="${vlanColour(110)}"`), 'VLAN 110 in its colour');
  assert.ok(dot.includes('<B>office &quot;A&quot;</B><BR/>VLAN 110<BR/>nat · tagged'));
  assert.ok(dot.includes(`"uplink:${NET_A}:odsaddport1" -- "vlan:${NET_A}" [label="port 7\\nacl: no-ping"`));
  assert.ok(dot.includes('VLAN 7 on the wire'));
  assert.ok(dot.includes('gateway 198.51.100.1/24<BR/>nat'), 'nat: the appliance as gateway');
  assert.not.ok(dot.includes(`"gateway:${NET_B}"`), 'flat: no gateway of ours');
  assert.ok(dot.includes('<B>web&lt;1&gt;</B>'), 'HTML-escaped container name');
  assert.ok(dot.includes(`"vlan:${NET_A}" -- "endpoint:${EP_1}" [label="port 4001\\nacl: deny-all", color="${vlanColour(110)}", penwidth=2.5]`));
  assert.ok(dot.includes('published 8089→80/tcp'));
  assert.ok(dot.includes(`"endpoint:${EP_1}" -- "mirror:mir0"`) && dot.includes('"mirror:mir0" [shape=note'));
  assert.ok(dot.includes('<TD COLSPAN="3" ALIGN="LEFT">published'), 'web1: interface, MAC, address');
  assert.ok(dot.includes(`<TD COLSPAN="2" BGCOLOR="#e8eef7"><B>endpoint ${EP_2.slice(0, 12)}</B>`), 'no interface name known: no cell for it');
  assert.ok(dot.includes('192.0.2.77 (dhcp)'));
  assert.ok(dot.includes('label="port 4002\\nnot joined", color="#d62728", style=dashed'));
  assert.is(networksDot(STATE, { mirrorDongle: 'mir0', leases: { [EP_2]: { ip: '192.0.2.77' } } }), dot, 'deterministic');
});

test('dovelab status lines: the gateway of nat/routed networks and published ports', () => {
  const text = formatDockerNetworks(STATE, {});
  assert.match(text, /office "A" {2}vlan 110 {2}nat, tagged {2}gateway 198\.51\.100\.1\/24 {2}uplinks: odsaddport1 \(vlan 7\)/);
  assert.match(text, /web<1> .* {2}published 8089->80\/tcp$/m);
  assert.not.match(text, /vlan 120 {2}flat, dhcp {2}gateway/, 'flat: no gateway shown');
});

test.run();

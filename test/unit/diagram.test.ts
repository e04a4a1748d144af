import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired, type DesiredState } from '../../agent/lab/desired.js';
import { diagramDot, dotString, htmlText, renderSvg, vlanColour } from '../../agent/lab/diagram.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const TOPO = TopologySchema.parse(parse(`
dovelab: 1
networks:
  office: {vlan: 110, shared: true}
  lab: {}
uplinks:
  net: {interface: up0, network: office}
  trunk: {interface: up1, networks: [office, lab]}
mirrors:
  tap: {interface: mir0, from: [h1.eth0]}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 198.51.100.1/24}}}
  h1: {interfaces: {eth0: {network: lab, ip: 192.0.2.11/24}, eth1: {network: office, ip: dhcp}}}
  h2: {interfaces: {eth0: {network: lab, ip: 192.0.2.12/24, gateway: 192.0.2.1}}}
acls:
  no-ping: [{match: {ip_proto: icmp}, action: drop}, {action: allow}]
apply:
  h2.eth0: [no-ping]
`));
const plan = (): DesiredState => planDesired(TOPO, { lab: 'demo', groups: 2, bridge: 'dovelab0', dpId: 0x2a, defaultImage: 'dovelab/labhost' });
/** Text as Graphviz writes it into SVG (it also encodes '-'). */
const inSvg = (s: string) => htmlText(s).replace(/-/g, '&#45;');
/** The DOT statement that draws a port's edge to the switch. */
const edgeOf = (dot: string, ofport: number) => dot.split('\n').find((l) => l.includes(`:p${ofport} -- "switch"`)) ?? '';

test('plan under test has what the diagram must show', () => {
  const d = plan();
  assert.equal(d.hosts.map((h) => h.key), ['srv', 'g1-h1', 'g2-h1', 'g1-h2', 'g2-h2']);
  assert.equal(d.uplinks.map((u) => [u.role, u.iface, u.ofport]), [['uplink', 'up0', 1], ['uplink', 'up1', 2], ['mirror', 'mir0', 3]]);
  assert.equal(d.uplinks[2]!.mirrors, [101, 201]);
});

test('dot: every host, MAC, IP, OpenFlow port, VLAN; switch with hex dp_id', () => {
  const d = plan();
  const dot = diagramDot(d);
  assert.ok(dot.startsWith('graph dovelab {'));
  assert.match(dot, '<B>dovelab0</B>');
  assert.match(dot, 'dp_id 0x2a');
  for (const h of d.hosts) assert.match(dot, `"host:${h.key}"`);
  for (const p of d.ports) {
    assert.match(dot, p.mac, p.faucetName);
    if (p.address) assert.match(dot, p.address, p.faucetName);
    const edge = edgeOf(dot, p.ofport);
    assert.match(edge, `port ${p.ofport}\\nVLAN ${p.vid} ${p.vlan}`, p.faucetName);
    assert.match(edge, `color="${vlanColour(p.vid)}"`);
  }
  assert.match(dot, '192.0.2.12/24 via 192.0.2.1');
  for (const u of d.uplinks) assert.match(dot, `port ${u.ofport}\\n`);
  const vlans = d.faucet.vlans.filter((x) => x.vid !== 4094);
  assert.equal(vlans.map((v) => v.vid).sort(), [101, 110, 201]);
  for (const v of vlans) assert.match(dot, `${v.vid} ${v.name}`);
  for (const vid of [110, 101, 201]) assert.match(dot, `<TD ALIGN="RIGHT">${vid}</TD>`, `legend row ${vid}`);
  assert.not.match(dot, '4094');
  // The shared host's DHCP interface says so.
  assert.match(dot, '<TD ALIGN="LEFT">dhcp</TD>');
});

test('dot: groups are clusters, shared hosts in "shared"', () => {
  const dot = diagramDot(plan());
  const cluster = (g: number) => dot.slice(dot.indexOf(`subgraph cluster_g${g} {`), dot.indexOf('\n  }', dot.indexOf(`subgraph cluster_g${g} {`)));
  assert.match(cluster(0), 'label="shared"');
  assert.match(cluster(0), '"host:srv"');
  assert.not.match(cluster(0), '"host:g1-h1"');
  assert.match(cluster(1), 'label="group 1"');
  assert.match(cluster(1), '"host:g1-h1"');
  assert.match(cluster(1), '"host:g1-h2"');
  assert.not.match(cluster(1), '"host:g2-h1"');
  assert.match(cluster(2), 'label="group 2"');
  assert.match(cluster(2), '"host:g2-h2"');
  assert.is(dot.match(/subgraph cluster_/g)?.length, 3);
});

test('dot: uplink, trunk and mirror with their VLANs and copied ports', () => {
  const dot = diagramDot(plan());
  const line = (start: string) => dot.split('\n').find((l) => l.trimStart().startsWith(start)) ?? '';
  assert.match(line('"uplink:net" ['), '<B>up0</B>');
  assert.match(line('"uplink:net" ['), 'native: 110 office');
  assert.match(line('"switch" -- "uplink:net"'), 'port 1\\nVLAN 110 office');
  assert.match(line('"uplink:trunk" ['), '<B>up1</B>');
  assert.match(line('"switch" -- "uplink:trunk"'), 'port 2\\ntagged 110 office, 101 g1-lab, 201 g2-lab');
  assert.match(line('"switch" -- "uplink:trunk"'), `color="${vlanColour(110)}:${vlanColour(101)}:${vlanColour(201)}"`);
  assert.match(line('"mirror:tap" ['), '<B>mir0</B>');
  assert.match(line('"mirror:tap" ['), 'copies: 101 g1-h1-eth0, 201 g2-h1-eth0');
  assert.match(line('"switch" -- "mirror:tap"'), 'style=dashed');
  assert.match(line('"switch" -- "mirror:tap"'), 'mirror of 101, 201');
  assert.match(line('"host:g1-h1":p101 -- "mirror:tap"'), 'style=dotted');
  assert.match(line('"host:g2-h1":p201 -- "mirror:tap"'), 'style=dotted');
  assert.is(dot.match(/-- "mirror:tap" \[style=dotted/g)?.length, 2);
});

test('dot: ACL names on the edges of ports that carry them, only there', () => {
  const d = plan();
  const dot = diagramDot(d);
  for (const p of d.ports) {
    if (p.host === 'h2') assert.match(edgeOf(dot, p.ofport), 'acl: no-ping');
    else assert.not.match(edgeOf(dot, p.ofport), 'acl:');
  }
});

test('dot: live info: down ports red and dashed, DHCP-learned address shown', () => {
  const d = plan();
  const dot = diagramDot(d, { live: { portsUp: { dl101: false, dl102: true, up1: false }, dhcpAddresses: { 'g1-h1-eth1': '198.51.100.77/24' } } });
  assert.match(edgeOf(dot, 101), 'style=dashed');
  assert.match(edgeOf(dot, 101), 'color="#d62728"');
  assert.match(edgeOf(dot, 101), '\\nDOWN');
  assert.not.match(edgeOf(dot, 102), 'DOWN');
  assert.not.match(edgeOf(dot, 201), 'DOWN');
  assert.match(dot.split('\n').find((l) => l.includes('"switch" -- "uplink:trunk"')) ?? '', 'DOWN');
  assert.match(dot, '198.51.100.77/24 (dhcp)');
  // Without live info, it stays "dhcp".
  assert.not.match(diagramDot(d), '198.51.100.77');
});

test('dot: deterministic (same input, same text; fresh plans too)', () => {
  const a = diagramDot(plan(), { title: 'T' });
  assert.is(diagramDot(plan(), { title: 'T' }), a);
  assert.is(diagramDot(plan(), { title: 'T' }), diagramDot(structuredClone(plan()), { title: 'T' }));
  // ...and the input matters.
  assert.is.not(diagramDot(plan(), { title: 'U' }), a);
});

test('escaping helpers', () => {
  assert.is(dotString('a "b" \\ c\nd'), '"a \\"b\\" \\\\ c\\nd"');
  assert.is(htmlText('<a & "b">'), '&lt;a &amp; &quot;b&quot;&gt;');
});

test('svg: real Graphviz renders the diagram with every host', async () => {
  const d = plan();
  const svg = await renderSvg(diagramDot(d));
  assert.match(svg, /<svg[\s>]/);
  assert.match(svg, '</svg>');
  for (const h of d.hosts) assert.match(svg, `>${inSvg(h.key)}</text>`, h.key);
  for (const p of d.ports) assert.match(svg, `>${p.mac}</text>`);
  assert.match(svg, `>${inSvg('port 203')}</text>`);
  assert.match(svg, `>${inSvg('acl: no-ping')}</text>`);
});

test('svg: quotes, < > & and backslashes in names are escaped and render', async () => {
  const d = plan();
  d.hosts[0]!.key = 'evil"<b>&x\\';
  d.hosts[0]!.image = 'img"<i>';
  d.uplinks[0]!.name = 'up"<z>';
  const dot = diagramDot(d, { title: 'Lab "A" <b>\\' });
  assert.match(dot, 'evil&quot;&lt;b&gt;&amp;x\\'); // HTML label
  assert.match(dot, '"host:evil\\"<b>&x\\\\"'); // node id
  assert.match(dot, 'label="Lab \\"A\\" <b>\\\\"');
  // Raw only inside the quoted node id, never in an HTML label.
  assert.is(dot.split('<b>&x').length - 1, dot.split('"host:evil\\"<b>&x').length - 1);
  const svg = await renderSvg(dot);
  assert.match(svg, /<svg[\s>]/);
  assert.match(svg, `>${inSvg('evil"<b>&x\\')}</text>`);
  assert.match(svg, `>${inSvg('img"<i>')}</text>`);
  assert.match(svg, `>${inSvg('uplink up"<z>')}</text>`);
  assert.match(svg, `>${inSvg('Lab "A" <b>\\')}</text>`);
  assert.not.match(svg, '<b>&x');
  assert.not.match(svg, '<i>');
});

test('svg: invalid DOT is an error, not an empty picture', async () => {
  let err: unknown;
  try { await renderSvg('graph { a -- }'); } catch (e) { err = e; }
  assert.instance(err, Error);
  // The instance survives a failed render.
  assert.match(await renderSvg('graph { a -- b }'), '<svg');
});

test.run();

// Wiring diagram of a lab (Graphviz DOT, optionally rendered to SVG): hosts with their
// interfaces, the Faucet switch, uplinks and mirrors, one edge per OpenFlow port. `diagramDot`
// is pure and deterministic; `renderSvg` runs Graphviz compiled to WebAssembly.
import type { Viz } from '@viz-js/viz';
import type { DesiredHost, DesiredPort, DesiredState, DesiredUplink } from './desired.js';
import type { PluginState } from './plan-networks.js';
import { IDLE_VLAN } from '../net/faucet/model.js';

/** What is known about a running lab beyond its plan. */
export interface LiveInfo {
  /** By OVS port name (a port's hostEnd, or an uplink's or mirror's iface); false = link down. */
  portsUp?: Record<string, boolean>;
  /** Addresses hosts learned by DHCP, by faucet port name (g1-h1-eth0). */
  dhcpAddresses?: Record<string, string>;
}

export interface DiagramOptions {
  /** Graph title; default "Dovelab lab <lab>". */
  title?: string;
  live?: LiveInfo;
}

/** Colour-blind friendly, readable on white; a VLAN's colour depends only on its id. */
export const VLAN_PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2',
  '#17becf', '#bcbd22', '#7f7f7f', '#006d2c', '#08306b',
] as const;
/** 11 colours and 100 ≡ 1 (mod 11): a group's networks (N*100+1, +2, …) get distinct colours. */
export const vlanColour = (vid: number) => VLAN_PALETTE[vid % VLAN_PALETTE.length]!;
const DOWN = '#d62728';
const MIRROR = '#555555';

/** A DOT quoted string: `"` and `\` escaped, newlines as `\n` (a centred line break in labels). */
export const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
/** Text inside a Graphviz HTML-like label. */
export const htmlText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r?\n/g, '<BR/>');

const attrs = (a: Record<string, string | undefined>) => {
  const parts = Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
};
const edgeLabel = (lines: string[]) => dotString(lines.join('\n'));

const SWITCH = dotString('switch');
const hostId = (h: DesiredHost) => dotString(`host:${h.key}`);
const uplinkId = (u: DesiredUplink) => dotString(`${u.role}:${u.name}`);
/** Table cell of a host's interface, the tail of its port's edge. */
const portCell = (p: DesiredPort) => `p${p.ofport}`;

function addressOf(p: DesiredPort, live: LiveInfo | undefined): string {
  if (p.address) return p.gateway ? `${p.address} via ${p.gateway}` : p.address;
  if (!p.dhcp) return 'none';
  const learned = live?.dhcpAddresses?.[p.faucetName];
  return learned ? `${learned} (dhcp)` : 'dhcp';
}

const isDown = (live: LiveInfo | undefined, ovsPort: string) => live?.portsUp?.[ovsPort] === false;

function hostNode(h: DesiredHost, ports: DesiredPort[], live: LiveInfo | undefined): string {
  const rows = ports.map((p) => {
    const down = isDown(live, p.hostEnd);
    const colour = down ? DOWN : vlanColour(p.vid);
    return `<TR><TD PORT="${portCell(p)}" ALIGN="LEFT"><FONT COLOR="${colour}"><B>${htmlText(p.ifname)}</B></FONT></TD>` +
      `<TD ALIGN="LEFT">${htmlText(p.mac)}</TD><TD ALIGN="LEFT">${htmlText(addressOf(p, live))}</TD>` +
      `<TD ALIGN="LEFT">${down ? '<FONT COLOR="' + DOWN + '">down</FONT>' : htmlText(p.hostEnd)}</TD></TR>`;
  });
  const label = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">' +
    `<TR><TD COLSPAN="4" BGCOLOR="#e8eef7"><B>${htmlText(h.key)}</B><BR/><FONT POINT-SIZE="9">${htmlText(h.image)}</FONT></TD></TR>` +
    (rows.length ? rows.join('') : '<TR><TD COLSPAN="4"><I>no interfaces</I></TD></TR>') + '</TABLE>';
  return `${hostId(h)}${attrs({ shape: 'plain', label: `<${label}>` })};`;
}

function portEdge(h: DesiredHost, p: DesiredPort, live: LiveInfo | undefined): string {
  const down = isDown(live, p.hostEnd);
  const lines = [`port ${p.ofport}`, `VLAN ${p.vid} ${p.vlan}`];
  if (p.acls.length) lines.push(`acl: ${p.acls.join(', ')}`);
  if (down) lines.push('DOWN');
  return `${hostId(h)}:${portCell(p)} -- ${SWITCH}${attrs({
    label: edgeLabel(lines),
    color: dotString(down ? DOWN : vlanColour(p.vid)),
    fontcolor: down ? dotString(DOWN) : undefined,
    style: down ? 'dashed' : undefined,
    penwidth: p.acls.length ? '2.5' : undefined,
  })};`;
}

const vlanText = (name: string, vids: Map<string, number>) => {
  const vid = vids.get(name);
  return vid === undefined ? name : `${vid} ${name}`;
};

function uplinkNode(u: DesiredUplink, vids: Map<string, number>, mirrored: string[], live: LiveInfo | undefined): string {
  const lines = [`<B>${htmlText(u.iface)}</B>`, `${u.role} ${htmlText(u.name)}`];
  if (u.role === 'uplink') {
    if (u.native !== undefined) lines.push(`native: ${htmlText(vlanText(u.native, vids))}`);
    if (u.tagged.length) lines.push(`tagged: ${htmlText(u.tagged.map((t) => vlanText(t, vids)).join(', '))}`);
  } else {
    lines.push(mirrored.length ? `copies: ${htmlText(mirrored.join(', '))}` : '<I>copies nothing</I>');
  }
  if (isDown(live, u.iface)) lines.push(`<FONT COLOR="${DOWN}">link down</FONT>`);
  return `${uplinkId(u)}${attrs({
    shape: u.role === 'mirror' ? 'note' : 'box',
    style: u.role === 'mirror' ? 'filled' : '"rounded,filled"',
    fillcolor: dotString(u.role === 'mirror' ? '#f4f4f4' : '#fff7e0'),
    label: `<${lines.join('<BR/>')}>`,
  })};`;
}

function uplinkEdge(u: DesiredUplink, vids: Map<string, number>, live: LiveInfo | undefined): string {
  const down = isDown(live, u.iface);
  const lines = [`port ${u.ofport}`];
  let colours: string[];
  if (u.role === 'mirror') {
    lines.push(u.mirrors.length ? `mirror of ${u.mirrors.join(', ')}` : 'mirror (idle)');
    colours = [MIRROR];
  } else {
    if (u.native !== undefined) lines.push(`${u.tagged.length ? 'native' : 'VLAN'} ${vlanText(u.native, vids)}`);
    if (u.tagged.length) lines.push(`tagged ${u.tagged.map((t) => vlanText(t, vids)).join(', ')}`);
    colours = [u.native, ...u.tagged].flatMap((n) => {
      const vid = n === undefined ? undefined : vids.get(n);
      return vid === undefined ? [] : [vlanColour(vid)];
    });
  }
  if (down) lines.push('DOWN');
  const trunk = u.role === 'uplink' && u.tagged.length > 0;
  return `${SWITCH} -- ${uplinkId(u)}${attrs({
    label: edgeLabel(lines),
    // A list of colours draws parallel lines: one per VLAN a trunk carries.
    color: dotString(down ? DOWN : colours.length ? colours.join(':') : 'black'),
    fontcolor: down ? dotString(DOWN) : undefined,
    style: down || u.role === 'mirror' ? 'dashed' : undefined,
    dir: u.role === 'mirror' ? 'forward' : undefined,
    penwidth: trunk ? '2' : undefined,
  })};`;
}

/** The wiring diagram of a lab as Graphviz DOT text. Pure: same state, same text. */
export function diagramDot(d: DesiredState, opts: DiagramOptions = {}): string {
  const live = opts.live;
  const vids = new Map(d.faucet.vlans.map((v) => [v.name, v.vid]));
  const portsOf = new Map<string, DesiredPort[]>();
  for (const p of d.ports) portsOf.set(p.container, [...(portsOf.get(p.container) ?? []), p]);
  const hostOf = new Map(d.hosts.map((h) => [h.container, h]));
  const portByOfport = new Map(d.ports.map((p) => [p.ofport, p]));
  const uplinkByOfport = new Map(d.uplinks.map((u) => [u.ofport, u]));

  const out = [
    'graph dovelab {',
    `  graph${attrs({ label: dotString(opts.title ?? `Dovelab lab ${d.lab}`), labelloc: 't', fontname: '"Helvetica"', rankdir: 'TB', nodesep: '0.4', ranksep: '0.9' })};`,
    `  node${attrs({ fontname: '"Helvetica"', fontsize: '10' })};`,
    `  edge${attrs({ fontname: '"Helvetica"', fontsize: '9' })};`,
  ];

  const dp = d.faucet.dp;
  const sw = [`<B>${htmlText(dp.name)}</B>`, `dp_id 0x${dp.dpId.toString(16)}`, ...(dp.description ? [htmlText(dp.description)] : [])];
  out.push(`  ${SWITCH}${attrs({ shape: 'box3d', style: 'filled', fillcolor: '"#dde5d0"', label: `<${sw.join('<BR/>')}>` })};`);

  const groups = [...new Set(d.hosts.map((h) => h.group))].sort((a, b) => a - b);
  for (const g of groups) {
    out.push(`  subgraph cluster_g${g} {`);
    out.push(`    graph${attrs({ label: dotString(g === 0 ? 'shared' : `group ${g}`), style: 'rounded', color: '"#999999"' })};`);
    for (const h of d.hosts.filter((x) => x.group === g)) out.push(`    ${hostNode(h, portsOf.get(h.container) ?? [], live)}`);
    out.push('  }');
  }

  for (const h of d.hosts) for (const p of portsOf.get(h.container) ?? []) out.push(`  ${portEdge(h, p, live)}`);

  for (const u of d.uplinks) {
    const mirrored = u.mirrors.map((n) => {
      const p = portByOfport.get(n);
      const other = uplinkByOfport.get(n);
      return p ? `${n} ${p.faucetName}` : other ? `${n} ${other.iface}` : String(n);
    });
    out.push(`  ${uplinkNode(u, vids, mirrored, live)}`);
    out.push(`  ${uplinkEdge(u, vids, live)}`);
    if (u.role !== 'mirror') continue;
    for (const n of u.mirrors) {
      const p = portByOfport.get(n);
      const h = p && hostOf.get(p.container);
      if (!p || !h) continue;
      out.push(`  ${hostId(h)}:${portCell(p)} -- ${uplinkId(u)}${attrs({
        style: 'dotted', color: dotString(MIRROR), dir: 'forward', constraint: 'false', tooltip: dotString(`${u.name} copies port ${n}`),
      })};`);
    }
  }

  const vlans = d.faucet.vlans.filter((v) => v.vid !== IDLE_VLAN.vid).sort((a, b) => a.vid - b.vid);
  if (vlans.length) {
    const rows = vlans.map((v) => `<TR><TD BGCOLOR="${vlanColour(v.vid)}" WIDTH="14"> </TD><TD ALIGN="RIGHT">${v.vid}</TD><TD ALIGN="LEFT">${htmlText(v.name)}</TD></TR>`);
    out.push(`  legend${attrs({
      shape: 'plain',
      label: `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD COLSPAN="3"><B>VLANs</B></TD></TR>${rows.join('')}</TABLE>>`,
    })};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

export interface NetworksDiagramOptions {
  title?: string;
  /** DHCP leases by endpoint id. */
  leases?: Record<string, { ip: string } | undefined>;
  /** The mirror dongle `mirror: true` means (the appliance config's first). */
  mirrorDongle?: string;
}

/**
 * The Docker networks of the driver as Graphviz DOT, drawn like a lesson's: each network a VLAN node
 * in its VLAN's colour, its containers (interface, MAC, address) and its uplinks around it, the
 * appliance as gateway of nat/routed networks, dotted arrows to the mirrors. Pure: same state, same text.
 */
export function networksDot(st: PluginState, opts: NetworksDiagramOptions = {}): string {
  const out = [
    'graph dovelab_networks {',
    `  graph${attrs({ label: dotString(opts.title ?? 'Docker networks'), labelloc: 't', fontname: '"Helvetica"', rankdir: 'LR', nodesep: '0.3', ranksep: '0.8' })};`,
    `  node${attrs({ fontname: '"Helvetica"', fontsize: '10' })};`,
    `  edge${attrs({ fontname: '"Helvetica"', fontsize: '9' })};`,
  ];
  const mirrors = new Set<string>();
  for (const n of st.networks) {
    const name = n.name ?? n.id.slice(0, 12);
    const colour = vlanColour(n.vid);
    const vlan = dotString(`vlan:${n.id}`);
    const facts = [n.mode, ...(n.dhcp ? ['dhcp'] : []), ...(n.tagged ? ['tagged'] : [])].join(' · ');
    out.push(`  ${vlan}${attrs({
      shape: 'ellipse', style: 'filled', fillcolor: dotString(colour), fontcolor: '"white"',
      label: `<<B>${htmlText(name)}</B><BR/>VLAN ${n.vid}<BR/>${htmlText(facts)}>`,
    })};`);
    if (n.mode !== 'flat' && n.gateway) {
      const gw = dotString(`gateway:${n.id}`);
      out.push(`  ${gw}${attrs({ shape: 'box', style: '"rounded,filled"', fillcolor: '"#dde5d0"', label: `<<B>appliance</B><BR/>gateway ${htmlText(n.gateway)}<BR/>${n.mode}>` })};`);
      out.push(`  ${gw} -- ${vlan}${attrs({ color: dotString(colour) })};`);
    }
    for (const u of n.uplinks) {
      const id = dotString(`uplink:${n.id}:${u.iface}`);
      const how = u.vlan !== undefined && u.vlan !== n.vid ? `VLAN ${u.vlan} on the wire` : n.tagged ? `tagged ${n.vid}` : 'untagged';
      out.push(`  ${id}${attrs({ shape: 'box', style: '"rounded,filled"', fillcolor: '"#fff7e0"', label: `<<B>${htmlText(u.iface)}</B><BR/>uplink<BR/>${htmlText(how)}>` })};`);
      out.push(`  ${id} -- ${vlan}${attrs({
        label: edgeLabel([...(u.ofport !== undefined ? [`port ${u.ofport}`] : []), ...(u.acls.length ? [`acl: ${u.acls.join(', ')}`] : [])]),
        color: dotString(colour), penwidth: n.tagged ? '2' : undefined,
      })};`);
    }
    for (const e of st.endpoints.filter((x) => x.network === n.id)) {
      const id = dotString(`endpoint:${e.id}`);
      const lease = opts.leases?.[e.id];
      const address = lease ? `${lease.ip} (dhcp)` : e.address ?? (n.dhcp ? 'dhcp' : 'none');
      // The driver learns the container's interface name only from its DHCP client: no cell without it.
      const cells = [...(e.ifname ? [`<FONT COLOR="${colour}"><B>${htmlText(e.ifname)}</B></FONT>`] : []), htmlText(e.mac), htmlText(address)];
      const label = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">' +
        `<TR><TD COLSPAN="${cells.length}" BGCOLOR="#e8eef7"><B>${htmlText(e.container ?? `endpoint ${e.id.slice(0, 12)}`)}</B></TD></TR>` +
        `<TR>${cells.map((c) => `<TD ALIGN="LEFT">${c}</TD>`).join('')}</TR>` +
        (e.published?.length ? `<TR><TD COLSPAN="${cells.length}" ALIGN="LEFT">published ${htmlText(e.published.map((p) => `${p.hostPort}→${p.port}/${p.proto}`).join(', '))}</TD></TR>` : '') +
        '</TABLE>';
      out.push(`  ${id}${attrs({ shape: 'plain', label: `<${label}>` })};`);
      const lines = [`port ${e.ofport}`, ...(e.acls.length ? [`acl: ${e.acls.join(', ')}`] : []), ...(e.joined ? [] : ['not joined'])];
      out.push(`  ${vlan} -- ${id}${attrs({
        label: edgeLabel(lines), color: dotString(e.joined ? colour : DOWN), style: e.joined ? undefined : 'dashed', penwidth: e.acls.length ? '2.5' : undefined,
      })};`);
      const to = e.mirror === true ? opts.mirrorDongle ?? 'mirror dongle' : e.mirror;
      if (to) {
        mirrors.add(to);
        out.push(`  ${id} -- ${dotString(`mirror:${to}`)}${attrs({ style: 'dotted', color: dotString(MIRROR), dir: 'forward', constraint: 'false', tooltip: dotString(`${to} copies port ${e.ofport}`) })};`);
      }
    }
  }
  for (const m of [...mirrors].sort()) {
    out.push(`  ${dotString(`mirror:${m}`)}${attrs({ shape: 'note', style: 'filled', fillcolor: '"#f4f4f4"', label: `<<B>${htmlText(m)}</B><BR/>mirror>` })};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

let viz: Promise<Viz> | undefined;

/**
 * DOT -> SVG with Graphviz (WebAssembly); the Graphviz instance is created once, its module (1.2 MB
 * of JavaScript) loaded then: an agent nobody asks for a diagram never holds it (issue 13). Throws on bad DOT.
 */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance()).catch((e: unknown) => { viz = undefined; throw e; });
  return (await viz).renderString(dot, { format: 'svg', engine: 'dot' });
}

// Which collision domains of a Kathará lab must stay hubs. Kathará's collision domains are hubs
// (every frame to every device, BPDUs and 802.1Q tags passed); Dovelab's default network is a
// learning switch, which is what most labs need. A lab that sniffs its neighbours' traffic,
// builds bridges in its hosts, filters VLANs or runs STP needs a hub (`kind: hub`): those
// domains are marked, with one report line per reason. Pure: reads the drafted hosts' scripts
// (and names: a device called sniffer with no address is where students run tcpdump by hand).
import type { DraftHost } from './types.js';

interface Reason { why: string; re: RegExp; named?: RegExp }

/** A startup (or image) that needs every frame of its networks, and why. */
const REASONS: Reason[] = [
  { why: 'makes a bridge in the host (brctl addbr, ip link add … type bridge, ovs-vsctl add-br)', re: /\bbrctl\s+addbr\b|\bip\s+link\s+add\b[^\n]*\btype\s+bridge\b|\bovs-vsctl\s+(--\S+\s+)*add-br\b/ },
  { why: 'uses 802.1Q VLANs (vlan_filtering, bridge vlan, type vlan, vconfig)', re: /\bvlan_filtering\b|\bbridge\s+vlan\s+add\b|\btype\s+vlan\b|\bvconfig\s+add\b/ },
  { why: 'runs STP (stp_state 1, brctl stp … on, mstpd)', re: /\bstp_state\s+1\b|\bbrctl\s+stp\s+\S+\s+(on|yes|1)\b|\bmstpd\b|\bmstpctl\b/ },
  { why: 'sniffs its neighbours (tcpdump, tshark, dumpcap, wireshark)', re: /\b(tcpdump|tshark|dumpcap|wireshark)\b/ },
  // A listener students run tcpdump on by hand: its name says so, and it has no address to talk with.
  { why: 'is named as a sniffer and has no address (students capture there by hand)', re: /(?!)/, named: /sniff|wireshark|tshark|tcpdump|capture|^eve\d*$|^spy\d*$/i },
];

/**
 * Marks as hubs the networks of every host whose startup (or image name) shows one of the
 * reasons; returns one report line per reason. `networks` is changed in place.
 */
export function chooseHubs(networks: Record<string, { description?: string; kind?: 'hub' }>, hosts: Record<string, DraftHost>): string[] {
  const lines: string[] = [];
  const caught = new Set<string>();
  for (const r of REASONS) {
    const who = Object.entries(hosts).filter(([n, h]) => r.re.test(h.startup ?? '') || (r.why.startsWith('sniffs') && r.re.test(h.image ?? ''))
      || (!!r.named && !caught.has(n) && r.named.test(n) && Object.values(h.interfaces).every((i) => !i.ip)));
    for (const [n] of who) caught.add(n);
    if (!who.length) continue;
    const nets = [...new Set(who.flatMap(([, h]) => Object.values(h.interfaces).map((i) => i.network)))].sort();
    if (!nets.length) continue;
    for (const n of nets) if (networks[n]) networks[n]!.kind = 'hub';
    lines.push(`collision domain${nets.length > 1 ? 's' : ''} ${nets.join(', ')} ${nets.length > 1 ? 'are hubs' : 'is a hub'} (kind: hub, as in Kathará): ` +
      `${who.map(([h]) => h).join(', ')} ${r.why}; a hub passes every frame, BPDUs and VLAN tags, to every port (no uplink may carry it)`);
  }
  return lines;
}

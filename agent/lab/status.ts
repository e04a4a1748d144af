// What runs: the desired lab joined with what OVS and Docker say (for `status` and the UI).
import type { DesiredState } from './desired.js';
import { observe, type LabContext } from './engine.js';
import type { LabState } from './state.js';

export interface InterfaceStatus {
  name: string; mac: string; ip: string; addresses: string[]; network: string; vlan: number;
  ofport: number; port: string; port_ok: boolean; acls: string[];
}
export interface HostStatus { name: string; key: string; group: number; container: string; running: boolean; interfaces: InterfaceStatus[] }
export interface UplinkStatus { name: string; role: 'uplink' | 'mirror'; interface: string; ofport: number; present: boolean; port_ok: boolean; native?: string; tagged: string[]; mirrors: string[] }
export interface LabStatus {
  lab: { id: string; groups: number; source: string; started_at: string } | null;
  hosts: HostStatus[];
  uplinks: UplinkStatus[];
  problems: string[];
}

export async function labStatus(ctx: LabContext, st: LabState | undefined, desired: DesiredState | undefined): Promise<LabStatus> {
  if (!st || !desired) return { lab: null, hosts: [], uplinks: [], problems: [] };
  const o = await observe(ctx);
  const problems: string[] = [];
  const ports = new Map(o.ports.map((p) => [p.name, p]));
  const network = (vlan: string) => vlan.replace(/^g\d+-/, '');
  const hosts = await Promise.all(desired.hosts.map(async (h): Promise<HostStatus> => {
    const running = o.hosts.find((x) => x.container === h.container)?.running ?? false;
    if (!running) problems.push(`${h.key}: not running`);
    let addrs: Record<string, string[]> = {};
    if (running) { try { addrs = await ctx.links.addressesIn(await ctx.hosts.pid(h.container)); } catch { /* exited meanwhile */ } }
    const interfaces = desired.ports.filter((p) => p.container === h.container).map((p): InterfaceStatus => {
      const ovs = ports.get(p.hostEnd);
      const ok = !!ovs && ovs.ofport === p.ofport && !ovs.error;
      if (!ok) problems.push(`${p.faucetName}: port ${p.hostEnd} ${ovs ? ovs.error ?? `ofport ${ovs.ofport}` : 'missing'}`);
      return {
        name: p.ifname, mac: p.mac, ip: p.address ?? (p.dhcp ? 'dhcp' : 'none'), addresses: addrs[p.ifname] ?? [],
        network: network(p.vlan), vlan: p.vid, ofport: p.ofport, port: p.hostEnd, port_ok: ok, acls: p.acls,
      };
    });
    return { name: h.host, key: h.key, group: h.group, container: h.container, running, interfaces };
  }));
  const byOfport = new Map(desired.ports.map((p) => [p.ofport, p.faucetName]));
  const uplinks = desired.uplinks.map((u): UplinkStatus => {
    const present = o.interfaces.includes(u.iface);
    const ovs = ports.get(u.iface);
    const ok = present && !!ovs && ovs.ofport === u.ofport && !ovs.error;
    if (!present) problems.push(`${u.role} ${u.name}: ${u.iface} not present`);
    return {
      name: u.name, role: u.role, interface: u.iface, ofport: u.ofport, present, port_ok: ok,
      ...(u.native ? { native: u.native } : {}), tagged: u.tagged, mirrors: u.mirrors.map((n) => byOfport.get(n) ?? String(n)),
    };
  });
  return { lab: { id: st.lab, groups: st.groups, source: st.source, started_at: st.startedAt }, hosts, uplinks, problems };
}

export function formatLabStatus(s: LabStatus): string {
  if (!s.lab) return 'no lab running';
  const lines = [`lab ${s.lab.id}: ${s.lab.groups} group(s), ${s.hosts.length} hosts (from ${s.lab.source})`];
  for (const h of s.hosts) {
    lines.push(`  ${h.key.padEnd(14)} ${h.running ? 'running' : 'NOT RUNNING'}`);
    for (const i of h.interfaces) {
      const addr = i.addresses.join(',') || i.ip;
      lines.push(`    ${i.name.padEnd(6)} ${i.mac}  ${addr.padEnd(18)} ${i.network}/vlan ${String(i.vlan).padEnd(5)} ofport ${String(i.ofport).padEnd(4)} ${i.port_ok ? '' : 'PORT PROBLEM '}${i.acls.length ? `acl ${i.acls.join(',')}` : ''}`);
    }
  }
  for (const u of s.uplinks) {
    const what = u.role === 'mirror' ? `copies ${u.mirrors.join(', ') || 'nothing'}` : `${u.native ? `native ${u.native} ` : ''}${u.tagged.length ? `tagged ${u.tagged.join(',')}` : ''}`;
    lines.push(`  ${u.role} ${u.name}: ${u.interface} ofport ${u.ofport} ${u.present ? '' : '(NOT PRESENT) '}${what}`);
  }
  if (s.problems.length) lines.push(`problems: ${s.problems.join('; ')}`);
  return lines.join('\n');
}

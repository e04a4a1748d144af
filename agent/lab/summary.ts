// Human summary of a desired lab. Pure.
import type { DesiredState } from './desired.js';

export function labSummary(d: DesiredState): string {
  const lines = [`lab ${d.lab}: ${d.hosts.length} hosts, ${d.ports.length} ports, ${d.faucet.vlans.length} VLANs`];
  for (const p of d.ports) {
    lines.push(`  ${p.faucetName.padEnd(18)} ${p.mac}  ${(p.address ?? (p.dhcp ? 'dhcp' : '-')).padEnd(18)} vlan ${String(p.vid).padEnd(5)} ofport ${p.ofport} (${p.hostEnd})`);
  }
  return lines.join('\n');
}

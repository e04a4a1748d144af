// Hub networks (`kind: hub`): every frame a port sends goes out of every other port of its VLAN,
// whatever it is: unicast to a third host, 802.1Q-tagged, 802.1D group frames (STP BPDUs). Faucet
// VLANs learn and drop 01:80:C2 frames, so a hub port's ACL list (port_acl table, matched before
// any VLAN processing) ends in an output-to-the-hub rule instead of dovelab-allow: such frames
// never reach the VLAN tables. Lesson ACLs on a hub port (applied or toggled by students) are used
// in a variant whose "allow" outputs to the hub too, so a toggle swaps lists (warm) and the port
// stays a hub port. Mirrors and captures of a hub port get every frame of the hub (that is what a
// sniffer on a hub sees). Pure.
// (desired.ts calls this; the shapes it needs are given here, so there is no import cycle.)
import type { AclRule } from '../lesson/schema.js';
import type { FaucetAclRule } from '../net/faucet/model.js';
import { compileAcl } from './acl.js';

/** Faucet's name of the hub rule of a VLAN (g1-lan, or a shared network's name). */
export const hubAclName = (vlan: string) => `dovelab-hub-${vlan}`;
/** Suffix of a lesson ACL's Faucet name when used on the ports of a hub VLAN. */
export const hubAclSuffix = (vlan: string) => `-hub-${vlan}`;

interface HubPort { ofport: number; vlan: string; acls: string[] }
interface Sniffer { ofport: number; mirrors: number[] }

export interface HubPlan {
  /** Faucet ACLs to add: each hub VLAN's rule and its variants of the lesson's ACLs. */
  acls: Record<string, FaucetAclRule[]>;
  /** Ports of hub VLANs (OpenFlow number) -> their acls_in. */
  aclsIn: Map<number, string[]>;
}

/**
 * `vlans`: the hub VLANs; `lessonAcls`: the lesson's ACLs (all get a variant per hub VLAN, so a
 * toggle only swaps lists); `aclName`: Faucet's name of a lesson ACL; `sniffers`: mirror and
 * capture ports with the ports they copy.
 */
export function planHubs(vlans: Set<string>, ports: HubPort[], sniffers: Sniffer[], lessonAcls: Record<string, AclRule[]>, aclName: (acl: string) => string): HubPlan {
  const acls: Record<string, FaucetAclRule[]> = {};
  const aclsIn = new Map<number, string[]>();
  if (!vlans.size) return { acls, aclsIn };
  const compiled = Object.fromEntries(Object.entries(lessonAcls).map(([name, rules]) => [name, compileAcl(rules)]));
  const variant = (acl: string, vlan: string) => `${aclName(acl)}${hubAclSuffix(vlan)}`;
  for (const vlan of vlans) {
    const members = ports.filter((p) => p.vlan === vlan);
    if (!members.length) continue;
    const mine = new Set(members.map((p) => p.ofport));
    // Output to every member (OpenFlow never sends a frame back out of its in_port) and to every
    // mirror or capture port that copies one of them.
    const copies = sniffers.filter((m) => m.mirrors.some((o) => mine.has(o))).map((m) => m.ofport);
    const out = [...new Set([...mine, ...copies])].sort((a, b) => a - b);
    const flood = (match: FaucetAclRule['match']): FaucetAclRule => ({ match, actions: { output: { ports: out } } });
    acls[hubAclName(vlan)] = [flood({})];
    for (const [name, rules] of Object.entries(compiled)) {
      acls[variant(name, vlan)] = rules.map((r) => (r.actions.allow ? flood(r.match) : r));
    }
    for (const p of members) aclsIn.set(p.ofport, [...p.acls.map((a) => variant(a, vlan)), hubAclName(vlan)]);
  }
  return { acls, aclsIn };
}

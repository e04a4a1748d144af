// ACL hit counters for the pages: the switch's rows (Faucet ACL, rule, port) -> lesson ACL, rule,
// host.interface and group. Pure, apart from the route that reads the switch.
import type { AclRule, Topology } from '../lesson/schema.js';
import type { DesiredState } from '../lab/desired.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import type { AclCounterRow } from './api-types.js';

const LESSON_PREFIX = 'lesson-';

/** A rule's match in a few words: `ip_proto=icmp tcp_src=80`, or `any`. */
export const matchText = (r: AclRule) => Object.entries(r.match).map(([k, v]) => `${k}=${v}`).join(' ') || 'any';

/** Rows for the lesson's ACLs on the lab's ports, sorted by group, interface, ACL, rule. Other rows are dropped. */
export function aclCounterRows(t: Topology, d: DesiredState, hits: AclHit[]): AclCounterRow[] {
  const ports = new Map(d.ports.map((p) => [p.faucetName, p]));
  const rows: AclCounterRow[] = [];
  for (const h of hits) {
    if (!h.acl.startsWith(LESSON_PREFIX)) continue;
    const acl = h.acl.slice(LESSON_PREFIX.length);
    const rule = Object.hasOwn(t.acls, acl) ? t.acls[acl]![h.rule] : undefined;
    const port = ports.get(h.port);
    if (!rule || !port) continue;
    rows.push({ target: `${port.host}.${port.ifname}`, group: port.group, acl, rule: h.rule, action: rule.action, match: matchText(rule), packets: h.packets, bytes: h.bytes });
  }
  return rows.sort((a, b) => a.group - b.group || a.target.localeCompare(b.target) || a.acl.localeCompare(b.acl) || a.rule - b.rule);
}

/** What a student group sees: its own interfaces (and shared ones) that the lesson gives it switches for. */
export function groupCounterRows(t: Topology, rows: AclCounterRow[], group: number): AclCounterRow[] {
  const controls = t.controls?.acls ?? {};
  return rows.filter((r) => (r.group === group || r.group === 0) && Object.hasOwn(controls, r.target) && controls[r.target]!.includes(r.acl));
}

/** The group of a Faucet port name in the plan (0: shared or not a lab port). */
export const groupOfPort = (d: DesiredState, port: string) => d.ports.find((p) => p.faucetName === port)?.group ?? 0;

// OpenFlow cookies for ACL rules: one per (ACL, rule index), so the switch's flow counters say
// which rule a packet hit. Pure. Faucet accepts a rule `cookie:` of 0..2**16 and puts it on that
// rule's flows (one per port the ACL is on); its own flows carry 0x5adc15c0, outside this range.
import { createHash } from 'node:crypto';

/** Rules per ACL that get a cookie; rules past this are counted nowhere. */
export const RULES_PER_ACL = 64;
/** ACL slots: cookie = slot * RULES_PER_ACL + rule index; slot 0 is never used (cookie 0 is OpenFlow's default). */
export const ACL_SLOTS = 1024;

export interface AclRuleRef { acl: string; rule: number }

const slotHash = (name: string) => 1 + (createHash('sha256').update(name).digest().readUInt32BE(0) % (ACL_SLOTS - 1));

/**
 * The slot of each ACL: from a hash of its name, so it does not depend on which other ACLs exist;
 * a clash moves the later name (in sorted order) to the next free slot. Deterministic.
 */
export function aclSlots(names: Iterable<string>): Map<string, number> {
  const sorted = [...new Set(names)].sort();
  if (sorted.length > ACL_SLOTS - 1) throw new Error(`ACL cookies: ${sorted.length} ACLs, at most ${ACL_SLOTS - 1}`);
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const n of sorted) {
    let s = slotHash(n);
    while (taken.has(s)) s = s === ACL_SLOTS - 1 ? 1 : s + 1;
    taken.add(s);
    out.set(n, s);
  }
  return out;
}

/** The cookie of rule `index` of an ACL in `slot`, or undefined past RULES_PER_ACL. */
export const ruleCookie = (slot: number, index: number): number | undefined =>
  index >= 0 && index < RULES_PER_ACL ? slot * RULES_PER_ACL + index : undefined;

/** cookie -> (ACL, rule) for a set of ACLs given with their rule counts. */
export function cookieTable(acls: Record<string, number>): Map<number, AclRuleRef> {
  const slots = aclSlots(Object.keys(acls));
  const out = new Map<number, AclRuleRef>();
  for (const [acl, count] of Object.entries(acls)) {
    for (let rule = 0; rule < count; rule++) {
      const c = ruleCookie(slots.get(acl)!, rule);
      if (c !== undefined) out.set(c, { acl, rule });
    }
  }
  return out;
}

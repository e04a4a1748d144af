// Per-rule ACL hit counters from the switch's flow statistics. Pure: `ovs-ofctl dump-flows` text
// and the live faucet.yaml in, rows keyed by what a person knows (ACL, rule, port name) out.
import { parse } from 'yaml';

/** One flow of `ovs-ofctl -O OpenFlow13 dump-flows BRIDGE`. */
export interface FlowStat {
  cookie: number; table: number; inPort?: number; priority?: number; packets: number; bytes: number;
  /** How long the flow has been in the table when the switch answered (OpenFlow's duration). */
  ageMs?: number;
}

/** Hits of one ACL rule on one port (a Faucet ACL has one flow per port it is applied to). */
export interface AclHit {
  /** The ACL's name in faucet.yaml (lesson ACLs: `lesson-<name>`). */
  acl: string;
  rule: number;
  /** The Faucet interface name of the port the ACL is on, or `port <n>` if unknown. */
  port: string;
  ofport: number;
  packets: number;
  bytes: number;
}

export class FlowParseError extends Error {}

const field = (line: string, name: string) => new RegExp(`(?:^|[ ,])${name}=([^, ]+)`).exec(line)?.[1];

/**
 * Parses dump-flows output. Lines look like (OVS 3.x)
 *   ` cookie=0x1c42, duration=3.2s, table=1, n_packets=4, n_bytes=392, priority=20479,icmp,in_port=3 actions=drop`
 * The reply header (`OFPST_FLOW reply (OF1.3) …`) and blank lines are skipped; a flow line without
 * its counters is an error (a changed output format must not read as zero hits).
 */
export function parseDumpFlows(text: string): FlowStat[] {
  const out: FlowStat[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || !line.startsWith('cookie=')) continue;
    const cookie = field(line, 'cookie'), table = field(line, 'table');
    const packets = field(line, 'n_packets'), bytes = field(line, 'n_bytes');
    if (cookie === undefined || table === undefined || packets === undefined || bytes === undefined) {
      throw new FlowParseError(`dump-flows: a flow line without cookie, table, n_packets or n_bytes: ${line.slice(0, 120)}`);
    }
    const [matchPart] = line.split(' actions=');
    const inPort = field(matchPart!, 'in_port');
    const priority = field(matchPart!, 'priority');
    const n = (s: string, what: string) => {
      const v = s.startsWith('0x') ? parseInt(s, 16) : Number(s);
      if (!Number.isFinite(v)) throw new FlowParseError(`dump-flows: ${what}=${s} is not a number: ${line.slice(0, 120)}`);
      return v;
    };
    out.push({
      cookie: n(cookie, 'cookie'), table: n(table, 'table'), packets: n(packets, 'n_packets'), bytes: n(bytes, 'n_bytes'),
      ...(inPort !== undefined && /^\d+$/.test(inPort) ? { inPort: Number(inPort) } : {}),
      ...(priority !== undefined ? { priority: n(priority, 'priority') } : {}),
    });
  }
  return out;
}

export interface AclCookieMap {
  /** cookie -> the ACL and rule index it was emitted for. */
  rules: Map<number, { acl: string; rule: number }>;
  /** OpenFlow port number -> Faucet interface name. */
  ports: Map<number, string>;
  /** Rules per ACL (also those without a cookie). */
  ruleCounts: Record<string, number>;
}

/** The cookies and port names of a faucet.yaml text (as emitted by emitFaucetYaml). */
export function aclCookieMap(faucetYaml: string): AclCookieMap {
  const doc = (parse(faucetYaml) ?? {}) as { acls?: Record<string, unknown>; dps?: Record<string, { interfaces?: Record<string, { name?: string }> }> };
  const rules = new Map<number, { acl: string; rule: number }>();
  const ruleCounts: Record<string, number> = {};
  for (const [acl, list] of Object.entries(doc.acls ?? {})) {
    if (!Array.isArray(list)) continue;
    ruleCounts[acl] = list.length;
    list.forEach((entry, rule) => {
      const cookie = (entry as { rule?: { cookie?: unknown } })?.rule?.cookie;
      if (typeof cookie === 'number') rules.set(cookie, { acl, rule });
    });
  }
  const ports = new Map<number, string>();
  for (const dp of Object.values(doc.dps ?? {})) {
    for (const [num, i] of Object.entries(dp?.interfaces ?? {})) if (i?.name) ports.set(Number(num), i.name);
  }
  return { rules, ports, ruleCounts };
}

/** Flows whose cookie belongs to an ACL rule -> hits per (ACL, rule, port), sorted. */
export function aclHits(flows: FlowStat[], map: AclCookieMap): AclHit[] {
  const byKey = new Map<string, AclHit>();
  for (const f of flows) {
    const ref = map.rules.get(f.cookie);
    if (!ref) continue;
    const ofport = f.inPort ?? 0;
    const key = `${ref.acl}\0${ref.rule}\0${ofport}`;
    const hit = byKey.get(key) ?? { acl: ref.acl, rule: ref.rule, port: map.ports.get(ofport) ?? `port ${ofport}`, ofport, packets: 0, bytes: 0 };
    hit.packets += f.packets; hit.bytes += f.bytes;
    byKey.set(key, hit);
  }
  return [...byKey.values()].sort((a, b) => a.acl.localeCompare(b.acl) || a.rule - b.rule || a.ofport - b.ofport);
}

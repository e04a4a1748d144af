// Lesson ACL rules -> Faucet ACL rules. Pure. Faucet passes matches to the switch unchecked, and
// the switch rejects a match whose OpenFlow prerequisites are missing (tcp_dst without ip_proto 6
// and eth_type 0x0800), so this adds them, and rejects matches no packet can ever meet.
// A lesson ACL ends in "allow the rest"; that final rule is the planner's (dovelab-allow), not ours.
import type { AclMatch, AclRule } from '../lesson/schema.js';
import type { FaucetAclRule } from '../net/faucet/model.js';

export const ETH_TYPES = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;
export const IP_PROTOS = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;

export type AclField = keyof AclMatch;
export interface AclProblem { index: number; field: AclField; message: string }

export class AclError extends Error {
  constructor(readonly problems: AclProblem[]) {
    super(problems.map((p) => `rule ${p.index}: match.${p.field}: ${p.message}`).join('\n'));
  }
}

/**
 * Lesson field -> Faucet (OpenFlow 1.3 OXM) field, in output order after eth_type and ip_proto.
 * Typed over every field of AclMatch: a field added to the schema does not compile until mapped here.
 */
const FAUCET_NAME: { [F in AclField]-?: string } = {
  eth_type: 'eth_type', ip_proto: 'ip_proto',
  eth_src: 'eth_src', eth_dst: 'eth_dst',
  ip_src: 'ipv4_src', ip_dst: 'ipv4_dst',
  tcp_src: 'tcp_src', tcp_dst: 'tcp_dst',
  udp_src: 'udp_src', udp_dst: 'udp_dst',
};
const PORT_FIELDS = ['tcp_src', 'tcp_dst', 'udp_src', 'udp_dst'] as const;
const ADDRESS_FIELDS = ['ip_src', 'ip_dst'] as const;

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const nameOf = <T extends Record<string, number>>(table: T, n: number) => Object.keys(table).find((k) => table[k] === n);
const ethText = (n: number) => { const k = nameOf(ETH_TYPES, n); return k ? `${k} (${hex4(n)})` : hex4(n); };
const protoText = (n: number) => { const k = nameOf(IP_PROTOS, n); return k ? `${k} (${n})` : String(n); };

/** Host bits set under the prefix (198.51.100.12/24) make a masked match the switch may refuse. */
function hostBitsSet(text: string): boolean {
  const [addr, prefix] = text.split('/');
  if (prefix === undefined) return false;
  const value = addr!.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(prefix));
  return value % size !== 0;
}

function compileRule(rule: AclRule, index: number, problems: AclProblem[]): FaucetAclRule {
  const m = rule.match;
  const say = (field: AclField, message: string) => problems.push({ index, field, message });

  const eth = m.eth_type === undefined ? undefined : typeof m.eth_type === 'number' ? m.eth_type : ETH_TYPES[m.eth_type];
  let proto = m.ip_proto === undefined ? undefined : typeof m.ip_proto === 'number' ? m.ip_proto : IP_PROTOS[m.ip_proto];
  /** The field that asks for ip_proto: ip_proto itself, or the first TCP/UDP port. */
  let protoFrom: AclField | undefined = proto === undefined ? undefined : 'ip_proto';

  if (eth !== undefined && eth < 0x0600) {
    say('eth_type', `${hex4(eth)} is a frame length, not an EtherType (EtherTypes start at 0x0600); e.g. ipv4, arp, ipv6`);
  }

  // Ports: tcp_* needs ip_proto 6, udp_* needs 17; a packet is either TCP or UDP.
  for (const f of PORT_FIELDS) {
    if (m[f] === undefined) continue;
    const need = f.startsWith('tcp') ? IP_PROTOS.tcp : IP_PROTOS.udp;
    if (protoFrom === 'ip_proto' && proto !== need) {
      say(f, `${f} needs ip_proto ${protoText(need)}, but ip_proto is ${protoText(proto!)}`);
    } else if (protoFrom !== undefined && protoFrom !== 'ip_proto' && proto !== need) {
      say(f, `${f} cannot be combined with ${protoFrom}: a packet is either TCP or UDP`);
    } else if (protoFrom === undefined) {
      proto = need; protoFrom = f;
    }
  }

  // ip_proto (given or implied) needs an IP EtherType of the right version.
  if (proto !== undefined && protoFrom !== undefined && eth !== undefined && eth >= 0x0600) {
    if (eth !== ETH_TYPES.ipv4 && eth !== ETH_TYPES.ipv6) {
      say(protoFrom, `${protoFrom} matches IP packets only (eth_type ipv4 or ipv6), but eth_type is ${ethText(eth)}`);
    } else if (proto === IP_PROTOS.icmpv6 && eth === ETH_TYPES.ipv4) {
      say('ip_proto', `icmpv6 (58) is IPv6's ICMP: it needs eth_type ipv6, but eth_type is ipv4; IPv4 uses icmp (1)`);
    } else if (proto === IP_PROTOS.icmp && eth === ETH_TYPES.ipv6) {
      say('ip_proto', `icmp (1) is IPv4's ICMP: it needs eth_type ipv4, but eth_type is ipv6; IPv6 uses icmpv6 (58)`);
    }
  }

  // ip_src/ip_dst are IPv4 addresses (OpenFlow ipv4_src/dst): eth_type 0x0800 only.
  for (const f of ADDRESS_FIELDS) {
    const value = m[f];
    if (value === undefined) continue;
    if (eth !== undefined && eth !== ETH_TYPES.ipv4) {
      say(f, `${f} is an IPv4 address: it matches only eth_type ipv4, but eth_type is ${ethText(eth)}`);
    } else if (eth === undefined && proto === IP_PROTOS.icmpv6) {
      say(f, `${f} is an IPv4 address, but ip_proto icmpv6 (58) is IPv6 only`);
    }
    if (hostBitsSet(value)) {
      const [addr, prefix] = value.split('/');
      say(f, `${value} has host bits set under /${prefix}: write the network it means, or the one address ${addr}`);
    }
  }

  const usesIp = proto !== undefined || ADDRESS_FIELDS.some((f) => m[f] !== undefined);
  const ethOut = eth ?? (proto === IP_PROTOS.icmpv6 ? ETH_TYPES.ipv6 : usesIp ? ETH_TYPES.ipv4 : undefined);

  const match: Record<string, number | string> = {};
  if (ethOut !== undefined) match.eth_type = ethOut;
  if (proto !== undefined) match.ip_proto = proto;
  for (const f of Object.keys(FAUCET_NAME) as AclField[]) {
    if (f === 'eth_type' || f === 'ip_proto') continue;
    const v = m[f];
    if (v === undefined) continue;
    match[FAUCET_NAME[f]] = typeof v === 'string' && (f === 'eth_src' || f === 'eth_dst') ? v.toLowerCase() : v;
  }
  return { match, actions: { allow: rule.action === 'allow' } };
}

/** Every problem of every rule (index = rule's position), without throwing. */
export function aclProblems(rules: readonly AclRule[]): AclProblem[] {
  const problems: AclProblem[] = [];
  rules.forEach((r, i) => compileRule(r, i, problems));
  return problems;
}

/** Lesson rules -> Faucet rules, prerequisites added; throws AclError listing all problems. */
export function compileAcl(rules: readonly AclRule[]): FaucetAclRule[] {
  const problems: AclProblem[] = [];
  const out = rules.map((r, i) => compileRule(r, i, problems));
  if (problems.length) throw new AclError(problems);
  return out;
}

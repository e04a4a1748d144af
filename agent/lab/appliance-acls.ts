// The appliance's ACLs for Docker networks of the driver (`dovelab.acl=…`, `dovesnap.faucet.portacl`,
// `default_acl`, add_ports' ACL field): a few built in, more in /etc/dovelab/acls.yaml. Rules are
// written as in a lesson (match/action), or in Faucet's syntax (`- rule: {dl_type: 0x800, …,
// actions: {allow: 0}}`), which is read into the lesson form so the same checks and OpenFlow
// prerequisites apply. Parsing is pure; `readApplianceAcls` is the one read.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { AclRuleSchema, type AclRule } from '../lesson/schema.js';
import type { FaucetAclRule } from '../net/faucet/model.js';
import { AclError, compileAcl } from './acl.js';
import { PlanError } from './desired.js';

/** A PlanError, so every verb that plans reports it as it reports a clash. */
export class ApplianceAclError extends PlanError {}

/** ACL names as Dovesnap's users write them (ratelimitit, allowall, no-ping). */
const ACL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

/** Always there, so a fresh appliance can already switch ping off or isolate a container. */
export const BUILTIN_ACLS: Record<string, AclRule[]> = {
  'allow-all': [{ match: {}, action: 'allow' }],
  'deny-all': [{ match: {}, action: 'drop' }],
  'no-ping': [
    { match: { eth_type: 'ipv4', ip_proto: 'icmp' }, action: 'drop' },
    { match: { eth_type: 'ipv6', ip_proto: 'icmpv6' }, action: 'drop' },
  ],
};

/** Faucet's match fields -> the lesson's (the ones a lesson can write; others are refused by name). */
const FROM_FAUCET: Record<string, keyof AclRule['match']> = {
  dl_type: 'eth_type', eth_type: 'eth_type',
  nw_proto: 'ip_proto', ip_proto: 'ip_proto',
  dl_src: 'eth_src', eth_src: 'eth_src', dl_dst: 'eth_dst', eth_dst: 'eth_dst',
  nw_src: 'ip_src', ipv4_src: 'ip_src', nw_dst: 'ip_dst', ipv4_dst: 'ip_dst',
  tcp_src: 'tcp_src', tcp_dst: 'tcp_dst', udp_src: 'udp_src', udp_dst: 'udp_dst',
};

const toNumber = (v: unknown) => (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : v);

/** One Faucet-syntax rule (`{rule: {...}}`) in the lesson's form; throws naming the field. */
function fromFaucetRule(rule: unknown, where: string): AclRule {
  if (!rule || typeof rule !== 'object' || Array.isArray(rule)) throw new ApplianceAclError(`${where}.rule: expected a mapping of match fields and actions`);
  const match: Record<string, unknown> = {};
  let allow: boolean | undefined;
  for (const [k, v] of Object.entries(rule as Record<string, unknown>)) {
    if (k === 'actions') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApplianceAclError(`${where}.rule.actions: expected a mapping (e.g. {allow: 1})`);
      for (const [a, av] of Object.entries(v as Record<string, unknown>)) {
        if (a !== 'allow') throw new ApplianceAclError(`${where}.rule.actions.${a}: not supported on this appliance (only allow: 0/1)`);
        if (![0, 1, true, false].includes(av as never)) throw new ApplianceAclError(`${where}.rule.actions.allow: expected 0, 1, true or false`);
        allow = av === 1 || av === true;
      }
      continue;
    }
    const field = FROM_FAUCET[k];
    if (!field) throw new ApplianceAclError(`${where}.rule.${k}: match field not supported on this appliance (supported: ${Object.keys(FROM_FAUCET).join(', ')})`);
    if (match[field] !== undefined) throw new ApplianceAclError(`${where}.rule.${k}: ${field} is given twice`);
    match[field] = toNumber(v);
  }
  if (allow === undefined) throw new ApplianceAclError(`${where}.rule.actions: missing (allow: 0 drops, allow: 1 passes)`);
  const r = AclRuleSchema.safeParse({ match, action: allow ? 'allow' : 'drop' });
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApplianceAclError(`${where}.rule.${i.path.slice(1).join('.')}: ${i.message}`);
  }
  return r.data;
}

/**
 * The ACL file's text -> lesson-form rules by name, built-ins included (a file entry of the same
 * name replaces the built-in). `file` only names the source in errors.
 */
export function parseApplianceAcls(text: string, file: string): Record<string, AclRule[]> {
  let doc: unknown;
  try { doc = parse(text); } catch (e) { throw new ApplianceAclError(`${file}: not YAML: ${(e as Error).message.split('\n')[0]}`); }
  const out: Record<string, AclRule[]> = { ...BUILTIN_ACLS };
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ApplianceAclError(`${file}: expected a mapping with acls:`);
  const extra = Object.keys(doc).filter((k) => k !== 'acls');
  if (extra.length) throw new ApplianceAclError(`${file}: ${extra[0]}: unknown key (only acls:)`);
  const acls = (doc as { acls?: unknown }).acls;
  if (acls === null || acls === undefined) return out;
  if (typeof acls !== 'object' || Array.isArray(acls)) throw new ApplianceAclError(`${file}: acls: expected a mapping of ACL name -> list of rules`);
  for (const [name, rules] of Object.entries(acls)) {
    const where = `${file}: acls.${name}`;
    if (!ACL_NAME.test(name)) throw new ApplianceAclError(`${where}: not an ACL name (letters, digits, _ and -, at most 48)`);
    if (!Array.isArray(rules) || !rules.length) throw new ApplianceAclError(`${where}: expected a non-empty list of rules`);
    const list = rules.map((rule, i): AclRule => {
      if (rule && typeof rule === 'object' && 'rule' in rule) {
        if (Object.keys(rule).length !== 1) throw new ApplianceAclError(`${where}[${i}]: a Faucet rule has only rule:`);
        return fromFaucetRule((rule as { rule: unknown }).rule, `${where}[${i}]`);
      }
      const r = AclRuleSchema.safeParse(rule);
      if (!r.success) {
        const is = r.error.issues[0]!;
        throw new ApplianceAclError(`${where}[${i}]${is.path.length ? `.${is.path.join('.')}` : ''}: ${is.message}`);
      }
      return r.data;
    });
    try { compileAcl(list); } catch (e) {
      if (e instanceof AclError) throw new ApplianceAclError(`${where}: ${e.message.split('\n').join('; ')}`);
      throw e;
    }
    out[name] = list;
  }
  return out;
}

/** The appliance's ACLs: built-ins plus the file's, if there is one. */
export function readApplianceAcls(file: string): Record<string, AclRule[]> {
  if (!existsSync(file)) return { ...BUILTIN_ACLS };
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new ApplianceAclError(`${file}: ${(e as Error).message}`); }
  return parseApplianceAcls(text, file);
}

/** Faucet rules of the ACLs named (already checked by parseApplianceAcls). */
export function compileApplianceAcls(book: Record<string, AclRule[]>, names: Iterable<string>): Record<string, FaucetAclRule[]> {
  const out: Record<string, FaucetAclRule[]> = {};
  for (const n of names) {
    const rules = book[n];
    if (rules) out[n] = compileAcl(rules);
  }
  return out;
}

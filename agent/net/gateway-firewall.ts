// The gateways' iptables rules (rule set computed by lab/plan-gateways.ts): our own chains, each
// replaced whole and atomically (one iptables-restore --noflush per call, so a chain is never
// seen half written), hooked at the top of their built-in chain but after the lab firewall's
// (a lab port's packet is dropped before any of ours could accept it). Docker's chains are never
// read or flushed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { run } from '../sys/run.js';
import { CHAIN as LAB_CHAIN } from './firewall.js';

export interface GatewayChain {
  table: 'filter' | 'nat';
  chain: string;
  /** The built-in chain that jumps to it. */
  hook: 'INPUT' | 'FORWARD' | 'PREROUTING' | 'POSTROUTING';
  /** `-A <chain> …` lines, in order. */
  rules: string[];
}

const DEADLINE_MS = 15_000;
const ipt = (args: string[], allowFail = false) => run(['iptables', '-w', '5', ...args], { timeoutMs: DEADLINE_MS, allowFail });

/** The iptables-restore text that makes each chain exactly its rules (others untouched). */
export function restoreText(chains: GatewayChain[]): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const mine = chains.filter((c) => c.table === table);
    if (!mine.length) continue;
    out.push(`*${table}`, ...mine.map((c) => `:${c.chain} - [0:0]`), ...mine.flatMap((c) => c.rules), 'COMMIT');
  }
  return out.join('\n') + '\n';
}

/** Hooks `chain` into `hook` once: right after the lab firewall's jump if there is one, else first. */
async function hook(c: GatewayChain): Promise<void> {
  if ((await ipt(['-t', c.table, '-C', c.hook, '-j', c.chain], true)).code === 0) return;
  const lines = (await ipt(['-t', c.table, '-S', c.hook])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  const lab = lines.findIndex((l) => l === `-A ${c.hook} -j ${LAB_CHAIN}`);
  await ipt(['-t', c.table, '-I', c.hook, String(lab + 2), '-j', c.chain]);
}

/** Routing must be on for gateways to route (dockerd turns it on; a bare host may not have). */
async function ensureForwarding(log: (s: string) => void): Promise<void> {
  const f = '/proc/sys/net/ipv4/ip_forward';
  if (existsSync(f) && readFileSync(f, 'utf8').trim() !== '1') {
    writeFileSync(f, '1');
    log('net.ipv4.ip_forward was 0: turned on for the Docker networks\' gateways');
  }
}

/** Idempotent: the chains become exactly `chains`; with none, ours are unhooked and removed. */
export async function ensureGatewayFirewall(chains: GatewayChain[], log: (s: string) => void = () => {}): Promise<void> {
  if (!chains.length) { await removeGatewayFirewall(); return; }
  await run(['iptables-restore', '-w', '5', '--noflush'], { input: restoreText(chains), timeoutMs: DEADLINE_MS });
  for (const c of chains) await hook(c);
  await ensureForwarding(log);
}

const ALL: Pick<GatewayChain, 'table' | 'chain' | 'hook'>[] = [
  { table: 'filter', chain: 'DOVELAB-GW-IN', hook: 'INPUT' },
  { table: 'filter', chain: 'DOVELAB-GW-FWD', hook: 'FORWARD' },
  { table: 'nat', chain: 'DOVELAB-GW-PRE', hook: 'PREROUTING' },
  { table: 'nat', chain: 'DOVELAB-GW-POST', hook: 'POSTROUTING' },
];

export async function removeGatewayFirewall(): Promise<void> {
  for (const c of ALL) {
    while ((await ipt(['-t', c.table, '-D', c.hook, '-j', c.chain], true)).code === 0) { /* every copy */ }
    await ipt(['-t', c.table, '-F', c.chain], true);
    await ipt(['-t', c.table, '-X', c.chain], true);
  }
}

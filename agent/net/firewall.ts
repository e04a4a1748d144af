// Host firewall: nothing that enters from a lab port, uplink or mirror port reaches or is
// routed by the appliance itself (OVS forwards those frames; the host stack must not).
import { run } from '../sys/run.js';

export const CHAIN = 'DOVELAB-LAB';

/**
 * The commands (argv after `iptables -w`) that bring a filter table, as `iptables -S` lists it, to
 * the lab chain dropping what enters on `ifaces`, hooked into INPUT and FORWARD. None when it is
 * right already: the agent's every pass costs one listing per family, not eight commands.
 */
export function planLabFirewall(listing: string, ifaces: string[]): string[][] {
  const lines = listing.split('\n').map((l) => l.trim());
  const out: string[][] = [];
  if (!lines.includes(`-N ${CHAIN}`)) out.push(['-N', CHAIN]);
  const want = ifaces.map((i) => `-A ${CHAIN} -i ${i} -j DROP`);
  const have = lines.filter((l) => l.startsWith(`-A ${CHAIN} `));
  for (const rule of want) if (!have.includes(rule)) out.push(rule.split(' '));
  for (const rule of have) if (!want.includes(rule)) out.push(rule.replace(/^-A /, '-D ').split(' '));
  for (const hook of ['INPUT', 'FORWARD']) if (!lines.includes(`-A ${hook} -j ${CHAIN}`)) out.push(['-I', hook, '1', '-j', CHAIN]);
  return out;
}

async function ensureFamily(tool: 'iptables' | 'ip6tables', ifaces: string[]): Promise<void> {
  const listing = (await run([tool, '-w', '-S'])).stdout;
  for (const argv of planLabFirewall(listing, ifaces)) await run([tool, '-w', ...argv]);
}

/** Idempotent; interface names may use iptables' `+` wildcard (e.g. `dl+`). */
export async function ensureLabFirewall(ifaces: string[]): Promise<void> {
  await ensureFamily('iptables', ifaces);
  await ensureFamily('ip6tables', ifaces);
}

export async function removeLabFirewall(): Promise<void> {
  for (const tool of ['iptables', 'ip6tables'] as const) {
    for (const hook of ['INPUT', 'FORWARD']) {
      while ((await run([tool, '-w', '-D', hook, '-j', CHAIN], { allowFail: true })).code === 0) { /* all copies */ }
    }
    await run([tool, '-w', '-F', CHAIN], { allowFail: true });
    await run([tool, '-w', '-X', CHAIN], { allowFail: true });
  }
}

export async function labFirewallActive(iface: string): Promise<boolean> {
  const r = await run(['iptables', '-w', '-C', CHAIN, '-i', iface, '-j', 'DROP'], { allowFail: true });
  const hooked = await run(['iptables', '-w', '-C', 'INPUT', '-j', CHAIN], { allowFail: true });
  return r.code === 0 && hooked.code === 0;
}

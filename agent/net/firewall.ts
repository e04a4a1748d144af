// Host firewall: nothing that enters from a lab port reaches or is routed by the appliance.
import { run } from '../sys/run.js';

export const CHAIN = 'DOVELAB-LAB';

async function ensureFamily(tool: 'iptables' | 'ip6tables', ifacePattern: string): Promise<void> {
  await run([tool, '-w', '-N', CHAIN], { allowFail: true });
  const rule = ['-i', ifacePattern, '-j', 'DROP'];
  if ((await run([tool, '-w', '-C', CHAIN, ...rule], { allowFail: true })).code !== 0) {
    await run([tool, '-w', '-A', CHAIN, ...rule]);
  }
  for (const hook of ['INPUT', 'FORWARD']) {
    if ((await run([tool, '-w', '-C', hook, '-j', CHAIN], { allowFail: true })).code !== 0) {
      await run([tool, '-w', '-I', hook, '1', '-j', CHAIN]);
    }
  }
}

/** Idempotent; ifacePattern uses iptables' `+` wildcard (e.g. `dl+`). */
export async function ensureLabFirewall(ifacePattern: string): Promise<void> {
  await ensureFamily('iptables', ifacePattern);
  await ensureFamily('ip6tables', ifacePattern);
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

export async function labFirewallActive(ifacePattern: string): Promise<boolean> {
  const r = await run(['iptables', '-w', '-C', CHAIN, '-i', ifacePattern, '-j', 'DROP'], { allowFail: true });
  const hooked = await run(['iptables', '-w', '-C', 'INPUT', '-j', CHAIN], { allowFail: true });
  return r.code === 0 && hooked.code === 0;
}

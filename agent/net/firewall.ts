// Host firewall: nothing that enters from a lab port, uplink or mirror port reaches or is
// routed by the appliance itself (OVS forwards those frames; the host stack must not).
import { run } from '../sys/run.js';

export const CHAIN = 'DOVELAB-LAB';

async function ensureFamily(tool: 'iptables' | 'ip6tables', ifaces: string[]): Promise<void> {
  await run([tool, '-w', '-N', CHAIN], { allowFail: true });
  const want = ifaces.map((i) => `-A ${CHAIN} -i ${i} -j DROP`);
  const have = (await run([tool, '-w', '-S', CHAIN])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  for (const rule of want) if (!have.includes(rule)) await run([tool, '-w', ...rule.split(' ')]);
  for (const rule of have) if (!want.includes(rule)) await run([tool, '-w', ...rule.replace(/^-A /, '-D ').split(' ')]);
  for (const hook of ['INPUT', 'FORWARD']) {
    if ((await run([tool, '-w', '-C', hook, '-j', CHAIN], { allowFail: true })).code !== 0) {
      await run([tool, '-w', '-I', hook, '1', '-j', CHAIN]);
    }
  }
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

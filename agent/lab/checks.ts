// Task checks -> concrete probes per group (which host runs what, what counts as done). Pure.
import type { Check, Topology } from '../lesson/schema.js';
import { containerOf, type DesiredState } from './desired.js';

export interface Probe {
  task: string;
  group: number;
  container: string;
  argv: string[];
  timeoutMs: number;
  /** Exit 0 means done (reach, command) or means NOT done (no_reach). */
  passOnSuccess: boolean;
  what: string;
}

export type CheckStatus = 'pass' | 'fail' | 'error';
export interface CheckResult { task: string; group: number; status: CheckStatus; reason: string; ms: number }

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The address of `host` in `group`: preferably on a network `from` is also on; a static one
 * from the plan, else one it learned (DHCP).
 */
export function addressOf(d: DesiredState, host: string, group: number, learned: Record<string, string[]> = {}, from?: string): string | undefined {
  const inGroup = (h: string) => d.ports.filter((p) => p.host === h && (p.group === group || p.group === 0));
  const near = new Set(from ? inGroup(from).map((p) => p.vid) : []);
  const ports = inGroup(host).sort((a, b) => Number(near.has(b.vid)) - Number(near.has(a.vid)));
  for (const p of ports) if (p.address) return p.address.split('/')[0];
  for (const p of ports) { const a = learned[p.faucetName]?.[0]; if (a) return a.split('/')[0]; }
  return undefined;
}


/** One probe per task for a group, or an error result when the task cannot be turned into one. */
export function planChecks(t: Topology, d: DesiredState, group: number, learned: Record<string, string[]> = {}): (Probe | CheckResult)[] {
  return t.tasks.map((task) => {
    const c: Check = task.check;
    const fail = (reason: string): CheckResult => ({ task: task.id, group, status: 'error', reason, ms: 0 });
    if (c.command) {
      return { task: task.id, group, container: containerOf(t, c.command.on, group), argv: ['sh', '-c', c.command.run],
        timeoutMs: c.command.timeout * 1000, passOnSuccess: true, what: `${c.command.on}: ${c.command.run}` };
    }
    const r = c.reach ?? c.no_reach;
    if (!r) return fail('the check has no kind');
    const to = IPV4.test(r.to) ? r.to : addressOf(d, r.to, group, learned, r.from);
    if (!to) return fail(`${r.to} has no address yet`);
    const seconds = String(Math.max(1, Math.round(r.timeout)));
    const argv = r.tcp !== undefined
      ? ['nc', '-z', '-w', seconds, to, String(r.tcp)]
      : ['ping', '-c', '2', '-i', '0.2', '-W', seconds, to];
    const how = r.tcp !== undefined ? `TCP ${to}:${r.tcp}` : `ping ${to}`;
    return { task: task.id, group, container: containerOf(t, r.from, group), argv, timeoutMs: (r.timeout + 3) * 1000,
      passOnSuccess: !!c.reach, what: `${r.from}: ${how}${c.no_reach ? ' must fail' : ''}` };
  });
}

/** Turns a probe's exit code into a verdict with a reason a student can read. */
export function verdict(p: Probe, code: number, output: string, ms: number): CheckResult {
  const done = p.passOnSuccess ? code === 0 : code !== 0;
  const tail = output.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  return { task: p.task, group: p.group, status: done ? 'pass' : 'fail', ms,
    reason: `${p.what}: ${code === 0 ? 'succeeded' : `failed (exit ${code})`}${tail ? ` — ${tail.slice(0, 160)}` : ''}` };
}

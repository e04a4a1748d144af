// Runs task checks inside the lab hosts (docker exec), in parallel, each with a timeout.
// A check that cannot run is an error of that task, never a crash of the agent.
import { paths } from '../config.js';
import { writeAtomic } from '../sys/files.js';
import { planChecks, verdict, type CheckResult, type Probe } from './checks.js';
import type { DesiredState } from './desired.js';
import type { LabContext } from './engine.js';
import type { LabState } from './state.js';

/** Addresses hosts learned (DHCP), by faucet port name, for checks that name a DHCP host. */
async function learnedAddresses(ctx: LabContext, d: DesiredState): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await Promise.all(d.ports.filter((p) => p.dhcp).map(async (p) => {
    try {
      out[p.faucetName] = (await ctx.links.addressesIn(await ctx.hosts.pid(p.container)))[p.ifname] ?? [];
    } catch { /* host down: its checks report it */ }
  }));
  return out;
}

async function runProbe(ctx: LabContext, p: Probe): Promise<CheckResult> {
  const t0 = Date.now();
  const seconds = Math.ceil(p.timeoutMs / 1000);
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = ctx.hosts.exec(p.container, ['timeout', '-k', '1', String(seconds), ...p.argv], { timeoutMs: (seconds + 5) * 1000 });
    const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${seconds + 2} s`)), (seconds + 2) * 1000); });
    const r = await Promise.race([run, late]);
    if (r.code === 124 || r.code === 137) return { task: p.task, group: p.group, status: 'error', reason: `${p.what}: timed out after ${seconds} s`, ms: Date.now() - t0 };
    return verdict(p, r.code, r.stdout + r.stderr, Date.now() - t0);
  } catch (e) {
    const msg = (e as { statusCode?: number }).statusCode === 404 ? `host ${p.container} does not exist`
      : (e as { statusCode?: number }).statusCode === 409 ? `host ${p.container} is not running` : (e as Error).message;
    return { task: p.task, group: p.group, status: 'error', reason: msg, ms: Date.now() - t0 };
  } finally { clearTimeout(timer); }
}

export interface CheckReport { lab: string; updated_at: string; results: CheckResult[] }

export async function runChecks(ctx: LabContext, st: LabState, d: DesiredState, groups?: number[]): Promise<CheckReport> {
  const learned = await learnedAddresses(ctx, d);
  const which = groups ?? Array.from({ length: st.groups }, (_, i) => i + 1);
  const planned = which.flatMap((g) => planChecks(st.topology, d, g, learned));
  const results: CheckResult[] = new Array(planned.length);
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const i = next++;
      const item = planned[i]!;
      results[i] = 'argv' in item ? await runProbe(ctx, item) : item;
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, planned.length) }, worker));
  const report = { lab: st.lab, updated_at: new Date().toISOString(), results };
  if (!groups) writeAtomic(`${paths(ctx.cfg).checks}`, JSON.stringify(report, null, 2) + '\n');
  return report;
}

export function formatChecks(r: CheckReport, titles: Record<string, string | undefined>): string {
  const lines: string[] = [];
  let group = -1;
  for (const x of r.results) {
    if (x.group !== group) { group = x.group; lines.push(`group ${group}`); }
    const mark = x.status === 'pass' ? 'done ' : x.status === 'fail' ? 'todo ' : 'ERROR';
    lines.push(`  ${mark} ${x.task.padEnd(14)} ${titles[x.task] ?? ''}${x.status === 'pass' ? '' : `\n         ${x.reason}`}`);
  }
  const pass = r.results.filter((x) => x.status === 'pass').length;
  lines.push(`${pass}/${r.results.length} done`);
  return lines.join('\n');
}

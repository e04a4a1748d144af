// Runs task checks inside the lab hosts, in parallel, each with a deadline.
// A check that cannot run is an error of that task, never a pass and never a crash of the agent.
// All I/O goes through a CheckIo, so the runner is tested without Docker.
import {
  afterRouteCheck, judgeCounter, outcome, planChecks, routeCheckArgv, verdict, wrappedArgv, wrapperSeconds,
  type CheckResult, type CounterProbe, type ExecResult, type Outcome, type Probe,
} from './checks.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import type { DesiredState } from './desired.js';
import type { LabContext } from './engine.js';
import type { LabState } from './state.js';

export interface CheckIo {
  /**
   * Runs argv in the container and resolves with its exit code and output; a non-zero exit is a
   * result, not a rejection. Rejects with `statusCode` 404 (no such container) or 409 (not
   * running / paused) like dockerode. Should give up by itself after timeoutMs (runChecks also
   * stops waiting then, but cannot free what the exec holds).
   */
  exec(container: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /** The container's IPv4 addresses by interface name, e.g. { eth0: ['100.64.0.150/24'] }. */
  addresses(container: string): Promise<Record<string, string[]>>;
  /** Persists a full run's report (checks.json), under the lab lock and only if sameRun(lab on disk, report). */
  saveResults(report: CheckReport): Promise<void>;
  log(s: string): void;
  /** The switch's per-rule ACL hit counters (acl_hits checks); absent where none can be read. */
  aclHits?(): Promise<AclHit[]>;
  /** Called with each check's result (the agent's metrics: check latency by kind). */
  checked?(kind: string, r: CheckResult): void;
}

/** Results of one run; `lab` and `startedAt` say which run of which lab they belong to. */
export interface CheckReport { lab: string; startedAt: string; updated_at: string; results: CheckResult[] }

export interface RunOptions {
  /** How long past the `timeout` wrapper's seconds we wait for an exec before calling it hung. */
  slackMs?: number;
  /** Probes running at once. */
  parallel?: number;
}

type Run = Pick<LabState, 'lab' | 'startedAt'>;

/** True when `b` is the same run of the same lab as `a` (the lab on disk); false when `a` is gone. */
export function sameRun(a: Run | undefined, b: Run): boolean {
  return !!a && a.lab === b.lab && a.startedAt === b.startedAt;
}

/** Addresses hosts learned (DHCP), by faucet port name, for checks that name a DHCP host. */
async function learnedAddresses(io: CheckIo, d: DesiredState): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await Promise.all(d.ports.filter((p) => p.dhcp).map(async (p) => {
    try {
      out[p.faucetName] = (await io.addresses(p.container))[p.ifname] ?? [];
    } catch { /* host down: its checks report it */ }
  }));
  return out;
}

/**
 * io.exec with our own deadline: resolves with the result or with why there is none. The timer is
 * cleared whichever way it ends; Promise.race has subscribed to the exec, so its late rejection is
 * handled (ignored), never an unhandled rejection.
 */
async function execWithin(io: CheckIo, p: Probe, argv: string[], limitMs: number): Promise<ExecResult | { fault: string }> {
  let timer: NodeJS.Timeout | undefined;
  const run = Promise.resolve().then(() => io.exec(p.container, argv, limitMs));
  const late = new Promise<{ fault: string }>((resolve) => {
    timer = setTimeout(() => resolve({ fault: `${p.host} gave no answer within ${Math.round(limitMs / 1000)} s (task ${p.task}); the exec in ${p.container} hung` }), limitMs);
  });
  try {
    return await Promise.race([run, late]);
  } catch (e) {
    const err = e as { statusCode?: number; message?: string };
    if (err.statusCode === 404) return { fault: `host ${p.host} does not exist (no container ${p.container})` };
    if (err.statusCode === 409) return { fault: /paused/i.test(err.message ?? '') ? `host ${p.host} is paused` : `host ${p.host} is not running` };
    return { fault: `exec in ${p.container} failed: ${err.message ?? String(e)}` };
  } finally { clearTimeout(timer); }
}

async function runProbe(io: CheckIo, p: Probe, slackMs: number): Promise<CheckResult> {
  const t0 = Date.now();
  const r = await execWithin(io, p, wrappedArgv(p), wrapperSeconds(p) * 1000 + slackMs);
  let o: Outcome = 'fault' in r ? { is: 'error', why: r.fault } : outcome(p, r);
  if (o.is === 'route?' && p.to) {
    const rc = await execWithin(io, p, routeCheckArgv(p.to), 3000 + slackMs);
    o = afterRouteCheck(p.host, p.to, 'fault' in rc ? undefined : rc);
  }
  return verdict(p, o, Date.now() - t0);
}

/** A CheckIo over the lab's adapter set; `save` persists a full run (see service.saveCheckResults). */
export function labCheckIo(ctx: LabContext, save: (report: CheckReport) => Promise<void>): CheckIo {
  return {
    exec: (container, argv, timeoutMs) => ctx.hosts.exec(container, argv, { timeoutMs }),
    addresses: async (container) => ctx.links.addressesIn(await ctx.hosts.pid(container)),
    saveResults: save,
    log: (s) => ctx.log(s),
    ...(ctx.aclHits ? { aclHits: ctx.aclHits } : {}),
    ...(ctx.metrics ? { checked: (kind: string, r: CheckResult) => ctx.metrics!.checked(kind, r.ms / 1000, r.status) } : {}),
  };
}

/**
 * Runs the lab's task checks (all groups, or `groups`); results keep task order within group
 * order. A full run is handed to io.saveResults.
 */
export async function runChecks(cio: CheckIo, st: LabState, d: DesiredState, groups?: number[], opts: RunOptions = {}): Promise<CheckReport> {
  const slackMs = opts.slackMs ?? 2000;
  const learned = await learnedAddresses(cio, d);
  const which = groups ?? Array.from({ length: st.groups }, (_, i) => i + 1);
  const planned = which.flatMap((g) => planChecks(st.topology, d, g, learned));
  const results: CheckResult[] = new Array(planned.length);
  // One read of the switch's counters serves every acl_hits check of this run.
  let hits: Promise<AclHit[]> | undefined;
  const counter = async (p: CounterProbe): Promise<CheckResult> => {
    const t0 = Date.now();
    if (!cio.aclHits) return { task: p.task, group: p.group, status: 'error', reason: `${p.what}: the switch's counters cannot be read here`, ms: 0 };
    try {
      hits ??= cio.aclHits();
      return judgeCounter(p, await hits, Date.now() - t0);
    } catch (e) {
      return { task: p.task, group: p.group, status: 'error', reason: `${p.what}: cannot read the switch's counters: ${(e as Error).message}`, ms: Date.now() - t0 };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const i = next++;
      const item = planned[i]!;
      results[i] = 'argv' in item ? await runProbe(cio, item, slackMs) : 'kind' in item ? await counter(item) : item;
      cio.checked?.('kind' in item ? item.kind : 'none', results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 6, planned.length) }, worker));
  const report: CheckReport = { lab: st.lab, startedAt: st.startedAt, updated_at: new Date().toISOString(), results };
  if (!groups) {
    try { await cio.saveResults(report); } catch (e) { cio.log(`checks: results not saved: ${(e as Error).message}`); }
  }
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

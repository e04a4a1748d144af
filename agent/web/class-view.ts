// The instructor's class grid: groups × tasks, and for each group how long its oldest not-done task
// has been not done ("stuck longest first"). Check results only say what is true now, so the agent
// keeps, in memory, when each (group, task) last stopped being done, stamped with the time of the
// check report that showed it. Restart-tolerant enough: after an agent restart a task that is not
// done counts as not done since the lab started (what a teacher would assume anyway).
import type { DesiredState } from '../lab/desired.js';
import type { LabStatus } from '../lab/status.js';
import type { LabState } from '../lab/state.js';
import type { ClassGroupRow, ClassHost, ClassTaskCell, TaskStatus } from './api-types.js';

export interface ReportLike { updated_at: string; results: { task: string; group: number; status: 'pass' | 'fail' | 'error'; reason: string }[] }

interface Cell { done: boolean; since: number }

export class StuckTracker {
  private run = '';
  private seenReport = '';
  private cells = new Map<string, Cell>();

  /** Takes in the lab and its latest report (once per report); returns when each not-done cell became not done. */
  observe(st: LabState, report: ReportLike | undefined): void {
    const run = `${st.lab}\n${st.startedAt}`;
    if (run !== this.run) { this.run = run; this.seenReport = ''; this.cells.clear(); }
    const started = Date.parse(st.startedAt);
    const stamp = report?.updated_at ?? '';
    if (this.seenReport === stamp && this.cells.size) return;
    this.seenReport = stamp;
    const at = report ? Date.parse(report.updated_at) : started;
    for (let g = 1; g <= st.groups; g++) {
      for (const t of st.topology.tasks) {
        const key = `${g}/${t.id}`;
        const done = report?.results.some((r) => r.group === g && r.task === t.id && r.status === 'pass') ?? false;
        const prev = this.cells.get(key);
        if (done) this.cells.set(key, { done: true, since: at });
        else if (!prev) this.cells.set(key, { done: false, since: started });
        else if (prev.done) this.cells.set(key, { done: false, since: at });
      }
    }
  }

  /** Since when (ms) the cell has been not done, or undefined when it is done (or unknown). */
  notDoneSince(group: number, task: string): number | undefined {
    const c = this.cells.get(`${group}/${task}`);
    return c && !c.done ? c.since : undefined;
  }
}

/** The grid's rows, stuck longest first (all-done groups last, then by number). Pure. */
export function classRows(st: LabState, report: ReportLike | undefined, tracker: StuckTracker, now: number): ClassGroupRow[] {
  const rows = Array.from({ length: st.groups }, (_, i): ClassGroupRow => {
    const group = i + 1;
    const tasks = st.topology.tasks.map((t): ClassTaskCell => {
      const r = report?.results.find((x) => x.group === group && x.task === t.id);
      const status: TaskStatus = r?.status ?? 'unknown';
      const since = status === 'pass' ? undefined : tracker.notDoneSince(group, t.id);
      return { id: t.id, status, reason: r?.reason ?? 'not checked yet', ...(since !== undefined ? { since: new Date(since).toISOString() } : {}) };
    });
    const oldest = Math.min(...tasks.filter((t) => t.since).map((t) => Date.parse(t.since!)));
    const done = tasks.filter((t) => t.status === 'pass').length;
    return {
      group, code: st.joinCodes?.[String(group)] ?? '', done, total: tasks.length, tasks,
      ...(Number.isFinite(oldest) ? { stuckSince: new Date(oldest).toISOString(), stuckForS: Math.max(0, Math.round((now - oldest) / 1000)) } : {}),
    };
  });
  const key = (r: ClassGroupRow) => (r.stuckSince ? Date.parse(r.stuckSince) : Number.POSITIVE_INFINITY);
  return rows.sort((a, b) => key(a) - key(b) || a.group - b.group);
}

/** Hosts with their interfaces, ACLs applied and mirror sources; the plan when OVS/Docker do not answer. Pure. */
export function classHosts(desired: DesiredState, status: LabStatus | undefined): ClassHost[] {
  const mirroredTo = (faucetName: string) =>
    desired.uplinks.filter((u) => u.role === 'mirror' && u.mirrors.includes(desired.ports.find((p) => p.faucetName === faucetName)?.ofport ?? -1)).map((u) => u.name);
  return desired.hosts.map((h): ClassHost => {
    const seen = status?.hosts.find((x) => x.container === h.container);
    return {
      name: h.host, group: h.group, running: seen?.running ?? false,
      interfaces: desired.ports.filter((p) => p.container === h.container).map((p) => {
        const i = seen?.interfaces.find((x) => x.name === p.ifname);
        return {
          name: p.ifname, ip: i?.ip ?? p.address ?? (p.dhcp ? 'dhcp' : 'none'), network: p.vlan.replace(/^g\d+-/, ''), vlan: p.vid,
          portOk: i?.port_ok ?? false, acls: p.acls, mirroredTo: mirroredTo(p.faucetName),
        };
      }),
    };
  }).sort((a, b) => a.group - b.group || a.name.localeCompare(b.name));
}

// The class record of a lesson run (pure): groups × tasks, with when each task first passed, its
// state at the last full check and how often the group was reset. Kept beside the lab (class-record.json,
// written with each saved check round and each reset) so it outlives `down`: the teacher can
// export it after the lesson. Builders here take and return data; the file lives in state.ts.
import type { CheckResult, CheckStatus } from './checks.js';

/** The record of one run of one lab, as kept on disk. */
export interface ClassRecord {
  lab: string;
  /** The run (lab.json's startedAt): a new run starts a new record. */
  startedAt: string;
  groups: number;
  /** Tasks in lesson order. */
  tasks: { id: string; title: string }[];
  /** Per group ("1", "2", …): resets, and per task its first pass and its last state. */
  byGroup: Record<string, GroupRecord>;
  updatedAt: string;
}

export interface GroupRecord {
  resets: number;
  /** Task id -> ISO time of the check round that first saw it pass. */
  firstPass: Record<string, string>;
  /** Task id -> the last full check's verdict. */
  last: Record<string, { status: CheckStatus; at: string }>;
}

/** What a run is (from lab.json). */
export interface RunInfo { lab: string; startedAt: string; groups: number; tasks: { id: string; title?: string }[] }

/** The record of this run: `prev` when it is of the same run, else a new, empty one. */
export function recordOf(prev: ClassRecord | undefined, run: RunInfo, at: string): ClassRecord {
  const tasks = run.tasks.map((t) => ({ id: t.id, title: t.title ?? t.id }));
  if (prev && prev.lab === run.lab && prev.startedAt === run.startedAt) return { ...prev, groups: run.groups, tasks, byGroup: { ...prev.byGroup } };
  return { lab: run.lab, startedAt: run.startedAt, groups: run.groups, tasks, byGroup: {}, updatedAt: at };
}

const groupOf = (r: ClassRecord, g: number): GroupRecord => r.byGroup[String(g)] ?? { resets: 0, firstPass: {}, last: {} };

/** A saved check round (at `at`): first passes are kept, last states replaced. */
export function noteChecks(prev: ClassRecord | undefined, run: RunInfo, results: readonly CheckResult[], at: string): ClassRecord {
  const r = recordOf(prev, run, at);
  for (const x of results) {
    const g = groupOf(r, x.group);
    r.byGroup[String(x.group)] = {
      resets: g.resets,
      firstPass: x.status === 'pass' && !g.firstPass[x.task] ? { ...g.firstPass, [x.task]: at } : g.firstPass,
      last: { ...g.last, [x.task]: { status: x.status, at } },
    };
  }
  return { ...r, updatedAt: at };
}

/** A group reset (at `at`): counted; its last states are unknown until the next check round. */
export function noteReset(prev: ClassRecord | undefined, run: RunInfo, group: number, at: string): ClassRecord {
  const r = recordOf(prev, run, at);
  const g = groupOf(r, group);
  r.byGroup[String(group)] = { resets: g.resets + 1, firstPass: g.firstPass, last: {} };
  return { ...r, updatedAt: at };
}

/** One row of the table: a group's task. */
export interface ClassRecordRow {
  group: number;
  task: string;
  title: string;
  /** ISO time of the first pass, if any. */
  firstPass?: string;
  /** Minutes from the run's start to the first pass (one decimal). */
  minutesToPass?: number;
  /** The last full check's verdict; `unchecked` before the first one (or since a reset). */
  state: CheckStatus | 'unchecked';
  resets: number;
}

/** The table: every group × every task, in group then lesson order. */
export function recordRows(r: ClassRecord): ClassRecordRow[] {
  const start = Date.parse(r.startedAt);
  const rows: ClassRecordRow[] = [];
  for (let group = 1; group <= r.groups; group++) {
    const g = groupOf(r, group);
    for (const t of r.tasks) {
      const first = g.firstPass[t.id];
      const minutes = first && Number.isFinite(start) ? Math.round((Date.parse(first) - start) / 6000) / 10 : undefined;
      rows.push({
        group, task: t.id, title: t.title,
        ...(first ? { firstPass: first } : {}), ...(minutes !== undefined ? { minutesToPass: minutes } : {}),
        state: g.last[t.id]?.status ?? 'unchecked', resets: g.resets,
      });
    }
  }
  return rows;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const RECORD_CSV_COLUMNS = ['lab', 'run_started', 'group', 'task', 'title', 'first_pass', 'minutes_to_pass', 'state', 'resets'] as const;

/** The record as CSV (a header line, one line per group × task, CRLF line ends). */
export function recordCsv(r: ClassRecord): string {
  const lines = [RECORD_CSV_COLUMNS.join(',')];
  for (const x of recordRows(r)) {
    lines.push([r.lab, r.startedAt, x.group, x.task, x.title, x.firstPass, x.minutesToPass, x.state, x.resets].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

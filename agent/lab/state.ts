// The lab's desired state on disk (/var/lib/dovelab/lab.json): survives agent restarts and power
// cuts (written durably), and is read back through its schema: a damaged file is a clear error.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { TopologySchema, type Topology } from '../lesson/schema.js';
import { writeAtomic } from '../sys/files.js';
import type { LabOverrides } from './desired.js';
import type { ClassRecord, RunInfo } from './class-record.js';

/** Format version of lab.json; bump it (and read the old one) when the format changes. */
export const LAB_STATE_VERSION = 1;

export interface LabState {
  lab: string;
  /** Where the lesson came from (for people; the topology below is what runs). */
  source: string;
  groups: number;
  topology: Topology;
  startedAt: string;
  /** Live changes: ACLs applied, mirrors switched. */
  overrides?: LabOverrides;
  /** The lab's own copy of its lesson pack (see lesson/snapshot.ts). */
  packDir?: string;
  /** Join code of each student group, keyed by group number ("1", "2", …); made by `up`. */
  joinCodes?: Record<string, string>;
}

const LabStateSchema = z.object({
  // Files written before the version field existed are version 1.
  version: z.literal(LAB_STATE_VERSION).default(LAB_STATE_VERSION),
  lab: z.string().min(1),
  source: z.string(),
  groups: z.number().int().min(1).max(30),
  topology: TopologySchema,
  startedAt: z.string(),
  overrides: z.object({
    acls: z.record(z.string(), z.array(z.string())).optional(),
    mirrors: z.record(z.string(), z.array(z.string())).optional(),
    captures: z.record(z.string(), z.string()).optional(),
  }).optional(),
  packDir: z.string().optional(),
  joinCodes: z.record(z.string().regex(/^[1-9]\d*$/), z.string().regex(/^[A-Z0-9]{4,16}$/)).optional(),
});

export class LabStateError extends Error {}

const damaged = (file: string, why: string) =>
  new LabStateError(`${file}: the lab's state is damaged (${why}); \`dovelab down\` removes the lab and this file`);

export function readLabState(file: string): LabState | undefined {
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try { doc = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw damaged(file, `not JSON: ${(e as Error).message}`); }
  if (doc && typeof doc === 'object' && 'version' in doc && doc.version !== LAB_STATE_VERSION) {
    throw new LabStateError(`${file}: lab state version ${String(doc.version)} is not one this Dovelab reads (${LAB_STATE_VERSION}); \`dovelab down\` removes it`);
  }
  const parsed = LabStateSchema.safeParse(doc);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw damaged(file, `${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const { version: _v, ...st } = parsed.data;
  return st as LabState;
}

export const writeLabState = (file: string, s: LabState) =>
  writeAtomic(file, JSON.stringify({ version: LAB_STATE_VERSION, ...s }, null, 2) + '\n');
export const clearLabState = (file: string) => rmSync(file, { force: true });
/** checks.json: written under the same rule as lab.json (durably, whole or not at all). */
export const writeCheckReport = (file: string, report: object) => writeAtomic(file, JSON.stringify(report, null, 2) + '\n');

const CheckReportSchema = z.object({
  lab: z.string(), startedAt: z.string(), updated_at: z.string(),
  results: z.array(z.object({
    task: z.string(), group: z.number().int(), status: z.enum(['pass', 'fail', 'error']), reason: z.string(), ms: z.number(),
  })),
});

/** checks.json (a CheckReport of check-run.ts) as written by writeCheckReport, or undefined when there is none (or it is damaged). */
export function readCheckReport(file: string): z.infer<typeof CheckReportSchema> | undefined {
  try {
    const r = CheckReportSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : undefined;
  } catch { return undefined; }
}

const Status = z.enum(['pass', 'fail', 'error']);
const ClassRecordSchema = z.object({
  lab: z.string(), startedAt: z.string(), groups: z.number().int().min(1), updatedAt: z.string(),
  tasks: z.array(z.object({ id: z.string(), title: z.string() })),
  byGroup: z.record(z.string().regex(/^[1-9]\d*$/), z.object({
    resets: z.number().int().min(0),
    firstPass: z.record(z.string(), z.string()),
    last: z.record(z.string(), z.object({ status: Status, at: z.string() })),
  })),
});

/** class-record.json, or undefined when there is none; a damaged one is a clear error (naming the file and field). */
export function readClassRecord(file: string): ClassRecord | undefined {
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try { doc = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw new LabStateError(`${file}: not JSON: ${(e as Error).message}`); }
  const r = ClassRecordSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new LabStateError(`${file}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  return r.data;
}
export const writeClassRecord = (file: string, r: ClassRecord) => writeAtomic(file, JSON.stringify(r, null, 2) + '\n');
/** What the class record needs of a lab run. */
export const runInfo = (st: LabState): RunInfo => ({ lab: st.lab, startedAt: st.startedAt, groups: st.groups, tasks: st.topology.tasks });

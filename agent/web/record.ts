// The class record over the web (instructor only): GET /api/instructor/record (JSON) and
// GET /api/instructor/record.csv (a download). The record is that of the last lab run, kept
// beside the lab (agent/lab/class-record.ts), so it is still there after `down`.
import type { Context, Hono } from 'hono';
import { recordCsv, recordRows, type ClassRecord } from '../lab/class-record.js';
import type { ApiError, ClassRecordView } from './api-types.js';

export interface RecordRouteDeps {
  /** The record on disk (undefined: none yet); throws when the file is damaged. */
  record: () => ClassRecord | undefined;
  instructor: (c: Context) => boolean;
}

const noStore = { 'Cache-Control': 'no-store' };

export const recordView = (r: ClassRecord): ClassRecordView =>
  ({ lab: r.lab, startedAt: r.startedAt, updatedAt: r.updatedAt, groups: r.groups, rows: recordRows(r) });

/** `first-switch-2026-12-07T1004.csv`: the lab and the run's start, safe as a file name. */
export const recordFileName = (r: ClassRecord) =>
  `${r.lab.replace(/[^A-Za-z0-9._-]/g, '_')}-${r.startedAt.slice(0, 16).replace(/:/g, '')}.csv`;

export function recordRoutes(app: Hono, d: RecordRouteDeps): void {
  const err = (c: Context, status: 401 | 404 | 500, error: string) => c.json<ApiError>({ error }, status, noStore);
  const load = (c: Context): ClassRecord | Response => {
    if (!d.instructor(c)) return err(c, 401, 'log in as the instructor first');
    let r: ClassRecord | undefined;
    try { r = d.record(); } catch (e) { return err(c, 500, (e as Error).message); }
    return r ?? err(c, 404, 'no class record yet: it starts with the first check round or reset of a lab');
  };
  app.get('/api/instructor/record', (c) => {
    const r = load(c);
    return r instanceof Response ? r : c.json<ClassRecordView>(recordView(r), 200, noStore);
  });
  app.get('/api/instructor/record.csv', (c) => {
    const r = load(c);
    if (r instanceof Response) return r;
    return c.body(recordCsv(r), 200, {
      ...noStore, 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${recordFileName(r)}"`,
    });
  });
}

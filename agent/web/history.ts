// Traffic history routes: GET /api/history (points of a host's interface, JSON or CSV) and
// GET /api/history/series (which series exist). A student sees its own group's hosts of the
// running lab run only; the instructor any series, also of hosts, groups and labs long gone.
import type { Context, Hono } from 'hono';
import type { LabState } from '../lab/state.js';
import { ownerLabel } from '../metrics/history-keys.js';
import { HistoryQueryError, matches, ofGroup, parseSince, parseTarget, toCsv } from '../metrics/history-query.js';
import type { HistoryReader, SeriesSummary } from '../metrics/history-store.js';
import type { ApiError, HistoryResponse, HistorySeriesList, HistorySeriesView } from './api-types.js';

export interface HistoryRouteDeps {
  history: HistoryReader | undefined;
  now: () => number;
  student: (c: Context) => { group: number; st: LabState } | undefined;
  instructor: (c: Context) => boolean;
}

const noStore = { 'Cache-Control': 'no-store' };
/** The most points one answer carries per series (a week of minutes). */
const MAX_SPAN_MS = 7 * 86_400_000;

export const seriesView = (s: SeriesSummary): HistorySeriesView =>
  ({ id: s.id, label: ownerLabel(s.owner), owner: s.owner, since: s.since, lastSeen: s.lastSeen, current: s.current });

export function historyRoutes(app: Hono, r: HistoryRouteDeps): void {
  const err = (c: Context, status: 400 | 401 | 404 | 503, error: string) => c.json<ApiError>({ error }, status, noStore);
  /** Who asks: the instructor (everything), a student (a filter), or nobody. */
  const scope = (c: Context): ((s: SeriesSummary) => boolean) | undefined => {
    if (r.instructor(c)) return () => true;
    const s = r.student(c);
    if (!s) return undefined;
    const token = `${s.st.lab}@${s.st.startedAt}`;
    return (x) => ofGroup(x.owner, s.group, s.st.lab) && x.token === token;
  };

  app.get('/api/history/series', (c) => {
    if (!r.history) return err(c, 503, 'traffic history is not available here');
    const may = scope(c);
    if (!may) return err(c, 401, 'join a group or log in as the instructor first');
    return c.json<HistorySeriesList>({ series: r.history.list().filter(may).map(seriesView) }, 200, noStore);
  });

  app.get('/api/history', async (c) => {
    if (!r.history) return err(c, 503, 'traffic history is not available here');
    const may = scope(c);
    if (!may) return err(c, 401, 'join a group or log in as the instructor first');
    const q = c.req.query();
    const now = r.now();
    let since: number; let until: number; let pick: (s: SeriesSummary) => boolean;
    try {
      since = parseSince(q.since ?? '1h', now);
      until = q.until ? parseSince(q.until, now) : now;
      if (until - since > MAX_SPAN_MS) since = until - MAX_SPAN_MS;
      if (q.series) pick = (s) => s.id === q.series;
      else {
        if (!q.host) throw new HistoryQueryError('give host (h2, g3-h2, a container\'s name or an uplink) or series');
        const group = q.group === undefined || q.group === '' ? undefined : /^\d{1,2}$/.test(q.group) ? Number(q.group) : NaN;
        if (Number.isNaN(group)) throw new HistoryQueryError(`group ${JSON.stringify(q.group)}: expected a group number`);
        const target = parseTarget(q.iface ? `${q.host}.${q.iface}` : q.host, group, q.lab || undefined);
        pick = (s) => matches(s.owner, target);
      }
    } catch (e) {
      if (e instanceof HistoryQueryError) return err(c, 400, e.message);
      throw e;
    }
    const chosen = r.history.list().filter((s) => may(s) && pick(s)).sort((a, b) => a.since - b.since);
    if (!chosen.length) return err(c, 404, 'no traffic history of that interface' + (r.instructor(c) ? '' : ' in your group'));
    const data = await r.history.series(chosen.map((s) => s.id), since, until);
    const byId = new Map(chosen.map((s) => [s.id, s]));
    if (q.format === 'csv') {
      return c.body(toCsv(data), 200, { ...noStore, 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="history.csv"' });
    }
    return c.json<HistoryResponse>({
      since, until,
      series: data.map((d) => ({ ...seriesView(byId.get(d.info.id)!), ...(d.resolution.rawFrom !== undefined ? { rawFrom: d.resolution.rawFrom } : {}), points: d.points })),
    }, 200, noStore);
  });
}

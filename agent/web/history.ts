// Traffic history routes: GET /api/history (points of a host's interface, JSON or CSV) and
// GET /api/history/series (which series exist). A student sees its own group's hosts of the
// running lab run only; the instructor any series, also of hosts, groups and labs long gone.
// GET /api/history/class (no login: the kiosk): the running lab's total traffic, no names.
// GET /api/history/group (a student: every interface of its group's hosts in one answer, for the
// page's graphs; `since` may be the last point's time, so a live page asks only for what is new).
import type { Context, Hono } from 'hono';
import type { LabState } from '../lab/state.js';
import { ownerLabel } from '../metrics/history-keys.js';
import { HistoryQueryError, matches, ofGroup, parseSince, parseTarget, toCsv } from '../metrics/history-query.js';
import type { HistoryReader, SeriesData, SeriesSummary } from '../metrics/history-store.js';
import type { ApiError, ClassTrafficView, HistoryGroupResponse, HistoryResponse, HistoryStatusView, HistorySeriesList, HistorySeriesView } from './api-types.js';
import { bucketMs, classTotal } from './history-total.js';

export interface HistoryRouteDeps {
  history: HistoryReader | undefined;
  now: () => number;
  student: (c: Context) => { group: number; st: LabState } | undefined;
  instructor: (c: Context) => boolean;
}

const noStore = { 'Cache-Control': 'no-store' };
/** The most points one answer carries per series (a week of minutes). */
const MAX_SPAN_MS = 7 * 86_400_000;
/** The class total (kiosk) covers at most this. */
const CLASS_SPAN_MS = 3_600_000;
/** The live pages' window: what the shared read below covers. */
const RECENT_MS = 3_600_000;
/** How long one read of the last hour serves every live page (a scrape comes every 5 s). */
const SHARED_READ_MS = 2000;

/** A file name for a download: `history-g3-h2.eth0.csv` (only letters, digits, `.`, `_`, `-`). */
export const downloadName = (what: string, ext: 'csv' | 'json') =>
  `history-${what.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'series'}.${ext}`;

/** `g3-h2.eth0`, `web1.eth0`, `up0`: an owner in a file name. */
const shortName = (o: SeriesSummary['owner']): string =>
  o.kind === 'acl' ? `acl-${o.acl}-rule${o.rule}-${shortName(o.port)}`
    : o.kind === 'host' ? `${o.group ? `g${o.group}-` : ''}${o.host}.${o.iface}` : o.kind === 'container' ? `${o.container.replace(/^\//, '')}.${o.iface}` : o.iface;

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

  // Whether there is a store, without an error status (a page without history keeps its console clean).
  app.get('/api/history/status', (c) => c.json<HistoryStatusView>({ available: r.history !== undefined }, 200, noStore));

  // Every student page polls every 5 s, and the kiosk every 10 s: one read of the last hour of every
  // recent series (the store parses the segment being written on each read) serves them all for 2 s.
  let shared: { at: number; data: Promise<SeriesData[]> } | undefined;
  const pointsSince = async (history: HistoryReader, ids: readonly string[], since: number, now: number): Promise<SeriesData[]> => {
    if (!ids.length) return [];
    if (since < now - RECENT_MS) return history.series(ids, since, now);
    if (!shared || now - shared.at > SHARED_READ_MS || now < shared.at) {
      const recent = history.list().filter((x) => x.lastSeen >= now - RECENT_MS).map((x) => x.id);
      const read = { at: now, data: history.series(recent, now - RECENT_MS, now) };
      read.data.catch(() => { if (shared === read) shared = undefined; });
      shared = read;
    }
    const want = new Set(ids);
    return (await shared.data).filter((d) => want.has(d.info.id)).map((d) => ({ ...d, points: d.points.filter((p) => p.t > since) }));
  };

  app.get('/api/history/class', async (c) => {
    const now = r.now();
    if (!r.history) return c.json<ClassTrafficView>({ since: now, until: now, stepMs: 0, hosts: 0, points: [], unavailable: true }, 200, noStore);
    let since: number;
    try { since = Math.max(parseSince(c.req.query('since') ?? '15m', now), now - CLASS_SPAN_MS); } catch (e) {
      if (e instanceof HistoryQueryError) return err(c, 400, e.message);
      throw e;
    }
    const stepMs = bucketMs(now - since);
    const all = r.history.list().filter((s) => s.owner.kind === 'host');
    // The running run: the lab run of the hosts on the switch now; its hosts' earlier incarnations (a reset) count too.
    const runs = new Set(all.filter((s) => s.current).map((s) => s.token));
    const chosen = all.filter((s) => runs.has(s.token));
    const lab = chosen[0]?.owner.kind === 'host' ? chosen[0].owner.lab : undefined;
    const data = await pointsSince(r.history, chosen.map((s) => s.id), since, now);
    return c.json<ClassTrafficView>({
      since, until: now, stepMs, ...(lab ? { lab } : {}),
      hosts: new Set(chosen.filter((s) => s.current).map((s) => s.key)).size,
      points: classTotal(data, since, now, stepMs),
    }, 200, noStore);
  });

  app.get('/api/history/group', async (c) => {
    const s = r.student(c);
    if (!s) return err(c, 401, 'join a group first');
    const now = r.now();
    if (!r.history) return c.json<HistoryGroupResponse>({ since: now, until: now, series: [], unavailable: true }, 200, noStore);
    let since: number;
    try { since = Math.max(parseSince(c.req.query('since') ?? '15m', now), now - MAX_SPAN_MS); } catch (e) {
      if (e instanceof HistoryQueryError) return err(c, 400, e.message);
      throw e;
    }
    const token = `${s.st.lab}@${s.st.startedAt}`;
    const chosen = r.history.list().filter((x) => ofGroup(x.owner, s.group, s.st.lab) && x.token === token).sort((a, b) => a.since - b.since);
    const byId = new Map(chosen.map((x) => [x.id, x]));
    const data = await pointsSince(r.history, chosen.map((x) => x.id), since, now);
    return c.json<HistoryGroupResponse>({
      since, until: now,
      series: data.map((d) => ({ ...seriesView(byId.get(d.info.id)!), ...(d.resolution.rawFrom !== undefined ? { rawFrom: d.resolution.rawFrom } : {}), points: d.points })),
    }, 200, noStore);
  });

  app.get('/api/history', async (c) => {
    if (!r.history) return err(c, 503, 'traffic history is not available here');
    const may = scope(c);
    if (!may) return err(c, 401, 'join a group or log in as the instructor first');
    const q = c.req.query();
    const now = r.now();
    let since: number; let until: number; let pick: (s: SeriesSummary) => boolean; let what: string;
    try {
      since = parseSince(q.since ?? '1h', now);
      until = q.until ? parseSince(q.until, now) : now;
      if (until - since > MAX_SPAN_MS) since = until - MAX_SPAN_MS;
      if (q.series) { pick = (s) => s.id === q.series; what = ''; } else {
        if (!q.host) throw new HistoryQueryError('give host (h2, g3-h2, a container\'s name or an uplink) or series');
        const group = q.group === undefined || q.group === '' ? undefined : /^\d{1,2}$/.test(q.group) ? Number(q.group) : NaN;
        if (Number.isNaN(group)) throw new HistoryQueryError(`group ${JSON.stringify(q.group)}: expected a group number`);
        const target = parseTarget(q.iface ? `${q.host}.${q.iface}` : q.host, group, q.lab || undefined);
        pick = (s) => matches(s.owner, target);
        what = `${target.group ? `g${target.group}-` : ''}${target.name}${target.iface ? `.${target.iface}` : ''}`;
      }
    } catch (e) {
      if (e instanceof HistoryQueryError) return err(c, 400, e.message);
      throw e;
    }
    const chosen = r.history.list().filter((s) => may(s) && pick(s)).sort((a, b) => a.since - b.since);
    if (!chosen.length) return err(c, 404, 'no traffic history of that interface' + (r.instructor(c) ? '' : ' in your group'));
    const data = await r.history.series(chosen.map((s) => s.id), since, until);
    const byId = new Map(chosen.map((s) => [s.id, s]));
    if (!what) what = shortName(chosen[0]!.owner);
    if (q.format === 'csv') {
      return c.body(toCsv(data), 200, { ...noStore, 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${downloadName(what, 'csv')}"` });
    }
    // ?download=1: the JSON as a file too (the console's "Download JSON").
    const asFile: Record<string, string> = q.download === '1' ? { 'Content-Disposition': `attachment; filename="${downloadName(what, 'json')}"` } : {};
    return c.json<HistoryResponse>({
      since, until,
      series: data.map((d) => ({ ...seriesView(byId.get(d.info.id)!), ...(d.resolution.rawFrom !== undefined ? { rawFrom: d.resolution.rawFrom } : {}), points: d.points })),
    }, 200, { ...noStore, ...asFile });
  });
}

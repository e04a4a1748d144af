// The history routes the pages use (agent/web/history.ts through createApp), with a real store fed
// known counters: /api/history/group (a student's own interfaces, incremental with an ISO since),
// /api/history/class (the kiosk's total, no login, this run only), /api/history/status, and
// `unavailable` (not an error status) without a store; download file names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabState } from '../../agent/lab/state.js';
import type { ClassTrafficView, HistoryGroupResponse, HistoryStatusView } from '../../agent/web/api-types.js';
import type { WebApp } from '../../agent/web/app.js';
import { HOST, PASSWORD, historyLesson, pastEntry, withHistoryWeb } from './_history-web.js';

interface World { web: WebApp; st: LabState; now: number; reads: () => number }

async function withWeb(fn: (w: World) => Promise<void>, withStore = true): Promise<void> {
  let reads = 0;
  await withHistoryWeb({
    lesson: historyLesson('routes', 'Routes test'),
    now: 1_800_000_000_000, // on a 15 s bucket's edge
    fill: (store, e, now) => {
      // g1-h1 sends 200 B/s, g2-h2 sends 100 B/s; a past lab's host sent 5000 B/s (not this run: not in the class total).
      const past = pastEntry(e);
      for (let k = 0; k <= 12; k++) {
        const c = (b: number) => ({ rxPackets: k * b / 100, txPackets: k, rxBytes: k * b * 5, txBytes: k * 10 });
        store.record([
          { entry: e.get('g1-h1-eth0')!, counters: c(200) },
          { entry: e.get('g1-h2-eth0')!, counters: c(0) },
          { entry: e.get('g2-h1-eth0')!, counters: c(0) },
          { entry: e.get('g2-h2-eth0')!, counters: c(100) },
          ...(k < 3 ? [{ entry: past, counters: c(5000) }] : []),
        ], now - 60_000 + k * 5000);
      }
    },
    // The store behind a counter of its reads.
    reader: (store) => (withStore ? { list: () => store.list(), series: (ids: readonly string[], a: number, b?: number) => { reads++; return store.series(ids, a, b); } } : undefined),
  }, (w) => fn({ web: w.web, st: w.st, now: w.now, reads: () => reads }));
}

async function joinGroup(w: World, group: number): Promise<string> {
  const r = await w.web.app.request('/api/join', { method: 'POST', body: JSON.stringify({ code: w.st.joinCodes![String(group)] }), headers: { 'Content-Type': 'application/json' } });
  assert.is(r.status, 200);
  return /dovelab_session=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
}
const get = (w: World, path: string, cookie?: string) => w.web.app.request(path, { headers: cookie ? { Cookie: cookie } : {} });

test('group: a student gets every interface of its own hosts in one answer; an ISO since gives only what is newer', () => withWeb(async (w) => {
  assert.is((await get(w, '/api/history/group')).status, 401);
  const g1 = await joinGroup(w, 1);
  const all = (await (await get(w, '/api/history/group?since=15m', g1)).json()) as HistoryGroupResponse;
  assert.equal(all.series.map((s) => s.label).sort(), ['g1-h1.eth0 (routes)', 'g1-h2.eth0 (routes)']);
  const h1 = all.series.find((s) => s.label.startsWith('g1-h1'))!;
  assert.is(h1.points.length, 12);
  assert.ok(h1.points.every((p) => p.txBps === 200));
  const since = new Date(w.now - 10_000).toISOString();
  const fresh = (await (await get(w, `/api/history/group?since=${since}`, g1)).json()) as HistoryGroupResponse;
  assert.equal(fresh.series.find((s) => s.label.startsWith('g1-h1'))!.points.map((p) => p.t), [w.now - 5000, w.now]);
  assert.is((await get(w, '/api/history/group?since=soon', g1)).status, 400);
}));

test('class: no login; the running run\'s hosts added up per bucket (not the past lab); status says there is a store', () => withWeb(async (w) => {
  const v = (await (await get(w, '/api/history/class?since=15m')).json()) as ClassTrafficView;
  assert.is(v.stepMs, 15_000);
  assert.is(v.lab, 'routes');
  assert.is(v.hosts, 4);
  assert.is(v.points.length, 4, '60 s of points in 15 s buckets');
  assert.ok(v.points.every((p) => p.txBps === 300), JSON.stringify(v.points));
  assert.not.ok(JSON.stringify(v).includes('h1'), 'no host names');
  assert.equal(await (await get(w, '/api/history/status')).json() as HistoryStatusView, { available: true });
}));

test('live pages share one read of the last hour (within 2 s); a range beyond the hour reads the store itself', () => withWeb(async (w) => {
  const [g1, g2] = [await joinGroup(w, 1), await joinGroup(w, 2)];
  for (const c of [g1, g2, g1]) assert.is((await get(w, '/api/history/group?since=15m', c)).status, 200);
  assert.is((await get(w, '/api/history/class')).status, 200);
  assert.is(w.reads(), 1, 'one read for three pages and the kiosk');
  const g2pts = (await (await get(w, '/api/history/group?since=15m', g2)).json()) as HistoryGroupResponse;
  assert.ok(g2pts.series.find((s) => s.label.startsWith('g2-h2'))!.points.every((p) => p.txBps === 100), 'each group its own points');
  assert.is((await get(w, '/api/history/group?since=6h', g1)).status, 200);
  assert.is(w.reads(), 2);
}));

test('without a store: status says so, group and class answer `unavailable` (no error status); the old routes 503', () => withWeb(async (w) => {
  assert.equal(await (await get(w, '/api/history/status')).json() as HistoryStatusView, { available: false });
  const c = await get(w, '/api/history/class');
  assert.is(c.status, 200);
  assert.is(((await c.json()) as ClassTrafficView).unavailable, true);
  const g = await get(w, '/api/history/group', await joinGroup(w, 1));
  assert.is(g.status, 200);
  assert.is(((await g.json()) as HistoryGroupResponse).unavailable, true);
  assert.is((await get(w, '/api/history/series')).status, 503);
}, false));

test('downloads are named after the target; JSON is a file only when asked', () => withWeb(async (w) => {
  const r = await w.web.app.request(`http://${HOST}/api/instructor/login`, { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', Origin: `http://${HOST}`, Host: HOST } });
  const t = /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
  const csv = await get(w, '/api/history?host=h1&group=1&lab=old&format=csv', t);
  assert.is(csv.headers.get('content-disposition'), 'attachment; filename="history-g1-h1.csv"');
  const json = await get(w, '/api/history?host=g2-h2.eth0&download=1', t);
  assert.is(json.headers.get('content-disposition'), 'attachment; filename="history-g2-h2.eth0.json"');
  assert.is((await get(w, '/api/history?host=g2-h2.eth0', t)).headers.get('content-disposition'), null);
  const ser = (await (await get(w, '/api/history/series', t)).json()) as { series: { id: string; label: string }[] };
  const id = ser.series.find((s) => s.label === 'g1-h1.eth0 (old)')!.id;
  assert.is((await get(w, `/api/history?series=${encodeURIComponent(id)}&format=csv`, t)).headers.get('content-disposition'), 'attachment; filename="history-g1-h1.eth0.csv"');
}));

test.run();

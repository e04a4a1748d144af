// Traffic history over the web (agent/web/history.ts through createApp), with a real store in a temp
// dir fed counters as Gauge would give them for the lab's own ports: who sees which series, the
// points' direction, CSV, a past host served to the instructor, clear errors, 503 without a store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabState } from '../../agent/lab/state.js';
import type { PortEntry } from '../../agent/metrics/history-keys.js';
import type { HistoryStore } from '../../agent/metrics/history-store.js';
import type { HistoryResponse, HistorySeriesList } from '../../agent/web/api-types.js';
import type { WebApp } from '../../agent/web/app.js';
import { HOST, PASSWORD, historyLesson, pastEntry, withHistoryWeb } from './_history-web.js';

const ORIGIN = { Origin: `http://${HOST}`, Host: HOST };

interface World { web: WebApp; st: LabState; store: HistoryStore; entries: Map<string, PortEntry>; now: number }

function withWeb(fn: (w: World) => Promise<void>, withStore = true): Promise<void> {
  return withHistoryWeb({
    lesson: historyLesson('histtest', 'History test'),
    now: Date.now(),
    fill: (store, entries, now) => {
      // g1-h1 sends 1000 bytes/5 s (the switch's rx), g2-h1 receives 500 bytes/5 s; a past lab's h1 too.
      const past = pastEntry(entries);
      for (let k = 0; k < 4; k++) {
        store.record([
          { entry: entries.get('g1-h1-eth0')!, counters: { rxPackets: 10 * k, txPackets: 0, rxBytes: 1000 * k, txBytes: 0 } },
          { entry: entries.get('g2-h1-eth0')!, counters: { rxPackets: 0, txPackets: 5 * k, rxBytes: 0, txBytes: 500 * k } },
          ...(k < 2 ? [{ entry: past, counters: { rxPackets: k, txPackets: k, rxBytes: k, txBytes: k } }] : []),
        ], now - 20_000 + k * 5000);
      }
    },
    ...(withStore ? {} : { reader: () => undefined }),
  }, fn);
}

const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
async function joinGroup(w: World, group: number): Promise<string> {
  const r = await w.web.app.request('/api/join', post({ code: w.st.joinCodes![String(group)] }));
  assert.is(r.status, 200);
  return /dovelab_session=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
}
async function login(w: World): Promise<string> {
  const r = await w.web.app.request(`http://${HOST}/api/instructor/login`, post({ password: PASSWORD }, ORIGIN));
  assert.is(r.status, 200, await r.clone().text());
  return /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
}
const get = (w: World, path: string, cookie?: string) => w.web.app.request(path, { headers: cookie ? { Cookie: cookie } : {} });

test('a student sees its own group\'s series of this run only; the instructor every series, past labs too', () => withWeb(async (w) => {
  assert.is((await get(w, '/api/history/series')).status, 401);
  const g1 = await joinGroup(w, 1);
  const mine = (await (await get(w, '/api/history/series', g1)).json()) as HistorySeriesList;
  assert.equal(mine.series.map((s) => s.label), ['g1-h1.eth0 (histtest)'], 'not g2-h1, not the old lab\'s h1 of group 1');
  assert.is(mine.series[0]!.current, true);
  const t = await login(w);
  const all = (await (await get(w, '/api/history/series', t)).json()) as HistorySeriesList;
  const past = all.series.find((s) => s.label === 'g1-h1.eth0 (old)');
  assert.ok(past, 'the past lab\'s host is listed for the instructor');
  assert.is(past!.current, false);
  assert.ok(all.series.some((s) => s.label === 'g2-h1.eth0 (histtest)'));
}));

test('points: what the host sent is its tx; a student asking for another group gets its own (404 here) or nothing', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const r = await get(w, '/api/history?host=h1&iface=eth0&since=10m', g1);
  assert.is(r.status, 200, await r.clone().text());
  const body = (await r.json()) as HistoryResponse;
  assert.is(body.series.length, 1);
  assert.ok(body.series[0]!.points.length >= 3);
  for (const p of body.series[0]!.points) { assert.is(p.txBps, 200); assert.is(p.rxBps, 0); }
  // --group 2 from a group 1 session: filtered to nothing.
  assert.is((await get(w, '/api/history?host=h1&iface=eth0&group=2', g1)).status, 404);
  assert.is((await get(w, '/api/history?host=g2-h1.eth0', g1)).status, 404);
  const t = await login(w);
  const g2 = (await (await get(w, '/api/history?host=h1&iface=eth0&group=2', t)).json()) as HistoryResponse;
  assert.is(g2.series[0]!.points.at(-1)!.rxBps, 100, 'what g2-h1 received is its rx');
}));

test('CSV export, past hosts for the instructor, bad parameters are 400 with the reason, 503 without a store', async () => {
  await withWeb(async (w) => {
    const t = await login(w);
    const csv = await get(w, '/api/history?host=h1&iface=eth0&group=1&since=1h&format=csv&lab=old', t);
    assert.is(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    assert.match(lines[0]!, /^series,lab,group,host,interface,time,/);
    assert.ok(lines.length >= 2 && lines.slice(1).every((l) => l.includes(',old,1,h1,eth0,')), lines.join('\n'));
    const bad = await get(w, '/api/history?host=h1&since=yesterday', t);
    assert.is(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /--since/);
    assert.is((await get(w, '/api/history?since=1h', t)).status, 400);
  });
  await withWeb(async (w) => {
    assert.is((await get(w, '/api/history/series', await login(w))).status, 503);
  }, false);
});

test.run();

// The class record end to end without Docker (FakeWorld): a lab run, two saved check rounds and a
// reset through the lab service, then GET /api/instructor/record(.csv) as the instructor (and not).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labReset, labUp, saveCheckResults } from '../../agent/lab/service.js';
import type { ClassRecordView } from '../../agent/web/api-types.js';
import { createApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const LESSON = `
dovelab: 1
id: recordtest
title: Record test
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
tasks:
  - {id: ping, title: h1 reaches h2, check: {reach: {from: h1, to: h2}}}
  - {id: quiet, title: h2 cannot reach h1, check: {no_reach: {from: h2, to: h1}}}
`;
const PASSWORD = 'correct horse battery';
const HOST = 'dovelab.local';

test('checks and a reset make the record; the instructor gets it as JSON and CSV, nobody else', async () => {
  const t = tempConfig();
  try {
    t.cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
    const ctx = new FakeWorld().context(t.cfg);
    const lesson = join(t.dir, 'lesson');
    mkdirSync(lesson, { recursive: true });
    writeFileSync(join(lesson, 'lesson.yaml'), LESSON);
    const { state } = await labUp(ctx, lesson, 2);
    const web = createApp({
      cfg: t.cfg, lab: ctx, now: () => Date.now(), secret: Buffer.alloc(32, 5), log: () => {}, uiDir: join(t.dir, 'ui'),
      ipv4: () => '192.0.2.10', faucetStatus: async () => ({ hashes: [], loadError: false, applied: true, dpUp: {}, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5, clientIp: () => '198.51.100.99',
    });
    try {
      const login = await web.app.request(`http://${HOST}/api/instructor/login`, { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', Origin: `http://${HOST}`, Host: HOST } });
      assert.is(login.status, 200);
      const cookie = /dovelab_instructor=[^;]+/.exec(login.headers.get('set-cookie')!)![0];
      const get = (path: string, c?: string) => web.app.request(path, { headers: c ? { Cookie: c } : {} });
      assert.is((await get('/api/instructor/record', cookie)).status, 404, 'no record before the first round');

      const round = (at: string, g1ping: 'pass' | 'fail') => saveCheckResults(ctx, { lab: state.lab, startedAt: state.startedAt, updated_at: at, results: [
        { task: 'ping', group: 1, status: g1ping, reason: '', ms: 5 }, { task: 'quiet', group: 1, status: 'fail', reason: 'reached', ms: 5 },
        { task: 'ping', group: 2, status: 'fail', reason: 'no reply', ms: 5 }, { task: 'quiet', group: 2, status: 'pass', reason: '', ms: 5 },
      ] });
      await round('2030-01-01T00:01:00.000Z', 'fail');
      await round('2030-01-01T00:02:00.000Z', 'pass');
      await labReset(ctx, 2);

      const j = await get('/api/instructor/record', cookie);
      assert.is(j.status, 200);
      const view = (await j.json()) as ClassRecordView;
      assert.is(view.lab, 'recordtest');
      assert.equal(view.rows.map((x) => [x.group, x.task, x.firstPass, x.state, x.resets]), [
        [1, 'ping', '2030-01-01T00:02:00.000Z', 'pass', 0], [1, 'quiet', undefined, 'fail', 0],
        [2, 'ping', undefined, 'unchecked', 1], [2, 'quiet', '2030-01-01T00:01:00.000Z', 'unchecked', 1],
      ]);
      const csv = await get('/api/instructor/record.csv', cookie);
      assert.is(csv.status, 200);
      assert.match(csv.headers.get('content-type')!, /^text\/csv/);
      assert.match(csv.headers.get('content-disposition')!, /attachment; filename="recordtest-\d{4}-\d\d-\d\dT\d{4}\.csv"/);
      const lines = (await csv.text()).trimEnd().split('\r\n');
      assert.is(lines.length, 5);
      assert.is(lines[1], `recordtest,${state.startedAt},1,ping,h1 reaches h2,2030-01-01T00:02:00.000Z,${Math.round((Date.parse('2030-01-01T00:02:00.000Z') - Date.parse(state.startedAt)) / 6000) / 10},pass,0`);
      // Not the instructor: 401 (the same paths answered 200 above).
      assert.is((await get('/api/instructor/record.csv')).status, 401);
      assert.is((await get('/api/instructor/record', 'dovelab_instructor=forged')).status, 401);
    } finally { await web.close(); }
  } finally { t.done(); }
});

test.run();

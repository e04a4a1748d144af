// The instructor's API (agent/web/instructor.ts) driven with app.request() over the recording fake
// lab: login and its rate limit, sessions that expire or belong to an old password, CSRF refusals,
// student sessions refused, the class grid (stuck longest first), ACL/reset/stop, uploads.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema, paths, type Config } from '../../agent/config.js';
import { labUp } from '../../agent/lab/service.js';
import { readLabState, writeCheckReport, type LabState } from '../../agent/lab/state.js';
import type { DiagramView, CardsView, ClassView, InstructorSessionView, LessonListItem, OpResult } from '../../agent/web/api-types.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { hashPassword, INSTRUCTOR_SESSION_MS, verifyPassword } from '../../agent/web/instructor-auth.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { StuckTracker } from '../../agent/web/class-view.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const LESSON = `
dovelab: 1
id: teachtest
title: Teach test
networks: {lab: {}}
hosts:
  client: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  web: {interfaces: {eth0: {network: lab, ip: 198.51.100.80/24}}}
acls:
  no-ping:
    - {match: {ip_proto: icmp}, action: drop}
    - {action: allow}
tasks:
  - {id: a, title: Task A, check: {reach: {from: client, to: web}}}
  - {id: b, title: Task B, check: {no_reach: {from: client, to: web}}}
`;
const PASSWORD = 'correct horse battery';
const HOST = 'dovelab.local';
const ORIGIN = { Origin: `http://${HOST}`, Host: HOST };

interface World { cfg: Config; web: WebApp; st: LabState; now: { t: number }; dataDir: string; dir: string; lessonDir: string; secret: Buffer }

async function withWeb(fn: (w: World) => Promise<void>, opts: { password?: boolean } = {}): Promise<void> {
  const t = tempConfig();
  try {
    if (opts.password !== false) t.cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
    const fake = new FakeWorld();
    const ctx = fake.context(t.cfg);
    const lessonDir = join(t.dir, 'teachtest');
    mkdirSync(lessonDir, { recursive: true });
    writeFileSync(join(lessonDir, 'lesson.yaml'), LESSON);
    writeFileSync(join(lessonDir, 'README.md'), '# Teach test\n');
    const { state } = await labUp(ctx, lessonDir, 2);
    const bundled = join(t.dir, 'bundled');
    mkdirSync(bundled);
    const now = { t: Date.parse('2026-12-01T10:00:00Z') };
    const secret = Buffer.alloc(32, 9);
    const web = createApp({
      cfg: t.cfg, lab: ctx, now: () => now.t, secret, log: () => {}, uiDir: join(t.dir, 'ui'),
      ipv4: () => '192.0.2.10',
      faucetStatus: async () => ({ hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5,
      clientIp: (c) => c.req.header('x-test-ip') ?? '198.51.100.99',
      infra: async () => ({ docker: true, containers: { ovs: 'running', faucet: 'running', gauge: 'running' } }),
      bundledLessonsDir: bundled,
      neighbours: () => [{ name: 'dovelab-b', url: 'http://198.51.100.7/', version: '0.1.0' }],
      eventPollMs: 20,
    });
    await fn({ cfg: t.cfg, web, st: state, now, dataDir: t.cfg.dataDir, dir: t.dir, lessonDir, secret });
    web.close();
  } finally { t.done(); }
}

const url = (p: string) => `http://${HOST}${p}`;
const post = (body: unknown, extra: Record<string, string> = {}) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...ORIGIN, ...extra } });
const cookieOf = (r: Response) => /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie') ?? '')?.[0];

async function login(w: World): Promise<string> {
  const r = await w.web.app.request(url('/api/instructor/login'), post({ password: PASSWORD }));
  assert.is(r.status, 200, await r.clone().text());
  return cookieOf(r)!;
}

test('scrypt hashes: the right password verifies, a wrong one or a broken hash does not', async () => {
  const h = await hashPassword('s3cret-pass');
  assert.match(h, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(await verifyPassword('s3cret-pass', h));
  assert.not.ok(await verifyPassword('s3cret-pasS', h));
  assert.not.ok(await verifyPassword('s3cret-pass', h.replace('16384', '16383')), 'N must be a power of two');
  assert.not.ok(await verifyPassword('s3cret-pass', undefined));
  assert.not.ok(await verifyPassword('s3cret-pass', 'plain'));
});

test('`dovelab web password` reads stdin and prints the config line; a short password is refused', () => {
  const cli = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
  const r = spawnSync(process.execPath, [cli, 'web', 'password'], { input: 'a good password\n', encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const m = /^ {2}instructor_password_hash: '(scrypt\$[^']+)'$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(ConfigSchema.parse({ web: { instructor_password_hash: m![1] } }).web.instructor_password_hash, 'the config takes the line');
  return verifyPassword('a good password', m![1]).then((ok) => assert.ok(ok, 'the trailing newline is not part of the password')).then(() => {
    const short = spawnSync(process.execPath, [cli, 'web', 'password'], { input: 'short', encoding: 'utf8' });
    assert.is(short.status, 1);
    assert.match(short.stderr, 'at least 8 characters');
  });
});

test('no login: every instructor API answers 401; the session says whether a password is configured', () => withWeb(async (w) => {
  for (const [m, p] of [['GET', '/api/instructor/class'], ['GET', '/api/instructor/lessons'], ['GET', '/api/instructor/cards'], ['GET', '/api/instructor/diagram'], ['POST', '/api/instructor/stop'], ['POST', '/api/instructor/reset']] as const) {
    const r = await w.web.app.request(url(p), m === 'GET' ? { headers: ORIGIN } : post({ group: 1 }));
    assert.is(r.status, 401, `${m} ${p}`);
  }
  const s = await w.web.app.request(url('/api/instructor/session'));
  assert.equal(await s.json() as InstructorSessionView, { configured: true, loggedIn: false });
  // Control: the lab is still up (the refused stop did nothing).
  assert.ok(readLabState(paths(w.cfg).labState));
}));

test('login: the right password sets an HttpOnly SameSite=Strict cookie that expires; logout clears it', () => withWeb(async (w) => {
  const r = await w.web.app.request(url('/api/instructor/login'), post({ password: PASSWORD }));
  assert.is(r.status, 200);
  const set = r.headers.get('set-cookie')!;
  for (const part of [/dovelab_instructor=/, /HttpOnly/, /SameSite=Strict/, /Path=\//, /Max-Age=28800/]) assert.match(set, part);
  const cookie = cookieOf(r)!;
  const cls = await w.web.app.request(url('/api/instructor/class'), { headers: { Cookie: cookie } });
  assert.is(cls.status, 200);
  const s = await w.web.app.request(url('/api/instructor/session'), { headers: { Cookie: cookie } });
  assert.is((await s.json() as InstructorSessionView).loggedIn, true);
  // Expired: 8 h later the same cookie is refused.
  w.now.t += INSTRUCTOR_SESSION_MS + 1;
  assert.is((await w.web.app.request(url('/api/instructor/class'), { headers: { Cookie: cookie } })).status, 401, 'expired session refused');
  w.now.t -= INSTRUCTOR_SESSION_MS + 1;
  const out = await w.web.app.request(url('/api/instructor/logout'), { method: 'POST', headers: { ...ORIGIN, Cookie: cookie } });
  assert.is(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /dovelab_instructor=;.*Max-Age=0/);
}));

test('login: wrong passwords are rate-limited per address (even the right one waits); another address is not', () => withWeb(async (w) => {
  const from = (ip: string, password: string) => w.web.app.request(url('/api/instructor/login'), post({ password }, { 'x-test-ip': ip }));
  for (let i = 0; i < 5; i++) assert.is((await from('198.51.100.7', 'guess')).status, 403, `attempt ${i + 1}`);
  const limited = await from('198.51.100.7', 'guess');
  assert.is(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.is((await from('198.51.100.7', PASSWORD)).status, 429);
  assert.is((await from('198.51.100.8', PASSWORD)).status, 200, 'control: another address logs in');
  w.now.t += 12_000;
  assert.is((await from('198.51.100.7', PASSWORD)).status, 200, 'a token came back after 12 s');
}));

test('no password configured: the session says how to set one, and login is refused', () => withWeb(async (w) => {
  const s = await (await w.web.app.request(url('/api/instructor/session'))).json() as InstructorSessionView;
  assert.is(s.configured, false);
  assert.match(s.hint ?? '', 'dovelab web password');
  const r = await w.web.app.request(url('/api/instructor/login'), post({ password: '' }));
  assert.is(r.status, 503);
  assert.match(await r.text(), 'dovelab web password');
}, { password: false }));

test('CSRF: a POST with the cookie but without a same-origin Origin is refused; Sec-Fetch-Site same-origin passes', () => withWeb(async (w) => {
  const cookie = await login(w);
  const reset = (headers: Record<string, string>) => w.web.app.request(url('/api/instructor/reset'), {
    method: 'POST', body: JSON.stringify({ group: 1 }), headers: { 'Content-Type': 'application/json', Cookie: cookie, Host: HOST, ...headers },
  });
  assert.is((await reset({})).status, 403, 'no Origin, no Sec-Fetch-Site');
  assert.is((await reset({ Origin: 'http://evil.example' })).status, 403, 'another origin');
  assert.is((await reset({ 'Sec-Fetch-Site': 'cross-site' })).status, 403, 'cross-site');
  assert.is((await w.web.app.request(url('/api/instructor/login'), { method: 'POST', body: JSON.stringify({ password: PASSWORD }), headers: { 'Content-Type': 'application/json', Host: HOST } })).status, 403, 'login too');
  const ok = await reset({ 'Sec-Fetch-Site': 'same-origin' });
  assert.is(ok.status, 200, 'control: the same origin resets');
  assert.match((await ok.json() as OpResult).message, 'group 1 is reset');
}));

test('a student session (or its cookie under the instructor name) cannot call instructor APIs', () => withWeb(async (w) => {
  const j = await w.web.app.request(url('/api/join'), post({ code: w.st.joinCodes!['1'] }));
  assert.is(j.status, 200);
  const student = /dovelab_session=([^;]+)/.exec(j.headers.get('set-cookie') ?? '')![1]!;
  assert.is((await w.web.app.request(url('/api/instructor/class'), { headers: { Cookie: `dovelab_session=${student}` } })).status, 401);
  assert.is((await w.web.app.request(url('/api/instructor/class'), { headers: { Cookie: `dovelab_instructor=${student}` } })).status, 401);
  assert.is((await w.web.app.request(url('/api/instructor/stop'), post({}, { Cookie: `dovelab_session=${student}` }))).status, 401);
  // And an instructor cookie is no student session.
  const cookie = await login(w);
  assert.is((await w.web.app.request(url('/api/group'), { headers: { Cookie: cookie.replace('dovelab_instructor', 'dovelab_session') } })).status, 401);
}));

test('a new password ends the sessions made under the old one', () => withWeb(async (w) => {
  const cookie = await login(w);
  w.cfg.web.instructor_password_hash = await hashPassword('another password');
  assert.is((await w.web.app.request(url('/api/instructor/class'), { headers: { Cookie: cookie } })).status, 401);
}));

test('class grid: groups × tasks, stuck longest first, codes, hosts with ACLs; health; cards with QR codes', () => withWeb(async (w) => {
  // The lab started at the real time of this run; the session is signed on the same clock (was a
  // bug: after 18:00 the fixed 10:00 login had expired by the lab's start).
  const t0 = Date.parse(w.st.startedAt);
  w.now.t = t0;
  const cookie = await login(w);
  const get = async <T>(p: string) => { const r = await w.web.app.request(url(p), { headers: { Cookie: cookie } }); assert.is(r.status, 200, p); return r.json() as Promise<T>; };
  const cfg = w.cfg;
  const report = (at: number, results: [number, string, 'pass' | 'fail'][]) => writeCheckReport(paths(cfg).checks, {
    lab: w.st.lab, startedAt: w.st.startedAt, updated_at: new Date(at).toISOString(),
    results: results.map(([group, task, status]) => ({ group, task, status, reason: status, ms: 1 })),
  });
  // Round 1: group 1 has done both, group 2 task a only.
  report(t0 + 60_000, [[1, 'a', 'pass'], [1, 'b', 'pass'], [2, 'a', 'pass'], [2, 'b', 'fail']]);
  w.now.t = t0 + 60_000;
  let v = await get<ClassView>('/api/instructor/class');
  assert.equal(v.groups.map((g) => g.group), [2, 1], 'group 2 is stuck; group 1 all done last');
  assert.is(v.groups[0]!.stuckSince, w.st.startedAt, 'not done since the lab started');
  assert.is(v.groups[1]!.stuckSince, undefined);
  // Round 2 (5 minutes later): group 1 loses task a: stuck since that report, shorter than group 2.
  report(t0 + 360_000, [[1, 'a', 'fail'], [1, 'b', 'pass'], [2, 'a', 'pass'], [2, 'b', 'fail']]);
  w.now.t = t0 + 400_000;
  v = await get<ClassView>('/api/instructor/class');
  assert.equal(v.groups.map((g) => [g.group, g.stuckSince]), [[2, w.st.startedAt], [1, new Date(t0 + 360_000).toISOString()]]);
  assert.is(v.groups[1]!.stuckForS, 40);
  assert.equal(v.groups[1]!.tasks.map((t) => t.status), ['fail', 'pass']);
  assert.is(v.groups.find((g) => g.group === 1)!.code, w.st.joinCodes!['1']);
  assert.equal(v.tasks, [{ id: 'a', title: 'Task A' }, { id: 'b', title: 'Task B' }]);
  assert.equal(v.acls, ['no-ping']);
  assert.is(v.hosts.length, 4);
  assert.ok(v.health.memory.totalMb > 0 && v.health.cpus > 0);
  assert.equal(v.health.infra.containers.faucet, 'running');
  assert.is(v.health.infra.faucetDpUp, true);
  assert.equal(v.health.dongles.map((d) => d.name).sort(), ['mir0', 'up0', 'up1']);
  assert.equal(v.health.neighbours, [{ name: 'dovelab-b', url: 'http://198.51.100.7/', version: '0.1.0' }], 'other appliances found over mDNS');

  // ACL on group 2's web.eth0 only.
  const acl = await w.web.app.request(url('/api/instructor/acl'), post({ target: 'web.eth0', acls: ['no-ping'], group: 2 }, { Cookie: cookie }));
  assert.is(acl.status, 200, await acl.clone().text());
  v = await get<ClassView>('/api/instructor/class');
  const web = (g: number) => v.hosts.find((h) => h.group === g && h.name === 'web')!.interfaces[0]!;
  assert.equal(web(2).acls, ['no-ping']);
  assert.equal(web(1).acls, [], 'control: group 1 untouched');
  const bad = await w.web.app.request(url('/api/instructor/acl'), post({ target: 'web.eth0', acls: ['nope'] }, { Cookie: cookie }));
  assert.is(bad.status, 400);
  assert.match(await bad.text(), 'not in the lesson');

  const cards = await get<CardsView>('/api/instructor/cards');
  assert.is(cards.cards.length, 2);
  assert.match(cards.cards[0]!.url, `http://192.0.2.10:8080/?code=${w.st.joinCodes!['1']}`);
  assert.match(cards.cards[0]!.qrSvg, /^<svg/);
  // The whole lab's diagram has every group (the student's has only its own).
  const full = await get<DiagramView>('/api/instructor/diagram');
  assert.match(full.svg, /<svg/);
  assert.match(full.svg, '>group 1<');
  assert.match(full.svg, '>group 2<');

  // Stop: the lab is gone; the grid is empty.
  const stop = await w.web.app.request(url('/api/instructor/stop'), post({}, { Cookie: cookie }));
  assert.is(stop.status, 200);
  v = await get<ClassView>('/api/instructor/class');
  assert.is(v.lab, null);
  assert.is((await w.web.app.request(url('/api/instructor/stop'), post({}, { Cookie: cookie }))).status, 400);
}));

test('lessons: upload a .tar.gz (installed, listed), a broken one is a 400 with the reason, oversize 413, remove', () => withWeb(async (w) => {
  const cookie = await login(w);
  const archive = join(w.dir, 'teachtest.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', w.dir, 'teachtest']);
  const upload = (name: string, body: Uint8Array) => w.web.app.request(url(`/api/instructor/lessons?name=${encodeURIComponent(name)}`), {
    method: 'POST', body: new Blob([body as Uint8Array<ArrayBuffer>]), headers: { 'Content-Type': 'application/octet-stream', Cookie: cookie, ...ORIGIN },
  });
  const ok = await upload('teachtest.tar.gz', readFileSync(archive));
  assert.is(ok.status, 200, await ok.clone().text());
  const got = await ok.json() as { id: string; title: string };
  assert.equal([got.id, got.title], ['teachtest', 'Teach test']);
  const list = await (await w.web.app.request(url('/api/instructor/lessons'), { headers: { Cookie: cookie } })).json() as LessonListItem[];
  assert.ok(list.some((l) => l.id === 'teachtest' && !l.bundled));
  const broken = await upload('x.tar.gz', new Uint8Array([1, 2, 3, 4]));
  assert.is(broken.status, 400);
  assert.match(await broken.text(), 'x.tar.gz');
  assert.is((await upload('x.txt', new Uint8Array([1]))).status, 400);
  assert.is((await upload('big.zip', new Uint8Array(33 * 1024 * 1024))).status, 413);
  // Start it for 3 groups from the store, then remove it.
  const start = await w.web.app.request(url('/api/instructor/start'), post({ lesson: 'teachtest', groups: 3 }, { Cookie: cookie }));
  assert.is(start.status, 200, await start.clone().text());
  assert.match((await start.json() as OpResult).message, 'started for 3 group(s)');
  const del = await w.web.app.request(url('/api/instructor/lessons/teachtest'), { method: 'DELETE', headers: { Cookie: cookie, ...ORIGIN } });
  assert.is(del.status, 200);
  assert.is((await w.web.app.request(url('/api/instructor/lessons/teachtest'), { method: 'DELETE', headers: { Cookie: cookie, ...ORIGIN } })).status, 400);
  assert.is((await w.web.app.request(url('/api/instructor/start'), post({ lesson: 'nope', groups: 1 }, { Cookie: cookie }))).status, 400);
}));

test('/api/events: an instructor session gets the class grid live; a student does not', () => withWeb(async (w) => {
  const read = async (cookie: string, re: RegExp) => {
    const ac = new AbortController();
    const r = await w.web.app.request(url('/api/events'), { headers: { Cookie: cookie }, signal: ac.signal });
    const reader = r.body!.getReader();
    let text = '';
    while (!re.test(text)) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
    await reader.cancel(); ac.abort();
    return text;
  };
  const teacherText = await read(await login(w), /event: instructor\ndata: .*\n\n/);
  assert.match(teacherText, /event: instructor\ndata: \{"generatedAt"/);
  assert.match(teacherText, /"groups":\[\{"group":1/);
  const j = await w.web.app.request(url('/api/join'), post({ code: w.st.joinCodes!['1'] }));
  const studentText = await read(/dovelab_session=[^;]+/.exec(j.headers.get('set-cookie')!)![0], /event: group\ndata: .*\n\n/);
  assert.match(studentText, /event: group/, 'control: the student stream works');
  assert.not.match(studentText, /event: instructor/);
}));

test('stuck tracker: after a restart a not-done task counts from the lab start; a task undone later counts from that report', () => {
  const st = { lab: 'x', startedAt: '2026-12-01T10:00:00.000Z', groups: 1, topology: { tasks: [{ id: 'a' }] } } as unknown as LabState;
  const rep = (at: string, status: 'pass' | 'fail') => ({ updated_at: at, results: [{ task: 'a', group: 1, status, reason: '' }] });
  const fresh = new StuckTracker();
  fresh.observe(st, rep('2026-12-01T10:30:00.000Z', 'fail'));
  assert.is(fresh.notDoneSince(1, 'a'), Date.parse(st.startedAt));
  fresh.observe(st, rep('2026-12-01T10:31:00.000Z', 'pass'));
  assert.is(fresh.notDoneSince(1, 'a'), undefined);
  fresh.observe(st, rep('2026-12-01T10:32:00.000Z', 'fail'));
  assert.is(fresh.notDoneSince(1, 'a'), Date.parse('2026-12-01T10:32:00.000Z'));
  fresh.observe(st, rep('2026-12-01T10:33:00.000Z', 'fail'));
  assert.is(fresh.notDoneSince(1, 'a'), Date.parse('2026-12-01T10:32:00.000Z'), 'still failing: the same since');
  // A new run of the lab starts over.
  fresh.observe({ ...st, startedAt: '2026-12-01T11:00:00.000Z' }, undefined);
  assert.is(fresh.notDoneSince(1, 'a'), Date.parse('2026-12-01T11:00:00.000Z'));
});

test.run();

// The web app (agent/web/app.ts) driven with app.request() over the recording fake lab: joining,
// rate limits, sessions of an old lab run, one group's view only, static files, headers, README.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { labUp } from '../../agent/lab/service.js';
import { readLabState, writeCheckReport, type LabState } from '../../agent/lab/state.js';
import type { GroupView, KioskView, SessionView } from '../../agent/web/api-types.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { CSP } from '../../agent/web/headers.js';
import { signSession } from '../../agent/web/session.js';
import { CLOSE, terminalTarget } from '../../agent/web/terminal.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';
import { decodeThrottled, type HardwareHealth } from '../../agent/hardware/health.js';

/** A calm board for the web tests; a test swaps in a hot, under-powered one (faults.board). */
const CALM_BOARD: HardwareHealth = { load: [0.1, 0.1, 0.1], cpus: 4, memory: { totalMb: 3796, availableMb: 2000 },
  disk: { usedFraction: 0.5, freeMb: 9000, path: '/var/lib/dovelab' }, cpuTempC: 50, throttled: decodeThrottled(0, 'vcgencmd') };

const LESSON = `
dovelab: 1
id: webtest
title: Web test
networks: {lab: {}, shared: {shared: true, vlan: 50}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
  srv: {interfaces: {eth0: {network: shared, ip: 203.0.113.1/24}}}
acls:
  no-ping: [{match: {ip_proto: icmp}, action: drop}, {action: allow}]
  mute: [{action: drop}]
controls: {acls: {h2.eth0: [no-ping]}}
tasks:
  - {id: ping, title: h1 talks to h2, hint: ping it, check: {reach: {from: h1, to: 198.51.100.12}}}
  - {id: file, check: {command: {on: h1, run: "true"}}}
`;
const README = `# Web test

<script>alert("owned")</script>

[click me](javascript:alert(1)) and [docs](https://example.org/x)

<img src=x onerror=alert(2)>
`;

interface World { web: WebApp; st: LabState; codes: Record<string, string>; ui: string; secret: Buffer; now: { t: number }; logs: string[]; labJson: string; cfgDir: string; fake: FakeWorld; faults: { disk: number; faucet?: string; board?: HardwareHealth } }

async function withWeb(fn: (w: World) => Promise<void>): Promise<void> {
  const t = tempConfig();
  try {
    const fake = new FakeWorld();
    const ctx = fake.context(t.cfg);
    const lesson = join(t.dir, 'lesson');
    mkdirSync(lesson, { recursive: true });
    writeFileSync(join(lesson, 'lesson.yaml'), LESSON);
    writeFileSync(join(lesson, 'README.md'), README);
    const { state } = await labUp(ctx, lesson, 2);
    const ui = join(t.dir, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'student.html'), '<!doctype html><title>student</title>');
    writeFileSync(join(ui, 'kiosk.html'), '<!doctype html><title>kiosk</title>');
    writeFileSync(join(ui, 'assets', 'app-ABCD1234.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
    writeFileSync(join(ui, '.secret'), 'hidden');
    writeFileSync(join(t.dir, 'outside.txt'), 'outside');
    const now = { t: Date.parse('2026-12-01T10:00:00Z') };
    const faults: World['faults'] = { disk: 0.5 };
    const logs: string[] = [];
    const secret = Buffer.alloc(32, 7);
    const web = createApp({
      cfg: t.cfg, lab: ctx, now: () => now.t, secret, log: (l) => logs.push(l), uiDir: ui,
      ipv4: () => '192.0.2.10',
      faucetStatus: async () => {
        if (faults.faucet) throw new Error(faults.faucet);
        return { hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 };
      },
      diskUsed: async () => faults.disk,
      hardware: async () => faults.board ?? CALM_BOARD,
      clientIp: (c) => c.req.header('x-test-ip') ?? '198.51.100.99',
      eventPollMs: 20,
    });
    await fn({ web, st: state, codes: state.joinCodes!, ui, secret, now, logs, labJson: paths(t.cfg).labState, cfgDir: t.dir, fake, faults });
    web.close();
  } finally { t.done(); }
}

const json = (body: unknown, extra: Record<string, string> = {}) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...extra } });
const cookieOf = (r: Response) => /dovelab_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')?.[0];

async function join1(w: World, group = 1): Promise<string> {
  const r = await w.web.app.request('/api/join', json({ code: w.codes[String(group)] }));
  assert.is(r.status, 200);
  return cookieOf(r)!;
}

test('join: a right code (any case, spaces) sets an HttpOnly SameSite=Strict session; a wrong one is refused', () => withWeb(async (w) => {
  const typed = ` ${w.codes['2']!.slice(0, 3).toLowerCase()} ${w.codes['2']!.slice(3)} `;
  const r = await w.web.app.request('/api/join', json({ code: typed }));
  assert.is(r.status, 200);
  assert.equal(await r.json(), { group: 2, lab: 'webtest' });
  const set = r.headers.get('set-cookie')!;
  assert.match(set, /dovelab_session=/);
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  assert.match(set, /Path=\//);
  const s = await w.web.app.request('/api/session', { headers: { Cookie: cookieOf(r)! } });
  assert.equal(await s.json() as SessionView, { group: 2, lab: 'webtest' });
  const none = await w.web.app.request('/api/session');
  assert.equal(await none.json() as SessionView, { group: null, lab: null });

  const bad = await w.web.app.request('/api/join', json({ code: 'AAAAAA' }));
  assert.is(bad.status, 403);
  assert.is(bad.headers.get('set-cookie'), null);
  assert.is((await w.web.app.request('/api/join', json({ nope: 1 }))).status, 400);
  assert.is((await w.web.app.request('/api/join', { method: 'POST', body: '{', headers: { 'Content-Type': 'application/json' } })).status, 400);
  // The log has one line per request and never the code.
  const lines = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.msg === 'request' && l.method === 'POST' && l.path === '/api/join' && l.status === 200 && typeof l.ms === 'number'));
  for (const code of Object.values(w.codes)) assert.not.ok(w.logs.join('\n').includes(code), 'no code in the log');

  const leave = await w.web.app.request('/api/leave', { method: 'POST' });
  assert.is(leave.status, 204);
  assert.match(leave.headers.get('set-cookie') ?? '', /dovelab_session=;.*Max-Age=0/);
}));

test('join: wrong codes are rate-limited per client address; the bucket refills; others are not held up', () => withWeb(async (w) => {
  const from = (ip: string, code: string) => w.web.app.request('/api/join', json({ code }, { 'x-test-ip': ip }));
  for (let i = 0; i < 10; i++) assert.is((await from('198.51.100.7', 'WRONG1')).status, 403, `attempt ${i + 1}`);
  const limited = await from('198.51.100.7', 'WRONG1');
  assert.is(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // Even the right code waits while the bucket is empty (no guessing around the limit).
  assert.is((await from('198.51.100.7', w.codes['1']!)).status, 429);
  // Control: another address joins at once.
  assert.is((await from('198.51.100.8', w.codes['1']!)).status, 200);
  w.now.t += 6_000;
  assert.is((await from('198.51.100.7', w.codes['1']!)).status, 200, 'a token came back after 6 s');
}));

test('a session of a previous run of the lab (or forged, or of a group that does not exist) is refused', () => withWeb(async (w) => {
  const good = await join1(w);
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: good } })).status, 200, 'control');
  const old = signSession(w.secret, { group: 1, lab: 'webtest', startedAt: '2026-11-30T09:00:00.000Z' });
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: `dovelab_session=${old}` } })).status, 401);
  const g3 = signSession(w.secret, { group: 3, lab: 'webtest', startedAt: w.st.startedAt });
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: `dovelab_session=${g3}` } })).status, 401);
  const forged = signSession(Buffer.alloc(32, 8), { group: 1, lab: 'webtest', startedAt: w.st.startedAt });
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: `dovelab_session=${forged}` } })).status, 401);
  const tampered = good.replace(/=(.)/, (_m, ch: string) => `=${ch === 'A' ? 'B' : 'A'}`);
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: tampered } })).status, 401);
  // The lab starts again (same lesson): yesterday's cookie is worth nothing.
  const st = readLabState(w.labJson)!;
  writeFileSync(w.labJson, JSON.stringify({ version: 1, ...st, startedAt: new Date(w.now.t + 1000).toISOString() }));
  assert.is((await w.web.app.request('/api/group', { headers: { Cookie: good } })).status, 401);
  assert.equal(await (await w.web.app.request('/api/session', { headers: { Cookie: good } })).json(), { group: null, lab: null });
}));

test('/api/group: README without scripts, the group\'s own hosts, diagram and task results; never another group\'s', () => withWeb(async (w) => {
  writeCheckReport(paths({ dataDir: w.cfgDir + '/data' } as never).checks, {
    lab: 'webtest', startedAt: w.st.startedAt, updated_at: '2026-12-01T10:00:05.000Z',
    results: [
      { task: 'ping', group: 1, status: 'pass', reason: 'G1-PING-REASON', ms: 5 },
      { task: 'file', group: 1, status: 'fail', reason: 'G1-FILE-REASON', ms: 5 },
      { task: 'ping', group: 2, status: 'error', reason: 'G2-SECRET-REASON', ms: 5 },
    ],
  });
  const r = await w.web.app.request('/api/group', { headers: { Cookie: await join1(w) } });
  assert.is(r.status, 200);
  const text = await r.clone().text();
  const g = await r.json() as GroupView;
  assert.is(g.group, 1);
  assert.equal(g.lab, { id: 'webtest', title: 'Web test', startedAt: w.st.startedAt });
  assert.equal(g.hosts.map((h) => h.name).sort(), ['h1', 'h2', 'srv']);
  assert.ok(g.hosts.every((h) => h.running));
  assert.equal(g.hosts.find((h) => h.name === 'h1')!.interfaces.map((i) => [i.name, i.ip, i.network, i.vlan]), [['eth0', '198.51.100.11/24', 'lab', 101]]);
  assert.equal(g.tasks.map((t) => [t.id, t.title, t.status, t.reason]), [['ping', 'h1 talks to h2', 'pass', 'G1-PING-REASON'], ['file', 'file', 'fail', 'G1-FILE-REASON']]);
  assert.is(g.tasks[0]!.hint, 'ping it');
  assert.is(g.checkedAt, '2026-12-01T10:00:05.000Z');
  assert.match(g.diagramSvg, /^<\?xml|<svg/);
  // Graphviz writes '-' as &#45;.
  assert.match(g.diagramSvg, /g1&#45;h1/);
  assert.match(g.diagramSvg, /srv/, 'shared hosts are drawn');
  // Nothing of group 2: its hosts, ports, VLAN, results, join code.
  for (const other of ['g2-h1', 'g2-h2', 'g2-lab', 'g2&#45;', 'G2-SECRET-REASON', 'dl201', w.codes['2']!, w.codes['1']!]) {
    assert.not.ok(text.includes(other), `group 1's view mentions ${other}`);
  }
  assert.not.match(g.diagramSvg, /VLAN 201|>201</);
  // The README: rendered, but no script, no javascript: link, no raw HTML.
  assert.match(g.readmeHtml, /<h1>Web test<\/h1>/);
  assert.not.match(g.readmeHtml, /<script|<img|href="javascript:/i);
  assert.match(g.readmeHtml, /&lt;script&gt;/);
  assert.match(g.readmeHtml, /&lt;img src=x onerror=alert\(2\)&gt;/, 'raw HTML is text');
  assert.match(g.readmeHtml, /\[click me\]\(javascript:alert\(1\)\)/, 'the javascript: link stays text');
  assert.match(g.readmeHtml, /<a href="https:\/\/example.org\/x" target="_blank" rel="noopener noreferrer">docs<\/a>/);

  // No session: nothing.
  const anon = await w.web.app.request('/api/group');
  assert.is(anon.status, 401);
  assert.equal(await anon.json(), { error: 'join a group first' });
}));

test('/api/group before any check round: every task unknown', () => withWeb(async (w) => {
  const g = await (await w.web.app.request('/api/group', { headers: { Cookie: await join1(w, 2) } })).json() as GroupView;
  assert.is(g.group, 2);
  assert.equal(g.tasks.map((t) => t.status), ['unknown', 'unknown']);
  assert.is(g.checkedAt, undefined);
  assert.equal(g.hosts.map((h) => h.name).sort(), ['h1', 'h2', 'srv']);
}));

test('/api/kiosk: name, join URLs and QR of the IP URL, progress per group, alarms; no codes', () => withWeb(async (w) => {
  const r = await w.web.app.request('/api/kiosk');
  const text = await r.clone().text();
  const k = await r.json() as KioskView;
  assert.is(k.appliance, 'dovelab');
  assert.equal(k.joinUrls, ['http://dovelab.local:8080/', 'http://192.0.2.10:8080/']);
  assert.match(k.qrSvg, /<svg/);
  assert.equal(k.lesson, { id: 'webtest', title: 'Web test', groups: 2, tasks: 2 });
  assert.equal(k.progress, [{ group: 1, done: 0, total: 2 }, { group: 2, done: 0, total: 2 }]);
  assert.equal(k.alarms, []);
  for (const code of Object.values(w.codes)) assert.not.ok(text.includes(code));

  // A host that died, Faucet not answering, a full disk. The status is looked at every 2 s; while
  // a new look runs the last one answers, so the kiosk shows it one look later.
  w.fake.hosts.get('dovelab-g2-h2')!.running = false;
  w.faults.faucet = 'connect ECONNREFUSED 127.0.0.1:9302';
  w.faults.disk = 0.953;
  w.now.t += 2_000;
  const k2 = await (await w.web.app.request('/api/kiosk')).json() as KioskView;
  assert.equal(k2.alarms, [], 'the last look answers at once');
  let k3: KioskView | undefined;
  for (let i = 0; i < 100; i++) {
    k3 = await (await w.web.app.request('/api/kiosk')).json() as KioskView;
    if (k3.alarms.length) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(k3!.alarms, ['g2-h2 is not running', 'Faucet is not answering (connect ECONNREFUSED 127.0.0.1:9302)', 'disk 95% full']);
}));

test('/api/kiosk: the board\'s warnings are alarms (hot, under-voltage, throttled); the disk once', () => withWeb(async (w) => {
  const k = await (await w.web.app.request('/api/kiosk')).json() as KioskView;
  assert.equal(k.alarms, [], 'a calm board raises nothing');
  w.faults.board = { ...CALM_BOARD, cpuTempC: 84.1, throttled: decodeThrottled(0x50005, 'vcgencmd'), disk: { usedFraction: 0.96, freeMb: 300, path: '/x' } };
  w.faults.disk = 0.96;
  w.now.t += 5_000;
  let k2: KioskView | undefined;
  for (let i = 0; i < 100; i++) {
    k2 = await (await w.web.app.request('/api/kiosk')).json() as KioskView;
    if (k2.alarms.length) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(k2!.alarms, ['disk 96% full', 'CPU hot: 84.1 °C', 'under-voltage: power supply too weak', 'CPU throttled (heat or power)']);
}));

test('/api/events: the kiosk for everyone, the group for a student, then a change is pushed', () => withWeb(async (w) => {
  const ac = new AbortController();
  const r = await w.web.app.request('/api/events', { headers: { Cookie: await join1(w) }, signal: ac.signal });
  assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = r.body!.getReader();
  let text = '';
  const until = async (re: RegExp) => {
    while (!re.test(text)) { const { value, done } = await reader.read(); if (done) throw new Error(`stream ended: ${text}`); text += new TextDecoder().decode(value); }
  };
  await until(/event: group\ndata: .*\n\n/);
  assert.match(text, /event: kiosk\ndata: \{"appliance":"dovelab"/);
  assert.match(text, /"group":1/);
  const before = text.length;
  writeCheckReport(join(w.cfgDir, 'data', 'checks.json'), { lab: 'webtest', startedAt: w.st.startedAt, updated_at: new Date().toISOString(), results: [{ task: 'ping', group: 1, status: 'pass', reason: 'ok', ms: 1 }] });
  await until(/"done":1/);
  assert.match(text.slice(before), /event: kiosk/);
  await reader.cancel();
  ac.abort();
}));

test('static: pages by route, assets by exact name, gzip and cache headers; traversal and dotfiles refused', () => withWeb(async (w) => {
  const app = w.web.app;
  const home = await app.request('/');
  assert.is(home.status, 200);
  assert.match(await home.text(), /student/);
  assert.is(home.headers.get('cache-control'), 'no-cache');
  assert.match(await (await app.request('/kiosk')).text(), /kiosk/);
  const js = await app.request('/assets/app-ABCD1234.js', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.is(js.status, 200);
  assert.is(js.headers.get('content-encoding'), 'gzip');
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  for (const bad of ['/..%2f..%2fetc/passwd', '/assets/../../package.json', '/%2e%2e/outside.txt', '/..%5coutside.txt', '/.secret',
    '/assets/%2e%2e/%2e%2e/outside.txt', '/assets/..%252f..%252foutside.txt', '/student.html%00.js']) {
    const r = await app.request(bad);
    assert.ok(r.status === 404 || r.status === 400, `${bad}: ${r.status}`);
    const body = await r.text();
    assert.not.match(body, /outside|hidden|root:|"name": "dovelab"/, bad);
  }
  // The headers on every response, errors included.
  for (const path of ['/', '/api/kiosk', '/nope', '/api/nope']) {
    const r = await app.request(path);
    assert.is(r.headers.get('content-security-policy'), CSP, path);
    assert.is(r.headers.get('x-content-type-options'), 'nosniff');
    assert.is(r.headers.get('referrer-policy'), 'no-referrer');
  }
  assert.match(CSP, /script-src 'self'; style-src 'self'/);
  assert.match(CSP, /object-src 'none'; base-uri 'none'; frame-ancestors 'none'/);
}));

test('static: no pages built yet -> 503 naming the build command', () => withWeb(async (w) => {
  const { rmSync } = await import('node:fs');
  rmSync(w.ui, { recursive: true });
  const r = await w.web.app.request('/');
  assert.is(r.status, 503);
  assert.match(await r.text(), /npm run build/);
}));

test('posts from another site are refused; oversized bodies too', () => withWeb(async (w) => {
  const r = await w.web.app.request('http://dovelab.local/api/join', json({ code: w.codes['1'] }, { Origin: 'http://evil.example', Host: 'dovelab.local' }));
  assert.is(r.status, 403);
  const ok = await w.web.app.request('http://dovelab.local/api/join', json({ code: w.codes['1'] }, { Origin: 'http://dovelab.local', Host: 'dovelab.local' }));
  assert.is(ok.status, 200, 'control: the same origin joins');
  const big = await w.web.app.request('/api/join', json({ code: 'A'.repeat(10_000) }));
  assert.is(big.status, 413);
}));

test('terminalTarget: own group and shared hosts only; another group\'s key is 4403, unknown 4404', () => withWeb(async (w) => {
  assert.equal(terminalTarget(w.st, 1, 'h1'), { container: 'dovelab-g1-h1', host: 'h1', key: 'g1-h1' });
  assert.equal(terminalTarget(w.st, 2, 'h1'), { container: 'dovelab-g2-h1', host: 'h1', key: 'g2-h1' });
  assert.equal(terminalTarget(w.st, 1, 'g1-h2'), { container: 'dovelab-g1-h2', host: 'h2', key: 'g1-h2' });
  assert.equal(terminalTarget(w.st, 2, 'srv'), { container: 'dovelab-srv', host: 'srv', key: 'srv' });
  assert.is((terminalTarget(w.st, 1, 'g2-h1') as { code: number }).code, CLOSE.notYourGroup);
  assert.is((terminalTarget(w.st, 1, 'dovelab-g2-h1') as { code: number }).code, CLOSE.notYourGroup);
  for (const bad of ['h9', '', undefined, 'g9-h1', '../h1', 'appliance', '__proto__', 'g1-srv']) {
    assert.is((terminalTarget(w.st, 1, bad) as { code: number }).code, CLOSE.noSuchHost, String(bad));
  }
  // Without a WebSocket upgrade the route says what it is.
  assert.is((await w.web.app.request('/api/terminal?host=h1')).status, 400);
}));



test('controls: a group switches a listed ACL on its own h2 only; anything not listed is refused', () => withWeb(async (w) => {
  const cookie = await join1(w, 1);
  const post = (body: unknown, c = cookie) => w.web.app.request('/api/controls/acl', json(body, c ? { Cookie: c } : {}));
  const before = await (await w.web.app.request('/api/group', { headers: { Cookie: cookie } })).json() as GroupView;
  assert.equal(before.controls.acls, [{ target: 'h2.eth0', options: ['no-ping'], applied: [] }]);

  const ok = await post({ target: 'h2.eth0', acls: ['no-ping'] });
  assert.is(ok.status, 200, await ok.clone().text());
  assert.equal((await ok.json() as GroupView).controls.acls[0]!.applied, ['no-ping']);
  const st = readLabState(w.labJson)!;
  assert.equal(st.overrides?.acls, { 'g1-h2-eth0': ['no-ping'] }, 'group 1 only; group 2 untouched');
  assert.ok(w.fake.calls.includes('faucet.apply'));

  // Refused: an interface the lesson does not list, an ACL it does not list, no session, bad bodies.
  assert.is((await post({ target: 'h1.eth0', acls: ['no-ping'] })).status, 403);
  assert.is((await post({ target: 'h2.eth0', acls: ['mute'] })).status, 403);
  assert.is((await post({ target: 'constructor', acls: [] })).status, 403);
  assert.is((await post({ target: 'h2.eth0', acls: ['no-ping'] }, '')).status, 401);
  assert.is((await post({ target: 'h2.eth0', acls: 'no-ping' })).status, 400);
  assert.equal(readLabState(w.labJson)!.overrides?.acls, { 'g1-h2-eth0': ['no-ping'] }, 'nothing refused was applied');
  // Clearing is a switch too.
  assert.is((await post({ target: 'h2.eth0', acls: [] })).status, 200);
  assert.equal(readLabState(w.labJson)!.overrides?.acls, { 'g1-h2-eth0': [] });
}));

test.run();

// The web side on the real stack: a real `dovelab agent` serves it while it repairs. A student of
// group 1 joins with its code, reads its group, opens a browser terminal into h1 (Docker exec with a
// TTY) and pings h2 through OVS under Faucet; group 2's host is refused; closing the terminal kills
// the shell and what it started in the container; stopping the agent leaves the lab running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { paths } from '../../agent/config.js';
import { readLabState } from '../../agent/lab/state.js';
import type { GroupView, KioskView } from '../../agent/web/api-types.js';
import { dovelab, LESSONS } from './_cli.js';
import { cfg, docker, inHost, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

const PORT = 18080;
const BASE = `http://127.0.0.1:${PORT}`;
let agent: AgentProc;
let logs: string;
let codes: Record<string, string>;
let cookie: string;

interface Term { ws: WebSocket; out(): string; closed: Promise<{ code: number; reason: string }>; waitOut(what: string, re: RegExp, ms?: number): Promise<void> }

/** A terminal WebSocket; `withCookie` '' sends no session. */
function terminal(host: string, withCookie: string = cookie): Term {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}/api/terminal?host=${encodeURIComponent(host)}`, { headers: withCookie ? { Cookie: withCookie } : {} });
  let out = '';
  ws.on('message', (data: Buffer) => { out += data.toString(); });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  return {
    ws, out: () => out, closed,
    waitOut: (what, re, ms = 20_000) => waitFor(`terminal ${host}: ${what} (output so far: ${JSON.stringify(out.slice(-400))})`, () => re.test(out), ms, 50).then(() => {}),
  };
}
const opened = (t: Term) => new Promise<void>((resolve, reject) => { t.ws.once('open', () => resolve()); t.ws.once('error', reject); });

test.before(loud(async () => {
  await stack();
  const up = await dovelab(['up', `${LESSONS}/first-switch`, '--groups', '2']);
  assert.is(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /join codes/);
  codes = readLabState(paths(cfg).labState)!.joinCodes!;
  logs = mkdtempSync(join(tmpdir(), 'dovelab-web-test-'));
  process.env.DOVELAB_WEB_PORT = String(PORT);
  agent = startAgent(join(logs, 'agent.log'), 2);
  await agent.waitLine('the web UI to listen', /web UI on .*:18080\//, 60_000);
}));
test.after(async () => {
  await agent?.stop();
  delete process.env.DOVELAB_WEB_PORT;
  if (logs) rmSync(logs, { recursive: true, force: true });
});

test('join group 1 with its code; /api/group is group 1\'s, with a diagram and its hosts running', async () => {
  const wrong = await fetch(`${BASE}/api/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: 'ZZZZZZ' }) });
  assert.is(wrong.status, 403);
  const r = await fetch(`${BASE}/api/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: codes['1']!.toLowerCase() }) });
  assert.is(r.status, 200);
  assert.equal(await r.json(), { group: 1, lab: 'first-switch' });
  cookie = /dovelab_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')![0];
  const g = await (await fetch(`${BASE}/api/group`, { headers: { Cookie: cookie } })).json() as GroupView;
  assert.is(g.group, 1);
  assert.equal(g.hosts.map((h) => [h.name, h.running]), [['h1', true], ['h2', true], ['h3', true]]);
  assert.equal(g.hosts[0]!.interfaces[0]!.addresses, ['198.51.100.11/24']);
  assert.match(g.diagramSvg, /<svg/);
  assert.not.match(g.diagramSvg, /g2&#45;/);
  assert.match(g.readmeHtml, /<h1>/);
  assert.equal(g.tasks.map((t) => t.id), ['ping', 'mac', 'new-host']);
  const k = await (await fetch(`${BASE}/api/kiosk`)).json() as KioskView;
  assert.equal(k.lesson, { id: 'first-switch', title: 'Your first switch', groups: 2, tasks: 3 });
  assert.equal(k.alarms, [], 'a healthy lab raises no alarm');
  assert.is(k.joinUrls[0], `http://dovelab.local:${PORT}/`);
  // One JSON log line per request, without the code.
  await agent.waitLine('a request log line', /"msg":"request","method":"GET","path":"\/api\/group","status":200/, 5_000);
  assert.not.ok(agent.log().includes(codes['1']!), 'no join code in the log');
});

test('live events: the group and the kiosk arrive over SSE', async () => {
  const ac = new AbortController();
  const r = await fetch(`${BASE}/api/events`, { headers: { Cookie: cookie }, signal: ac.signal });
  const reader = r.body!.getReader();
  let text = '';
  await waitFor('a group event', async () => { const { value } = await reader.read(); text += new TextDecoder().decode(value); return /event: group\n/.test(text) && /event: kiosk\n/.test(text); }, 15_000, 0);
  ac.abort();
});

test('a terminal into h1 pings h2 through Faucet; closing it kills the shell and its jobs in the container', async () => {
  const t = terminal('h1');
  await opened(t);
  t.ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
  t.ws.send('stty size; echo "PID=$$"\r');
  await t.waitOut('its pid and size', /PID=(\d+)/);
  assert.match(t.out(), /40 120/, 'resize reached the TTY');
  const shellPid = /PID=(\d+)/.exec(t.out())![1]!;
  t.ws.send('ping -c 1 -W 2 198.51.100.12\r');
  await t.waitOut('ping to answer', /1 received/);
  console.log(`    terminal: ${t.out().split(/\r?\n/).find((l) => /1 received/.test(l))?.trim()}`);
  t.ws.send('sleep 4242 & echo "JOB=$!"\r');
  await t.waitOut('the background job', /JOB=(\d+)/);
  const jobPid = /JOB=(\d+)/.exec(t.out())![1]!;
  const alive = async (pid: string) => (await inHost('dovelab-g1-h1', ['sh', '-c', `test -d /proc/${pid} && echo yes || echo no`])).stdout.trim() === 'yes';
  assert.ok(await alive(shellPid), 'control: the shell runs in the container');
  assert.ok(await alive(jobPid), 'control: its job runs');
  t.ws.close();
  await t.closed;
  await waitFor('the shell to be gone', async () => !(await alive(shellPid)), 10_000, 100);
  await waitFor('its background sleep to be gone', async () => !(await alive(jobPid)), 10_000, 100);
  const ps = await inHost('dovelab-g1-h1', ['ps', '-eo', 'pid,args']);
  assert.not.match(ps.stdout, /sleep 4242/, ps.stdout);
});

test('group 2\'s host is refused (4403), no session is refused (4401), an unknown host 4404; group 1\'s own key opens', async () => {
  const own = terminal('g1-h1');
  await opened(own);
  own.ws.send('echo "OK-$((40+2))"\r');
  await own.waitOut('the positive control', /OK-42/);
  own.ws.close();
  const other = await terminal('g2-h1').closed;
  assert.is(other.code, 4403, JSON.stringify(other));
  assert.is((await terminal('h1', '').closed).code, 4401);
  assert.is((await terminal('nosuchhost').closed).code, 4404);
});

test('stopping the agent closes the web side gracefully and leaves the lab running', async () => {
  const t = terminal('h1');
  await opened(t);
  assert.is(await agent.stop(), 0, agent.log());
  const c = await t.closed;
  assert.is(c.code, 1001, JSON.stringify(c));
  assert.ok((await docker.getContainer('dovelab-g1-h1').inspect()).State.Running, 'the lab still runs');
  const after = await fetch(`${BASE}/api/kiosk`).then(() => 'answered', () => 'refused');
  assert.is(after, 'refused', 'the web side stopped listening');
});

test.run();

// Traffic history on the real stack (dockerd, OVS, Faucet, Gauge): known one-way UDP traffic
// between two lab hosts shows up in the stored series of both, in the right direction, within a
// tolerance of the bytes sent; a kill -9 of the agent loses nothing that was written (and the
// restarted agent carries on the same series); a reset host (its ofport used again by a new veth)
// starts a new series while the old one keeps its bytes; the series of a removed lab are still served.
// Read back through the CLI (`dovelab history … --format json`), as a person would. Gauge is first
// started under another lesson's port names, as happens after earlier tests: its labels must follow.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labReset, labUp, setAcls } from '../../agent/lab/service.js';
import { readLabState } from '../../agent/lab/state.js';
import { paths } from '../../agent/config.js';
import type { HistoryResponse } from '../../agent/web/api-types.js';
import { dovelab, LESSONS } from './_cli.js';
import { cfg, hostPidOf, inHost, pingLoss, run, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

/** 1000 datagrams of 1000 bytes: frames of 1000 + 8 (UDP) + 20 (IPv4) + 14 (Ethernet) bytes. */
const DATAGRAMS = 1000;
const FRAME = 1000 + 8 + 20 + 14;
const SENT = DATAGRAMS * FRAME;
/** Besides the test's traffic: ARP and whatever else the hosts say in the same minutes. */
const SLACK = 30_000;

let dir: string;
let env: NodeJS.ProcessEnv;
let agent: AgentProc | undefined;
let logN = 0;

interface Series { id: string; since: number; points: { t: number; dt: number; rxBps: number; txBps: number; txPps: number }[] }
/** What the store on disk has for a host of group 1: per series, bytes sent (tx) and received (rx) by the interface. */
async function stored(host: string): Promise<{ id: string; tx: number; rx: number }[]> {
  const r = await dovelab(['history', `${host}.eth0`, '--group', '1', '--lesson', 'first-switch', '--since', '1h', '--format', 'json'], env);
  if (r.code !== 0) {
    if (/no traffic history/.test(r.stderr)) return [];
    throw new Error(`dovelab history failed: ${r.stderr}`);
  }
  const body = JSON.parse(r.stdout) as { series: Series[] };
  return body.series.map((s) => ({
    id: s.id,
    tx: Math.round(s.points.reduce((sum, p) => sum + p.txBps * p.dt, 0)),
    rx: Math.round(s.points.reduce((sum, p) => sum + p.rxBps * p.dt, 0)),
  }));
}

/** h1 sends DATAGRAMS UDP datagrams to h2 (which listens, so it sends nothing back); "could not run" throws. */
async function sendUdp(): Promise<void> {
  await run(['docker', 'exec', '-d', 'dovelab-g1-h2', 'nc', '-lu', '9999']);
  const pid = await hostPidOf('dovelab-g1-h2');
  await waitFor('h2 to listen on UDP 9999', async () => (await run(['nsenter', '-t', String(pid), '-n', 'ss', '-Hlun', 'sport', '=', ':9999'])).stdout.trim().length > 0, 10_000, 50);
  const r = await run(['docker', 'exec', 'dovelab-g1-h1', 'bash', '-c',
    `for i in $(seq ${DATAGRAMS / 20}); do dd if=/dev/zero bs=1000 count=20 status=none; sleep 0.02; done > /dev/udp/198.51.100.12/9999; echo sent`], { allowFail: true });
  if (r.code !== 0 || !/sent/.test(r.stdout)) throw new Error(`could not send: ${r.stdout} ${r.stderr}`);
  await run(['docker', 'exec', 'dovelab-g1-h2', 'pkill', '-f', 'nc -lu 9999'], { allowFail: true });
}

/** waitFor, and on timeout what the agent said about history and the port labels Gauge shows (to tell a lagging Gauge from lost traffic). */
async function waitStored(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try { await waitFor(what, fn, timeoutMs, 1000); } catch (e) {
    const said = (agent?.log() ?? '').split('\n').filter((l) => /history:/.test(l)).slice(-8).join('\n      ');
    const page = await fetch(`http://127.0.0.1:${cfg.gaugePromPort}/metrics`).then((r) => r.text()).catch((x: Error) => x.message);
    const labels = [...new Set([...page.matchAll(/^of_port_rx_bytes\{[^}]*port="([^"]*)"[^}]*\} (\S+)/gm)].map((m) => `${m[1]}=${m[2]}`))].join(' ');
    throw new Error(`${(e as Error).message}\n    the agent said:\n      ${said}\n    Gauge's port labels: ${labels}`);
  }
}

let webPort = 0;
/** The running agent's API as a student of group 1 (join code from the lab on disk): h1's points, full resolution. */
async function apiSent(): Promise<{ tx: number; rx: number; points: number; dts: number[] }> {
  const code = readLabState(paths(cfg).labState)!.joinCodes!['1']!;
  const base = `http://127.0.0.1:${webPort}`;
  const j = await fetch(`${base}/api/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }), signal: AbortSignal.timeout(5000) });
  if (j.status !== 200) throw new Error(`join: ${j.status} ${await j.text()}`);
  const cookie = /dovelab_session=[^;]+/.exec(j.headers.get('set-cookie') ?? '')![0];
  const r = await fetch(`${base}/api/history?host=h1&iface=eth0&since=10m`, { headers: { Cookie: cookie }, signal: AbortSignal.timeout(5000) });
  if (r.status !== 200) throw new Error(`history: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as HistoryResponse;
  const pts = body.series.at(-1)!.points;
  return { tx: Math.round(pts.reduce((s, p) => s + p.txBps * p.dt, 0)), rx: Math.round(pts.reduce((s, p) => s + p.rxBps * p.dt, 0)), points: pts.length, dts: pts.map((p) => p.dt) };
}

async function startHistoryAgent(): Promise<AgentProc> {
  // No check rounds while the tests run (interval 600 s): acl-firewall's checks ping and fetch the
  // web page, which the ACL test counts (seen in CI: the allow rule moved during the ping).
  const a = startAgent(join(dir, `agent-${++logN}.log`), 600, env);
  await a.waitLine('the history store loaded', /history: \d+ series on disk/, 60_000);
  return a;
}

test.before(loud(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dovelab-history-itest-'));
  webPort = 20_000 + (process.pid % 10_000);
  env = { DOVELAB_HISTORY_DIR: join(dir, 'store'), DOVELAB_HISTORY_INTERVAL_S: '1', DOVELAB_HISTORY_FLUSH_S: '5', DOVELAB_WEB_PORT: String(webPort) };
  const ctx = await stack();
  // Gauge (re)started while another lesson ran, as after earlier tests: it read that lesson's port
  // names (101 g1-client-eth0, 102 g1-web-eth0). Unless it reloads with Faucet, first-switch's
  // h1 and h2 (101, 102) keep those names on its page and are never recorded.
  await labUp(ctx, join(LESSONS, 'acl-firewall'), 1);
  await run(['docker', 'restart', '-t', '1', 'dovelab-gauge']);
  await waitFor('Gauge to name acl-firewall\'s ports', async () =>
    /port="g1-client-eth0"/.test(await fetch(`http://127.0.0.1:${cfg.gaugePromPort}/metrics`).then((r) => r.text())), 60_000, 500);
  await labDown(ctx);
  await labUp(ctx, join(LESSONS, 'first-switch'), 1);
  agent = await startHistoryAgent();
}));
test.after(async () => {
  await agent?.stop();
  const ctx = await stack();
  await labDown(ctx).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('one-way UDP h1 -> h2: h1\'s tx and h2\'s rx hold the bytes sent (within ARP-sized slack); the other directions stay small', async () => {
  // Both series exist before the traffic (the first scrape of each is its baseline).
  await waitStored('series of g1-h1 and g1-h2 on disk', async () => (await stored('h1')).length === 1 && (await stored('h2')).length === 1, 60_000);
  const [h1a] = await stored('h1');
  const [h2a] = await stored('h2');
  await sendUdp();
  await waitStored(`h1's stored tx to grow by ${SENT} bytes`, async () => (await stored('h1'))[0]!.tx - h1a!.tx >= SENT, 60_000);
  await waitStored('h2\'s stored rx to grow by most of it', async () => (await stored('h2'))[0]!.rx - h2a!.rx >= SENT * 0.97, 30_000);
  const [h1] = await stored('h1');
  const [h2] = await stored('h2');
  const d = { h1tx: h1!.tx - h1a!.tx, h1rx: h1!.rx - h1a!.rx, h2tx: h2!.tx - h2a!.tx, h2rx: h2!.rx - h2a!.rx };
  console.log(`    sent ${SENT} bytes in frames; stored: ${JSON.stringify(d)}`);
  assert.ok(d.h1tx >= SENT && d.h1tx <= SENT + SLACK, `h1 tx ${d.h1tx}`);
  assert.ok(d.h2rx >= SENT * 0.97 && d.h2rx <= SENT + SLACK, `h2 rx ${d.h2rx}`);
  assert.ok(d.h1rx < SLACK, `h1 rx ${d.h1rx}: the reverse direction`);
  assert.ok(d.h2tx < SLACK, `h2 tx ${d.h2tx}: the reverse direction`);
  // The running agent serves the same from memory at full resolution, to a student of group 1.
  await waitFor('the agent\'s web API', () => fetch(`http://127.0.0.1:${webPort}/api/session`).then((r) => r.ok), 30_000, 200);
  // Each of Gauge's polls (every 5 s; the agent reads every 1 s here) is a point: within the agent's
  // first minutes more than 5 can only be full resolution (minute rollups would be 1-3). Waited for:
  // the agent has run only a few seconds by now, and a Gauge reload leaves its page empty for up to one poll.
  const api = await waitFor('more than 5 points from the agent', async () => { const a = await apiSent(); return a.points > 5 ? a : undefined; }, 90_000, 1000);
  console.log(`    GET /api/history (student, last 10 min): ${JSON.stringify({ ...api, dts: undefined })}`);
  assert.ok(api.tx >= SENT && api.tx <= SENT + SLACK, `API tx ${api.tx}`);
  assert.ok(api.rx < SLACK, `API rx ${api.rx}`);
  assert.ok(api.dts.filter((dt) => dt < 60).length > 5, `full resolution: ${api.dts.join(' ')}`);
});

test('kill -9 of the agent: what was written stays; the restarted agent carries on the same series and counts what came after', async () => {
  const [before] = await stored('h1');
  await agent!.kill9();
  agent = await startHistoryAgent();
  assert.match(agent.log(), /history: [1-9]\d* series on disk/);
  const [reloaded] = await stored('h1');
  assert.is(reloaded!.id, before!.id);
  assert.ok(reloaded!.tx >= before!.tx, `${reloaded!.tx} >= ${before!.tx}: nothing written was lost`);
  await sendUdp();
  await waitStored('the restarted agent to store the new traffic', async () => (await stored('h1'))[0]!.tx - before!.tx >= SENT, 60_000);
  const after = await stored('h1');
  assert.is(after.length, 1, 'still one series: the counters went on');
  assert.is(after[0]!.id, before!.id);
  assert.ok(after[0]!.tx - before!.tx <= SENT + SLACK, `${after[0]!.tx - before!.tx}`);
});

test('a reset host (a new veth on the same ofport) starts a new series; the old one keeps its bytes', async () => {
  const [old] = await stored('h1');
  await labReset(await stack(), 1);
  // A new veth's counters start at zero, which is no news until they move (the agent makes no
  // check rounds here, so nothing else talks): the new series starts with this traffic.
  await sendUdp();
  await waitStored('a second series of g1-h1.eth0 holding the new traffic', async () => {
    const list = await stored('h1');
    return list.length === 2 && (list.find((s) => s.id !== old!.id)?.tx ?? 0) >= SENT;
  }, 60_000);
  const list = await stored('h1');
  const kept = list.find((s) => s.id === old!.id)!;
  const fresh = list.find((s) => s.id !== old!.id)!;
  assert.ok(kept, 'the old series is still there');
  assert.ok(Math.abs(kept.tx - old!.tx) < SLACK, `old series ${kept.tx} vs ${old!.tx} before the reset`);
  assert.ok(fresh.tx >= SENT && fresh.tx <= SENT + SLACK, `new series ${fresh.tx}`);
});

test('the lab removed: its series are still served', async () => {
  const before = await stored('h2');
  assert.ok(before.length >= 1);
  await labDown(await stack());
  const after = await stored('h2');
  assert.equal(after.map((s) => s.id), before.map((s) => s.id));
  assert.ok(after[0]!.rx >= SENT, `${after[0]!.rx}`);
});

/** The stored hits of acl-firewall's web-only per rule in group 1 (packets the rule matched), from `dovelab history web-only`. */
async function ruleHits(): Promise<Map<number, number>> {
  const r = await dovelab(['history', 'web-only', '--group', '1', '--lesson', 'acl-firewall', '--since', '1h', '--format', 'json'], env);
  if (r.code !== 0) {
    if (/no traffic history/.test(r.stderr)) return new Map();
    throw new Error(`dovelab history failed: ${r.stderr}`);
  }
  const body = JSON.parse(r.stdout) as { series: (Series & { owner: { kind: string; rule: number } })[] };
  const out = new Map<number, number>();
  for (const s of body.series) {
    if (s.owner.kind !== 'acl') throw new Error(`not an ACL series: ${s.id}`);
    out.set(s.owner.rule, (out.get(s.owner.rule) ?? 0) + Math.round(s.points.reduce((sum, p) => sum + p.txPps * p.dt, 0)));
  }
  return out;
}

test('an ACL drop moves that rule\'s stored series and not the allow rule\'s (allowed traffic: the reverse); both outlive the lab', async () => {
  const ctx = await stack();
  await labUp(ctx, join(LESSONS, 'acl-firewall'), 1);
  await setAcls(ctx, 'web.eth0', ['web-only'], 1);
  await waitStored('series of web-only\'s three rules', async () => (await ruleHits()).size === 3, 60_000);
  const h0 = await ruleHits();
  // web's replies to the ping are dropped by rule 2 (web-only: allow tcp from port 80, allow ARP, drop).
  assert.is(await pingLoss('dovelab-g1-client', '198.51.100.80', 4), 100);
  await waitStored('the drop rule\'s series to count 4 replies', async () => (await ruleHits()).get(2)! - h0.get(2)! >= 4, 60_000);
  const h1 = await ruleHits();
  assert.is(h1.get(0)! - h0.get(0)!, 0, 'the allow rule did not move on the ping');
  // Positive control: the page's replies (TCP from port 80) move the allow rule, not the drop rule.
  const page = await inHost('dovelab-g1-client', ['curl', '-s', '-m', '5', 'http://198.51.100.80/']);
  assert.match(page.stdout, /Dovelab/, `the web page loads: ${page.stdout}${page.stderr}`);
  await waitStored('the allow rule\'s series to count the page', async () => (await ruleHits()).get(0)! - h1.get(0)! >= 2, 60_000);
  const h2 = await ruleHits();
  assert.is(h2.get(2)! - h1.get(2)!, 0, 'the drop rule did not move on the page');
  console.log(`    stored hits of web-only on g1-web.eth0: ${JSON.stringify([...h0])} -> ${JSON.stringify([...h1])} -> ${JSON.stringify([...h2])}`);
  await labDown(ctx);
  assert.equal(await ruleHits(), h2, 'served after the lab is gone');
});

test.run();

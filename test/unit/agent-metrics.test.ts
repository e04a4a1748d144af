// The agent's /metrics: the registry's names and values, reload kinds, sources with deadlines,
// who may scrape, and the ACL counter routes of the console and the student page (fake switch).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAgentMetrics, registerHistoryStoreBytes, reloadKind } from '../../agent/metrics/agent-metrics.js';
import { parseMetrics, pick } from '../../agent/metrics/prometheus.js';
import { labUp } from '../../agent/lab/service.js';
import { writeCheckReport } from '../../agent/lab/state.js';
import { paths } from '../../agent/config.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import type { AclHit } from '../../agent/net/faucet/acl-hits.js';
import type { AclCountersView } from '../../agent/web/api-types.js';
import { createApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { labFacts, metricsAllowed } from '../../agent/web/observe.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const NAMES = ['dovelab_lab_info', 'dovelab_lab_groups', 'dovelab_lab_hosts', 'dovelab_task_passes', 'dovelab_check_duration_seconds',
  'dovelab_reconcile_duration_seconds', 'dovelab_faucet_reloads_total', 'dovelab_terminals_open', 'dovelab_acl_rule_packets_total',
  'dovelab_acl_rule_bytes_total', 'dovelab_history_store_bytes', 'dovelab_metrics_source_up'];

test('the registry: every name, events counted, scrape-time sources read', async () => {
  const m = createAgentMetrics({ processMetrics: false });
  m.setSources({
    lab: async () => ({ lab: 'acl', lesson: 'A firewall', groups: 4, hosts: 8, taskPasses: { 'no-ping': 3, 'web-only': 0 } }),
    terminals: () => 2,
    aclHits: async () => [{ acl: 'web-only', rule: 2, port: 'g1-web-eth0', group: 1, packets: 7, bytes: 686 }],
  });
  m.reconciled(0.3, 'ok'); m.reconciled(4, 'failed');
  m.faucetApplied({ before: { warmStarts: 3, coldStarts: 1 }, after: { warmStarts: 4, coldStarts: 1 } });
  m.faucetApplied(undefined);
  m.checked('ping', 0.2, 'pass'); m.checked('acl_hits', 0.01, 'fail');
  const { text, contentType } = await m.render();
  assert.match(contentType, /text\/plain/);
  for (const n of NAMES) assert.match(text, new RegExp(`^# TYPE ${n} `, 'm'), n);
  const s = parseMetrics(text);
  const v = (name: string, labels: Record<string, string> = {}) => pick(s, name, labels).map((x) => x.value);
  assert.equal(v('dovelab_lab_info', { lab: 'acl', lesson: 'A firewall' }), [1]);
  assert.equal(v('dovelab_lab_groups'), [4]);
  assert.equal(v('dovelab_lab_hosts'), [8]);
  assert.equal(v('dovelab_task_passes', { task: 'no-ping' }), [3]);
  assert.equal(v('dovelab_terminals_open'), [2]);
  assert.equal(v('dovelab_faucet_reloads_total', { kind: 'warm' }), [1]);
  assert.equal(v('dovelab_faucet_reloads_total', { kind: 'cold' }), [0]);
  assert.equal(v('dovelab_faucet_reloads_total', { kind: 'failed' }), [1]);
  assert.equal(v('dovelab_acl_rule_packets_total', { acl: 'web-only', rule: '2', port: 'g1-web-eth0', group: '1' }), [7]);
  assert.equal(v('dovelab_acl_rule_bytes_total', { acl: 'web-only', rule: '2' }), [686]);
  assert.match(text, /dovelab_reconcile_duration_seconds_count\{outcome="ok"\} 1/);
  assert.match(text, /dovelab_reconcile_duration_seconds_bucket\{le="0.5",outcome="ok"\} 1/);
  assert.match(text, /dovelab_check_duration_seconds_count\{kind="acl_hits",status="fail"\} 1/);
  assert.equal(v('dovelab_metrics_source_up', { source: 'lab' }), [1]);
  assert.equal(v('dovelab_history_store_bytes'), [0], 'no store yet');
  registerHistoryStoreBytes(() => 12345, m);
  assert.equal(pick(parseMetrics((await m.render()).text), 'dovelab_history_store_bytes').map((x) => x.value), [12345]);
});

test('values are re-read each scrape: a lab that stops drops its labels; a hung source is marked down, not waited on', async () => {
  const m = createAgentMetrics({ processMetrics: false, sourceMs: 50 });
  let running = true;
  m.setSources({ lab: async () => (running ? { lab: 'x', lesson: 'X', groups: 2, hosts: 2, taskPasses: { t: 1 } } : undefined) });
  assert.match((await m.render()).text, /dovelab_lab_info\{lab="x"/);
  running = false;
  const text = (await m.render()).text;
  assert.not.match(text, /dovelab_lab_info\{/);
  assert.not.match(text, /dovelab_task_passes\{/);
  assert.match(text, /^dovelab_lab_groups 0$/m);
  m.setSources({ aclHits: () => new Promise(() => {}) });
  const hung = parseMetrics((await m.render()).text);
  assert.equal(pick(hung, 'dovelab_metrics_source_up', { source: 'acl_hits' }).map((x) => x.value), [0]);
  assert.equal(pick(hung, 'dovelab_metrics_source_up', { source: 'lab' }).map((x) => x.value), [1], 'control: the other source is up');
});

test('reload kind from Faucet\'s start counters', () => {
  assert.is(reloadKind({ warmStarts: 1, coldStarts: 1 }, { warmStarts: 2, coldStarts: 1 }), 'warm');
  assert.is(reloadKind({ warmStarts: 1, coldStarts: 1 }, { warmStarts: 1, coldStarts: 2 }), 'cold');
  assert.is(reloadKind({ warmStarts: 1, coldStarts: 1 }, { warmStarts: 1, coldStarts: 1 }), 'unconfirmed');
  assert.is(reloadKind(undefined, { warmStarts: 1, coldStarts: 1 }), 'unconfirmed');
});

test('who may scrape: loopback always; others only with the configured bearer token', () => {
  const token = 'a-long-enough-token-123';
  assert.ok(metricsAllowed('127.0.0.1', undefined, undefined));
  assert.ok(metricsAllowed('::1', undefined, undefined));
  assert.ok(metricsAllowed('::ffff:127.0.0.1', undefined, token));
  assert.not.ok(metricsAllowed('198.51.100.9', undefined, undefined));
  assert.not.ok(metricsAllowed('198.51.100.9', `Bearer ${token}`, undefined), 'no token configured: LAN refused');
  assert.ok(metricsAllowed('198.51.100.9', `Bearer ${token}`, token));
  assert.not.ok(metricsAllowed('198.51.100.9', `Bearer ${token}x`, token));
  assert.not.ok(metricsAllowed('198.51.100.9', token, token), 'the scheme is required');
});

test('labFacts: task passes counted per task from the check report', () => {
  const st = { lab: 'l', groups: 3, topology: { title: 'T', tasks: [{ id: 'a' }, { id: 'b' }] } } as unknown as Parameters<typeof labFacts>[0];
  const f = labFacts(st, { results: [{ task: 'a', group: 1, status: 'pass' }, { task: 'a', group: 2, status: 'pass' }, { task: 'b', group: 1, status: 'fail' }] }, 6);
  assert.equal(f, { lab: 'l', lesson: 'T', groups: 3, hosts: 6, taskPasses: { a: 2, b: 0 } });
});

const LESSON = `
dovelab: 1
id: mtest
title: Metrics test
networks: {lab: {}}
hosts:
  client: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  web: {interfaces: {eth0: {network: lab, ip: 198.51.100.80/24}}}
acls:
  web-only: [{match: {ip_proto: tcp, tcp_src: 80}, action: allow}, {action: drop}]
controls: {acls: {web.eth0: [web-only]}}
tasks:
  - {id: dropped, check: {acl_hits: {acl: web-only, rule: 1, on: web.eth0}}}
`;

test('web: /metrics from loopback and with the token; ACL counters for the console and for a group\'s own switches', async () => {
  const t = tempConfig();
  try {
    const password = 'correct horse battery';
    t.cfg.web.instructor_password_hash = await hashPassword(password);
    t.cfg.web.metrics_token = 'scrape-token-0123456789';
    const fake = new FakeWorld();
    const ctx = fake.context(t.cfg);
    let reads = 0;
    const switchHits: AclHit[] = [
      { acl: 'lesson-web-only', rule: 1, port: 'g1-web-eth0', ofport: 102, packets: 4, bytes: 392 },
      { acl: 'lesson-web-only', rule: 0, port: 'g1-web-eth0', ofport: 102, packets: 9, bytes: 900 },
      { acl: 'lesson-web-only', rule: 1, port: 'g2-web-eth0', ofport: 202, packets: 1, bytes: 98 },
      { acl: 'dovelab-allow', rule: 0, port: 'g1-client-eth0', ofport: 101, packets: 50, bytes: 5000 },
    ];
    ctx.aclHits = async () => { reads++; return switchHits; };
    const dir = join(t.dir, 'mtest'); mkdirSync(dir);
    writeFileSync(join(dir, 'lesson.yaml'), LESSON);
    const { state } = await labUp(ctx, dir, 2);
    writeCheckReport(paths(t.cfg).checks, { lab: state.lab, startedAt: state.startedAt, updated_at: new Date().toISOString(),
      results: [{ task: 'dropped', group: 1, status: 'pass', reason: '', ms: 3 }, { task: 'dropped', group: 2, status: 'fail', reason: '', ms: 3 }] });
    const metrics = createAgentMetrics({ processMetrics: false });
    const now = { t: Date.parse('2026-12-01T10:00:00Z') };
    const web = createApp({
      cfg: t.cfg, lab: ctx, now: () => now.t, secret: Buffer.alloc(32, 3), log: () => {}, uiDir: join(t.dir, 'ui'), ipv4: () => '192.0.2.10',
      faucetStatus: async () => ({ hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5, clientIp: (c) => c.req.header('x-test-ip') ?? '198.51.100.99', metrics,
    });
    const get = (p: string, h: Record<string, string> = {}) => web.app.request(`http://dovelab.local${p}`, { headers: { Host: 'dovelab.local', ...h } });
    try {
      assert.is((await get('/metrics')).status, 403, 'LAN without token');
      assert.is((await get('/metrics', { Authorization: 'Bearer wrong-token-0123456789' })).status, 403);
      const lan = await get('/metrics', { Authorization: 'Bearer scrape-token-0123456789' });
      assert.is(lan.status, 200);
      const local = await get('/metrics', { 'x-test-ip': '127.0.0.1' });
      assert.is(local.status, 200);
      const s = parseMetrics(await local.text());
      assert.equal(pick(s, 'dovelab_lab_groups').map((x) => x.value), [2]);
      assert.equal(pick(s, 'dovelab_lab_hosts').map((x) => x.value), [4]);
      assert.equal(pick(s, 'dovelab_task_passes', { task: 'dropped' }).map((x) => x.value), [1]);
      assert.equal(pick(s, 'dovelab_acl_rule_packets_total', { acl: 'web-only', rule: '1', port: 'g2-web-eth0', group: '2' }).map((x) => x.value), [1]);
      assert.equal(pick(s, 'dovelab_acl_rule_packets_total', { acl: 'dovelab-allow', group: '1' }).map((x) => x.value), [50]);

      assert.is((await get('/api/instructor/acl-counters')).status, 401, 'not logged in');
      const login = await web.app.request('http://dovelab.local/api/instructor/login', { method: 'POST', body: JSON.stringify({ password }),
        headers: { 'Content-Type': 'application/json', Origin: 'http://dovelab.local', Host: 'dovelab.local' } });
      const cookie = /dovelab_instructor=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
      const all = await (await get('/api/instructor/acl-counters', { Cookie: cookie })).json() as AclCountersView;
      assert.equal(all.counters.map((r) => `${r.group} ${r.target} ${r.acl} ${r.rule} ${r.action} ${r.packets}`),
        ['1 web.eth0 web-only 0 allow 9', '1 web.eth0 web-only 1 drop 4', '2 web.eth0 web-only 1 drop 1']);
      const before = reads;
      await get('/api/instructor/acl-counters', { Cookie: cookie });
      assert.is(reads, before, 'read again within 2 s: the cached counters');
      now.t += 2500;
      await get('/api/instructor/acl-counters', { Cookie: cookie });
      assert.is(reads, before + 1, 'after 2 s: read again');

      assert.is((await get('/api/controls/acl-counters')).status, 401, 'no session');
      const joined = await web.app.request('http://dovelab.local/api/join', { method: 'POST', body: JSON.stringify({ code: state.joinCodes!['2'] }), headers: { 'Content-Type': 'application/json' } });
      const session = /dovelab_session=[^;]+/.exec(joined.headers.get('set-cookie') ?? '')![0];
      const mine = await (await get('/api/controls/acl-counters', { Cookie: session })).json() as AclCountersView;
      assert.equal(mine.counters.map((r) => `${r.group} ${r.target} ${r.rule} ${r.packets}`), ['2 web.eth0 1 1'], 'group 2 sees its own only');

      ctx.aclHits = async () => { throw new Error('OVS is not running'); };
      now.t += 2500;
      // While a read runs, the last good counters answer (Fresh); once it failed, the error shows.
      await get('/api/instructor/acl-counters', { Cookie: cookie });
      const down = await (await get('/api/instructor/acl-counters', { Cookie: cookie })).json() as AclCountersView;
      assert.equal(down.counters, []);
      assert.match(down.error!, /OVS is not running/);
    } finally { await web.close(); }
  } finally { t.done(); }
});

test('the Grafana dashboard queries only metrics that exist: the agent\'s (from the registry), Gauge\'s and Faucet\'s', async () => {
  const file = fileURLToPath(new URL('../../../docs/grafana/dovelab.json', import.meta.url));
  const dash = JSON.parse(readFileSync(file, 'utf8')) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };
  const exprs = [...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dash.templating.list.map((v) => (v.query as { query?: string } | undefined)?.query ?? '')];
  const used = new Set(exprs.flatMap((e) => e.match(/\b(?:dovelab|of_port|faucet|dp)_[a-z_]+/g) ?? []));
  assert.ok(used.size >= 15, [...used].join(' '));
  const m = createAgentMetrics();
  const ours = new Set((await m.render()).text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!));
  const GAUGE = ['of_port_rx_bytes', 'of_port_tx_bytes', 'of_port_rx_packets', 'of_port_tx_packets', 'of_port_rx_dropped', 'of_port_tx_dropped', 'of_port_rx_errors'];
  const FAUCET = ['faucet_config_load_error', 'dp_status', 'faucet_config_reload_cold_total', 'faucet_config_reload_warm_total'];
  for (const n of used) {
    const base = n.replace(/_(bucket|count|sum)$/, '');
    assert.ok(ours.has(base) || GAUGE.includes(n) || FAUCET.includes(n), `${n} is not a metric anyone exports`);
  }
  assert.ok([...used].some((n) => n.startsWith('dovelab_acl_rule')) && [...used].some((n) => n.startsWith('of_port')), 'ACL and port panels');
});

test.run();

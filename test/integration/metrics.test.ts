// The real agent's GET /metrics after a lesson is up: the agent's names with the lab's values,
// a reconcile and a warm Faucet reload counted, the ACL rule counters of the switch; Faucet's and
// Gauge's pages through the agent. Refused without the token from elsewhere (positive control: loopback).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labUp } from '../../agent/lab/service.js';
import { parseMetrics, pick } from '../../agent/metrics/prometheus.js';
import { pingLoss, stack, startAgent, waitFor } from './_stack.js';

const LESSON = fileURLToPath(new URL('../../../lessons/acl-firewall', import.meta.url));
const PORT = 18093;

test('/metrics of the running agent names the lab, its checks, reconciles, Faucet reloads and ACL hits', async () => {
  const ctx = await stack();
  await labUp(ctx, LESSON, 2);
  const logs = mkdtempSync(join(tmpdir(), 'dovelab-metrics-'));
  const agent = startAgent(join(logs, 'agent.log'), 2, { DOVELAB_WEB_PORT: String(PORT) });
  try {
    await agent.waitLine('its web UI', /web UI on /, 60_000);
    await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
    // Group 1 switches web-only on from its page: the agent's reconcile and a warm Faucet reload.
    const codes = (await import('../../agent/lab/state.js')).readLabState((await import('../../agent/config.js')).paths(ctx.cfg).labState)!.joinCodes!;
    const joined = await fetch(`http://127.0.0.1:${PORT}/api/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: codes['1'] }) });
    assert.is(joined.status, 200);
    const session = /dovelab_session=[^;]+/.exec(joined.headers.get('set-cookie') ?? '')![0];
    const sw = await fetch(`http://127.0.0.1:${PORT}/api/controls/acl`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: session },
      body: JSON.stringify({ target: 'web.eth0', acls: ['web-only'] }), signal: AbortSignal.timeout(60_000) });
    assert.is(sw.status, 200, await sw.clone().text());
    assert.is(await pingLoss('dovelab-g1-client', '198.51.100.80', 3), 100);
    const scrape = async () => {
      const r = await fetch(`http://127.0.0.1:${PORT}/metrics`, { signal: AbortSignal.timeout(10_000) });
      assert.is(r.status, 200);
      return r.text();
    };
    // Histograms: parse-prometheus-text-format keeps no plain _count samples; read those lines.
    const countOf = (text: string, name: string, labels = '') => text.split('\n')
      .filter((l) => l.startsWith(`${name}_count{`) && l.includes(labels)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    let last = '';
    const got = await waitFor('checks, the task pass and ACL hits in /metrics', async () => {
      const text = await scrape();
      const s = parseMetrics(text);
      const passes = pick(s, 'dovelab_task_passes', { task: 'drop-counted' })[0]?.value ?? 0;
      const drop = pick(s, 'dovelab_acl_rule_packets_total', { acl: 'web-only', rule: '2', port: 'g1-web-eth0', group: '1' })[0]?.value ?? 0;
      const checked = countOf(text, 'dovelab_check_duration_seconds');
      last = `drop ${drop}, checks timed ${checked}, drop-counted passes ${passes}`;
      return drop >= 3 && checked > 0 && passes >= 1 ? { text, s } : undefined;
    }, 60_000, 500).catch((e: Error) => { throw new Error(`${e.message}; last seen: ${last}`); });
    for (const n of ['dovelab_lab_info', 'dovelab_lab_groups', 'dovelab_lab_hosts', 'dovelab_task_passes', 'dovelab_check_duration_seconds',
      'dovelab_reconcile_duration_seconds', 'dovelab_faucet_reloads_total', 'dovelab_terminals_open', 'dovelab_acl_rule_packets_total',
      'dovelab_acl_rule_bytes_total', 'dovelab_history_store_bytes', 'dovelab_agent_process_resident_memory_bytes']) {
      assert.match(got.text, new RegExp(`^# TYPE ${n} `, 'm'), n);
    }
    const v = (name: string, labels: Record<string, string> = {}) => pick(got.s, name, labels).map((x) => x.value);
    assert.equal(v('dovelab_lab_info', { lab: 'acl-firewall' }), [1]);
    assert.equal(v('dovelab_lab_groups'), [2]);
    assert.equal(v('dovelab_lab_hosts'), [4]);
    assert.equal(v('dovelab_task_passes', { task: 'drop-counted' }), [1], 'group 1 only');
    assert.equal(v('dovelab_faucet_reloads_total', { kind: 'warm' }), [1], 'the switch of web-only: one warm reload');
    assert.equal(v('dovelab_faucet_reloads_total', { kind: 'cold' }), [0]);
    assert.ok(countOf(got.text, 'dovelab_reconcile_duration_seconds', 'outcome="ok"') >= 2, 'the start repair and the switch were timed');
    assert.ok(countOf(got.text, 'dovelab_check_duration_seconds', 'kind="acl_hits"') >= 1, 'the acl_hits check was timed');
    // Every rule of the ACL is a series (the allow rule moves too: the agent's own web-only check
    // fetches the page every round; the drop/allow split is asserted in acl-counters.test.ts).
    assert.equal(pick(got.s, 'dovelab_acl_rule_packets_total', { acl: 'web-only', port: 'g1-web-eth0' }).map((x) => x.labels.rule).sort(), ['0', '1', '2']);
    assert.equal(v('dovelab_metrics_source_up', { source: 'acl_hits' }), [1]);
    console.log(`    /metrics: ${got.text.length} bytes; web-only drop rule on g1-web-eth0: ${v('dovelab_acl_rule_packets_total', { acl: 'web-only', rule: '2', port: 'g1-web-eth0' })} packets; `
      + `checks timed: ${countOf(got.text, 'dovelab_check_duration_seconds')}; reloads: ${JSON.stringify(pick(got.s, 'dovelab_faucet_reloads_total').map((x) => [x.labels.kind, x.value]))}`);
    // Gauge reloads with Faucet (the ACL switch above) and its page has no ports until its next poll (1-5 s).
    for (const [page, name] of [['faucet', 'faucet_config_hash_info'], ['gauge', 'of_port_rx_packets']]) {
      await waitFor(`/metrics/${page} passed on with ${name}`, async () => {
        const r = await fetch(`http://127.0.0.1:${PORT}/metrics/${page}`, { signal: AbortSignal.timeout(10_000) });
        assert.is(r.status, 200, page);
        return new RegExp(`^${name}\\{`, 'm').test(await r.text());
      }, 20_000, 500);
    }
  } finally {
    await agent.stop();
    await labDown(ctx).catch(() => {});
  }
});

test.run();

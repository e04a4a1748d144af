// The agent on its own: it repairs drift nobody told it about, and it survives a dockerd restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INFRA } from '../../agent/config.js';
import { ensureDockerd } from '../../agent/docker/engine.js';
import { desiredOf, labUp } from '../../agent/lab/service.js';
import type { DesiredState } from '../../agent/lab/desired.js';
import { cfg, CLI, docker, pingLoss, pingOk, run, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

const LESSON = fileURLToPath(new URL('../../../test/fixtures/engine', import.meta.url));
let d: DesiredState;
let logs: string;

const labIds = async () => Object.fromEntries((await docker.listContainers({ all: true, filters: { label: ['dovelab.lab'] } }))
  .map((c) => [c.Names[0]!.replace(/^\//, ''), c.Id]).sort());
const infraIds = async () => Object.fromEntries(await Promise.all(Object.values(INFRA).map(async (n) => [n, (await docker.getContainer(n).inspect()).Id])));
const ovsPorts = async () => Object.fromEntries((await (await stack()).ovs.ports(cfg.bridge)).map((p) => [p.name, p.ofport]).sort());
/** The agent's log after the n-th character (what it wrote since then). */
const since = (a: AgentProc, n: number) => a.log().slice(n);

test.before(loud(async () => {
  const ctx = await stack();
  d = desiredOf(cfg, (await labUp(ctx, LESSON, 2)).state);
  logs = mkdtempSync(join(tmpdir(), 'dovelab-agent-test-'));
}));
test.after(() => { rmSync(logs, { recursive: true, force: true }); });

test('a lab port deleted from OVS behind the agent\'s back: the agent re-adds it, traffic resumes, nothing else touched', async () => {
  const port = d.ports.find((p) => p.faucetName === 'g1-h2-eth0')!;
  const agent = startAgent(join(logs, 'port.log'), 2);
  try {
    await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0, 'control: the port works before');
    const ids = await labIds();
    const before = await ovsPorts();
    assert.is(before[port.hostEnd], port.ofport);
    const mark = agent.log().length;
    await run(['docker', 'exec', INFRA.ovs, 'ovs-vsctl', 'del-port', cfg.bridge, port.hostEnd]);
    assert.not.ok(port.hostEnd in (await ovsPorts()), 'the port is gone from OVS');
    // No Docker event tells the agent: its interval repair finds the drift.
    const line = await waitFor('the agent to log a repair with a change', () =>
      since(agent, mark).split('\n').find((l) => /repair done \(.*\): [1-9]\d* change\(s\)/.test(l)), 30_000, 100);
    assert.match(since(agent, mark), new RegExp(`attach dovelab-g1-h2:eth0 -> ${port.hostEnd} \\(ofport ${port.ofport}`), line);
    assert.not.match(since(agent, mark), /create-host|remove-host|attach dovelab-(g2|g1-h1|g1-h3|pc)/, since(agent, mark));
    await waitFor('every port back on its ofport', async () => JSON.stringify(await ovsPorts()) === JSON.stringify(before), 10_000, 100);
    await waitFor('g1-h1 to ping g1-h2 through the repaired port', () => pingOk('dovelab-g1-h1', '198.51.100.12'), 30_000, 0);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
    assert.equal(await labIds(), ids, 'no container recreated');
    assert.is(await agent.stop(), 0);
  } finally { await agent.stop(); }
});

test('the agent\'s Docker event stream survives a dockerd restart; the lab hosts that died are recreated', async () => {
  const agent = startAgent(join(logs, 'dockerd.log'), 5);
  try {
    await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0, 'control: traffic before');
    const lab = await labIds();
    const infra = await infraIds();
    const pid = (await run(['pidof', 'dockerd'])).stdout.trim().split(/\s+/)[0]!;
    assert.match(pid, /^\d+$/, 'dockerd runs');
    const mark = agent.log().length;
    try {
      process.kill(Number(pid), 'SIGTERM');
      await waitFor(`dockerd ${pid} to exit`, async () => (await run(['kill', '-0', pid], { allowFail: true })).code !== 0, 90_000, 200);
      await agent.waitLine('the event stream to notice', /docker events: (stream|cannot connect)/, 30_000);
    } finally {
      // Whatever happened above, dockerd runs again afterwards.
      const r = await run([process.execPath, CLI, 'engine', 'start'], { allowFail: true, timeoutMs: 120_000 });
      assert.is(r.code, 0, r.stdout + r.stderr);
    }
    await waitFor('the agent to log "docker events: reconnected"', () => /docker events: reconnected/.test(since(agent, mark)), 30_000, 100);
    // Lab hosts (restart policy no) died with dockerd; the infra containers (unless-stopped) came back.
    await waitFor('g1-h1 to ping g1-h2 again', () => pingOk('dovelab-g1-h1', '198.51.100.12').catch(() => false), 120_000, 500);
    await waitFor('g2-h1 to ping g2-h2 again', () => pingOk('dovelab-g2-h1', '198.51.100.12').catch(() => false), 60_000, 500);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
    // The repair that made them logs when all of it is done (startups run after the network is up).
    await waitFor('the agent to log the repair that recreated them', () => /repair done \(.*\): [1-9]\d* change\(s\)/.test(since(agent, mark)), 60_000, 100);
    const after = await labIds();
    assert.equal(Object.keys(after), Object.keys(lab), 'the same lab hosts');
    for (const [name, id] of Object.entries(after)) assert.is.not(id, lab[name], `${name} was recreated`);
    for (const c of Object.keys(after)) assert.ok((await docker.getContainer(c).inspect()).State.Running, `${c} runs`);
    assert.equal(await infraIds(), infra, 'the infra containers restarted, not recreated');
    assert.is(await agent.stop(), 0);
  } finally {
    await agent.stop();
    await ensureDockerd(docker, cfg.logDir).catch(() => {});
  }
});

test.run();

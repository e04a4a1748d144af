// The network driver across restarts (Dovesnap lost connectivity here): the agent killed with -9
// while a 10/s ping runs between two containers of a dovelab network (the ping loses nothing; the
// agent comes back and a new container joins), then dockerd restarted under containers with
// `--restart always` (they come back on the network and reach each other again), and the boot
// order: dockerd started while no agent runs gives up on the driver's containers; the agent starts them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { ensureDockerd } from '../../agent/docker/engine.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { CLI, cfg, docker as dockerApi, run, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const containers = ['rs-a', 'rs-b', 'rs-c'];

const docker = (args: string[]) => run(['docker', ...args], { allowFail: true, timeoutMs: 120_000 });
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
async function runOn(name: string, ip: string, restart = 'no') {
  const r = await docker(['run', '-d', '--name', name, '--restart', restart, '--network', 'rs-net', '--ip', ip, IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
}
const driverUp = (a: AgentProc) => a.waitLine('the network driver', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
/** SIGTERM to dockerd, then `dovelab engine start` (which waits until it answers). */
async function restartDockerd() {
  const pid = (await run(['pidof', 'dockerd'])).stdout.trim().split(/\s+/)[0]!;
  try {
    process.kill(Number(pid), 'SIGTERM');
    await waitFor(`dockerd ${pid} to exit`, async () => (await run(['kill', '-0', pid], { allowFail: true })).code !== 0, 90_000, 200);
  } finally {
    const r = await run([process.execPath, CLI, 'engine', 'start'], { allowFail: true, timeoutMs: 180_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
  }
}

test.before(loud(async () => {
  await stack();
  dir = mkdtempSync(join(tmpdir(), 'dovelab-driver-restart-'));
  agent = startAgent(join(dir, 'agent-1.log'), 5);
  await driverUp(agent);
  const r = await docker(['network', 'create', '-d', 'dovelab', '--internal', '--subnet', '198.51.100.0/24', '-o', 'dovelab.vlan=150', 'rs-net']);
  assert.is(r.code, 0, r.stderr);
}));

test.after(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  await docker(['network', 'rm', 'rs-net']);
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('agent kill -9 during a 10/s ping: no packet lost; the restarted agent lets a new container join', async () => {
  await runOn('rs-a', '198.51.100.31');
  await runOn('rs-b', '198.51.100.32');
  // 100 pings at 10/s (10 s) from a to b, while the agent dies and comes back.
  const ping = new Promise<string>((resolve) => {
    const p = spawn('docker', ['exec', 'rs-a', 'ping', '-i', '0.1', '-c', '100', '-W', '1', '198.51.100.32']);
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('close', () => resolve(out));
  });
  await waitFor('the ping to be under way', async () => (await exec('rs-a', ['pidof', 'ping'])).code === 0, 10_000, 100);
  await agent.kill9();
  agent = startAgent(join(dir, 'agent-2.log'), 5);
  await driverUp(agent);
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
  const out = await ping;
  assert.match(out, /100 packets transmitted, 100 received/, out.split('\n').slice(-3).join('\n'));
  // The new agent serves the driver: a container started now joins and reaches the others.
  await runOn('rs-c', '198.51.100.33');
  assert.is((await exec('rs-c', ['ping', '-c', '2', '-W', '1', '198.51.100.31'])).code, 0);
});

test('dockerd restarts under `--restart always` containers: they come back on the network and reach each other', async () => {
  for (const c of ['rs-a', 'rs-b', 'rs-c']) await docker(['rm', '-f', c]);
  await runOn('rs-a', '198.51.100.31', 'always');
  await runOn('rs-b', '198.51.100.32', 'always');
  assert.is((await exec('rs-a', ['ping', '-c', '1', '-W', '1', '198.51.100.32'])).code, 0, 'control: before the restart');
  await restartDockerd();
  await waitFor('rs-a and rs-b to run again', async () => {
    const st = await Promise.all(['rs-a', 'rs-b'].map(async (c) => (await dockerApi.getContainer(c).inspect()).State.Running));
    return st.every(Boolean) || undefined;
  }, 120_000, 500);
  await waitFor('rs-a to reach rs-b again', async () => (await exec('rs-a', ['ping', '-c', '1', '-W', '1', '198.51.100.32'])).code === 0 || undefined, 120_000, 500)
    .catch((e: Error) => { throw new Error(`${e.message}\nagent log:\n${agent.log().split('\n').slice(-40).join('\n')}`); });
  // The endpoints of before the restart are gone from the state (Docker deleted them, or the agent
  // forgot them when their veths went with the old sandboxes): just the two of now, joined.
  let eps = readNetworkState(paths(cfg).networks).endpoints;
  await waitFor('only the two new endpoints in networks.json', () => {
    eps = readNetworkState(paths(cfg).networks).endpoints;
    return (eps.length === 2 && eps.every((e) => e.joined)) || undefined;
  }, 60_000, 500).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(eps.map((x) => [x.id.slice(0, 12), x.joined, x.hostEnd]))}\n${agent.log().split('\n').slice(-15).join('\n')}`); });
  await ensureDockerd(dockerApi, cfg.logDir).catch(() => {});
});

test('boot order: dockerd starts while no agent runs; the agent then starts the `--restart always` / `unless-stopped` containers dockerd gave up on, not one a person stopped', async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  await runOn('rs-a', '198.51.100.31', 'always');
  await runOn('rs-b', '198.51.100.32', 'unless-stopped');
  await runOn('rs-c', '198.51.100.33', 'unless-stopped');
  assert.is((await docker(['stop', '-t', '1', 'rs-c'])).code, 0, 'stopped by hand');
  assert.is(await agent.stop(), 0, 'the agent stops');
  await restartDockerd();
  // What a boot does without the driver: dockerd waited for it, then gave up on both.
  for (const c of ['rs-a', 'rs-b']) {
    const st = (await dockerApi.getContainer(c).inspect()).State;
    assert.is(st.Running, false, `${c} is not running before the agent starts`);
    assert.match(st.Error, /plugin "dovelab" not found/, `${c}: ${st.Error}`);
  }
  agent = startAgent(join(dir, 'agent-3.log'), 5);
  await driverUp(agent);
  await waitFor('rs-a and rs-b started by the agent', async () => {
    const st = await Promise.all(['rs-a', 'rs-b'].map(async (c) => (await dockerApi.getContainer(c).inspect()).State.Running));
    return st.every(Boolean) || undefined;
  }, 120_000, 500).catch((e: Error) => { throw new Error(`${e.message}\nagent log:\n${agent.log().split('\n').slice(-30).join('\n')}`); });
  await waitFor('rs-a to reach rs-b', async () => (await exec('rs-a', ['ping', '-c', '1', '-W', '1', '198.51.100.32'])).code === 0 || undefined, 60_000, 500);
  assert.match(agent.log(), /network driver: started rs-a/);
  // rs-c was stopped by a person: it stays stopped (rs-a and rs-b above show the agent did look).
  assert.is((await dockerApi.getContainer('rs-c').inspect()).State.Running, false, 'rs-c stays stopped');
  assert.not.match(agent.log(), /network driver: started rs-c/);
});

test.run();

// A student's loop must not stop the class: group 1 bridges two interfaces of one host onto the
// same network (a Linux bridge, STP off) and starts a broadcast storm; group 2 keeps pinging at
// 10/s, Faucet keeps its datapath, the agent keeps answering. Figures (storm rate, group 2's
// replies before and during) are printed for the report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredOf, labDown, labUp } from '../../agent/lab/service.js';
import { faucetIo } from '../../agent/net/faucet/docker-io.js';
import { faucetStatus } from '../../agent/net/faucet/status.js';
import { limitHostEnd } from '../../agent/net/links.js';
import { cfg, docker, inHost, inNetnsOf, pingLoss, pingOk, run, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

const LESSON = `
dovelab: 1
networks: {lan: {}}
hosts:
  h1: {interfaces: {eth0: {network: lan, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lan, ip: 198.51.100.12/24}}}
  br: {interfaces: {eth0: {network: lan}, eth1: {network: lan}}}
`;
const PINGS = 50;
const SEEDS = 50;
/**
 * The storm limit for this test, Mbit/s: low, so that its bound (frames/s of 60-byte frames on
 * g1-br's two ports) is well below what the loop reaches without it here (12-30 k frames/s).
 */
const LIMIT = 1;
const ceiling = 2 * (LIMIT * 1e6 / 8 / 60) * 1.5;
let dir: string;
let agent: AgentProc;
let brPorts: string[] = [];

const rxPackets = (hostEnd: string) => Number(readFileSync(`/sys/class/net/${hostEnd}/statistics/rx_packets`, 'utf8'));
const stormRx = () => brPorts.reduce((n, p) => n + rxPackets(p), 0);

/** Group 2's 10/s ping: replies of PINGS. */
const group2Replies = async () => PINGS - Math.round((await pingLoss('dovelab-g2-h1', '198.51.100.12', PINGS, '0.1')) * PINGS / 100);

/** Faucet still has the datapath (dp_status 1) and the agent's API answers. */
async function classAlive(): Promise<void> {
  const st = faucetStatus(await faucetIo(docker, cfg).metrics());
  assert.is(st.dpUp[cfg.bridge], true, 'Faucet dp_status 1');
  const r = await fetch(`http://127.0.0.1:${cfg.web.port}/api/session`, { signal: AbortSignal.timeout(5000) });
  assert.is(r.status, 200, 'the agent\'s API answers');
}

async function loopOn(): Promise<void> {
  const r = await inHost('dovelab-g1-br', ['sh', '-c', 'ip link add br0 type bridge stp_state 0 && ip link set eth0 master br0 && ip link set eth1 master br0 && ip link set br0 up']);
  assert.is(r.code, 0, `could not make the loop: ${r.stderr}`);
  // Each broadcast sent into the loop circulates for ever: SEEDS of them from g1-h1 (raw frames,
  // EtherType 0x88b5), as a class's ARP, DHCP and IPv6 chatter would add them over a few minutes.
  const py = `import socket\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(('eth0',0))\nfor i in range(${SEEDS}): s.send(bytes.fromhex('ffffffffffff0e0000000001' + '88b5') + i.to_bytes(2,'big') + bytes(44))`;
  const r2 = await run([...await inNetnsOf('dovelab-g1-h1'), 'python3', '-c', py], { allowFail: true });
  assert.is(r2.code, 0, `could not send the broadcasts: ${r2.stderr}`);
}

async function loopOff(): Promise<void> {
  await inHost('dovelab-g1-br', ['ip', 'link', 'del', 'br0']);
}

test.before(loud(async () => {
  const ctx = await stack();
  dir = mkdtempSync(join(tmpdir(), 'dovelab-loop-'));
  writeFileSync(join(dir, 'lesson.yaml'), LESSON);
  const { state } = await labUp({ ...ctx, cfg: { ...cfg, stormLimitMbit: LIMIT } }, dir, 2);
  brPorts = desiredOf(cfg, state).ports.filter((p) => p.group === 1 && p.host === 'br').map((p) => p.hostEnd);
  assert.is(brPorts.length, 2, 'g1-br has two ports');
  agent = startAgent(join(dir, 'agent.log'), 30);
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
}));

/** Storm rate (frames/s g1-br sends) and group 2's replies while group 2 pings. */
async function measure(): Promise<{ rate: number; replies: number }> {
  const rx0 = stormRx(); const t0 = Date.now();
  const replies = await group2Replies();
  return { rate: Math.round((stormRx() - rx0) / ((Date.now() - t0) / 1000)), replies };
}

test('group 1 storms its own network; group 2 keeps pinging, Faucet and the agent keep working', async () => {
  await classAlive();
  const control = await group2Replies();
  assert.ok(control >= PINGS - 1, `control: group 2 gets its replies before the storm (${control}/${PINGS})`);
  const tbf = await run(['tc', 'qdisc', 'show', 'dev', brPorts[0]!]);
  assert.match(tbf.stdout, /tbf .*rate 1Mbit/, `the storm limit is on the host end: ${tbf.stdout}`);
  try {
    // First without the limit (the loop is real and fast), then with it, during the same storm.
    for (const p of brPorts) await run(['tc', 'qdisc', 'del', 'dev', p, 'root']);
    await loopOn();
    const free = await measure();
    console.log(`    storm without a limit: ${free.rate} frames/s from g1-br; group 2: ${free.replies}/${PINGS} replies (control ${control}/${PINGS})`);
    assert.ok(free.rate > ceiling, `the loop storms faster than the limit's bound (${free.rate} frames/s, bound ${Math.round(ceiling)}): otherwise this test proves nothing`);
    await classAlive();
    for (const p of brPorts) await limitHostEnd(p, LIMIT);
    const limited = await measure();
    console.log(`    storm limited to ${LIMIT} Mbit/s per port: ${limited.rate} frames/s from g1-br; group 2: ${limited.replies}/${PINGS} replies`);
    assert.ok(limited.rate < ceiling, `the limit bounds the storm (${limited.rate} frames/s, bound ${Math.round(ceiling)})`);
    await classAlive();
    assert.ok(limited.replies >= PINGS * 0.9, `group 2 keeps at least 90% of its replies during the storm (${limited.replies}/${PINGS})`);
  } finally {
    await loopOff();
    for (const p of brPorts) await limitHostEnd(p, LIMIT);
  }
  assert.ok(await waitFor('group 1 to ping again once the loop is gone', () => pingOk('dovelab-g1-h1', '198.51.100.12'), 20_000, 0));
});

test.after(async () => {
  await agent?.stop();
  await labDown(await stack());
  rmSync(dir, { recursive: true, force: true });
});

test.run();

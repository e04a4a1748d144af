// Containers on a Docker network of ours in the traffic history, on the real stack (dockerd, OVS,
// Faucet, Gauge, the agent's store): one `docker run --network` container sends known one-way UDP
// (about 100 kB/s for a few seconds) to another; the stored series of both, keyed by the network's
// and the containers' names, hold those bytes in the right direction; a third container on the
// same network that says nothing is the control (its series stays near zero). Read back through
// the CLI (`dovelab history <container> --format json`), as a person would.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dovelab } from './_cli.js';
import { cfg, hostPidOf, run, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';
import { dockerCli, driverAgent, driverCleanup } from './_driver.js';

/** 500 datagrams of 1000 bytes, 20 every 0.2 s (about 100 kB/s for about 5 s). */
const DATAGRAMS = 500;
const FRAME = 1000 + 8 + 20 + 14;
const SENT = DATAGRAMS * FRAME;
/** Besides the test's traffic: ARP and whatever else the containers say in the same minutes. */
const SLACK = 30_000;

const IMAGE = cfg.images.labhost;
const NET = 'dl-history';
const SENDER = 'dlh-send';
const RECEIVER = 'dlh-recv';
const QUIET = 'dlh-quiet';
const IP = { [SENDER]: '10.199.75.41', [RECEIVER]: '10.199.75.42', [QUIET]: '10.199.75.43' } as const;

let dir: string;
let env: NodeJS.ProcessEnv;
let agent: AgentProc | undefined;
const made = { networks: new Set<string>(), containers: new Set<string>() };
const docker = (args: string[]) => dockerCli(args);

interface Series { id: string; label: string; owner: { kind: string; network?: string; container?: string; iface?: string }; points: { dt: number; rxBps: number; txBps: number }[] }
/** The store on disk, through the CLI: per series of `container`, its owner and bytes sent (tx) and received (rx). */
async function stored(container: string): Promise<{ id: string; owner: Series['owner']; tx: number; rx: number }[]> {
  const r = await dovelab(['history', container, '--since', '1h', '--format', 'json'], env);
  if (r.code !== 0) {
    if (/no traffic history/.test(r.stderr)) return [];
    throw new Error(`dovelab history failed: ${r.stderr}`);
  }
  const body = JSON.parse(r.stdout) as { series: Series[] };
  return body.series.map((s) => ({
    id: s.id, owner: s.owner,
    tx: Math.round(s.points.reduce((sum, p) => sum + p.txBps * p.dt, 0)),
    rx: Math.round(s.points.reduce((sum, p) => sum + p.rxBps * p.dt, 0)),
  }));
}

/** waitFor, and on timeout what the agent said about history and the port labels Gauge shows. */
async function waitStored(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try { await waitFor(what, fn, timeoutMs, 1000); } catch (e) {
    const said = (agent?.log() ?? '').split('\n').filter((l) => /history:|network driver|spare/.test(l)).slice(-12).join('\n      ');
    const page = await fetch(`http://127.0.0.1:${cfg.gaugePromPort}/metrics`).then((r) => r.text()).catch((x: Error) => x.message);
    const labels = [...new Set([...page.matchAll(/^of_port_rx_bytes\{[^}]*port="([^"]*)"[^}]*\} (\S+)/gm)].map((m) => `${m[1]}=${m[2]}`))].join(' ');
    const list = await dovelab(['history', '--format', 'json'], env);
    throw new Error(`${(e as Error).message}\n    the agent said:\n      ${said}\n    Gauge's port labels: ${labels}\n    series: ${list.stdout.slice(0, 2000)}`);
  }
}

async function container(name: keyof typeof IP): Promise<void> {
  const r = await docker(['run', '-d', '--name', name, '--network', NET, '--ip', IP[name], IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
  made.containers.add(name);
}

/** SENDER sends DATAGRAMS UDP datagrams to RECEIVER (which listens, so it sends nothing back); "could not run" throws. */
async function sendUdp(): Promise<void> {
  await docker(['exec', '-d', RECEIVER, 'nc', '-lu', '9999']);
  const pid = await hostPidOf(RECEIVER);
  await waitFor('the receiver to listen on UDP 9999', async () => (await run(['nsenter', '-t', String(pid), '-n', 'ss', '-Hlun', 'sport', '=', ':9999'])).stdout.trim().length > 0, 10_000, 50);
  const r = await docker(['exec', SENDER, 'bash', '-c',
    `for i in $(seq ${DATAGRAMS / 20}); do dd if=/dev/zero bs=1000 count=20 status=none; sleep 0.2; done > /dev/udp/${IP[RECEIVER]}/9999; echo sent`]);
  if (r.code !== 0 || !/sent/.test(r.stdout)) throw new Error(`could not send: ${r.stdout} ${r.stderr}`);
  await docker(['exec', RECEIVER, 'pkill', '-f', 'nc -lu 9999']);
}

test.before(loud(async () => {
  // No check rounds (interval 600 s): nothing but the test's traffic.
  ({ agent, dir } = await driverAgent('dovelab-driver-history-', 600, (d) => (env = { DOVELAB_HISTORY_DIR: join(d, 'store'), DOVELAB_HISTORY_INTERVAL_S: '1', DOVELAB_HISTORY_FLUSH_S: '5', DOVELAB_WEB_PORT: String(20_000 + (process.pid % 10_000)) })));
  await agent.waitLine('the history store loaded', /history: \d+ series on disk/, 60_000);
}));

test.after(() => driverCleanup(made, agent, dir));

test('UDP between two containers on a dovelab network: the sender\'s tx and the receiver\'s rx hold the bytes, keyed by network and container; a quiet container stays near zero', async () => {
  const r = await docker(['network', 'create', '-d', 'dovelab', '--internal', '--subnet', '10.199.75.0/24', '-o', 'dovelab.vlan=140', NET]);
  assert.is(r.code, 0, r.stderr);
  made.networks.add(NET);
  for (const c of [SENDER, RECEIVER, QUIET] as const) await container(c);
  // Every container's series exists before the traffic (its first scrape is its baseline): the
  // containers' first words (ARP) move the counters the store waits for, so each says one thing.
  for (const c of [SENDER, RECEIVER, QUIET]) await docker(['exec', c, 'ping', '-c', '1', '-W', '2', IP[SENDER === c ? RECEIVER : SENDER]]);
  await waitStored('a series of each container on disk', async () => {
    const all = await Promise.all([SENDER, RECEIVER, QUIET].map(stored));
    return all.every((s) => s.length === 1);
  }, 90_000);
  const [s0] = await stored(SENDER);
  const [r0] = await stored(RECEIVER);
  const [q0] = await stored(QUIET);
  // Keyed by the names a person knows: the network's and the container's, and the interface.
  for (const [s, name] of [[s0, SENDER], [r0, RECEIVER], [q0, QUIET]] as const) {
    assert.equal(s!.owner, { kind: 'container', network: NET, container: name, iface: 'eth0' }, `${name}'s series: ${JSON.stringify(s)}`);
    assert.ok(s!.id.startsWith(`container/${NET}/${name}/eth0@`), s!.id);
  }
  await sendUdp();
  await waitStored(`the sender's stored tx to grow by ${SENT} bytes`, async () => (await stored(SENDER))[0]!.tx - s0!.tx >= SENT, 90_000);
  await waitStored('the receiver\'s stored rx to grow by most of it', async () => (await stored(RECEIVER))[0]!.rx - r0!.rx >= SENT * 0.97, 30_000);
  const [s1] = await stored(SENDER);
  const [r1] = await stored(RECEIVER);
  const [q1] = await stored(QUIET);
  const d = { sendTx: s1!.tx - s0!.tx, sendRx: s1!.rx - s0!.rx, recvTx: r1!.tx - r0!.tx, recvRx: r1!.rx - r0!.rx, quietTx: q1!.tx - q0!.tx, quietRx: q1!.rx - q0!.rx };
  console.log(`    sent ${SENT} bytes in frames; stored: ${JSON.stringify(d)}`);
  assert.ok(d.sendTx >= SENT && d.sendTx <= SENT + SLACK, `sender tx ${d.sendTx}`);
  assert.ok(d.recvRx >= SENT * 0.97 && d.recvRx <= SENT + SLACK, `receiver rx ${d.recvRx}`);
  assert.ok(d.sendRx < SLACK, `sender rx ${d.sendRx}: the reverse direction`);
  assert.ok(d.recvTx < SLACK, `receiver tx ${d.recvTx}: the reverse direction`);
  // The control: on the same network and VLAN, it neither sent nor got the flow (unicast, learnt).
  assert.ok(d.quietTx < SLACK && d.quietRx < SLACK, `quiet container: tx ${d.quietTx}, rx ${d.quietRx}`);
  assert.is((await stored(SENDER)).length, 1, 'one series per container: the counters went on');
});

test.run();

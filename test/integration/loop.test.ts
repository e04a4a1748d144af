// A student's loop must not stop the class. Group 1's host `br` bridges its two interfaces onto
// the same network (a Linux bridge, STP off): every broadcast that enters the loop circulates
// until something drops it. A two-port loop does not multiply frames, it keeps each one going,
// and each pass takes the switch's slow path: Faucet sees the sender's MAC on br's two ports in
// turn, so its eth_src table misses and every pass is also a packet-in (which OVS's controller
// queue mostly drops). 200 broadcasts from g1-h1 and a broadcast ping flood (also g1-h1's MAC,
// as a class's ARP would be) fill it. Meanwhile group 2 pings at 10/s, Faucet keeps its datapath
// connected and the agent's API answers.
//
// The seeds carry g1-h1's own MAC. (An earlier version of this test sent them from
// 0e:00:00:00:00:01, Faucet's own default VLAN MAC, which Faucet drops at ingress as spoofed:
// no seed ever entered the loop and it "did not storm".)
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredOf, labDown, labUp } from '../../agent/lab/service.js';
import { pick, scrape } from '../../agent/metrics/prometheus.js';
import { cfg, inHost, inNetnsOf, pingLoss, pingOk, run, stack, startAgent, startCapture, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

const LESSON = `
dovelab: 1
networks: {lan: {}}
hosts:
  h1: {interfaces: {eth0: {network: lan, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lan, ip: 198.51.100.12/24}}}
  br: {interfaces: {eth0: {network: lan}, eth1: {network: lan}}}
`;
/**
 * Group 2's probe: 100 pings at 10/s (10 s). At least 95 must come back: a datapath reconnect
 * (Faucet losing the switch, then a cold start) stops all traffic for 1.0-1.7 s here, i.e. 10-17
 * of these pings, so one such stop already fails the test; 5 lost pings leave room for a loaded
 * machine (2 cores shared with other jobs), where lone replies arrive late but not lost.
 */
const PINGS = 100;
const MIN_REPLIES = 95;
const SEEDS = 200;
/**
 * The least load that counts as a storm: frames g1-br sends into the switch during group 2's
 * 10 s window. Measured here: 1-2 million without a storm limit (100-230 k frames/s, ovs-vswitchd
 * at 50-100 % of a core), about 300 000 with a 10 Mbit/s limit; a class of hosts that are not
 * looping sends a few frames a second.
 */
const MIN_STORM = 100_000;
const C = (g: number, h: string) => `dovelab-g${g}-${h}`;
let dir: string;
let agent: AgentProc;
let brPorts: string[] = [];

const counter = (dev: string, what: string) => Number(readFileSync(`/sys/class/net/${dev}/statistics/${what}`, 'utf8'));
/** Frames g1-br has sent into the switch (the host ends' rx, summed over its two ports). */
const stormFrames = () => brPorts.reduce((n, p) => n + counter(p, 'rx_packets'), 0);

interface FaucetView { dpUp: boolean; disconnections: number; packetIns: number }
async function faucetView(): Promise<FaucetView> {
  const s = await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`, 3000, ['dp_status', 'of_dp_disconnections_total', 'of_packet_ins_total']);
  const one = (n: string) => pick(s, n, { dp_name: cfg.bridge })[0]?.value;
  const dp = one('dp_status');
  if (dp === undefined) throw new Error(`Faucet has no dp_status for ${cfg.bridge}`);
  return { dpUp: dp === 1, disconnections: one('of_dp_disconnections_total') ?? 0, packetIns: one('of_packet_ins_total') ?? 0 };
}

const apiAnswers = async () => (await fetch(`http://127.0.0.1:${cfg.web.port}/api/session`, { signal: AbortSignal.timeout(5000) })).status;

/** CPU ticks (user + system) of a host process found by pgrep, for the printed figures only. */
async function cpuTicks(pattern: string[]): Promise<number | undefined> {
  const r = await run(['pgrep', ...pattern], { allowFail: true });
  const pid = r.stdout.trim().split('\n')[0];
  if (!pid) return undefined;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
const VSWITCHD = ['-x', 'ovs-vswitchd'];
const FAUCET = ['-f', 'osken-manager.*faucet\\.faucet'];

/** Sends `n` broadcast frames (EtherType 0x88b5, a 2-byte sequence number) from g1-h1 with its own MAC. */
async function seed(n: number): Promise<void> {
  const py = 'import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(("eth0",0))\n' +
    'mac=open("/sys/class/net/eth0/address").read().strip().replace(":","")\n' +
    'for i in range(int(sys.argv[1])): s.send(bytes.fromhex("ffffffffffff"+mac+"88b5")+i.to_bytes(2,"big")+bytes(44))';
  const r = await run([...await inNetnsOf(C(1, 'h1')), 'python3', '-c', py, String(n)], { allowFail: true });
  assert.is(r.code, 0, `could not send the broadcasts from g1-h1: ${r.stderr}`);
}

async function loopOn(): Promise<void> {
  // As a student would, inside the host.
  const r = await inHost(C(1, 'br'), ['sh', '-c', 'ip link add br0 type bridge stp_state 0 && ip link set eth0 master br0 && ip link set eth1 master br0 && ip link set br0 up']);
  assert.is(r.code, 0, `could not make the loop: ${r.stderr}`);
}

const loopOff = () => inHost(C(1, 'br'), ['ip', 'link', 'del', 'br0']);

test.before(loud(async () => {
  const ctx = await stack();
  dir = mkdtempSync(join(tmpdir(), 'dovelab-loop-'));
  writeFileSync(join(dir, 'lesson.yaml'), LESSON);
  const { state } = await labUp(ctx, dir, 2);
  brPorts = desiredOf(cfg, state).ports.filter((p) => p.group === 1 && p.host === 'br').map((p) => p.hostEnd);
  assert.is(brPorts.length, 2, 'g1-br has two ports');
  agent = startAgent(join(dir, 'agent.log'), 30);
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
}));

test('group 1 loops its network and storms it; group 2 keeps pinging, Faucet and the agent keep working', async () => {
  // Controls before the loop: group 2's probe gets its replies, Faucet has the switch, the API answers.
  const control = PINGS / 2 - Math.round(await pingLoss(C(2, 'h1'), '198.51.100.12', PINGS / 2, '0.1') * (PINGS / 2) / 100);
  assert.ok(control >= PINGS / 2 - 1, `control: group 2 gets its replies before the loop (${control}/${PINGS / 2})`);
  const f0 = await faucetView();
  assert.ok(f0.dpUp, 'control: Faucet dp_status 1 before the loop');
  assert.is(await apiAnswers(), 200, 'control: the agent\'s API answers before the loop');
  const quiet0 = stormFrames();

  let flood: Promise<unknown> | undefined;
  try {
    await loopOn();
    await seed(SEEDS);
    // (1) The loop is real: one seed, sent once by g1-h1, passes g1-br's eth0 over and over.
    const cap = await startCapture(await inNetnsOf(C(1, 'br')), 'eth0', 'ether proto 0x88b5 and ether[14:2] = 7');
    try {
      await waitFor('seed 7 to pass g1-br\'s eth0 20 times (it was sent once)', () => cap.lines().length >= 20, 10_000, 50);
    } finally {
      const seen = (await cap.stop()).lines.length;
      console.log(`    seed 7 (sent once) passed g1-br's eth0 ${seen} times in its capture`);
    }
    // A broadcast ping flood from g1-h1 keeps adding to the loop while group 2 is measured.
    const bcast = '198.51.100.255';
    flood = run([...await inNetnsOf(C(1, 'h1')), 'ping', '-q', '-b', '-f', '-w', '12', bcast], { allowFail: true, timeoutMs: 20_000 });

    // (2) During the storm: group 2's 10/s probe, and Faucet and the API sampled all along.
    const g2cap = await startCapture(await inNetnsOf(C(2, 'h2')), 'eth0', 'ether proto 0x88b5 or icmp');
    const vs0 = await cpuTicks(VSWITCHD); const fa0 = await cpuTicks(FAUCET);
    const logFile = join(cfg.logDir, 'faucet', 'faucet.log');
    const log0 = statSync(logFile, { throwIfNoEntry: false })?.size;
    const s0 = stormFrames(); const t0 = Date.now(); const f1 = await faucetView();
    const samples: { api: number | string; dpUp: boolean | string }[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const api = await apiAnswers().catch((e: Error) => e.message);
        const dpUp = await faucetView().then((v) => v.dpUp, (e: Error) => e.message);
        samples.push({ api, dpUp });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let loss: number;
    let g2lines: string[] = [];
    try { loss = await pingLoss(C(2, 'h1'), '198.51.100.12', PINGS, '0.1'); } finally {
      probing = false; await probe;
      g2lines = (await g2cap.stop()).lines;
    }
    const secs = (Date.now() - t0) / 1000; const storm = stormFrames() - s0;
    const f2 = await faucetView();
    const vs1 = await cpuTicks(VSWITCHD); const fa1 = await cpuTicks(FAUCET);
    const log1 = statSync(logFile, { throwIfNoEntry: false })?.size;
    const replies = PINGS - Math.round(loss * PINGS / 100);
    const pct = (a?: number, b?: number) => (a === undefined || b === undefined ? '?' : `${Math.round((b - a) / secs)}%`);
    console.log(`    storm: ${storm} frames from g1-br into the switch in ${secs.toFixed(1)} s (${Math.round(storm / secs)}/s; before the loop ${quiet0} in all); ` +
      `ovs-vswitchd ${pct(vs0, vs1)} of a core, Faucet ${pct(fa0, fa1)}, ${f2.packetIns - f1.packetIns} packet-ins, faucet.log +${log0 !== undefined && log1 !== undefined ? Math.round((log1 - log0) / 1024) : '?'} KiB`);
    console.log(`    group 2: ${replies}/${PINGS} replies at 10/s (control ${control}/${PINGS / 2}); ${samples.length} samples of the API and dp_status; Faucet disconnections ${f2.disconnections - f0.disconnections}`);

    assert.ok(storm >= MIN_STORM, `the loop storms: ${storm} frames from g1-br in group 2's window (at least ${MIN_STORM}), otherwise this test proves nothing`);
    assert.ok(replies >= MIN_REPLIES, `group 2 keeps at least ${MIN_REPLIES}/${PINGS} replies during the storm (${replies}/${PINGS})`);
    assert.ok(samples.length >= 3, `the API and Faucet were sampled during the storm (${samples.length})`);
    for (const s of samples) {
      assert.is(s.api, 200, 'the agent\'s API answers during the storm');
      assert.is(s.dpUp, true, 'Faucet dp_status 1 during the storm');
    }
    assert.ok(f2.dpUp, 'Faucet dp_status 1 at the end of the storm');
    assert.is(f2.disconnections, f0.disconnections, 'Faucet never lost the switch during the storm');
    assert.ok(g2lines.some((l) => /ICMP echo request/.test(l)), `g2-h2's capture ran (it saw group 2's pings): ${g2lines.slice(0, 3).join(' | ')}`);
    assert.not.ok(g2lines.some((l) => /0x88b5/.test(l)), `group 2 sees none of group 1's storm: ${g2lines.filter((l) => /0x88b5/.test(l)).slice(0, 3).join(' | ')}`);
  } finally {
    await loopOff();
    await flood;
  }
  // The loop gone, the storm stops and group 1's network works again.
  await waitFor('the storm to stop once the loop is gone', async () => {
    const a = stormFrames();
    await new Promise((r) => setTimeout(r, 500));
    return stormFrames() === a;
  }, 10_000, 0);
  assert.ok(await waitFor('group 1 to ping again once the loop is gone', () => pingOk(C(1, 'h1'), '198.51.100.12'), 20_000, 0));
});

test.after(async () => {
  await agent?.stop();
  await labDown(await stack());
  rmSync(dir, { recursive: true, force: true });
});

test.run();

// Dongle hotplug on the real stack: the sim world's dongles pulled and plugged back
// (`dovelab sim unplug|plug`, a veth pair removed and made again: a new device with the kernel's
// defaults, link down) while `dovelab agent` runs. The kiosk shows the dongle missing and stops
// once it is back; the dongle returns to its OVS port on the same ofport, hardened, and traffic
// flows again — with no agent restart and no Faucet reload.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labUp } from '../../agent/lab/service.js';
import { faucetStatus } from '../../agent/net/faucet/status.js';
import { scrape, pick } from '../../agent/metrics/prometheus.js';
import { cfg, docker, pingLoss, pingOk, run, stack, startAgent, startCapture, waitFor, type AgentProc } from './_stack.js';
import { removeTrainingHost, trainingHost } from '../../agent/hardware/sim/world.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { dovelab } from './_cli.js';
import { loud } from '../loud-hook.js';

const work = mkdtempSync(join(tmpdir(), 'dovelab-hotplug-'));
const PORT = 18093;
const PC = 'dovelab-g1-pc';
const PRINTER = '100.64.0.10';
let agent: AgentProc;

const LESSON = `dovelab: 1
id: hotplug
networks: {school: {vlan: 110, shared: true}, office: {vlan: 120, shared: true}}
uplinks: {school: {interface: up0, network: school}, trunk: {interface: up1, networks: [office]}}
mirrors: {tap: {interface: mir0, from: [pc]}}
hosts:
  pc: {per_group: true, interfaces: {eth0: {network: school}}}
  desk: {interfaces: {eth0: {network: office, ip: 203.0.113.11/24}}}
`;

const sysctl = (family: string, ifname: string, key: string) => readFileSync(`/proc/sys/net/${family}/conf/${ifname}/${key}`, 'utf8').trim();
/** name -> ofport; read again if a port went between OVS's two lists (the agent may be re-making one: it holds the lab lock, we do not). */
const ofports = async () => waitFor('a consistent list of the OVS ports', async () =>
  Object.fromEntries((await (await stack()).ovs.ports(cfg.bridge)).map((p) => [p.name, p.ofport])) as Record<string, number>, 10_000, 100);
const kioskAlarms = async (): Promise<string[]> => {
  const r = await fetch(`http://127.0.0.1:${PORT}/api/kiosk`, { signal: AbortSignal.timeout(3000) });
  return ((await r.json()) as { alarms: string[] }).alarms;
};
const faucet = async () => {
  const samples = await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`);
  const st = faucetStatus(samples);
  return { cold: st.coldStarts, warm: st.warmStarts, disconnects: pick(samples, 'of_dp_disconnections_total').reduce((a, s) => a + s.value, 0) };
};
const linkUp = async (ifname: string) => /[<,]UP[,>]/.test((await run(['ip', '-o', 'link', 'show', 'dev', ifname])).stdout);
const since = (n: number) => agent.log().slice(n);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test.before(loud(async () => {
  const ctx = await stack();
  const dir = join(work, 'hotplug');
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'lesson.yaml'), LESSON);
  writeFileSync(join(dir, 'README.md'), '# hotplug\n');
  // Whatever an earlier run left: both dongles plugged in.
  for (const d of ['up0', 'up1', 'mir0']) if ((await run(['ip', 'link', 'show', 'dev', d], { allowFail: true })).code !== 0) await dovelab(['sim', 'plug', d]);
  await labUp(ctx, dir, 1);
  agent = startAgent(join(work, 'agent.log'), 5, { DOVELAB_WEB_PORT: String(PORT) });
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
  await agent.waitLine('its web UI', /web UI on/, 10_000);
  const lease = await run(['docker', 'exec', PC, 'udhcpc', '-i', 'eth0', '-x', 'hostname:g1-pc', '-n', '-q', '-t', '5'], { allowFail: true });
  assert.is(lease.code, 0, `pc gets a lease from the school network: ${lease.stdout}${lease.stderr}`);
}));
test.after(async () => {
  await agent?.stop();
  // The agent's log outlives the run (the work folder goes).
  if (agent) copyFileSync(agent.logFile, join(tmpdir(), 'dovelab-hotplug-agent.log'));
  for (const d of ['up0', 'up1', 'mir0']) if ((await run(['ip', 'link', 'show', 'dev', d], { allowFail: true })).code !== 0) await dovelab(['sim', 'plug', d]);
  await dovelab(['down']);
  rmSync(work, { recursive: true, force: true });
});

test('uplink up0 pulled and plugged back: the kiosk shows it missing, then it is back on the same ofport, hardened, and pc reaches the printer again', async () => {
  assert.is(await pingLoss(PC, PRINTER, 3), 0, 'control: pc reaches the printer through up0');
  const before = { ofport: (await ofports()).up0, faucet: await faucet() };
  assert.is(before.ofport, 1, 'up0 is on its pinned ofport');
  assert.is(sysctl('ipv6', 'up0', 'disable_ipv6'), '1', 'control: up0 hardened by up');
  assert.not.ok((await kioskAlarms()).some((a) => /up0/.test(a)), 'control: no alarm about up0 while it is plugged in');

  const mark = agent.log().length;
  let t0 = Date.now();
  const out = await dovelab(['sim', 'unplug', 'up0']);
  assert.is(out.code, 0, out.stderr);
  const alarms = await waitFor('the kiosk to show up0 unplugged', async () => {
    const a = await kioskAlarms();
    return a.includes('uplink up0 unplugged') ? a : undefined;
  }, 15_000, 50);
  console.log(`    kiosk showed "uplink up0 unplugged" ${Date.now() - t0} ms after the unplug`);
  assert.is(alarms[0], 'uplink up0 unplugged', `the dongle comes first: ${alarms}`);
  assert.is(await pingLoss(PC, PRINTER, 2), 100, 'no way to the printer without the dongle');

  t0 = Date.now();
  const plug = await dovelab(['sim', 'plug', 'up0']);
  assert.is(plug.code, 0, plug.stderr);
  assert.is(sysctl('ipv6', 'up0', 'disable_ipv6'), '0', 'control: the new device comes with the kernel default');
  await agent.waitLine('the dongle repair', /dongle uplink up0 present: hardened, port re-made on ofport 1 \(a new device\), set up/, 15_000);
  await waitFor('the kiosk to drop the up0 alarm', async () => !(await kioskAlarms()).some((a) => /up0/.test(a)), 15_000, 50);
  console.log(`    kiosk dropped the alarm ${Date.now() - t0} ms after the plug`);
  await waitFor('pc to reach the printer again', () => pingOk(PC, PRINTER).catch(() => false), 30_000, 0);
  assert.is(await pingLoss(PC, PRINTER, 3), 0, 'traffic through the re-plugged dongle');
  assert.is((await ofports()).up0, before.ofport, 'the same ofport');
  assert.equal({ v6: sysctl('ipv6', 'up0', 'disable_ipv6'), arp: sysctl('ipv4', 'up0', 'arp_ignore'), fwd: sysctl('ipv4', 'up0', 'forwarding') }, { v6: '1', arp: '8', fwd: '0' }, 'hardened again');
  assert.ok(await linkUp('up0'), 'set up');
  assert.match((await run(['iptables', '-w', '-S', 'DOVELAB-LAB'])).stdout, '-A DOVELAB-LAB -i up0 -j DROP');
  assert.equal(await faucet(), before.faucet, 'Faucet neither reloaded nor reconnected');
  assert.ok(alive(agent.pid), 'the same agent runs');
  assert.not.match(since(mark), /Faucet reloaded|agent \d+ started/, since(mark));
});

test('mirror mir0 pulled and plugged back: the kiosk shows it missing, then the mirror copies pc\'s traffic again on the same ofport', async () => {
  const before = { ofport: (await ofports()).mir0, faucet: await faucet() };
  const copies = async () => {
    // pc's pings (or, without a way out, its ARP requests) copied to mir0's far end.
    const cap = await startCapture(['ip', 'netns', 'exec', 'capture'], 'eth0', `(icmp or arp) and host ${PRINTER}`);
    try {
      await pingLoss(PC, PRINTER, 3);
      await cap.waitLine('a mirrored frame of pc on mir0\'s far end', /ICMP echo request|ARP, Request who-has 100\.64\.0\.10/, 10_000);
    } finally { await cap.stop(); }
  };
  await copies(); // control: the mirror works before
  const mark = agent.log().length;
  assert.is((await dovelab(['sim', 'unplug', 'mir0'])).code, 0);
  await waitFor('the kiosk to show mir0 unplugged', async () => (await kioskAlarms()).includes('mirror mir0 unplugged'), 15_000, 50);
  assert.is(await pingLoss(PC, PRINTER, 2), 0, 'the uplink does not care');
  assert.is((await dovelab(['sim', 'plug', 'mir0'])).code, 0);
  await agent.waitLine('the dongle repair', /dongle mirror mir0 present: hardened, port re-made on ofport \d+ \(a new device\), set up/, 15_000);
  await waitFor('the kiosk to drop the mir0 alarm', async () => !(await kioskAlarms()).some((a) => /mir0/.test(a)), 15_000, 50);
  await copies();
  assert.is((await ofports()).mir0, before.ofport, 'the same ofport');
  assert.is(sysctl('ipv6', 'mir0', 'disable_ipv6'), '1', 'hardened again');
  assert.equal(await faucet(), before.faucet, 'Faucet neither reloaded nor reconnected');
  assert.not.match(since(mark), /Faucet reloaded|agent \d+ started/, since(mark));
});

test('a held dongle found without its hardening (no event told of it) is repaired at the next interval', async () => {
  const mark = agent.log().length;
  writeFileSync('/proc/sys/net/ipv6/conf/up0/disable_ipv6', '0');
  assert.is(sysctl('ipv6', 'up0', 'disable_ipv6'), '0', 'control: the setting is off now');
  await waitFor('the interval to notice and repair', () => /dongle repair failed|dongle uplink up0 present: hardened/.test(since(mark)), 20_000, 100);
  assert.match(since(mark), /dongle uplink up0 present: hardened, port re-made on ofport 1 \(a new device\), set up/, since(mark));
  assert.is(sysctl('ipv6', 'up0', 'disable_ipv6'), '1');
  await waitFor('pc to reach the printer', () => pingOk(PC, PRINTER).catch(() => false), 30_000, 0);
});

test('trunk dongle up1 pulled and plugged back: VLAN 120 of the training switch reaches desk again, same ofport', async () => {
  const vsctl = vsctlVia(docker);
  try {
    const ns = await trainingHost(cfg.runDir, vsctl, 'hp120', 120, '203.0.113.21/24');
    const ping = async () => (await run(['ip', 'netns', 'exec', ns, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '203.0.113.11'], { allowFail: true })).stdout;
    const first = await ping();
    assert.match(first, / 0% packet loss/, `control: VLAN 120 of the training switch reaches desk through the trunk: ${first}`);
    const before = { ofport: (await ofports()).up1, faucet: await faucet() };
    const mark = agent.log().length;
    assert.is((await dovelab(['sim', 'unplug', 'up1'])).code, 0);
    await waitFor('the kiosk to show up1 unplugged', async () => (await kioskAlarms()).includes('uplink up1 unplugged'), 15_000, 50);
    assert.match(await ping(), /100% packet loss/, 'no trunk, no way');
    assert.is((await dovelab(['sim', 'plug', 'up1'])).code, 0);
    await agent.waitLine('the dongle repair', /dongle uplink up1 present: hardened, port re-made on ofport \d+ \(a new device\), set up/, 15_000);
    await waitFor('VLAN 120 to reach desk again', async () => / 0% packet loss/.test(await ping()), 30_000, 0);
    assert.is((await ofports()).up1, before.ofport, 'the same ofport');
    assert.equal(await faucet(), before.faucet, 'Faucet neither reloaded nor reconnected');
    assert.not.match(since(mark), /Faucet reloaded|agent \d+ started/, since(mark));
  } finally { await removeTrainingHost(vsctl, cfg.runDir, 'hp120'); }
});

test.run();

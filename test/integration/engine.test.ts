// The lab engine on the real stack and the sim world, asserted on the data plane.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INFRA } from '../../agent/config.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { removeTrainingHost, simStatus, trainingHost } from '../../agent/hardware/sim/world.js';
import { desiredOf, labDown, labUp, setAcls } from '../../agent/lab/service.js';
import type { DesiredState } from '../../agent/lab/desired.js';
import { cfg, docker, hostPidOf, inHost, pingLoss, run, stack } from './_stack.js';
import { dovelab } from './_cli.js';

const LESSON = fileURLToPath(new URL('../../../test/fixtures/engine', import.meta.url));
const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
let d: DesiredState;
const mac = (faucetName: string) => d.ports.find((p) => p.faucetName === faucetName)!.mac;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tcpdump inside a container's netns for `seconds`; returns the lines it printed. */
async function captureIn(container: string, filter: string, seconds: number, during: () => Promise<unknown>): Promise<string[]> {
  const pid = await hostPidOf(container);
  return captureWith(['nsenter', '-t', String(pid), '-n'], 'eth0', filter, seconds, during);
}
async function captureWith(prefix: string[], iface: string, filter: string, seconds: number, during: () => Promise<unknown>): Promise<string[]> {
  const cap = run([...prefix, 'timeout', String(seconds), 'tcpdump', '-nn', '-e', '-l', '-i', iface, filter], { allowFail: true });
  await sleep(700);
  await during();
  const r = await cap;
  return r.stdout.split('\n').filter((l) => l.trim());
}

/** Continuous ping from a lab host; resolves with transmitted/received. */
function longPing(container: string, address: string, count: number, interval = '0.1') {
  return inHost(container, ['ping', '-c', String(count), '-i', interval, '-W', '1', address]).then((r) => {
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    // No summary (ping could not even start) counts as everything lost; the test then says so.
    return m ? { sent: Number(m[1]), received: Number(m[2]) } : { sent: count, received: 0 };
  });
}

test.before(async () => {
  const ctx = await stack();
  const r = await labUp(ctx, LESSON, 2);
  d = desiredOf(cfg, r.state);
});

test('two hosts in one VLAN reach each other: ICMP and TCP', async () => {
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  const server = inHost('dovelab-g1-h2', ['timeout', '10', 'nc', '-l', '-p', '8080']);
  await sleep(300);
  await inHost('dovelab-g1-h1', ['sh', '-c', 'echo same-vlan | nc -N -w 3 198.51.100.12 8080']);
  assert.match((await server).stdout, 'same-vlan');
});

test('hosts in different VLANs of a group cannot reach each other', async () => {
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.13', 3), 100);
});

test('sysctl and startup run inside the host, once, after wiring', async () => {
  const fwd = await inHost('dovelab-g2-h3', ['cat', '/proc/sys/net/ipv4/ip_forward']);
  assert.is(fwd.stdout.trim(), '1');
  const ready = await inHost('dovelab-g2-h3', ['cat', '/tmp/ready']);
  assert.is(ready.stdout.trim(), 'ready on g2-h3');
  assert.is((await inHost('dovelab-g2-h3', ['cat', '/proc/sys/net/ipv4/icmp_ratelimit'])).stdout.trim(), '0');
  // Control: another host keeps the kernel default.
  assert.is((await inHost('dovelab-g2-h1', ['cat', '/proc/sys/net/ipv4/icmp_ratelimit'])).stdout.trim(), '1000');
});

test('concurrent live changes wait for each other (one writer) and all land', async () => {
  const [a, b] = await Promise.all([
    dovelab(['acl', 'h1.eth0', 'no-ping', '--group', '2']),
    dovelab(['mirror', 'on', 'h2.eth0', '--group', '2']),
  ]);
  assert.is(a.code, 0, a.stderr); assert.is(b.code, 0, b.stderr);
  const st = JSON.parse((await dovelab(['status', '--json'])).stdout);
  const g2h1 = st.hosts.find((h: { key: string }) => h.key === 'g2-h1');
  assert.equal(g2h1.interfaces[0].acls, ['no-ping']);
  assert.ok(st.uplinks.find((u: { role: string }) => u.role === 'mirror').mirrors.includes('g2-h2-eth0'));
  assert.is(await pingLoss('dovelab-g2-h2', '198.51.100.11', 2), 100, 'the ACL is live');
  await dovelab(['acl', 'h1.eth0', '--clear', '--group', '2']);
  await dovelab(['mirror', 'off', 'h2.eth0', '--group', '2']);
  assert.is(await pingLoss('dovelab-g2-h2', '198.51.100.11', 2), 0);
});

test('groups are isolated: nothing of group 1 reaches group 2 (same addresses)', async () => {
  const h1 = mac('g1-h1-eth0');
  await inHost('dovelab-g1-h1', ['ip', 'neigh', 'flush', 'all']);
  const ping = () => pingLoss('dovelab-g1-h1', '198.51.100.12', 3);
  const inOwnGroup = await captureIn('dovelab-g1-h2', `ether src ${h1}`, 4, ping);
  const inOtherGroup = await captureIn('dovelab-g2-h2', `ether src ${h1}`, 4, async () => {
    await inHost('dovelab-g1-h1', ['ip', 'neigh', 'flush', 'all']);
    await ping();
  });
  assert.ok(inOwnGroup.length >= 3, `control: the capture sees group 1's own traffic (${inOwnGroup.length} lines)`);
  assert.equal(inOtherGroup, []);
});

test('a DHCP host on the uplinked office network gets a lease that records its hostname', async () => {
  let lease;
  for (let i = 0; i < 40 && !lease; i++) {
    lease = (await simStatus(cfg.runDir)).leases.find((l) => l.mac === mac('pc-eth0'));
    if (!lease) await sleep(250);
  }
  assert.ok(lease, 'a lease for pc');
  assert.is(lease!.hostname, 'pc');
  const addr = (await inHost('dovelab-pc', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout;
  assert.ok(addr.includes(`inet ${lease!.ip}/24`), addr);
  assert.is(await pingLoss('dovelab-pc', '100.64.0.10', 3), 0);
});

test('mDNS crosses the uplink both ways: the world hears the lab host, the lab host hears the printer', async () => {
  const pcMac = mac('pc-eth0');
  let answer: string[] = [];
  const heardInWorld = await captureWith(['ip', 'netns', 'exec', 'world'], 'lan0', `udp port 5353 and ether src ${pcMac}`, 6, async () => {
    answer = await captureIn('dovelab-pc', 'udp and src port 5353 and src host 100.64.0.10', 4, () =>
      inHost('dovelab-pc', ['dig', '+time=1', '+tries=2', '-p', '5353', '@224.0.0.251', 'printer.local']));
  });
  assert.ok(heardInWorld.some((l) => l.includes('224.0.0.251.5353') && l.includes('printer.local')), heardInWorld.join('\n'));
  assert.ok(answer.some((l) => / A 100\.64\.0\.10/.test(l)), answer.join('\n'));
});

test('the tagged trunk carries each group VLAN to the right training-switch VLAN', async () => {
  const vsctl = vsctlVia(docker);
  try {
    const ns101 = await trainingHost(cfg.runDir, vsctl, 'v101', 101, '198.51.100.21/24');
    const ns201 = await trainingHost(cfg.runDir, vsctl, 'v201', 201, '198.51.100.21/24');
    for (const [ns, group] of [[ns101, 'g1'], [ns201, 'g2']] as const) {
      const r = await run(['ip', 'netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '198.51.100.11'], { allowFail: true });
      assert.match(r.stdout, / 0% packet loss/, `${ns}: ${r.stdout}`);
      const neigh = (await run(['ip', 'netns', 'exec', ns, 'ip', 'neigh', 'show', '198.51.100.11'])).stdout;
      assert.match(neigh, new RegExp(`lladdr ${mac(`${group}-h1-eth0`)}`), `${ns} reached ${group}-h1: ${neigh}`);
    }
    // VLAN 102 (dmz of group 1) is not on the trunk.
    const ns102 = await trainingHost(cfg.runDir, vsctl, 'v102', 102, '198.51.100.22/24');
    const r = await run(['ip', 'netns', 'exec', ns102, 'ping', '-c', '2', '-W', '1', '198.51.100.13'], { allowFail: true });
    assert.match(r.stdout, /100% packet loss/);
  } finally {
    for (const n of ['v101', 'v201', 'v102']) await removeTrainingHost(vsctl, cfg.runDir, n);
  }
});

test('no-ping blocks ICMP but not TCP; removing it restores ICMP, live', async () => {
  const ctx = await stack();
  const before = await setAcls(ctx, 'h2.eth0', ['no-ping'], 1);
  assert.ok(before.faucet?.changed);
  assert.is(before.faucet!.after.coldStarts - (before.faucet!.before?.coldStarts ?? 0), 0, 'a warm change');
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 100);
  const server = inHost('dovelab-g1-h2', ['timeout', '10', 'nc', '-l', '-p', '8081']);
  await sleep(300);
  await inHost('dovelab-g1-h1', ['sh', '-c', 'echo tcp-passes | nc -N -w 3 198.51.100.12 8081']);
  assert.match((await server).stdout, 'tcp-passes');
  assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0, 'group 2 untouched');
  await setAcls(ctx, 'h2.eth0', [], 1);
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
});

test('the mirror port copies both directions of the mirrored host, nothing of others', async () => {
  const h1 = mac('g1-h1-eth0');
  const pc = mac('pc-eth0');
  const lines = await captureWith(['ip', 'netns', 'exec', 'capture'], 'eth0', 'icmp', 5, async () => {
    await pingLoss('dovelab-g1-h1', '198.51.100.12', 3);
    await pingLoss('dovelab-pc', '100.64.0.10', 3);
  });
  assert.ok(lines.some((l) => l.includes(`${h1} >`) && l.includes('echo request')), `requests from h1:\n${lines.join('\n')}`);
  assert.ok(lines.some((l) => l.includes(`> ${h1}`) && l.includes('echo reply')), `replies to h1:\n${lines.join('\n')}`);
  assert.not.ok(lines.some((l) => l.includes(pc)), 'pc is not mirrored');
});

test('kill -9 of the agent loses no packet; the restarted agent changes nothing that is right', async () => {
  const startAgent = (): ChildProcess => spawn(process.execPath, [CLI, 'agent', '--interval', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let agent = startAgent();
  let out = '';
  const collect = (a: ChildProcess) => a.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  collect(agent);
  await sleep(3000);
  const ping = longPing('dovelab-g1-h1', '198.51.100.12', 60);
  await sleep(1500);
  agent.kill('SIGKILL');
  await sleep(500);
  agent = startAgent(); collect(agent);
  await sleep(4000);
  const r = await ping;
  agent.kill('SIGTERM');
  assert.is(r.received, r.sent, `lost ${r.sent - r.received} of ${r.sent}`);
  assert.match(out, /agent \d+ started/);
  assert.not.match(out, /repaired after start/, out);
});

test('a Faucet restart costs at most a few packets; a removed port is repaired', async () => {
  const ping = longPing('dovelab-g1-h1', '198.51.100.12', 80);
  await sleep(1000);
  await docker.getContainer(INFRA.faucet).restart({ t: 1 });
  const r = await ping;
  assert.ok(r.sent - r.received <= 30, `lost ${r.sent - r.received} of ${r.sent} at 10/s`);
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  // Drift: a lab port vanishes; `dovelab up` of the same lab (or the agent) re-adds only it.
  await run(['ip', 'link', 'del', 'dl202']);
  const again = await dovelab(['up', LESSON, '--groups', '2']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /attach dovelab-g2-h2:eth0/);
  assert.not.match(again.stdout, /create-host|attach dovelab-g1/);
  assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0);
});

test('an OVS container restart: ports come back from its database, traffic resumes', async () => {
  const ping = longPing('dovelab-g1-h1', '198.51.100.12', 120);
  await sleep(1000);
  await docker.getContainer(INFRA.ovs).restart({ t: 1 });
  const r = await ping;
  assert.ok(r.sent - r.received <= 40, `lost ${r.sent - r.received} of ${r.sent} at 10/s`);
  const again = await dovelab(['status']);
  assert.is(again.code, 0, again.stdout);
  assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0);
});

test('bad input: an untagged uplink of a per-group network with 2 groups is refused before any change', async () => {
  const faucetBefore = readFileSync(`${cfg.dataDir}/faucet/faucet.yaml`, 'utf8');
  const r = await dovelab(['lesson', 'validate', `${LESSON}/../uplink-per-group.yaml`, '--groups', '2']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /uplink-per-group\.yaml: uplinks\.school\.network: an untagged uplink carries one network/);
  const up = await dovelab(['up', `${LESSON}/../uplink-per-group.yaml`, '--groups', '2']);
  assert.is(up.code, 1);
  assert.is(readFileSync(`${cfg.dataDir}/faucet/faucet.yaml`, 'utf8'), faucetBefore);
});

test('lab down removes hosts, ports and uplinks from the bridge, keeps the dongles', async () => {
  const ctx = await stack();
  await labDown(ctx);
  const ports = await ctx.ovs.ports(cfg.bridge);
  assert.equal(ports.map((p) => p.name), []);
  for (const dongle of ['up0', 'up1', 'mir0']) assert.ok((await run(['ip', 'link', 'show', dongle], { allowFail: true })).code === 0, dongle);
});

test.run();

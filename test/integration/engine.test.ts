// The lab engine on the real stack and the sim world, asserted on the data plane.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { scrape } from '../../agent/metrics/prometheus.js';
import * as assert from 'uvu/assert';
import { INFRA } from '../../agent/config.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { removeTrainingHost, simStatus, trainingHost } from '../../agent/hardware/sim/world.js';
import { desiredOf, labDown, labUp, setAcls } from '../../agent/lab/service.js';
import type { DesiredState } from '../../agent/lab/desired.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { faucetStatus } from '../../agent/net/faucet/status.js';
import { DP_DESCRIPTION } from '../../agent/net/faucet/model.js';
import { cfg, docker, inHost, inNetnsOf, pingLoss, pingOk, run, stack, startAgent, startCapture, waitFor, waitListening, type Capture } from './_stack.js';
import { dovelab } from './_cli.js';
import { loud } from '../loud-hook.js';

const LESSON = fileURLToPath(new URL('../../../test/fixtures/engine', import.meta.url));
let d: DesiredState;
const mac = (faucetName: string) => d.ports.find((p) => p.faucetName === faucetName)!.mac;

/** Stops every capture, also when the test failed half-way. */
async function stopAll(...caps: (Capture | undefined)[]): Promise<void> {
  await Promise.all(caps.map((c) => c?.stop()));
}

test.before(loud(async () => {
  const ctx = await stack();
  const r = await labUp(ctx, LESSON, 2);
  d = desiredOf(cfg, r.state);
}));

test('two hosts in one VLAN reach each other: ICMP and TCP', async () => {
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  const server = inHost('dovelab-g1-h2', ['timeout', '10', 'nc', '-l', '-p', '8080']);
  await waitListening('dovelab-g1-h2', 8080);
  await inHost('dovelab-g1-h1', ['sh', '-c', 'echo same-vlan | nc -N -w 3 198.51.100.12 8080']);
  assert.match((await server).stdout, 'same-vlan');
});

test('hosts in different VLANs of a group cannot reach each other', async () => {
  // Control: the same probe reaches 198.51.100.13 when that address is in h1's own VLAN.
  await inHost('dovelab-g1-h2', ['ip', 'addr', 'add', '198.51.100.13/24', 'dev', 'eth0']);
  try {
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.13', 3), 0, 'control: the probe works within the VLAN');
  } finally {
    await inHost('dovelab-g1-h2', ['ip', 'addr', 'del', '198.51.100.13/24', 'dev', 'eth0']);
    await inHost('dovelab-g1-h1', ['ip', 'neigh', 'flush', 'all']);
  }
  // h3 holds that address in the dmz VLAN: it is up, and h1 cannot reach it.
  assert.match((await inHost('dovelab-g1-h3', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout, /198\.51\.100\.13\/24/);
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
  // One probe (ARP broadcast, then pings), two captures: in h1's own group and in the other.
  let own: Capture | undefined; let other: Capture | undefined;
  try {
    own = await startCapture(await inNetnsOf('dovelab-g1-h2'), 'eth0', `ether src ${h1}`);
    other = await startCapture(await inNetnsOf('dovelab-g2-h2'), 'eth0', `ether src ${h1}`);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
    await own.waitLine('the ping requests in g1-h2 (control)', /echo request.*seq 3/);
  } finally { await stopAll(own, other); }
  assert.ok(own!.lines().length >= 3, `control: the capture sees group 1's own traffic (${own!.lines().length} lines)`);
  assert.equal(other!.lines(), []);
});

test('a DHCP host on the uplinked office network gets a lease that records its hostname', async () => {
  const lease = await waitFor('a DHCP lease for pc', async () => (await simStatus(cfg.runDir)).leases.find((l) => l.mac === mac('pc-eth0')), 15_000, 250);
  assert.is(lease.hostname, 'pc');
  const addr = (await inHost('dovelab-pc', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout;
  assert.ok(addr.includes(`inet ${lease!.ip}/24`), addr);
  assert.is(await pingLoss('dovelab-pc', '100.64.0.10', 3), 0);
});

test('mDNS crosses the uplink both ways: the world hears the lab host, the lab host hears the printer', async () => {
  const pcMac = mac('pc-eth0');
  let world: Capture | undefined; let pc: Capture | undefined;
  try {
    world = await startCapture(['ip', 'netns', 'exec', 'world'], 'lan0', `udp port 5353 and ether src ${pcMac}`);
    pc = await startCapture(await inNetnsOf('dovelab-pc'), 'eth0', 'udp and src port 5353 and src host 100.64.0.10');
    await inHost('dovelab-pc', ['dig', '+time=1', '+tries=2', '-p', '5353', '@224.0.0.251', 'printer.local']);
    await world.waitLine("pc's mDNS query, heard in the world", /224\.0\.0\.251\.5353.*printer\.local/);
    await pc.waitLine("the printer's mDNS answer, heard in pc", / A 100\.64\.0\.10/);
  } finally { await stopAll(world, pc); }
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
    // VLAN 102 (dmz of group 1) is not on the trunk. Control: the probe from VLAN 102 of the
    // training switch works (it reaches a neighbour there), and h3 is up on its address.
    const ns102 = await trainingHost(cfg.runDir, vsctl, 'v102', 102, '198.51.100.22/24');
    await trainingHost(cfg.runDir, vsctl, 'v102b', 102, '198.51.100.23/24');
    const control = await run(['ip', 'netns', 'exec', ns102, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '198.51.100.23'], { allowFail: true });
    assert.match(control.stdout, / 0% packet loss/, `control: ${control.stdout}${control.stderr}`);
    assert.match((await inHost('dovelab-g1-h3', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout, /198\.51\.100\.13\/24/);
    const r = await run(['ip', 'netns', 'exec', ns102, 'ping', '-c', '2', '-W', '1', '198.51.100.13'], { allowFail: true });
    assert.match(r.stdout, /100% packet loss/);
  } finally {
    for (const n of ['v101', 'v201', 'v102', 'v102b']) await removeTrainingHost(vsctl, cfg.runDir, n);
  }
});

test('no-ping blocks ICMP but not TCP; removing it restores ICMP, live', async () => {
  const ctx = await stack();
  const before = await setAcls(ctx, 'h2.eth0', ['no-ping'], 1);
  assert.ok(before.faucet?.changed);
  assert.is(before.faucet!.after.coldStarts - (before.faucet!.before?.coldStarts ?? 0), 0, 'a warm change');
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 100);
  const server = inHost('dovelab-g1-h2', ['timeout', '10', 'nc', '-l', '-p', '8081']);
  await waitListening('dovelab-g1-h2', 8081);
  await inHost('dovelab-g1-h1', ['sh', '-c', 'echo tcp-passes | nc -N -w 3 198.51.100.12 8081']);
  assert.match((await server).stdout, 'tcp-passes');
  assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0, 'group 2 untouched');
  await setAcls(ctx, 'h2.eth0', [], 1);
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
});

test('the mirror port copies both directions of the mirrored host, nothing of others', async () => {
  const h1 = mac('g1-h1-eth0');
  const pc = mac('pc-eth0');
  const cap = await startCapture(['ip', 'netns', 'exec', 'capture'], 'eth0', 'icmp');
  try {
    // pc first: its frames, were they mirrored, would be out before h1's.
    assert.is(await pingLoss('dovelab-pc', '100.64.0.10', 3), 0);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
    await cap.waitLine("h1's last echo reply on the mirror port", new RegExp(`> ${h1}.*echo reply.*seq 3`));
  } finally { await cap.stop(); }
  const lines = cap.lines();
  assert.ok(lines.some((l) => l.includes(`${h1} >`) && l.includes('echo request')), `requests from h1:\n${lines.join('\n')}`);
  assert.ok(lines.some((l) => l.includes(`> ${h1}`) && l.includes('echo reply')), `replies to h1:\n${lines.join('\n')}`);
  assert.not.ok(lines.some((l) => l.includes(pc)), 'pc is not mirrored');
});

/** What a repair must leave alone: container ids, OVS ports and ofports, the host ends' ifindex, Faucet's config. */
async function snapshot() {
  const ctx = await stack();
  const containers = Object.fromEntries((await docker.listContainers({ all: true, filters: { label: ['dovelab.lab'] } }))
    .map((c) => [c.Names[0]!.replace(/^\//, ''), `${c.Id} ${c.State}`]).sort());
  const ports = Object.fromEntries((await ctx.ovs.ports(cfg.bridge)).map((p) => [p.name, p.ofport]).sort());
  const ifindex = Object.fromEntries(readdirSync('/sys/class/net').filter((n) => /^dl\d+$/.test(n))
    .map((n) => [n, readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim()]).sort());
  const file = sha256(readFileSync(`${cfg.dataDir}/faucet/faucet.yaml`, 'utf8'));
  const live = faucetStatus(await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`)).hashes;
  return { containers, ports, ifindex, faucet: { file, live: live.includes(file) } };
}

test('kill -9 of the agent: the restarted agent changes nothing that is right, traffic passes', async () => {
  const logs = mkdtempSync(join(tmpdir(), 'dovelab-agent-'));
  const first = startAgent(join(logs, 'first.log'), 2);
  let second: ReturnType<typeof startAgent> | undefined;
  try {
    await first.waitLine('its start repair', /repair done \(start\)/, 60_000);
    const before = await snapshot();
    assert.ok(before.faucet.live, 'Faucet runs faucet.yaml');
    await first.kill9();
    second = startAgent(join(logs, 'second.log'), 2);
    await second.waitLine('its start line', new RegExp(`agent ${second.pid} started`), 30_000);
    const done = await second.waitLine('its own start repair', /repair (done|failed) \(start\)/, 60_000);
    assert.match(done, /repair done \(start\): 0 change\(s\)$/, second.log());
    assert.not.match(second.log(), /\b(attach|create-host|remove-host|remove-port|add-uplink) /, second.log());
    assert.equal(await snapshot(), before);
    assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
    assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0);
    assert.is(await second.stop(), 0, 'a graceful stop exits 0');
    assert.match(second.log(), new RegExp(`agent ${second.pid} stopped`));
  } finally {
    await first.kill9();
    await second?.stop();
    rmSync(logs, { recursive: true, force: true });
  }
});

test('a Faucet restart: traffic resumes; a removed port is repaired', async () => {
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  await docker.getContainer(INFRA.faucet).restart({ t: 1 });
  // Back means answering again with the switch connected (OVS keeps its flows meanwhile, so a ping
  // alone can pass before Faucet's metrics port listens).
  await waitFor('Faucet to answer with dovelab0 connected after its restart',
    async () => faucetStatus(await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`)).dpUp[cfg.bridge] === true, 60_000, 200);
  await waitFor('g1-h1 to ping g1-h2 after the Faucet restart', () => pingOk('dovelab-g1-h1', '198.51.100.12'), 60_000, 0);
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  // Drift: a lab port vanishes; `dovelab up` of the same lab (or the agent) re-adds only it.
  await run(['ip', 'link', 'del', 'dl202']);
  const again = await dovelab(['up', LESSON, '--groups', '2']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /attach dovelab-g2-h2:eth0/);
  assert.not.match(again.stdout, /create-host|attach dovelab-g1/);
  // The port is back on the same ofport with Faucet's config unchanged: Faucet re-programs it on
  // the port's status event, which `up` does not wait for (seen in CI: 3 pings right away lost).
  await waitFor('g2-h1 to ping g2-h2 after its port is re-added', () => pingOk('dovelab-g2-h1', '198.51.100.12'), 30_000, 0);
  assert.is(await pingLoss('dovelab-g2-h1', '198.51.100.12', 3), 0);
});

test('an OVS container restart: ports come back from its database, traffic resumes', async () => {
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0);
  await docker.getContainer(INFRA.ovs).restart({ t: 1 });
  await waitFor('g1-h1 to ping g1-h2 after the OVS restart', () => pingOk('dovelab-g1-h1', '198.51.100.12'), 60_000, 0);
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
  // Docker networks of the driver outlive `lab down` (their spare ports are on the bridge, made ahead).
  const ports = (await ctx.ovs.ports(cfg.bridge)).filter((p) => p.externalIds['dovelab-role'] !== 'plugin' && p.externalIds['dovelab-role'] !== 'gateway');
  assert.equal(ports.map((p) => p.name), []);
  for (const dongle of ['up0', 'up1', 'mir0']) assert.ok((await run(['ip', 'link', 'show', dongle], { allowFail: true })).code === 0, dongle);
});

test('up and down are warm reloads: Faucet never cold-starts the switch for a lab (every other port keeps its traffic)', async () => {
  const ctx = await stack();
  const starts = (r: { faucet?: { before?: { warmStarts: number; coldStarts: number }; after: { warmStarts: number; coldStarts: number } } }) => ({
    warm: (r.faucet?.after.warmStarts ?? 0) - (r.faucet?.before?.warmStarts ?? NaN), cold: (r.faucet?.after.coldStarts ?? 0) - (r.faucet?.before?.coldStarts ?? NaN),
  });
  // The previous test took the lab down: up from idle, then down again.
  const up = await labUp(ctx, LESSON, 2);
  assert.equal(starts(up.report), { warm: 1, cold: 0 }, 'up');
  assert.is(await pingLoss('dovelab-g1-h1', '198.51.100.12', 3), 0, 'the lab works');
  const down = await labDown(ctx);
  assert.equal(starts(down), { warm: 1, cold: 0 }, 'down');
  // Positive control: a change of the DP's own keys (its description) is counted as a cold start.
  const idle = readFileSync(`${cfg.dataDir}/faucet/faucet.yaml`, 'utf8');
  assert.ok(idle.includes(`description: ${DP_DESCRIPTION}\n`), 'the DP description is in the idle config');
  const other = await ctx.faucet.apply(idle.replace(`description: ${DP_DESCRIPTION}\n`, 'description: another appliance\n'));
  assert.is(other.after.coldStarts - (other.before?.coldStarts ?? NaN), 1, 'a DP key changed: cold');
  await ctx.faucet.apply(idle);
});

test.run();

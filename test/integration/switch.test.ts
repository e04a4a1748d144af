// The walking skeleton on real components: two lab hosts through OVS under Faucet.
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INFRA, paths } from '../../agent/config.js';
import { ensureInfraContainer } from '../../agent/docker/infra.js';
import { ofctlVia } from '../../agent/net/ovs-exec.js';
import { teardown } from '../../agent/lab/engine.js';
import { sha256, applyFaucetConfig, FaucetRejected, waitForConfirm } from '../../agent/net/faucet/apply.js';
import { checkFaucetConfig, faucetIo } from '../../agent/net/faucet/docker-io.js';
import { faucetStatus, confirms } from '../../agent/net/faucet/status.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { cfg, docker, hostPidOf, inHost, labUp, pingLoss, run, stack } from './_stack.js';

const TWO = `
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`;
const H1 = 'dovelab-g1-h1';
const H2 = 'dovelab-g1-h2';

test.before(async () => { await stack(); await labUp(TWO); });

test('Faucet confirms the live config by hash, dp_status 1', async () => {
  const text = readFileSync(paths(cfg).faucetYaml, 'utf8');
  const st = faucetStatus(await faucetIo(docker, cfg).metrics());
  assert.ok(st.hashes.includes(sha256(text)), 'live hash equals sha256 of faucet.yaml');
  assert.is(st.loadError, false);
  assert.is(st.dpUp[cfg.bridge], true);
});

test('the generated faucet.yaml passes the real check_faucet_config', async () => {
  const verdict = await checkFaucetConfig(docker, cfg, paths(cfg).faucetYaml);
  assert.ok(verdict.ok, verdict.error);
});

test('h1 pings h2 through OVS under Faucet', async () => {
  assert.is(await pingLoss(H1, '198.51.100.12', 3), 0);
});

test('TCP h1 -> h2 carries data', async () => {
  const server = inHost(H2, ['timeout', '10', 'nc', '-l', '-p', '8080']);
  await new Promise((r) => setTimeout(r, 300));
  const client = await inHost(H1, ['sh', '-c', 'echo hello-through-faucet | nc -N -w 3 198.51.100.12 8080']);
  assert.is(client.code, 0, client.stderr);
  assert.match((await server).stdout, 'hello-through-faucet');
});

test('without Faucet nothing passes (fail_mode secure); Faucet back, traffic back', async () => {
  const ofctl = ofctlVia(docker);
  await docker.getContainer(INFRA.faucet).stop({ t: 1 });
  await docker.getContainer(INFRA.gauge).stop({ t: 1 });
  try {
    // What a switch restart does: its flow table is empty; in secure mode it adds none itself.
    await ofctl(['del-flows', cfg.bridge]);
    assert.is(await pingLoss(H1, '198.51.100.12', 3), 100);
  } finally {
    await ensureInfraContainer(docker, cfg, 'faucet');
    await ensureInfraContainer(docker, cfg, 'gauge');
  }
  const hash = sha256(readFileSync(paths(cfg).faucetYaml, 'utf8'));
  assert.ok(await waitForConfirm(faucetIo(docker, cfg), hash, cfg.bridge, 60_000), 'Faucet back up');
  let loss = 100;
  for (let i = 0; i < 20 && loss > 0; i++) loss = await pingLoss(H1, '198.51.100.12', 2);
  assert.is(loss, 0);
});

const appliance4 = () => Object.values(networkInterfaces()).flat()
  .filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);

test('a lab host gets no ARP answer for any address of the appliance', async () => {
  const addresses = appliance4();
  assert.ok(addresses.length > 0);
  for (const a of addresses) {
    await inHost(H1, ['ip', 'route', 'replace', `${a}/32`, 'dev', 'eth0']);
    await inHost(H1, ['ping', '-c', '2', '-i', '0.3', '-W', '1', a]);
    const neigh = await inHost(H1, ['ip', 'neigh', 'show', a]);
    await inHost(H1, ['ip', 'route', 'del', `${a}/32`]);
    assert.not.match(neigh.stdout, /lladdr/, `appliance answered ARP for ${a}: ${neigh.stdout}`);
  }
});

test('a datagram from a lab host never reaches a service of the appliance', async () => {
  assert.is(readFileSync('/proc/sys/net/ipv4/conf/all/rp_filter', 'utf8').trim() === '1', false, 'rp_filter off/loose: the firewall alone must stop it');
  const [address] = appliance4();
  const sock = createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => sock.bind(0, '0.0.0.0', r));
  const port = sock.address().port;
  const hostEndMac = readFileSync('/sys/class/net/dl101/address', 'utf8').trim();
  try {
    // Pretend ARP worked: address the frame straight at the appliance's veth end.
    await inHost(H1, ['ip', 'route', 'replace', `${address}/32`, 'dev', 'eth0']);
    await inHost(H1, ['ip', 'neigh', 'replace', address!, 'lladdr', hostEndMac, 'dev', 'eth0']);
    for (let i = 0; i < 3; i++) await inHost(H1, ['sh', '-c', `echo probe | nc -u -w 1 ${address} ${port}`]);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await inHost(H1, ['ip', 'neigh', 'del', address!, 'dev', 'eth0']);
    await inHost(H1, ['ip', 'route', 'del', `${address}/32`]);
    sock.close();
  }
  assert.equal(got, []);
});

test('no IPv6 packet from the appliance appears on a lab port', async () => {
  const pid = await hostPidOf(H1);
  const h1mac = (await inHost(H1, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  const capture = run(['nsenter', '-t', String(pid), '-n', 'timeout', '6', 'tcpdump', '-nn', '-e', '-i', 'eth0', '-c', '20',
    `ip6 and not ether src ${h1mac}`], { allowFail: true });
  await new Promise((r) => setTimeout(r, 800));
  // Link up on the appliance's end is when an IPv6 stack sends DAD, RS and MLD.
  await run(['ip', 'link', 'set', 'dl101', 'down']);
  await run(['ip', 'link', 'set', 'dl101', 'up']);
  const r = await capture;
  assert.match(r.stderr, /0 packets captured/, r.stdout + r.stderr);
  let loss = 100;
  for (let i = 0; i < 20 && loss > 0; i++) loss = await pingLoss(H1, '198.51.100.12', 2);
  assert.is(loss, 0, 'port back after the flap');
});

test('a config Faucet rejects is never left in place; the old one stays live', async () => {
  const io = faucetIo(docker, cfg);
  const file = paths(cfg).faucetYaml;
  const before = readFileSync(file, 'utf8');
  const model = JSON.parse(JSON.stringify((await labUp(TWO)).desired.faucet));
  model.acls['dovelab-allow'] = [{ match: { no_such_field: 1 }, actions: { allow: true } }];
  try {
    await applyFaucetConfig(io, file, emitFaucetYaml(model), cfg.bridge);
    assert.unreachable('Faucet accepted a bad config');
  } catch (e) {
    assert.instance(e, FaucetRejected);
    assert.match((e as Error).message, /no_such_field/);
  }
  assert.is(readFileSync(file, 'utf8'), before);
  assert.ok(confirms(faucetStatus(await io.metrics()), sha256(before), cfg.bridge));
  assert.is(await pingLoss(H1, '198.51.100.12', 2), 0);
});

test('lab down leaves no lab hosts, no lab ports and no orphan veths', async () => {
  const ctx = await stack();
  await teardown(ctx);
  const links = (await run(['ip', '-o', 'link', 'show'])).stdout;
  assert.not.match(links, /\bdl\d+[@:]/);
  assert.equal((await ctx.ovs.ports(cfg.bridge)).filter((p) => 'dovelab-lab' in p.externalIds), []);
  assert.equal((await docker.listContainers({ all: true, filters: { label: ['dovelab.lab'] } })).length, 0);
});

test.run();

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
import { cfg, docker, inHost, inNetnsOf, labUp, pingLoss, pingOk, run, stack, startCapture, waitFor, waitListening } from './_stack.js';
import { loud } from '../loud-hook.js';

const TWO = `
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`;
const H1 = 'dovelab-g1-h1';
const H2 = 'dovelab-g1-h2';

test.before(loud(async () => { await stack(); await labUp(TWO); }));

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
  await waitListening(H2, 8080);
  const client = await inHost(H1, ['sh', '-c', 'echo hello-through-faucet | nc -N -w 3 198.51.100.12 8080']);
  assert.is(client.code, 0, client.stderr);
  assert.match((await server).stdout, 'hello-through-faucet');
});

test('without Faucet nothing passes (fail_mode secure); Faucet back, traffic back', async () => {
  const ofctl = ofctlVia(docker);
  assert.is(await pingLoss(H1, '198.51.100.12', 3), 0, 'control: the same probe passes with Faucet up');
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
  await waitFor('h1 to ping h2 with Faucet back', () => pingOk(H1, '198.51.100.12'), 60_000, 0);
  assert.is(await pingLoss(H1, '198.51.100.12', 3), 0);
});

const appliance4 = () => Object.values(networkInterfaces()).flat()
  .filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);

test('a lab host gets no ARP answer for any address of the appliance', async () => {
  const addresses = appliance4();
  assert.ok(addresses.length > 0);
  // Control: the same probe (ping out of eth0, then read the neighbour table) learns h2's MAC.
  await inHost(H1, ['ip', 'neigh', 'flush', 'all']);
  await inHost(H1, ['ping', '-c', '2', '-i', '0.3', '-W', '1', '198.51.100.12']);
  assert.match((await inHost(H1, ['ip', 'neigh', 'show', '198.51.100.12'])).stdout, /lladdr/, 'control: ARP works on the lab port');
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
  // Control: the same probe to a UDP listener on h2 arrives.
  const listener = inHost(H2, ['timeout', '10', 'nc', '-u', '-l', '-p', '9301']);
  try {
    await waitFor('h2 to listen on UDP 9301', async () => (await run([...await inNetnsOf(H2), 'ss', '-Hlun', 'sport', '=', ':9301'])).stdout.trim(), 10_000, 50);
    // Pretend ARP worked: address the frame straight at the appliance's veth end.
    await inHost(H1, ['ip', 'route', 'replace', `${address}/32`, 'dev', 'eth0']);
    await inHost(H1, ['ip', 'neigh', 'replace', address!, 'lladdr', hostEndMac, 'dev', 'eth0']);
    for (let i = 0; i < 3; i++) await inHost(H1, ['sh', '-c', `echo probe | nc -u -w 1 ${address} ${port}`]);
    // The control goes after the probes: by the time it has arrived, so would have they.
    await inHost(H1, ['sh', '-c', 'echo control | nc -u -w 1 198.51.100.12 9301']);
    assert.match((await listener).stdout, /control/, 'control: the probe reaches a listener on h2');
  } finally {
    await inHost(H1, ['ip', 'neigh', 'del', address!, 'dev', 'eth0']);
    await inHost(H1, ['ip', 'route', 'del', `${address}/32`]);
    sock.close();
  }
  assert.equal(got, []);
});

test('no IPv6 packet from the appliance appears on a lab port', async () => {
  const h1mac = (await inHost(H1, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  const h2mac = (await inHost(H2, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
  // One capture: IPv6 from anyone but h1 (must stay empty) or ICMP from h2 (the control: it sees).
  const cap = await startCapture(await inNetnsOf(H1), 'eth0', `(ip6 and not ether src ${h1mac}) or (icmp and ether src ${h2mac})`);
  let lines: string[];
  try {
    // Link up on the appliance's end is when an IPv6 stack sends DAD, RS and MLD.
    await run(['ip', 'link', 'set', 'dl101', 'down']);
    await run(['ip', 'link', 'set', 'dl101', 'up']);
    await waitFor('h1 to ping h2 again after the flap', () => pingOk(H1, '198.51.100.12'), 30_000, 0);
    await cap.waitLine('the control: echo replies from h2 in the capture', /echo reply/);
    // The kernel sends DAD/RS/MLD within about a second of link up (RFC 4861/4862/3810 delays);
    // this observation window covers that chatter.
    await new Promise((r) => setTimeout(r, 3000));
  } finally { lines = (await cap.stop()).lines; }
  assert.equal(lines.filter((l) => !/echo (request|reply)/.test(l)), [], 'no IPv6 from the appliance');
  assert.is(await pingLoss(H1, '198.51.100.12', 3), 0, 'port back after the flap');
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

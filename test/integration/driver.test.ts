// The Docker network driver on the real stack: the real docker CLI talks to the agent's plugin
// socket; containers on a `-d dovelab` network are ports of the one bridge under the one Faucet
// DP, in the network's VLAN; `docker run` returns once Faucet has confirmed; bad options and VLAN
// clashes fail `docker network create` with our message; `docker network rm` leaves nothing.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { sparesMissing } from '../../agent/lab/plan-networks.js';
import { withLabLock } from '../../agent/lab/service.js';
import { dovelab } from './_cli.js';
import { cfg, run, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';
import { dockerCli, driverAgent, driverCleanup } from './_driver.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const made = { networks: new Set<string>(), containers: new Set<string>(), links: new Set<string>() };

const docker = (args: string[]) => dockerCli(args);
async function network(name: string, args: string[]) {
  const r = await docker(['network', 'create', ...args, name]);
  if (r.code === 0) made.networks.add(name);
  return r;
}
async function container(name: string, net: string, ip: string) {
  const r = await docker(['run', '-d', '--name', name, '--network', net, '--ip', ip, IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
  made.containers.add(name);
}
/** A container on a network without IPAM (Docker refuses overlapping pools): it sets its own address. */
async function containerOwnIp(name: string, net: string, cidr: string) {
  const r = await docker(['run', '-d', '--name', name, '--network', net, '--cap-add', 'NET_ADMIN', IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
  made.containers.add(name);
  const a = await exec(name, ['ip', 'addr', 'add', cidr, 'dev', 'eth0']);
  assert.is(a.code, 0, a.stderr);
}
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
const faucetDoc = () => parse(readFileSync(paths(cfg).faucetYaml, 'utf8')) as {
  vlans: Record<string, { vid: number }>; dps: Record<string, { interfaces: Record<string, { name: string; native_vlan?: string }> }>;
};
const vlanOf = (vid: number) => Object.entries(faucetDoc().vlans).find(([, v]) => v.vid === vid)?.[0];

test.before(loud(async () => {
  ({ agent, dir } = await driverAgent('dovelab-driver-test-', 5));
}));

test.after(() => driverCleanup(made, agent, dir));

test('two containers on a dovelab network reach each other as soon as docker run returns; another VLAN does not', async () => {
  const r = await network('dl-office', ['-d', 'dovelab', '--internal', '--subnet', '198.51.100.0/24', '-o', 'dovelab.vlan=110']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(vlanOf(110), 'VLAN 110 is in the live faucet.yaml');
  await container('dl-a', 'dl-office', '198.51.100.21');
  await container('dl-b', 'dl-office', '198.51.100.22');
  // Faucet confirmed before `docker run` returned: no waiting here.
  const ping = await exec('dl-a', ['ping', '-c', '3', '-W', '1', '198.51.100.22']);
  assert.is(ping.code, 0, `a reaches b right away:\n${ping.stdout}${ping.stderr}`);
  const ifs = await exec('dl-b', ['ip', '-br', 'link']);
  assert.match(ifs.stdout, /^eth0@/m, 'the container sees eth0');
  // A second network is another VLAN: same addresses, no way across (positive control: inside it, it works).
  const r2 = await network('dl-lab', ['-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.vlan=120']);
  assert.is(r2.code, 0, r2.stderr);
  await containerOwnIp('dl-c', 'dl-lab', '198.51.100.23/24');
  await containerOwnIp('dl-d', 'dl-lab', '198.51.100.24/24');
  assert.is((await exec('dl-c', ['ping', '-c', '2', '-W', '1', '198.51.100.24'])).code, 0, 'c reaches d (same network)');
  const across = await exec('dl-c', ['ping', '-c', '2', '-W', '1', '198.51.100.21']);
  assert.is.not(across.code, 0, 'c does not reach a (another network, another VLAN)');
  assert.match(across.stdout, /0 received|100% packet loss/);
});

test('dovelab.mtu: both ends of a container\'s link get it (Dovesnap set only its bridge)', async () => {
  const r = await network('dl-mtu', ['-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.mtu=1400', '-o', 'dovelab.vlan=160']);
  assert.is(r.code, 0, r.stderr);
  const m = await docker(['run', '-d', '--name', 'dl-m', '--network', 'dl-mtu', IMAGE, 'sleep', 'infinity']);
  assert.is(m.code, 0, m.stderr);
  made.containers.add('dl-m');
  assert.match((await exec('dl-m', ['ip', '-o', 'link', 'show', 'eth0'])).stdout, / mtu 1400 /, 'inside the container');
  const ifindex = (await exec('dl-m', ['cat', '/sys/class/net/eth0/iflink'])).stdout.trim();
  const hostEnd = (await run(['ip', '-o', 'link'])).stdout.split('\n').find((l) => l.startsWith(`${ifindex}: `));
  assert.match(hostEnd ?? '', /^\d+: dl4\d{3}@.* mtu 1400 /, `the appliance's end: ${hostEnd}`);
  // Positive control: a network without the option keeps 1500.
  const plain = (await exec('dl-a', ['ip', '-o', 'link', 'show', 'eth0'])).stdout;
  assert.match(plain, / mtu 1500 /);
});

test('bad options and VLAN clashes fail `docker network create` with our message; nothing is made', async () => {
  // The join of the test before took a spare port: it is made again once the driver is quiet (a
  // Faucet change of its own, seen landing in this test). Wait for it and for the lab lock its
  // reload holds, so the only change left to see would be a refused network's.
  await waitFor('the spare ports taken before to be made again', () => sparesMissing(readNetworkState(paths(cfg).networks)).size === 0 || undefined, 30_000, 200);
  const before = await withLabLock(cfg, async () => readFileSync(paths(cfg).faucetYaml, 'utf8'));
  const cases: [string[], RegExp][] = [
    [['-o', 'dovelab.vlan=110'], /VLAN 110 is already used/],
    [['-o', 'ovs.bridge.vlan=5000'], /ovs\.bridge\.vlan/],
    [['-o', 'dovelab.bogus=1'], /dovelab\.bogus/],
    [['-o', 'ovs.bridge.add_ports=lo'], /lo cannot be bridged/],
    [['-o', 'ovs.bridge.add_ports=nosuchif0'], /nosuchif0: no such interface/],
  ];
  for (const [opts, why] of cases) {
    const r = await network('dl-bad', ['-d', 'dovelab', '--internal', ...opts]);
    assert.is.not(r.code, 0, `${opts.join(' ')} must fail`);
    assert.match(r.stderr, why, `${opts.join(' ')}: ${r.stderr}`);
  }
  assert.is(readFileSync(paths(cfg).faucetYaml, 'utf8'), before, 'Faucet config untouched');
  // Positive control: the same name with good options works.
  const ok = await network('dl-bad', ['-d', 'dovelab', '--internal', '-o', 'dovelab.vlan=130']);
  assert.is(ok.code, 0, ok.stderr);
});

test('Dovesnap\'s command line unchanged (-d dovesnap, ovs.bridge.*): a veth bridged in with add_ports reaches a container', async () => {
  await run(['ip', 'link', 'add', 'odsaddport1', 'type', 'veth', 'peer', 'name', 'odsaddport1p']);
  made.links.add('odsaddport1');
  await run(['ip', 'netns', 'add', 'dl-ext']);
  try {
    await run(['ip', 'link', 'set', 'odsaddport1p', 'netns', 'dl-ext']);
    await run(['ip', 'netns', 'exec', 'dl-ext', 'ip', 'addr', 'add', '203.0.113.9/24', 'dev', 'odsaddport1p']);
    await run(['ip', 'netns', 'exec', 'dl-ext', 'ip', 'link', 'set', 'odsaddport1p', 'up']);
    await run(['ip', 'netns', 'exec', 'dl-ext', 'ethtool', '-K', 'odsaddport1p', 'tx', 'off']);
    const r = await network('testnet', ['-d', 'dovesnap', '--internal', '--subnet', '203.0.113.0/24',
      '-o', 'ovs.bridge.add_ports=odsaddport1/7', '-o', 'ovs.bridge.mode=flat', '-o', 'ovs.bridge.dpid=0x1',
      '-o', 'ovs.bridge.controller=tcp:127.0.0.1:6653,tcp:127.0.0.1:6654']);
    assert.is(r.code, 0, r.stderr);
    const vlan = vlanOf(100);
    assert.ok(vlan, 'a network without a VLAN gets 100 (Dovesnap\'s default) when it is free');
    assert.is(faucetDoc().dps[cfg.bridge]!.interfaces['7']?.name, 'odsaddport1', 'the interface at the port number asked for');
    await container('testcon', 'testnet', '203.0.113.20');
    const ping = await exec('testcon', ['ping', '-c', '3', '-W', '1', '203.0.113.9']);
    assert.is(ping.code, 0, `the container reaches the far end of odsaddport1:\n${ping.stdout}${ping.stderr}`);
  } finally {
    await run(['ip', 'netns', 'del', 'dl-ext'], { allowFail: true });
  }
});

test('dovelab.dhcp=true on the school network (uplink up0): containers get leases from its DHCP server with their names, reach the printer', async () => {
  const r = await network('dl-school', ['-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.uplink=up0', '-o', 'dovelab.dhcp=true', '-o', 'dovelab.vlan=140']);
  assert.is(r.code, 0, r.stderr);
  for (const name of ['dhcp-one', 'dhcp-two']) {
    const run1 = await docker(['run', '-d', '--name', name, '--network', 'dl-school', IMAGE, 'sleep', 'infinity']);
    assert.is(run1.code, 0, run1.stderr);
    made.containers.add(name);
  }
  const addressOf = async (name: string) => /inet (100\.64\.0\.\d+)\/24/.exec((await exec(name, ['ip', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1];
  const one = await waitFor('dhcp-one to get a lease', () => addressOf('dhcp-one'), 40_000, 250);
  const two = await waitFor('dhcp-two to get a lease', () => addressOf('dhcp-two'), 40_000, 250);
  assert.is.not(one, two);
  // The school's DHCP server recorded each lease under the container's name (Dovesnap sends none).
  const leases = await waitFor('the leases to name both containers', () => {
    const t = readFileSync(`${cfg.runDir}/sim/dnsmasq.leases`, 'utf8');
    return /\sdhcp-one\s/.test(t) && /\sdhcp-two\s/.test(t) ? t : undefined;
  }, 20_000);
  assert.match(leases, new RegExp(`${one!.replace(/\./g, '\\.')} dhcp-one `));
  assert.is((await exec('dhcp-one', ['ping', '-c', '2', '-W', '2', '100.64.0.10'])).code, 0, 'the printer answers');
  assert.is((await exec('dhcp-one', ['ping', '-c', '2', '-W', '2', two!])).code, 0, 'and so does the other container');
  // `dovelab status` shows the network and each container's lease.
  const status = await waitFor('status to show both leases', async () => {
    const out = (await dovelab(['status'])).stdout;
    return /dhcp-one .*lease 100\.64\.0\.\d+ \(dhcp-one\)/.test(out) && /dhcp-two .*lease/.test(out) ? out : undefined;
  }, 20_000, 500);
  assert.match(status, /docker networks \(driver dovelab\):\n/);
  assert.match(status, /\n {2}\S+ {2}vlan 140 {2}flat, dhcp {2}uplinks: up0\n/);
  // The appliance's own resolv.conf is untouched by the lease (the script sets only the interface).
  assert.not.match(readFileSync('/etc/resolv.conf', 'utf8'), /100\.64\.0\.1\b/);
});

test('docker network rm (after its containers go) leaves no VLAN, port or link behind', async () => {
  for (const c of [...made.containers]) { await docker(['rm', '-f', c]); made.containers.delete(c); }
  for (const n of [...made.networks]) {
    const r = await docker(['network', 'rm', n]);
    assert.is(r.code, 0, r.stderr);
    made.networks.delete(n);
  }
  for (const vid of [110, 120, 130, 100, 140, 160]) assert.not.ok(vlanOf(vid), `VLAN ${vid} gone`);
  const ports = Object.values(faucetDoc().dps[cfg.bridge]!.interfaces).map((i) => i.name);
  assert.equal(ports.filter((p) => p.startsWith('docker-') || p === 'odsaddport1' || p === 'up0'), []);
  // No DHCP client left running for them.
  assert.not.match((await run(['ps', '-eo', 'args'])).stdout, /udhcpc .*-s \S*udhcpc\.script/);
  const links = await run(['ip', '-br', 'link']);
  assert.not.match(links.stdout, /^(dl4\d{3}|dp4\d{3})[@ ]/m, 'no endpoint veth left');
});

test.run();

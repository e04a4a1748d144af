// Driver modes nat and routed on the real stack (issue 9): the real docker CLI, the agent's plugin
// socket, a gateway port per network. An "outside" netns joined to the appliance by a veth
// (198.18.0.1 here, .2 there) plays the world beyond the appliance. nat: containers ping their
// gateway, reach the outside as the appliance (masquerade, seen by tcpdump there), never the
// appliance's own services (its web port) on any of its addresses, and `-p 8089:80` brings the
// outside in; routed: the outside sees the container's own address. `docker network rm` leaves no
// gateway link and no rule of ours.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gatewayFirewall } from '../../agent/lab/plan-gateways.js';
import { restOf } from '../../agent/lab/service.js';
import { dovelab } from './_cli.js';
import { cfg, run, stack, startAgent, waitFor, waitListening, withCapture, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
/** The outside: a netns behind a veth whose names do not start with dl (the lab firewall drops dl+). */
const OUT = 'natout';
const OUT_HOST = 'nout0';
const OUT_PEER = 'nout1';
// Addresses in the appliance's own namespace come from 198.18.0.0/24 (RFC 2544), not 203.0.113.0/24:
// package mirrors here answer on 203.0.113.80, and a route to that /24 on a test veth cuts them off.
const APPLIANCE = '198.18.0.1';
const OUTSIDE = '198.18.0.2';
const LISTEN = 9000;
const made = { networks: new Set<string>(), containers: new Set<string>() };
let listener: ReturnType<typeof run> | undefined;

const docker = (args: string[]) => run(['docker', ...args], { allowFail: true, timeoutMs: 120_000 });
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
const inOut = (argv: string[], timeoutMs = 20_000) => run(['ip', 'netns', 'exec', OUT, ...argv], { allowFail: true, timeoutMs });
async function network(name: string, args: string[]) {
  const r = await docker(['network', 'create', ...args, name]);
  if (r.code === 0) made.networks.add(name);
  return r;
}
async function container(name: string, args: string[], cmd: string[] = ['sleep', 'infinity']) {
  // Recorded first: a run that fails may still leave a created container behind.
  made.containers.add(name);
  const r = await docker(['run', '-d', '--name', name, ...args, IMAGE, ...cmd]);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}\nagent log:\n${agent.log().split('\n').slice(-15).join('\n')}`);
}
const gatewayOf = async (net: string) => (await docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', net])).stdout.trim();
const subnetOf = async (net: string) => (await docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', net])).stdout.trim();
const vidOf = async (gw: string) => {
  const links = (await run(['ip', '-o', '-4', 'addr', 'show'])).stdout;
  const m = new RegExp(`^\\d+: (gw(\\d+))\\s+inet ${gw.replace(/\./g, '\\.')}/`, 'm').exec(links);
  return m ? Number(m[2]) : undefined;
};
/** A TCP connect from a container: true connected, false refused or timed out (nc ran either way). */
async function tcpFrom(name: string, host: string, port: number): Promise<boolean> {
  const r = await exec(name, ['nc', '-z', '-w', '2', host, String(port)]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`nc could not run in ${name} (exit ${r.code}): ${r.stderr}`);
  return r.code === 0;
}
const rules = async () => `${(await run(['iptables', '-w', '-S'])).stdout}\n${(await run(['iptables', '-w', '-t', 'nat', '-S'])).stdout}`;

test.before(loud(async () => {
  await stack();
  await dovelab(['down']);
  dir = mkdtempSync(join(tmpdir(), 'dovelab-nat-test-'));
  // Dovesnap's test ACLs (its lib_test.sh seeds them into faucet.yaml), in Faucet's syntax; ratelimitit has no meter here.
  writeFileSync(join(dir, 'acls.yaml'), 'acls:\n  allowall: [{rule: {actions: {allow: 1}}}]\n  denyall: [{rule: {actions: {allow: 0}}}]\n  ratelimitit: [{rule: {actions: {allow: 1}}}]\n');
  agent = startAgent(join(dir, 'agent.log'), 5, { DOVELAB_ACL_FILE: join(dir, 'acls.yaml') });
  await agent.waitLine('the network driver to listen', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
  await run(['ip', 'netns', 'del', OUT], { allowFail: true });
  await run(['ip', 'link', 'del', OUT_HOST], { allowFail: true });
  await run(['ip', 'netns', 'add', OUT]);
  await run(['ip', 'link', 'add', OUT_HOST, 'type', 'veth', 'peer', 'name', OUT_PEER]);
  await run(['ip', 'link', 'set', OUT_PEER, 'netns', OUT]);
  await run(['ip', 'addr', 'add', `${APPLIANCE}/24`, 'dev', OUT_HOST]);
  await run(['ip', 'link', 'set', OUT_HOST, 'up']);
  await inOut(['ip', 'addr', 'add', `${OUTSIDE}/24`, 'dev', OUT_PEER]);
  await inOut(['ip', 'link', 'set', OUT_PEER, 'up']);
  await inOut(['ip', 'link', 'set', 'lo', 'up']);
  // A TCP listener out there (answers every connection).
  listener = run(['ip', 'netns', 'exec', OUT, 'busybox', 'nc', '-ll', '-p', String(LISTEN), '-e', 'echo', 'outside'], { allowFail: true, timeoutMs: 600_000 });
  await waitFor('the outside listener', async () => (await inOut(['ss', '-Hltn', 'sport', '=', `:${LISTEN}`])).stdout.trim(), 10_000, 50);
}));

test.after(async () => {
  for (const c of made.containers) await docker(['rm', '-f', c]);
  for (const n of made.networks) await docker(['network', 'rm', n]);
  await run(['ip', 'netns', 'pids', OUT], { allowFail: true }).then(async (r) => {
    for (const pid of r.stdout.split('\n').filter(Boolean)) await run(['kill', pid], { allowFail: true });
  });
  await listener?.catch(() => {});
  await run(['ip', 'netns', 'del', OUT], { allowFail: true });
  await run(['ip', 'link', 'del', OUT_HOST], { allowFail: true });
  await run(['ip', 'link', 'del', 'odsaddport1'], { allowFail: true });
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('nat: the container pings its gateway and reaches the outside as the appliance (masquerade)', async () => {
  const r = await network('natnet', ['-d', 'dovelab', '--internal', '--subnet', '198.51.100.0/24', '-o', 'dovelab.mode=nat']);
  assert.is(r.code, 0, r.stderr);
  // (inspect shows no gateway when only --subnet is given: Docker's IPAM took the first address.)
  await container('natc', ['--network', 'natnet']);
  const route = (await exec('natc', ['ip', 'route', 'show', 'default'])).stdout;
  assert.match(route, /^default via 198\.51\.100\.1 dev eth0/m, `Join's gateway is the default route: ${route}`);
  const ping = await exec('natc', ['ping', '-c', '3', '-W', '1', '198.51.100.1']);
  assert.is(ping.code, 0, `the gateway answers:\n${ping.stdout}${ping.stderr}`);
  const seen = await withCapture(['ip', 'netns', 'exec', OUT], OUT_PEER, `tcp dst port ${LISTEN} and tcp[tcpflags] & tcp-syn != 0`, async (cap) => {
    assert.ok(await tcpFrom('natc', OUTSIDE, LISTEN), 'the container reaches the outside listener');
    return cap.waitLine('the SYN out there', new RegExp(`> ${OUTSIDE.replace(/\./g, '\\.')}\\.${LISTEN}:`));
  });
  assert.match(seen.result, new RegExp(` ${APPLIANCE.replace(/\./g, '\\.')}\\.\\d+ > `), `the outside sees the appliance's address: ${seen.result}`);
  assert.not.ok(seen.lines.some((l) => /198\.51\.100\./.test(l)), 'never the container\'s own address');
});

test('nat: the container cannot reach the appliance\'s web port, on its gateway or on 198.18.0.1 (controls: the outside listener; the web port from outside)', async () => {
  const port = cfg.web.port;
  await waitFor(`the agent's web port ${port} to answer`, async () => (await run(['ss', '-Hltn', 'sport', '=', `:${port}`])).stdout.trim(), 30_000);
  // Positive controls: the same probe reaches the outside; the web port answers an outside client on 198.18.0.1.
  assert.ok(await tcpFrom('natc', OUTSIDE, LISTEN), 'control: the probe reaches the outside listener');
  const outside = await inOut(['nc', '-z', '-w', '2', APPLIANCE, String(port)]);
  assert.is(outside.code, 0, `control: the web port answers from outside on ${APPLIANCE}: ${outside.stderr}`);
  assert.not.ok(await tcpFrom('natc', '198.51.100.1', port), 'not on the gateway address');
  assert.not.ok(await tcpFrom('natc', APPLIANCE, port), `not on ${APPLIANCE}`);
  assert.not.ok(await tcpFrom('natc', '198.51.100.1', 22), 'nor ssh (or anything else) on the gateway');
});

test('nat: -p 8089:80 publishes the container\'s port 80 on the appliance\'s addresses', async () => {
  await container('natweb', ['--network', 'natnet', '-p', '8089:80'],
    ['sh', '-c', 'mkdir -p /srv && echo hello-from-natweb > /srv/index.html && exec busybox httpd -f -p 80 -h /srv']);
  await waitListening('natweb', 80);
  const got = await inOut(['curl', '-sS', '-m', '5', `http://${APPLIANCE}:8089/`]);
  assert.is(got.code, 0, `curl from outside: ${got.stderr}`);
  assert.is(got.stdout.trim(), 'hello-from-natweb');
  // Control of the rule itself: a port nobody published is not forwarded anywhere.
  const other = await inOut(['curl', '-sS', '-m', '3', `http://${APPLIANCE}:8090/`]);
  assert.is.not(other.code, 0, 'an unpublished port does not reach the container');
  assert.match(await rules(), /-A DOVELAB-GW-PRE -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8089 -j DNAT --to-destination 198\.51\.100\.\d+:80/);
  // What is installed is exactly the pure computation from networks.json (as iptables -S prints it).
  for (const c of gatewayFirewall(restOf({ ...cfg, aclFile: join(dir, 'acls.yaml') }).gateways ?? [])) {
    const got = (await run(['iptables', '-w', '-t', c.table, '-S', c.chain])).stdout.split('\n').filter((l) => l.startsWith('-A '));
    assert.equal(got, c.rules, `${c.table} ${c.chain}`);
  }
  // Gone with the container (Revoke/Leave), and the page with it.
  const rm = await docker(['rm', '-f', 'natweb']);
  assert.is(rm.code, 0, rm.stderr);
  made.containers.delete('natweb');
  assert.not.match(await rules(), /--dport 8089/, 'the DNAT rule went with the container');
});

test('routed: Dovesnap\'s command lines unchanged (ACLs, gateway MAC, add_ports, MTU; portacl, mac_prefix, -p): the container pings the gateway; the outside sees its own address', async () => {
  await run(['ip', 'link', 'add', 'odsaddport1', 'type', 'veth', 'peer', 'name', 'odsaddport1p'], { allowFail: true });
  const r = await network('testnet', ['-d', 'dovesnap', '--internal', '-o', 'ovs.bridge.mode=routed', '-o', 'ovs.bridge.dpid=0x1',
    '-o', 'ovs.bridge.controller=tcp:127.0.0.1:6653,tcp:127.0.0.1:6654', '-o', 'ovs.bridge.ovs_local_mac=0e:01:00:00:00:23', '-o', 'ovs.bridge.vlan_out_acl=allowall',
    '-o', 'ovs.bridge.add_ports=odsaddport1/888/denyall', '-o', 'ovs.bridge.mtu=1400', '-o', 'ovs.bridge.default_acl=denyall', '-o', 'ovs.bridge.preallocate_ports=10']);
  assert.is(r.code, 0, r.stderr);
  const r2 = await docker(['run', '-d', '--label=dovesnap.faucet.portacl=testnet:ratelimitit', '--label=dovesnap.faucet.mac_prefix=0e:99', '--net=testnet', '--rm', '--name=testcon', '-p', '80:80', IMAGE, 'sleep', '1h']);
  made.containers.add('testcon');
  assert.is(r2.code, 0, r2.stderr);
  assert.match((await exec('testcon', ['ip', 'link', 'show', 'eth0'])).stdout, /link\/ether 0e:99:/, 'ifconfig eth0 | grep -iq 0e:99');
  assert.match((await run(['ip', 'link'])).stdout, /0e:01:00:00:00:23/, 'ip link | grep -iq 0e:01:00:00:00:23');
  const GW = await gatewayOf('testnet');
  assert.match(GW, /^\d+\.\d+\.\d+\.\d+$/);
  const ping = await exec('testcon', ['ping', '-c', '3', GW]);
  assert.is(ping.code, 0, `docker exec testcon ping -c 3 $GW:\n${ping.stdout}${ping.stderr}`);
  const vid = await vidOf(GW);
  assert.ok(vid, `gw<vid> carries ${GW}`);
  assert.match((await run(['ip', '-o', 'link', 'show', `gw${vid}`])).stdout, / mtu 1400 /, 'the gateway has the network\'s MTU');
  const subnet = await subnetOf('testnet');
  const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec((await exec('testcon', ['ip', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1];
  assert.ok(ip, 'the container has its address');
  await inOut(['ip', 'route', 'replace', subnet, 'via', APPLIANCE]);
  const seen = await withCapture(['ip', 'netns', 'exec', OUT], OUT_PEER, `tcp dst port ${LISTEN} and tcp[tcpflags] & tcp-syn != 0`, async (cap) => {
    assert.ok(await tcpFrom('testcon', OUTSIDE, LISTEN), 'the routed container reaches the outside');
    return cap.waitLine('the SYN out there', new RegExp(`> ${OUTSIDE.replace(/\./g, '\\.')}\\.${LISTEN}:`));
  });
  assert.match(seen.result, new RegExp(` ${ip!.replace(/\./g, '\\.')}\\.\\d+ > `), `the outside sees the container's own address: ${seen.result}`);
  // Networks stay apart through the appliance (control: each reaches its own gateway and the outside).
  assert.is((await exec('natc', ['ping', '-c', '2', '-W', '1', ip!])).code, 1, 'the nat container does not reach the routed one');
  assert.not.ok(await tcpFrom('testcon', '198.51.100.1', cfg.web.port), 'nor the appliance\'s web port on the other network\'s gateway');
});

test('repair: a deleted gateway veth and flushed chains come back with the next repair', async () => {
  const vid = await vidOf('198.51.100.1');
  assert.ok(vid);
  await run(['ip', 'link', 'del', `gp${vid}`]);
  await run(['iptables', '-w', '-F', 'DOVELAB-GW-FWD']);
  await run(['iptables', '-w', '-t', 'nat', '-F', 'DOVELAB-GW-POST']);
  // Broken now (read at once, before the agent's next repair could run).
  assert.is(await vidOf('198.51.100.1'), undefined, 'the gateway is gone');
  await waitFor('the gateway to come back', async () => (await vidOf('198.51.100.1')) === vid, 30_000, 250);
  await waitFor('the container to reach the outside again', () => tcpFrom('natc', OUTSIDE, LISTEN), 30_000, 500);
  assert.match(await rules(), /-A DOVELAB-GW-POST -s 198\.51\.100\.0\/24 ! -o gw\d+ -j MASQUERADE/);
});

test('docker network rm leaves no gateway link and no rule of ours', async () => {
  assert.match(await rules(), /DOVELAB-GW-/, 'control: our rules are there now');
  for (const c of [...made.containers]) { await docker(['rm', '-f', c]); made.containers.delete(c); }
  for (const n of [...made.networks]) {
    const r = await docker(['network', 'rm', n]);
    assert.is(r.code, 0, r.stderr);
    made.networks.delete(n);
  }
  const links = (await run(['ip', '-br', 'link'])).stdout;
  assert.not.match(links, /^g[pw]\d+[@ ]/m, `no gateway link left:\n${links}`);
  const after = await rules();
  assert.not.match(after, /DOVELAB-GW-|[ +]g[pw]\d*[+ ]|--dport 8089/, `no rule of ours left:\n${after}`);
  // (Only ours: other worktrees' unit tests may hold these test addresses on their own veths meanwhile.)
  assert.not.match((await run(['ip', '-4', 'route'])).stdout, /dev g[pw]\d+/, 'no route through a gateway left');
});

test.run();

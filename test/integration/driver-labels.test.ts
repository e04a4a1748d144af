// The driver's container labels on the real stack (real dockerd and docker CLI, OVS, Faucet, sim
// world): dovelab.acl blocks ping and not TCP; an unknown ACL label fails `docker run` with our
// message; dovelab.mirror copies a container's traffic to the mirror dongle (seen in the sim
// world's capture netns); --mac-address is honoured and mac_prefix rewrites the MAC; Dovesnap's
// DHCP test with its command lines (add_ports with a port number, portacl and mirror labels,
// udhcpd on the far end of the veth, a lease again after `docker restart`); vlan_out_acl as the VLAN's
// egress ACLs.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dovelab } from './_cli.js';
import { removeTrainingHost, trainingHost } from '../../agent/hardware/sim/world.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { cfg, docker as dockerApi, run, stack, startAgent, startCapture, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const made = { networks: new Set<string>(), containers: new Set<string>(), links: new Set<string>(), netns: new Set<string>() };

const docker = (args: string[]) => run(['docker', ...args], { allowFail: true, timeoutMs: 120_000 });
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
async function network(name: string, args: string[]) {
  const r = await docker(['network', 'create', ...args, name]);
  assert.is(r.code, 0, `docker network create ${name}: ${r.stderr}`);
  made.networks.add(name);
}
async function runContainer(name: string, args: string[], cmd = ['sleep', 'infinity']) {
  const r = await docker(['run', '-d', '--name', name, ...args, IMAGE, ...cmd]);
  made.containers.add(name);
  return r;
}
async function started(name: string, args: string[]) {
  const r = await runContainer(name, args);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
}
const macOf = async (name: string, ifname = 'eth0') => /link\/ether ([0-9a-f:]{17})/.exec((await exec(name, ['ip', 'link', 'show', ifname])).stdout)?.[1];
/** A TCP connect from `from` to ip:port within 3 s: 0 = connected. */
const tcp = async (from: string, ip: string, port: number) => (await exec(from, ['bash', '-c', `timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/${port}'`])).code;
const ping = async (from: string, ip: string) => (await exec(from, ['ping', '-c', '2', '-i', '0.3', '-W', '1', ip])).code;
/** What a missing lease needs to be understood: the agent's driver/dongle lines, udhcpc's logs, OVS's view of the port. */
async function dhcpDiagnosis(): Promise<string> {
  const agentLines = agent.log().split('\n').filter((l) => /DHCP|dongle|repair|odsaddport|testcon|Faucet|refus/i.test(l)).slice(-40);
  const recent = Date.now() - 120_000;
  const clients = readdirSync(cfg.logDir).filter((f) => f.startsWith('dhcp-') && statSync(join(cfg.logDir, f)).mtimeMs > recent).map((f) => `--- ${f}\n${readFileSync(join(cfg.logDir, f), 'utf8').split('\n').slice(-15).join('\n')}`);
  const port = await vsctlVia(dockerApi)(['--columns=name,ofport,link_state,admin_state', 'list', 'interface', 'odsaddport1']).then((r) => r.stdout, (e: Error) => e.message);
  return ['agent log (driver, dongle, repair lines):', ...agentLines, 'udhcpc logs:', ...clients, 'odsaddport1 in OVS:', port].join('\n');
}

test.before(loud(async () => {
  await stack();
  await dovelab(['down']);
  dir = mkdtempSync(join(tmpdir(), 'dovelab-driver-labels-'));
  // The appliance's ACL file: Dovesnap's test ACL in Faucet's syntax (allow; no meters here), beside the built-ins.
  writeFileSync(join(dir, 'acls.yaml'), 'acls:\n  ratelimitit:\n    - rule: {actions: {allow: 1}}\n');
  agent = startAgent(join(dir, 'agent.log'), 5, { DOVELAB_ACL_FILE: join(dir, 'acls.yaml') });
  await agent.waitLine('the network driver to listen', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
  await network('office', ['-d', 'dovelab', '-o', 'dovelab.vlan=150', '--subnet', '198.51.100.0/24']);
  // A server answering ping and TCP 80 (the positive controls of every "cannot").
  const r = await runContainer('lbl-srv', ['--network', 'office', '--ip', '198.51.100.10'], ['nc', '-lk', '80']);
  assert.is(r.code, 0, r.stderr);
}));

test.after(async () => {
  for (const c of made.containers) await docker(['rm', '-f', c]);
  for (const n of made.networks) await docker(['network', 'rm', n]);
  for (const l of made.links) await run(['ip', 'link', 'del', l], { allowFail: true });
  for (const ns of made.netns) {
    // udhcpd daemonises: it would outlive its netns.
    for (const pid of (await run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout.split('\n').filter(Boolean)) await run(['kill', pid], { allowFail: true });
    await run(['ip', 'netns', 'del', ns], { allowFail: true });
  }
  await agent?.stop();
  // The networks' mirror port went with its last container; its netns stays for the next (ours to remove here).
  await run(['ip', 'netns', 'del', 'dovelab-mirror'], { allowFail: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('dovelab.acl=no-ping: ping is dropped, TCP passes; a container without the label pings', async () => {
  await started('lbl-noping', ['--network', 'office', '--ip', '198.51.100.11', '--label', 'dovelab.acl=no-ping']);
  await started('lbl-plain', ['--network', 'office', '--ip', '198.51.100.12']);
  assert.is(await ping('lbl-plain', '198.51.100.10'), 0, 'control: a container without the label pings the server');
  assert.is(await tcp('lbl-noping', '198.51.100.10', 80), 0, 'control: the labelled container reaches the server over TCP');
  assert.is.not(await ping('lbl-noping', '198.51.100.10'), 0, 'its ping is dropped');
});

test('an unknown ACL label fails `docker run` with our message naming the label; the container does not run', async () => {
  const r = await runContainer('lbl-bad', ['--network', 'office', '--ip', '198.51.100.13', '--label', 'dovesnap.faucet.portacl=nosuchacl']);
  assert.is.not(r.code, 0, 'docker run fails');
  assert.match(r.stderr, /dovelab: dovesnap\.faucet\.portacl: .*nosuchacl/);
  const st = await docker(['inspect', '-f', '{{.State.Running}}', 'lbl-bad']);
  assert.is(st.stdout.trim(), 'false');
  // Gone again, so the next tests' containers are the only ones just created (see pickJoining).
  await docker(['rm', '-f', 'lbl-bad']);
  // Control: the same run with an ACL the appliance has (the file's, in Faucet syntax).
  await started('lbl-good', ['--network', 'office', '--ip', '198.51.100.14', '--label', 'dovesnap.faucet.portacl=ratelimitit']);
  assert.is(await ping('lbl-good', '198.51.100.10'), 0);
});

test('dovelab.mirror=true with --mac-address: the MAC is Docker\'s, and its TCP is seen on the mirror dongle', async () => {
  const mac = '0e:99:00:00:00:07';
  // Through the API: this docker CLI refuses --mac-address with --network on the daemon's API 1.41.
  const c = await dockerApi.createContainer({
    name: 'lbl-mirrored', Image: IMAGE, Cmd: ['sleep', 'infinity'], MacAddress: mac, Labels: { 'dovelab.mirror': 'true' },
    HostConfig: { NetworkMode: 'office' }, NetworkingConfig: { EndpointsConfig: { office: { IPAMConfig: { IPv4Address: '198.51.100.15' } } } },
  });
  made.containers.add('lbl-mirrored');
  await c.start();
  assert.is(await macOf('lbl-mirrored'), mac, 'the MAC Docker was given');
  const cap = await startCapture(['ip', 'netns', 'exec', 'capture'], 'eth0', `tcp and ether src ${mac}`);
  try {
    assert.is(await tcp('lbl-mirrored', '198.51.100.10', 80), 0);
    await cap.waitLine('its TCP copied to mir0', new RegExp(`${mac} > .*198\\.51\\.100\\.15\\.\\d+ > 198\\.51\\.100\\.10\\.80`));
  } finally { await cap.stop(); }
});

test('mac_prefix (Dovesnap\'s label): the container\'s MAC starts with it, and the port passes traffic', async () => {
  await started('lbl-prefix', ['--network', 'office', '--ip', '198.51.100.16', '--label', 'dovesnap.faucet.mac_prefix=0e:98']);
  assert.match((await macOf('lbl-prefix')) ?? '', /^0e:98:/);
  assert.is(await ping('lbl-prefix', '198.51.100.10'), 0);
});

test('Dovesnap\'s DHCP test: add_ports=odsaddport1/101, dhcp, portacl and mirror labels; udhcpd on the far end; a lease again after docker restart', async () => {
  await run(['ip', 'link', 'add', 'odsaddport1', 'type', 'veth', 'peer', 'name', 'odsaddport2']);
  made.links.add('odsaddport1');
  await run(['ip', 'netns', 'add', 'dl-dhcpd']);
  made.netns.add('dl-dhcpd');
  const ns = ['ip', 'netns', 'exec', 'dl-dhcpd'];
  await run(['ip', 'link', 'set', 'odsaddport2', 'netns', 'dl-dhcpd']);
  await run([...ns, 'ip', 'addr', 'add', '100.64.7.1/24', 'dev', 'odsaddport2']);
  await run([...ns, 'ip', 'link', 'set', 'odsaddport2', 'up']);
  await run([...ns, 'ethtool', '-K', 'odsaddport2', 'tx', 'off']);
  writeFileSync(join(dir, 'udhcpd.conf'), `interface odsaddport2\nstart 100.64.7.2\nend 100.64.7.12\nlease_file ${dir}/udhcpd.leases\noption subnet 255.255.255.0\n`);
  writeFileSync(join(dir, 'udhcpd.leases'), '');
  await run([...ns, 'busybox', 'udhcpd', '-S', join(dir, 'udhcpd.conf')]);
  await network('testnet', ['-d', 'dovesnap', '--internal', '--ipam-driver', 'null', '-o', 'ovs.bridge.add_ports=odsaddport1/101', '-o', 'ovs.bridge.dhcp=true',
    '-o', 'ovs.bridge.mode=flat', '-o', 'ovs.bridge.dpid=0x1', '-o', 'ovs.bridge.controller=tcp:127.0.0.1:6653,tcp:127.0.0.1:6654', '-o', 'ovs.bridge.preallocate_ports=10']);
  const r = await docker(['run', '-d', '--label=dovesnap.faucet.portacl=ratelimitit', '--label=dovesnap.faucet.mirror=true', '--net=testnet', '--rm', '--name=testcon', IMAGE, 'sleep', '1h']);
  made.containers.add('testcon');
  assert.is(r.code, 0, r.stderr);
  const lease = async () => waitFor('testcon to get a lease from udhcpd', async () =>
    /inet (100\.64\.7\.\d+)\/24/.exec((await exec('testcon', ['ip', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1], 30_000, 500)
    .catch(async (e: Error) => { throw new Error(`${e.message}\n${await dhcpDiagnosis().catch((d: Error) => `(no diagnosis: ${d.message})`)}`); });
  const first = await lease();
  const st = await dovelab(['status']);
  assert.match(st.stdout, new RegExp(`testcon .*lease ${first.replace(/\./g, '\\.')} \\(testcon\\)`), st.stdout);
  const restart = await docker(['restart', 'testcon']);
  assert.is(restart.code, 0, restart.stderr);
  assert.match(await lease(), /^100\.64\.7\./, 'a lease again after docker restart');
});

test('Dovesnap\'s VLAN config test: add_ports=odstest1/1//20,odstest2/2//30,odstest3/3//40 on a nat network: each port in its own VLAN, by its traffic', async () => {
  // The DHCP test's network had the same name.
  await docker(['rm', '-f', 'testcon']);
  await docker(['network', 'rm', 'testnet']);
  const macs: string[] = [];
  for (const i of [1, 2, 3]) {
    await run(['ip', 'link', 'add', `odstest${i}`, 'type', 'veth', 'peer', 'name', `odstest${i}p`]);
    made.links.add(`odstest${i}`);
    await run(['ip', 'netns', 'add', `dl-vt${i}`]);
    made.netns.add(`dl-vt${i}`);
    await run(['ip', 'link', 'set', `odstest${i}p`, 'netns', `dl-vt${i}`]);
    const ns = ['ip', 'netns', 'exec', `dl-vt${i}`];
    await run([...ns, 'ip', 'addr', 'add', `100.64.9.${i}/24`, 'dev', `odstest${i}p`]);
    await run([...ns, 'ip', 'link', 'set', `odstest${i}p`, 'up']);
    macs.push(/link\/ether ([0-9a-f:]{17})/.exec((await run([...ns, 'ip', 'link', 'show', `odstest${i}p`])).stdout)![1]!);
  }
  await network('testnet', ['-d', 'dovesnap', '--internal', '-o', 'ovs.bridge.mode=nat', '-o', 'ovs.bridge.dpid=0x1', '-o', 'ovs.bridge.vlan=100',
    '-o', 'ovs.bridge.controller=tcp:127.0.0.1:6653,tcp:127.0.0.1:6654', '-o', 'ovs.bridge.add_ports=odstest1/1//20,odstest2/2//30,odstest3/3//40',
    '-o', 'ovs.bridge.preallocate_ports=10']);
  const r = await docker(['run', '-d', '--net=testnet', '--rm', '--name=testcon', IMAGE, 'sleep', '1h']);
  made.containers.add('testcon');
  assert.is(r.code, 0, r.stderr);
  // Each far end speaks (ARP for an address nobody has): Faucet learns its MAC at its port, in its VLAN.
  const learned = async () => (await (await fetch(`http://127.0.0.1:${cfg.faucetPromPort}/`, { signal: AbortSignal.timeout(5_000) })).text());
  for (const [k, vid] of [[0, 20], [1, 30], [2, 40]] as const) {
    await run(['ip', 'netns', 'exec', `dl-vt${k + 1}`, 'ping', '-c', '1', '-W', '1', '100.64.9.99'], { allowFail: true });
    const line = await waitFor(`Faucet to learn ${macs[k]} (odstest${k + 1})`, async () =>
      (await learned()).split('\n').find((l) => l.startsWith('learned_l2_port{') && l.includes(`eth_src="${macs[k]}"`)), 15_000, 250);
    assert.match(line, new RegExp(`vid="${vid}"\\} ${k + 1}(\\.0)?$`), `odstest${k + 1}: ${line}`);
  }
  // Different VLANs: the far ends do not reach each other (control: the container reaches its gateway).
  const gw = (await docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'testnet'])).stdout.trim();
  assert.is((await exec('testcon', ['ping', '-c', '2', '-W', '1', gw])).code, 0, `control: testcon pings its gateway ${gw}`);
  assert.is((await run(['ip', 'netns', 'exec', 'dl-vt1', 'ping', '-c', '2', '-W', '1', '100.64.9.2'], { allowFail: true })).code, 1);
});

test('two tagged networks on the trunk dongle up1 reach their own VLANs on the training switch, and not each other', async () => {
  const vsctl = vsctlVia(dockerApi);
  try {
    // The same address in both VLANs: only the VLAN decides who answers.
    const ns160 = await trainingHost(cfg.runDir, vsctl, 'd160', 160, '203.0.113.21/24');
    const ns170 = await trainingHost(cfg.runDir, vsctl, 'd170', 170, '203.0.113.21/24');
    const macIn = async (ns: string) => /link\/ether ([0-9a-f:]{17})/.exec((await run(['ip', 'netns', 'exec', ns, 'ip', 'link', 'show', 'eth0'])).stdout)![1]!;
    for (const [net, vid] of [['trunk-a', 160], ['trunk-b', 170]] as const) {
      await network(net, ['-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.uplink=up1', '-o', 'dovelab.tagged=true', '-o', `dovelab.vlan=${vid}`]);
    }
    for (const [name, net, ip] of [['trk-a', 'trunk-a', '203.0.113.10/24'], ['trk-b', 'trunk-b', '203.0.113.11/24']] as const) {
      await started(name, ['--network', net, '--cap-add', 'NET_ADMIN']);
      assert.is((await exec(name, ['ip', 'addr', 'add', ip, 'dev', 'eth0'])).code, 0);
    }
    for (const [name, ns] of [['trk-a', ns160], ['trk-b', ns170]] as const) {
      assert.is(await ping(name, '203.0.113.21'), 0, `${name} reaches 203.0.113.21 on its VLAN`);
      const neigh = (await exec(name, ['ip', 'neigh', 'show', '203.0.113.21'])).stdout;
      assert.match(neigh, new RegExp(`lladdr ${await macIn(ns)}`), `${name} reached the host of its own VLAN: ${neigh}`);
    }
    assert.is.not(await ping('trk-a', '203.0.113.11'), 0, 'the two networks do not reach each other (control: the same ping reached the training switch)');
  } finally {
    for (const n of ['d160', 'd170']) await removeTrainingHost(vsctl, cfg.runDir, n);
  }
});

test('a second DHCP network on a running container (docker network connect): its lease comes on eth1, with the container\'s name', async () => {
  await started('lbl-two', ['--network', 'office', '--ip', '198.51.100.17']);
  await network('dl-school2', ['-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.uplink=up0', '-o', 'dovelab.dhcp=true', '-o', 'dovelab.vlan=180']);
  const c = await docker(['network', 'connect', 'dl-school2', 'lbl-two']);
  assert.is(c.code, 0, c.stderr);
  const ip = await waitFor('a lease on eth1', async () =>
    /inet (100\.64\.0\.\d+)\/24/.exec((await exec('lbl-two', ['ip', '-4', 'addr', 'show', 'eth1'])).stdout)?.[1], 30_000, 500);
  assert.match((await exec('lbl-two', ['ip', '-4', 'addr', 'show', 'eth0'])).stdout, /198\.51\.100\.17\/24/, 'eth0 keeps its own');
  const st = await waitFor('the lease in dovelab status', async () => {
    const out = (await dovelab(['status'])).stdout;
    return new RegExp(`lbl-two .*lease ${ip.replace(/\./g, '\\.')} \\(lbl-two\\)`).test(out) ? out : undefined;
  }, 15_000, 500);
  assert.ok(st);
  assert.is(await ping('lbl-two', '100.64.0.10'), 0, 'it reaches the printer on the school network');
});

test('Dovesnap\'s vlan_out_acl=no-ping: within that network ping is dropped and TCP passes; another network still pings, also after the egress pipeline goes off again', async () => {
  await network('egress', ['-d', 'dovelab', '-o', 'ovs.bridge.vlan=190', '-o', 'ovs.bridge.vlan_out_acl=no-ping', '--subnet', '203.0.113.0/24']);
  const r = await runContainer('egr-srv', ['--network', 'egress', '--ip', '203.0.113.10'], ['nc', '-lk', '80']);
  assert.is(r.code, 0, r.stderr);
  await started('egr-cli', ['--network', 'egress', '--ip', '203.0.113.11']);
  // Turning Faucet's egress pipeline on restarts the switch's flows: wait until TCP passes (the positive control).
  await waitFor('TCP from egr-cli to egr-srv:80', async () => (await tcp('egr-cli', '203.0.113.10', 80)) === 0, 30_000, 500);
  assert.is.not(await ping('egr-cli', '203.0.113.10'), 0, 'ping within the network is dropped on its way out');
  assert.is(await ping('lbl-plain', '198.51.100.10'), 0, 'office (no egress ACL) still pings');
  for (const c of ['egr-srv', 'egr-cli']) { await docker(['rm', '-f', c]); made.containers.delete(c); }
  const rm = await docker(['network', 'rm', 'egress']);
  assert.is(rm.code, 0, rm.stderr);
  made.networks.delete('egress');
  // The last egress ACL gone: the pipeline goes off (flows restarted again); office pings once more.
  await waitFor('office pings after the egress network is gone', async () => (await ping('lbl-plain', '198.51.100.10')) === 0, 30_000, 500);
});

test('dovelab.mirror=true on an appliance with no mirror dongle: copies go to the networks\' mirror port, seen by tcpdump -i docker-mirror in netns dovelab-mirror; an unmirrored container is not copied', async () => {
  // The same stack with mir0 as a lab port: no mirror dongle. The restarted agent repairs lbl-mirrored's mirror.
  await agent.stop();
  writeFileSync(join(dir, 'dovelab.yaml'), 'dongles:\n  up0: uplink\n  up1: uplink\n  mir0: lab\n');
  agent = startAgent(join(dir, 'agent-nomirror.log'), 5, { DOVELAB_ACL_FILE: join(dir, 'acls.yaml'), DOVELAB_CONFIG: join(dir, 'dovelab.yaml') });
  await agent.waitLine('the network driver to listen', /network driver on \/run\/docker\/plugins\/dovelab\.sock/, 60_000);
  await waitFor('docker-mirror in netns dovelab-mirror', async () => (await run(['ip', 'netns', 'exec', 'dovelab-mirror', 'ip', 'link', 'show', 'docker-mirror'], { allowFail: true })).code === 0, 60_000, 500);
  const mirrored = '0e:99:00:00:00:07';
  const plain = await macOf('lbl-plain');
  assert.ok(plain);
  // Both ends learnt by the switch first: a frame to an unknown MAC floods, out of the mirrored port too.
  assert.is(await ping('lbl-plain', '198.51.100.10'), 0);
  assert.is(await ping('lbl-srv', '198.51.100.12'), 0);
  const cap = await startCapture(['ip', 'netns', 'exec', 'dovelab-mirror'], 'docker-mirror', `tcp and (ether src ${mirrored} or ether src ${plain})`);
  try {
    assert.is(await tcp('lbl-plain', '198.51.100.10', 80), 0, 'control: the unmirrored container\'s TCP passes');
    // The mirror port may come a repair after the link: retry the mirrored connect until a copy shows.
    await waitFor('lbl-mirrored\'s TCP copied to docker-mirror', async () => {
      await tcp('lbl-mirrored', '198.51.100.10', 80);
      return cap.lines().some((l) => new RegExp(`${mirrored} > .*198\\.51\\.100\\.15\\.\\d+ > 198\\.51\\.100\\.10\\.80`).test(l));
    }, 30_000, 1_000);
  } finally {
    const { lines } = await cap.stop();
    assert.not.ok(lines.some((l) => l.includes(`${plain} >`)), `lbl-plain was not mirrored: ${lines.filter((l) => l.includes(plain)).join('\n')}`);
  }
});

test.run();

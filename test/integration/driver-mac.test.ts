// mac_prefix (dovelab.mac_prefix / dovesnap.faucet.mac_prefix) on every interface, on the real
// stack (dockerd, docker CLI, OVS, Faucet): also where CreateEndpoint cannot tell which container
// the endpoint is for, so the MAC Docker is given cannot carry the prefix, and it is put on in the
// container's netns after Join: `docker network connect` of a running container (its second
// interface, eth1), and several `docker run` at once on one network. The MAC is read inside the
// container, networks.json records it, and the interface passes traffic with it. Controls: a
// container without the label keeps the driver's own MAC; one that Docker could name at
// CreateEndpoint gets the prefix in the MAC Docker is given.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { cfg, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';
import { dockerCli, driverAgent, driverCleanup } from './_driver.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const PREFIX = '0a:97';
const made = { networks: new Set<string>(), containers: new Set<string>() };
const docker = (args: string[]) => dockerCli(args);
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
const macOf = async (name: string, ifname = 'eth0') => /link\/ether ([0-9a-f:]{17})/.exec((await exec(name, ['ip', 'link', 'show', ifname])).stdout)?.[1];
const ping = async (from: string, ip: string) => (await exec(from, ['ping', '-c', '2', '-i', '0.3', '-W', '1', ip])).code;
/** The MAC networks.json records for the container's endpoint on network `net` (by Docker's name). */
function recorded(container: string, net: string): string | undefined {
  const st = readNetworkState(paths(cfg).networks);
  const n = st.networks.find((x) => x.name === net);
  return st.endpoints.find((e) => e.container === container && e.network === n?.id)?.mac;
}
async function network(name: string, vlan: number, subnet: string) {
  const r = await docker(['network', 'create', '-d', 'dovelab', '--internal', '--subnet', subnet, '-o', `dovelab.vlan=${vlan}`, name]);
  assert.is(r.code, 0, `docker network create ${name}: ${r.stderr}`);
  made.networks.add(name);
}
async function started(name: string, args: string[]) {
  made.containers.add(name);
  const r = await docker(['run', '-d', '--name', name, ...args, IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
}
const driverSaid = () => agent.log().split('\n').filter((l) => /mac_prefix|labels|network driver/.test(l)).slice(-20).join('\n');

test.before(loud(async () => {
  ({ agent, dir } = await driverAgent('dovelab-driver-mac-', 5));
  await network('dl-mac1', 210, '10.199.76.0/24');
  await network('dl-mac2', 211, '10.199.77.0/24');
}));

test.after(() => driverCleanup(made, agent, dir));

test('docker run with the label: eth0 has the prefix (Docker is given it); a container without the label keeps the driver\'s MAC', async () => {
  await started('mac-plain', ['--network', 'dl-mac1', '--ip', '10.199.76.50']);
  await started('mac-a', ['--network', 'dl-mac1', '--ip', '10.199.76.51', '--label', `dovelab.mac_prefix=${PREFIX}`]);
  const plain = await macOf('mac-plain');
  assert.match(plain ?? '', /^0e:/, `no label: the driver's own MAC (${plain})`);
  const a = await macOf('mac-a');
  assert.ok(a?.startsWith(`${PREFIX}:`), `mac-a eth0 ${a}\n${driverSaid()}`);
  assert.is(recorded('mac-a', 'dl-mac1'), a);
  assert.is(await ping('mac-a', '10.199.76.50'), 0);
});

test('docker network connect of the running labelled container: eth1 gets the prefix after Join, is recorded, and passes traffic both ways', async () => {
  await started('mac-peer', ['--network', 'dl-mac2', '--ip', '10.199.77.60']);
  const c = await docker(['network', 'connect', '--ip', '10.199.77.61', 'dl-mac2', 'mac-a']);
  assert.is(c.code, 0, c.stderr);
  const eth1 = await waitFor('eth1 of mac-a to carry the prefix', async () => {
    const m = await macOf('mac-a', 'eth1');
    return m?.startsWith(`${PREFIX}:`) ? m : undefined;
  }, 30_000, 200).catch((e: Error) => { throw new Error(`${e.message}\n${driverSaid()}`); });
  assert.match(agent.log(), new RegExp(`mac-a: mac_prefix ${PREFIX} applied after Join .*: eth1 `), driverSaid());
  await waitFor('networks.json to record it', () => recorded('mac-a', 'dl-mac2') === eth1, 10_000, 100);
  const st = readNetworkState(paths(cfg).networks);
  const ep = st.endpoints.find((e) => e.container === 'mac-a' && e.network === st.networks.find((n) => n.name === 'dl-mac2')?.id);
  assert.is(ep?.ifname, 'eth1', 'the interface\'s name is recorded (the traffic history\'s series say eth1)');
  assert.match((await exec('mac-a', ['ip', '-4', 'addr', 'show', 'eth1'])).stdout, /10\.199\.77\.61\/24/, 'Docker\'s address stays');
  assert.is(await ping('mac-a', '10.199.77.60'), 0, 'mac-a reaches the peer over eth1');
  assert.is(await ping('mac-peer', '10.199.77.61'), 0, 'the peer reaches mac-a');
  const neigh = (await exec('mac-peer', ['ip', 'neigh', 'show', '10.199.77.61'])).stdout;
  assert.ok(neigh.includes(eth1), `the peer knows mac-a by its new MAC: ${neigh}`);
  assert.ok((await macOf('mac-a', 'eth0'))?.startsWith(`${PREFIX}:`), 'eth0 keeps its prefix');
});

test('several docker run at once with the label (CreateEndpoint cannot tell them apart): every one gets the prefix', async () => {
  const names = ['mac-p1', 'mac-p2', 'mac-p3'];
  await Promise.all(names.map((n, i) => started(n, ['--network', 'dl-mac1', '--ip', `10.199.76.${70 + i}`, '--label', `dovesnap.faucet.mac_prefix=${PREFIX}`])));
  for (const [i, n] of names.entries()) {
    const m = await waitFor(`${n} eth0 to carry the prefix`, async () => {
      const x = await macOf(n);
      return x?.startsWith(`${PREFIX}:`) ? x : undefined;
    }, 30_000, 200).catch((e: Error) => { throw new Error(`${e.message}\n${driverSaid()}`); });
    await waitFor(`networks.json to record ${n}'s MAC`, () => recorded(n, 'dl-mac1') === m, 10_000, 100);
    assert.is(await ping(n, '10.199.76.50'), 0, `${n} reaches mac-plain`);
    assert.is(await ping('mac-plain', `10.199.76.${70 + i}`), 0, `mac-plain reaches ${n}`);
  }
  const later = agent.log().split('\n').filter((l) => /mac_prefix .* applied after Join/.test(l)).length;
  console.log(`    prefix put on after Join: ${later} interface(s) (eth1 of mac-a, and the parallel runs Docker could not name at CreateEndpoint)`);
});

test.run();

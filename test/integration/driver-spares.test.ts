// Spare ports on the real stack: a container started right after `docker network create` is
// reachable (Dovesnap failed that), five containers started back to back take spares (Join adds
// only their OVS ports: no Faucet reload) and all reach each other; the spares taken are made
// again in one reload that is warm (no cold start: traffic goes on); `docker network rm` removes
// every spare from Faucet's config.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { faucetStatus } from '../../agent/net/faucet/status.js';
import { scrape } from '../../agent/metrics/prometheus.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { cfg, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';
import { dockerCli, driverAgent, driverCleanup } from './_driver.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const NET = 'dl-spares';
const made = { networks: new Set<string>(), containers: new Set<string>() };
const docker = (args: string[]) => dockerCli(args);
const exec = (name: string, argv: string[]) => docker(['exec', name, ...argv]);
async function container(name: string, ip: string) {
  const r = await docker(['run', '-d', '--name', name, '--network', NET, '--ip', ip, IMAGE, 'sleep', 'infinity']);
  assert.is(r.code, 0, `docker run ${name}: ${r.stderr}`);
  made.containers.add(name);
}
type Doc = { dps: Record<string, { interfaces: Record<string, { name: string; native_vlan?: string }> }>; vlans: Record<string, { vid: number }> };
const faucetDoc = () => parse(readFileSync(paths(cfg).faucetYaml, 'utf8')) as Doc;
/** Faucet's spare-or-slot ports of the network with VLAN `vid` (by the VLAN's name). */
function slotPorts(vid: number): number[] {
  const d = faucetDoc();
  const vlan = Object.entries(d.vlans).find(([, v]) => v.vid === vid)?.[0];
  return Object.entries(d.dps[cfg.bridge]!.interfaces).filter(([, i]) => vlan && i.native_vlan === vlan && /^docker-port-/.test(i.name)).map(([n]) => Number(n));
}
const status = async () => faucetStatus(await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`));
const myNetwork = () => readNetworkState(paths(cfg).networks).networks.find((n) => n.vid === 130);
// A join on a spare: in place (its port made ahead, nothing changes), or its OVS port added (not ready yet).
const noReloadJoins = () => agent.log().split('\n').filter((l) => /(add-plugin-port .*spare port|join endpoint .* on spare port .*no OVS change),? no Faucet reload/.test(l)).length;

test.before(loud(async () => {
  ({ agent, dir } = await driverAgent('dovelab-spares-test-', 5));
}));

test.after(() => driverCleanup(made, agent, dir));

test('right after network create a container is reachable; five more back to back take spares (no reload) and all reach each other; the refill is warm; rm removes the spares', async () => {
  const r = await docker(['network', 'create', '-d', 'dovelab', '--internal', '--subnet', '198.51.100.0/24', '-o', 'dovelab.vlan=130', NET]);
  assert.is(r.code, 0, r.stderr);
  made.networks.add(NET);
  const pool = myNetwork()?.pool ?? 0;
  assert.ok(pool >= 6, `the network keeps spares (pool ${pool})`);
  assert.is(slotPorts(130).length, pool, 'every spare is in the live faucet.yaml');

  // A container started right after `network create`, and one more: reachable at once.
  await container('sp-0', '198.51.100.30');
  const joins0 = noReloadJoins();
  assert.ok(joins0 >= 1, 'the first container took a spare');
  const names = ['sp-1', 'sp-2', 'sp-3', 'sp-4', 'sp-5'];
  // Back to back (the log says how each joined; a refill waits until the driver is quiet).
  const before = await status();
  const hash = before.hashes.join();
  for (const [i, n] of names.entries()) await container(n, `198.51.100.${31 + i}`);
  assert.is(noReloadJoins() - joins0, names.length, `each of the five joined through a spare; the agent said:\n${agent.log().split('\n').filter((l) => /plugin-port|spare|refill|not answering|refused|Faucet/.test(l)).slice(-30).join('\n')}`);
  const all = ['sp-0', ...names];
  for (const [i, a] of all.entries()) {
    for (const [j] of all.entries()) {
      if (i === j) continue;
      const p = await exec(a, ['ping', '-c', '1', '-W', '2', `198.51.100.${30 + j}`]);
      assert.is(p.code, 0, `${a} reaches 198.51.100.${30 + j}:\n${p.stdout}${p.stderr}`);
    }
  }
  // What Faucet runs changes once the refill comes (the spares taken are made again).
  await waitFor('the spares taken to be made again', () => (myNetwork()?.spares ?? []).length === pool && slotPorts(130).length === pool + all.length, 30_000, 100);
  const after = await waitFor('Faucet to run the refilled config', async () => { const s = await status(); return s.hashes.join() !== hash ? s : undefined; }, 15_000, 100);
  // Finding asked for: adding ports to faucet.yaml is a warm reload (no cold start).
  assert.is(after.coldStarts, before.coldStarts, `refill: cold starts ${before.coldStarts} -> ${after.coldStarts} (warm ${before.warmStarts} -> ${after.warmStarts})`);
  assert.ok(after.warmStarts > before.warmStarts, `refill: a warm start (warm ${before.warmStarts} -> ${after.warmStarts})`);
  const still = await exec('sp-5', ['ping', '-c', '1', '-W', '2', '198.51.100.30']);
  assert.is(still.code, 0, `traffic after the refill:\n${still.stdout}${still.stderr}`);

  // Teardown: containers leave without reloads, the spares go with the network.
  for (const c of all) { await docker(['rm', '-f', c]); made.containers.delete(c); }
  assert.ok(agent.log().split('\n').filter((l) => /(remove-port .*spare port|(leave|delete) endpoint .* of spare port .*no OVS change),? no Faucet reload/.test(l)).length >= all.length, 'each Leave without a reload');
  // Each slot (spare or taken) has its veth pair made ahead, in the appliance's netns while free.
  const slots = [...(myNetwork()?.spares ?? []), ...readNetworkState(paths(cfg).networks).endpoints.filter((e) => e.network === myNetwork()?.id).map((e) => e.ofport)];
  assert.ok(slots.length >= pool, `slots: ${slots.join(' ')}`);
  for (const p of myNetwork()?.spares ?? []) assert.ok(existsSync(`/sys/class/net/dl${p}`) && existsSync(`/sys/class/net/dp${p}`), `spare ${p}: its veth pair is ready`);
  const rm = await docker(['network', 'rm', NET]);
  assert.is(rm.code, 0, rm.stderr);
  made.networks.delete(NET);
  assert.equal(slotPorts(130), [], 'no spare left in faucet.yaml');
  assert.not.ok(Object.values(faucetDoc().dps[cfg.bridge]!.interfaces).some((i) => /^docker-port-/.test(i.name)), 'no spare of any network left');
  assert.not.ok(myNetwork());
  for (const p of slots) assert.not.ok(existsSync(`/sys/class/net/dl${p}`) || existsSync(`/sys/class/net/dp${p}`), `slot ${p}: its veth pair went with the network`);
});

test.run();

// `docker network rm` right after `docker rm -f` of the network's containers, on the real stack
// (dockerd, docker CLI, OVS, Faucet), a few rounds: it succeeds every time (Docker refuses it while
// it still holds an endpoint, which it does when our Leave or Delete failed), and leaves nothing of
// the network: no endpoint in networks.json, no port in Faucet's config, no veth of its spares.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { cfg, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';
import { dockerCli, driverAgent, driverCleanup } from './_driver.js';

let agent: AgentProc;
let dir: string;
const IMAGE = cfg.images.labhost;
const NET = 'dl-rm';
const ROUNDS = 3;
const CONTAINERS = 12;
const made = { networks: new Set<string>(), containers: new Set<string>() };
const docker = (args: string[]) => dockerCli(args, 180_000);
type Doc = { dps: Record<string, { interfaces: Record<string, { name: string; native_vlan?: string }> }>; vlans: Record<string, { vid: number }> };
const faucetDoc = () => parse(readFileSync(paths(cfg).faucetYaml, 'utf8')) as Doc;

test.before(loud(async () => {
  ({ agent, dir } = await driverAgent('dovelab-driver-rm-', 10));
}));

test.after(() => driverCleanup(made, agent, dir));

test(`${ROUNDS} rounds of ${CONTAINERS} containers: \`docker rm -f\` of all, then \`docker network rm\` at once succeeds and leaves nothing`, async () => {
  for (let round = 1; round <= ROUNDS; round++) {
    // No addresses (--ipam-driver null): no subnet to clash with another test's leftovers.
    const r = await docker(['network', 'create', '-d', 'dovelab', '--internal', '--ipam-driver', 'null', '-o', 'dovelab.vlan=3960', NET]);
    assert.is(r.code, 0, r.stderr);
    made.networks.add(NET);
    const id = readNetworkState(paths(cfg).networks).networks.find((n) => n.name === NET || n.vid === 3960)!.id;
    const names = Array.from({ length: CONTAINERS }, (_, i) => `dlrm-${i + 1}`);
    for (const n of names) {
      made.containers.add(n);
      const c = await docker(['run', '-d', '--name', n, '--network', NET, IMAGE, 'sleep', 'infinity']);
      assert.is(c.code, 0, `docker run ${n}: ${c.stderr}`);
    }
    const slots = [...(readNetworkState(paths(cfg).networks).networks.find((n) => n.id === id)?.spares ?? []), ...readNetworkState(paths(cfg).networks).endpoints.filter((e) => e.network === id).map((e) => e.ofport)];
    const rmC = await docker(['rm', '-f', ...names]);
    assert.is(rmC.code, 0, rmC.stderr);
    for (const n of names) made.containers.delete(n);
    const t0 = Date.now();
    const rm = await docker(['network', 'rm', NET]);
    const said = agent.log().split('\n').filter((l) => /switch part|network driver|refused/.test(l)).slice(-10).join('\n');
    assert.is(rm.code, 0, `round ${round}: docker network rm: ${rm.stderr}\n${said}`);
    made.networks.delete(NET);
    console.log(`    round ${round}: network rm ${Date.now() - t0} ms after rm -f of ${CONTAINERS}`);
    const st = readNetworkState(paths(cfg).networks);
    assert.not.ok(st.networks.some((n) => n.id === id), 'the network is gone from networks.json');
    assert.equal(st.endpoints.filter((e) => e.network === id), [], 'and its endpoints');
    assert.not.ok(Object.values(faucetDoc().vlans ?? {}).some((v) => v.vid === 3960), 'its VLAN is out of Faucet\'s config');
    assert.not.ok(Object.values(faucetDoc().dps[cfg.bridge]!.interfaces).some((i) => /^docker-/.test(i.name)), 'no port of it in Faucet\'s config');
    assert.ok(slots.length >= CONTAINERS, `slots ${slots.join(' ')}`);
    for (const p of slots) assert.not.ok(existsSync(`/sys/class/net/dl${p}`) || existsSync(`/sys/class/net/dp${p}`), `round ${round}: slot ${p}'s veth pair went with the network`);
    assert.equal((await docker(['network', 'ls', '--filter', `name=^${NET}$`, '--format', '{{.Name}}'])).stdout.trim(), '', 'Docker has no such network');
  }
});

test.run();

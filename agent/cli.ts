#!/usr/bin/env node
// `dovelab`: one small orchestration per verb over config, lab/, net/, docker/ and hardware/.
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig, paths, type Config } from './config.js';
import { dockerClient } from './docker/client.js';
import { ensureDockerd } from './docker/engine.js';
import { buildImages } from './docker/images.js';
import { doctor } from './doctor.js';
import { simDown, simStatus, simUp } from './hardware/sim/world.js';
import { labContext } from './context.js';
import { planDesired } from './lab/desired.js';
import { reconcile, teardown } from './lab/engine.js';
import { infraDown, infraStatus, infraUp } from './lab/infra.js';
import { clearLabState, readLabState, writeLabState } from './lab/state.js';
import { labSummary } from './lab/summary.js';
import { loadTopology, lessonFile } from './lesson/load.js';
import { execIn } from './docker/client.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string) => console.log(s);
const cfg = (): Config => loadConfig();

/** Every verb: errors become one clear message and exit code 1. */
const action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => async (...a: A) => {
  try {
    const code = await fn(...a);
    process.exitCode = typeof code === 'number' ? code : 0;
  } catch (e) {
    console.error(`dovelab: ${(e as Error).message}`);
    process.exitCode = 1;
  }
};

const program = new Command('dovelab').description('Dovelab: lab hosts wired through Open vSwitch under Faucet');

program.command('engine').description('the Docker engine').command('start')
  .description('start dockerd in the background when none answers, and wait for it')
  .action(action(async () => {
    const r = await ensureDockerd(dockerClient(), cfg().logDir, log);
    log(r.started ? `dockerd started (${r.waitedMs} ms)` : 'dockerd already answering');
  }));

program.command('images').description('container images, built locally from image-build/images')
  .command('build').option('--force', 'rebuild even when up to date').argument('[names...]', 'ovs, faucet, labhost')
  .action(action(async (names: string[], o: { force?: boolean }) => {
    await buildImages(dockerClient(), join(ROOT, 'image-build/images'), { force: o.force, only: names, log });
  }));

const infra = program.command('infra').description('the OVS, Faucet and Gauge containers and the bridge');
infra.command('up').action(action(async () => {
  const r = await infraUp(cfg(), dockerClient(), log);
  log(`infra up: datapath ${r.datapath}, dp_status 1 after ${(r.msToDpUp / 1000).toFixed(1)} s`);
}));
infra.command('down').action(action(async () => { await infraDown(cfg(), dockerClient(), log); }));
infra.command('status').option('--json').action(action(async (o: { json?: boolean }) => {
  const s = await infraStatus(cfg(), dockerClient());
  if (o.json) { log(JSON.stringify(s, null, 2)); return; }
  log(`dockerd: ${s.docker ? 'answering' : 'NOT answering'}`);
  for (const [k, v] of Object.entries(s.containers)) log(`${k.padEnd(7)} ${v}`);
  if (s.bridge) log(`bridge: ${s.bridge.exists ? `${s.bridge.datapath}, fail_mode ${s.bridge.failMode}, ${s.bridge.ports} ports` : 'absent'}`);
  if (s.faucet) log(`faucet: config ${s.faucet.hashes.map((h) => h.slice(0, 12)).join(',')}, load error ${s.faucet.loadError ? 'YES' : 'no'}, dp ${JSON.stringify(s.faucet.dpUp)}`);
  if (s.faucetError) log(`faucet: ${s.faucetError}`);
  return s.docker && s.bridge?.exists && s.faucet && !s.faucet.loadError ? 0 : 1;
}));

const sim = program.command('sim').description('the sim world: school network, dongles up0/mir0, capture netns');
sim.command('up').action(action(async () => { await simUp(cfg().runDir, log); }));
sim.command('down').action(action(async () => { await simDown(cfg().runDir, log); }));
sim.command('status').option('--json').action(action(async (o: { json?: boolean }) => {
  const s = await simStatus(cfg().runDir);
  log(o.json ? JSON.stringify(s, null, 2) : s.up ? `sim world up; ${s.leases.length} DHCP leases` : `sim world incomplete: missing ${s.missing.join(', ')}`);
  return s.up ? 0 : 1;
}));

program.command('doctor').description('check dockerd, images, OVS, Faucet, datapath, kernel features')
  .option('--json').action(action(async (o: { json?: boolean }) => {
    const checks = await doctor(cfg(), dockerClient());
    if (o.json) log(JSON.stringify(checks, null, 2));
    else for (const c of checks) log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`);
    const failed = checks.filter((c) => !c.ok).length;
    if (!o.json) log(failed ? `${failed} problem(s)` : 'all good');
    return failed ? 1 : 0;
  }));

program.command('up').description('bring up a lab from a lesson (lesson.yaml or its directory)')
  .argument('<lesson>').option('--groups <n>', 'student groups', '1')
  .action(action(async (lesson: string, o: { groups: string }) => {
    const c = cfg();
    const topology = loadTopology(lesson);
    const groups = Number(o.groups);
    const lab = topology.id ?? 'lab';
    const desired = planDesired(topology, { lab, groups, bridge: c.bridge, dpId: c.dpId, defaultImage: c.images.labhost });
    const ctx = await labContext(c, log);
    writeLabState(paths(c).labState, { lab, source: resolve(lessonFile(lesson)), groups, topology, startedAt: new Date().toISOString() });
    const r = await reconcile(ctx, desired);
    log(labSummary(desired));
    log(`ready: ${r.actions.length - 1} changes, Faucet ${r.faucet?.changed ? `reloaded in ${r.faucet.ms} ms` : 'unchanged'} (config ${r.faucet?.sha256.slice(0, 12)})`);
  }));

program.command('down').description('remove the running lab (hosts and ports); infra stays up')
  .action(action(async () => {
    const c = cfg();
    await teardown(await labContext(c, log));
    clearLabState(paths(c).labState);
    log('lab removed');
  }));

program.command('exec').description('run a command in a lab host').argument('<host>').option('--group <n>', 'group', '1')
  .argument('<cmd...>').action(action(async (host: string, cmd: string[], o: { group: string }) => {
    const st = readLabState(paths(cfg()).labState);
    if (!st) throw new Error('no lab is running: `dovelab up <lesson>` first');
    const shared = Object.values(st.topology.hosts[host]?.interfaces ?? {}).every((i) => st.topology.networks[i.network]?.shared);
    const container = `dovelab-${shared ? host : `g${o.group}-${host}`}`;
    const r = await execIn(dockerClient(), container, cmd, { allowFail: true });
    process.stdout.write(r.stdout); process.stderr.write(r.stderr);
    return r.code;
  }));

program.command('demo').description('infra + sim world + two hosts that ping through Faucet')
  .action(action(async () => {
    const c = cfg();
    const docker = dockerClient();
    await ensureDockerd(docker, c.logDir, log);
    await buildImages(docker, join(ROOT, 'image-build/images'), { log });
    const r = await infraUp(c, docker, log);
    log(`infra up: datapath ${r.datapath}, dp_status 1 after ${(r.msToDpUp / 1000).toFixed(1)} s`);
    await simUp(c.runDir, log);
    const lesson = join(ROOT, 'lessons/first-switch');
    const topology = loadTopology(lesson);
    const lab = topology.id ?? 'lab';
    const desired = planDesired(topology, { lab, groups: 1, bridge: c.bridge, dpId: c.dpId, defaultImage: c.images.labhost });
    writeLabState(paths(c).labState, { lab, source: lessonFile(lesson), groups: 1, topology, startedAt: new Date().toISOString() });
    await reconcile(await labContext(c, log, docker), desired);
    log(labSummary(desired));
    const h2 = desired.ports.find((p) => p.host === 'h2')?.address?.split('/')[0];
    log(`\n$ dovelab exec h1 -- ping -c 3 ${h2}`);
    const ping = await execIn(docker, 'dovelab-g1-h1', ['ping', '-c', '3', '-W', '2', h2!], { allowFail: true });
    log(ping.stdout.trim());
    log(`
Where to look:
  dovelab status / dovelab doctor                  what runs and whether it is healthy
  dovelab exec h1 -- ping ${h2}                  traffic through OVS under Faucet
  docker exec dovelab-ovs ovs-ofctl -O OpenFlow13 dump-flows ${c.bridge}   Faucet's flows
  ${paths(c).faucetYaml}              the generated Faucet config
  curl -s 127.0.0.1:${c.faucetPromPort}/metrics | grep -E 'dp_status|faucet_config'
  dovelab down; dovelab sim down; dovelab infra down   clean up`);
    return ping.code;
  }));

program.command('status').description('the lab and the switch').option('--json')
  .action(action(async (o: { json?: boolean }) => {
    const c = cfg();
    const st = readLabState(paths(c).labState);
    const infraS = await infraStatus(c, dockerClient());
    if (o.json) { log(JSON.stringify({ lab: st ?? null, infra: infraS }, null, 2)); return; }
    if (!st) log('no lab running');
    else {
      const desired = planDesired(st.topology, { lab: st.lab, groups: st.groups, bridge: c.bridge, dpId: c.dpId, defaultImage: c.images.labhost });
      log(labSummary(desired));
    }
    log(`switch: ${infraS.bridge?.exists ? `${c.bridge} ${infraS.bridge.datapath}` : 'down'}; Faucet dp_status ${infraS.faucet?.dpUp[c.bridge] ? 1 : 0}`);
  }));

await program.parseAsync(process.argv);

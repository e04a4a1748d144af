#!/usr/bin/env node
// `dovelab`: one small orchestration per verb over config, lab/, net/, docker/ and hardware/.
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import type { Config } from './config.js';
import { registerLabVerbs } from './cli-lab.js';
import { registerHardwareVerbs } from './cli-hardware.js';
import { registerHistoryVerbs } from './cli-history.js';
import { registerRecordVerbs } from './cli-record.js';
import { BOOT_FILE, DEFAULT_PRELOAD_DIR } from './appliance/locations.js';

// Verbs load what they use when they run (Docker's client, image builds, the web's crypto): a CLI call stays small.
const docker = () => import('./docker/client.js');
const dockerClient = async () => (await docker()).dockerClient();

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string) => console.log(s);
// The config's modules (zod, yaml, NIC discovery) load when a verb runs, not for `--help` (issue 13);
// `action` loads them before any verb, so cfg() stays synchronous.
const configModules = async () => {
  const [config, { withDiscoveredDongles }] = await Promise.all([import('./config.js'), import('./hardware/discover.js')]);
  return { ...config, withDiscoveredDongles };
};
let cm: Awaited<ReturnType<typeof configModules>> | undefined;
const loaded = () => { if (!cm) throw new Error('the config was read before its modules loaded'); return cm; };
/** The appliance config as written. */
const loadConfig = (): Config => loaded().loadConfig();
/** The appliance config; with a `hardware` section, its dongles map is filled from NIC discovery. */
const cfg = (): Config => loaded().withDiscoveredDongles(loadConfig());

/** Every verb: errors become one clear message and exit code 1. */
const action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => async (...a: A) => {
  try {
    cm ??= await configModules();
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
    const r = await (await import('./docker/engine.js')).ensureDockerd(await dockerClient(), cfg().logDir, log);
    log(r.started ? `dockerd started (${r.waitedMs} ms)` : 'dockerd already answering');
  }));

const images = program.command('images').description('container images, built locally from image-build/images');
images.command('build').option('--force', 'rebuild even when up to date').argument('[names...]', 'ovs, faucet, labhost')
  .option('--arch <arch>', 'build for this architecture (arm64 for the Pi) into tar files + manifest.json, not into dockerd')
  .option('--out <dir>', 'with --arch: where the tars go (default dist/<arch>/images)')
  .action(action(async (names: string[], o: { force?: boolean; arch?: string; out?: string }) => {
    if (o.arch) {
      const r = await (await import('./docker/images-arch.js')).buildArchImages(join(ROOT, 'image-build/images'), { arch: o.arch, outDir: resolve(o.out ?? join(ROOT, 'dist', o.arch, 'images')), force: o.force, only: names, log });
      log(`${o.arch}: ${r.filter((x) => x.built).length} built, ${r.filter((x) => !x.built).length} up to date`);
      return;
    }
    await (await import('./docker/images.js')).buildImages(await dockerClient(), join(ROOT, 'image-build/images'), { force: o.force, only: names, log });
  }));
images.command('load').description('docker load the image tars of a manifest.json (first boot on the Pi), each checked by size and sha256')
  .option('--dir <dir>', 'where manifest.json and the tars are', DEFAULT_PRELOAD_DIR)
  .option('--deadline <seconds>', 'per image', '900')
  .action(action(async (o: { dir: string; deadline: string }) => {
    const seconds = Number(o.deadline);
    if (!(seconds > 0)) throw new Error(`--deadline ${o.deadline}: a number of seconds above 0`);
    const { loadPreloadedImages } = await import('./docker/image-load.js');
    const r = await loadPreloadedImages(await dockerClient(), resolve(o.dir), { deadlineMs: seconds * 1000, log });
    const failed = r.filter((x) => x.status === 'failed');
    log(`${r.filter((x) => x.status === 'loaded').length} loaded, ${r.filter((x) => x.status === 'present').length} already there, ${failed.length} failed`);
    return failed.length ? 1 : 0;
  }));

const infra = program.command('infra').description('the OVS, Faucet and Gauge containers and the bridge');
infra.command('up').action(action(async () => {
  const r = await (await import('./lab/infra.js')).infraUp(cfg(), await dockerClient(), log);
  log(`infra up: datapath ${r.datapath}, dp_status 1 after ${(r.msToDpUp / 1000).toFixed(1)} s`);
}));
infra.command('down').action(action(async () => { await (await import('./lab/infra.js')).infraDown(cfg(), await dockerClient(), log); }));
infra.command('status').option('--json').action(action(async (o: { json?: boolean }) => {
  const s = await (await import('./lab/infra.js')).infraStatus(cfg(), await dockerClient());
  if (o.json) { log(JSON.stringify(s, null, 2)); return; }
  log(`dockerd: ${s.docker ? 'answering' : 'NOT answering'}`);
  for (const [k, v] of Object.entries(s.containers)) log(`${k.padEnd(7)} ${v}`);
  if (s.bridge) log(`bridge: ${s.bridge.exists ? `${s.bridge.datapath}, fail_mode ${s.bridge.failMode}, ${s.bridge.ports} ports` : 'absent'}`);
  if (s.faucet) log(`faucet: config ${s.faucet.hashes.map((h) => h.slice(0, 12)).join(',')}, load error ${s.faucet.loadError ? 'YES' : 'no'}, dp ${JSON.stringify(s.faucet.dpUp)}`);
  if (s.faucetError) log(`faucet: ${s.faucetError}`);
  return s.docker && s.bridge?.exists && s.faucet && !s.faucet.loadError ? 0 : 1;
}));

const sim = program.command('sim').description('the sim world: school network, dongles up0/mir0, capture netns');
/** ovs-vsctl when the OVS container runs (the training switch needs it), else undefined. */
const ovsIfRunning = async () => {
  const { containerState, dockerClient: client } = await docker();
  const d = client();
  return (await containerState(d, loaded().INFRA.ovs).catch(() => undefined))?.State.Running ? (await import('./net/ovs-exec.js')).vsctlVia(d) : undefined;
};
const world = () => import('./hardware/sim/world.js');
sim.command('up').action(action(async () => { await (await world()).simUp(cfg().runDir, log, await ovsIfRunning()); }));
sim.command('down').action(action(async () => { await (await world()).simDown(cfg().runDir, log, await ovsIfRunning()); }));
sim.command('unplug').description('pull a sim dongle (its veth pair goes), as a USB dongle is pulled').argument('<dongle>', 'up0, up1 or mir0')
  .action(action(async (name: string) => { await (await world()).simUnplug(cfg().runDir, name, log); }));
sim.command('plug').description('plug a sim dongle back in (kernel defaults, link down), as a USB dongle arrives').argument('<dongle>', 'up0, up1 or mir0')
  .action(action(async (name: string) => { await (await world()).simPlug(cfg().runDir, name, log, await ovsIfRunning()); }));
sim.command('status').option('--json').action(action(async (o: { json?: boolean }) => {
  const s = await (await world()).simStatus(cfg().runDir);
  log(o.json ? JSON.stringify(s, null, 2) : s.up ? `sim world up; ${s.leases.length} DHCP leases` : `sim world incomplete: missing ${s.missing.join(', ')}`);
  return s.up ? 0 : 1;
}));

program.command('doctor').description('check dockerd, images, OVS, Faucet, datapath, kernel features')
  .option('--json').option('--offline', 'only what needs no dockerd, network or running kernel (an image being built); lists what it skipped')
  .action(action(async (o: { json?: boolean; offline?: boolean }) => {
    const offline = o.offline ? await (await import('./doctor-offline.js')).doctorOffline() : undefined;
    const checks = offline ? offline.checks : await (await import('./doctor.js')).doctor(cfg(), await dockerClient());
    if (offline && !o.json) for (const s of offline.skipped) log(`skip ${s}`);
    if (o.json) log(JSON.stringify(checks, null, 2));
    else for (const c of checks) log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`);
    const failed = checks.filter((c) => !c.ok).length;
    if (!o.json) log(failed ? `${failed} problem(s)` : 'all good');
    // --offline imported every module of the agent: one of them may hold the event loop open.
    if (offline) process.exit(failed ? 1 : 0);
    return failed ? 1 : 0;
  }));

program.command('demo').description('infra + sim world + two hosts that ping through Faucet')
  .action(action(async () => {
    const c = cfg();
    const docker = await dockerClient();
    const [{ execIn }, { ensureDockerd }, { buildImages }, { infraUp }, { simUp }, { vsctlVia }, { labContext }, { desiredOf, labUp }, { labSummary }] = await Promise.all([
      import('./docker/client.js'), import('./docker/engine.js'), import('./docker/images.js'), import('./lab/infra.js'), world(), import('./net/ovs-exec.js'),
      import('./context.js'), import('./lab/service.js'), import('./lab/summary.js'),
    ]);
    await ensureDockerd(docker, c.logDir, log);
    await buildImages(docker, join(ROOT, 'image-build/images'), { log });
    const r = await infraUp(c, docker, log);
    log(`infra up: datapath ${r.datapath}, dp_status 1 after ${(r.msToDpUp / 1000).toFixed(1)} s`);
    await simUp(c.runDir, log, vsctlVia(docker));
    const { state } = await labUp(await labContext(c, log, docker), join(ROOT, 'lessons/first-switch'), 1);
    const desired = desiredOf(c, state);
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
  ${loaded().paths(c).faucetYaml}              the generated Faucet config
  curl -s 127.0.0.1:${c.faucetPromPort}/metrics | grep -E 'dp_status|faucet_config'
  dovelab down; dovelab sim down; dovelab infra down   clean up

In a browser, as a student:
  dovelab agent                                    keeps the lab repaired and serves the web UI
  then open http://localhost${c.web.port === 80 ? '' : `:${c.web.port}`}/ and join with group 1's code: ${state.joinCodes?.['1'] ?? '(see dovelab join-codes)'}
  the kiosk screen is http://localhost${c.web.port === 80 ? '' : `:${c.web.port}`}/kiosk`);
    return ping.code;
  }));

program.command('web').description('the web UI').command('password')
  .description('read the instructor password from stdin; print the config line (its scrypt hash) for web: in the appliance config')
  .action(action(async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (password.length < 8) throw new Error('the password needs at least 8 characters (read from stdin)');
    console.error(`put this line under \`web:\` in ${process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml'}, then restart the agent:`);
    log(`  instructor_password_hash: '${await (await import('./web/instructor-auth.js')).hashPassword(password)}'`);
  }));

program.command('boot-config').description(`the settings on the SD card's boot partition (${BOOT_FILE})`).command('apply')
  .description('apply them: hostname, instructor password (hashed, then removed from the file), Wi-Fi, dongle roles, boot lesson')
  .option('--file <path>', `the boot file (default: ${BOOT_FILE}, under --root)`)
  .option('--root <dir>', 'write every file under this directory instead of /')
  .action(action(async (o: { file?: string; root?: string }) => {
    const r = await (await import('./appliance/boot-apply.js')).applyBootConfig({ file: o.file, root: o.root, log });
    if (!r.found) { log(r.notes.join('\n')); return 0; }
    log(r.changed.length || r.removed.length ? `applied ${r.file}: ${[...r.changed, ...r.removed.map((p) => `${p} (removed)`)].join(', ')}` : `${r.file}: nothing changed`);
    return 0;
  }));

registerLabVerbs(program, cfg, action, log);
registerHardwareVerbs(program, () => loadConfig(), action, log); // the config as written: the verbs run discovery themselves
registerHistoryVerbs(program, cfg, action, log);
registerRecordVerbs(program, cfg, action, log);

await program.parseAsync(process.argv);

// Shared set-up for integration tests: the real dockerd, OVS, Faucet and the sim world.
import { parse } from 'yaml';
import { loadConfig, type Config } from '../../agent/config.js';
import { dockerClient, execIn } from '../../agent/docker/client.js';
import { ensureDockerd } from '../../agent/docker/engine.js';
import { labContext } from '../../agent/context.js';
import { planDesired, type DesiredState } from '../../agent/lab/desired.js';
import { reconcile, type LabContext, type ReconcileReport } from '../../agent/lab/engine.js';
import { infraUp } from '../../agent/lab/infra.js';
import { simUp } from '../../agent/hardware/sim/world.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { run, type RunResult } from '../../agent/sys/run.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';

export const docker = dockerClient();
export const cfg: Config = loadConfig();
const quiet = process.env.DOVELAB_TEST_VERBOSE ? (s: string) => console.log(`    ${s}`) : () => {};

let ready: Promise<LabContext> | undefined;

/** Infra + sim world, once per test file (idempotent: a second call is cheap). */
export function stack(): Promise<LabContext> {
  ready ??= (async () => {
    await ensureDockerd(docker, cfg.logDir, quiet);
    await infraUp(cfg, docker, quiet);
    await simUp(cfg.runDir, quiet, vsctlVia(docker));
    return labContext(cfg, quiet, docker);
  })();
  return ready;
}

export async function labUp(yamlText: string, groups = 1, lab = 'itest'): Promise<{ desired: DesiredState; report: ReconcileReport }> {
  const ctx = await stack();
  const desired = planDesired(TopologySchema.parse(parse(yamlText)), { lab, groups, bridge: cfg.bridge, dpId: cfg.dpId, defaultImage: cfg.images.labhost });
  return { desired, report: await reconcile(ctx, desired) };
}

export const inHost = (container: string, argv: string[]): Promise<RunResult> => execIn(docker, container, argv, { allowFail: true });

/** Packet loss (percent) of `ping -c n` from a lab host. */
export async function pingLoss(container: string, address: string, count = 3, interval = '0.2'): Promise<number> {
  const r = await inHost(container, ['ping', '-c', String(count), '-i', interval, '-W', '1', address]);
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(r.stdout);
  if (!m) throw new Error(`ping gave no summary: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

export const hostPidOf = async (container: string) => (await docker.getContainer(container).inspect()).State.Pid;

export { run };

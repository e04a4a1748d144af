// Walking-skeleton figures, as JSON: image build (warm), infra up -> dp_status 1 (cold, after
// infra down), lab up of two hosts, and the agent's peak RSS. Baseline in the same run: the same
// three infra containers started with plain `docker run`, no bridge, no Faucet confirmation.
import { emitJson } from './emit.js';
import { fileURLToPath } from 'node:url';
import { loadConfig, INFRA } from '../agent/config.js';
import { dockerClient } from '../agent/docker/client.js';
import { infraContainerSpec } from '../agent/docker/infra.js';
import { timed } from './timed.js';

const LESSON = fileURLToPath(new URL('../../lessons/first-switch', import.meta.url));
const cfg = loadConfig();
const docker = dockerClient();

async function baselinePlainDocker(): Promise<number> {
  const names = ['bench-ovs', 'bench-faucet', 'bench-gauge'];
  const t0 = Date.now();
  for (const [i, role] of (['ovs', 'faucet', 'gauge'] as const).entries()) {
    const spec = infraContainerSpec(cfg, role);
    // Same image and command, but no host network/binds: only the container start is measured.
    const c = await docker.createContainer({ Image: spec.Image, Cmd: spec.Cmd, name: names[i], HostConfig: { NetworkMode: 'none' } });
    await c.start();
  }
  const ms = Date.now() - t0;
  for (const n of names) await docker.getContainer(n).remove({ force: true });
  return ms;
}

const images = await timed(['images', 'build']);
await timed(['down']).catch(() => undefined);
await timed(['infra', 'down']);
const infraUp = await timed(['infra', 'up']);
const labUp = await timed(['up', LESSON]);
const baseline = await baselinePlainDocker();
await timed(['down']);
await emitJson({
  bench: 'skeleton',
  images_build_warm_ms: images.ms,
  infra_up_to_dp_status_ms: infraUp.ms,
  baseline_plain_docker_start_3_containers_ms: baseline,
  infra_up_vs_baseline_ratio: Number((infraUp.ms / baseline).toFixed(2)),
  lab_up_two_hosts_ms: labUp.ms,
  agent_peak_rss_kib: { infra_up: infraUp.maxRssKiB, lab_up: labUp.maxRssKiB },
  containers: Object.values(INFRA),
});

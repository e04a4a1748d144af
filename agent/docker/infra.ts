// Infrastructure containers: dovelab/ovs, Faucet and Gauge (both from dovelab/faucet).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type Docker from 'dockerode';
import { INFRA, paths, type Config } from '../config.js';
import { containerState, dockerCall, imageExists } from './client.js';

export type InfraRole = keyof typeof INFRA;

export function infraContainerSpec(c: Config, role: InfraRole): Docker.ContainerCreateOptions {
  const p = paths(c);
  const common = { NetworkMode: 'host', RestartPolicy: { Name: 'unless-stopped' } };
  if (role === 'ovs') {
    return {
      Image: c.images.ovs,
      HostConfig: {
        ...common,
        // --privileged is refused on these machines; this is all ovs-vswitchd needs.
        CapAdd: ['NET_ADMIN', 'NET_RAW', 'SYS_NICE', 'IPC_LOCK'],
        Devices: [{ PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' }],
        Binds: [`${p.ovsRunDir}:/var/run/openvswitch`, `${p.ovsDbDir}:/etc/openvswitch`],
      },
      StopTimeout: 5,
    };
  }
  const faucet = role === 'faucet';
  return {
    Image: c.images.faucet,
    Cmd: faucet
      ? ['faucet', `--ryu-ofp-tcp-listen-port=${c.faucetOfPort}`, '--ryu-ofp-listen-host=127.0.0.1']
      : ['gauge', `--ryu-ofp-tcp-listen-port=${c.gaugeOfPort}`, '--ryu-ofp-listen-host=127.0.0.1'],
    Env: faucet
      ? ['FAUCET_CONFIG=/etc/faucet/faucet.yaml', 'FAUCET_LOG=/var/log/faucet/faucet.log',
        'FAUCET_EXCEPTION_LOG=/var/log/faucet/faucet_exception.log',
        `FAUCET_PROMETHEUS_PORT=${c.faucetPromPort}`, 'FAUCET_PROMETHEUS_ADDR=127.0.0.1']
      // Gauge labels port counters with the names of the faucet.yaml it last loaded: it reloads on
      // the agent's SIGHUP with each Faucet reload, and on its own when the file changed (an int: 1).
      : ['GAUGE_CONFIG=/etc/faucet/gauge.yaml', 'GAUGE_LOG=/var/log/faucet/gauge.log',
        'GAUGE_EXCEPTION_LOG=/var/log/faucet/gauge_exception.log', 'GAUGE_CONFIG_STAT_RELOAD=1'],
    HostConfig: { ...common, Binds: [`${p.faucetDir}:/etc/faucet`, `${c.logDir}/faucet:/var/log/faucet`] },
    StopTimeout: 3,
  };
}

const specHash = (spec: Docker.ContainerCreateOptions, imageId: string) =>
  createHash('sha256').update(JSON.stringify([spec, imageId])).digest('hex').slice(0, 16);

export class MissingImage extends Error {}

/** Creates or starts the container; recreates it when its spec or image changed. */
export async function ensureInfraContainer(docker: Docker, c: Config, role: InfraRole): Promise<'created' | 'started' | 'running'> {
  const name = INFRA[role];
  const spec = infraContainerSpec(c, role);
  const image = spec.Image!;
  if (!(await imageExists(docker, image))) {
    throw new MissingImage(`image ${image} is missing: build the images with \`dovelab images build\``);
  }
  const imageId = (await dockerCall(`inspect image ${image}`, (signal) => docker.getImage(image).inspect({ abortSignal: signal } as object))).Id;
  const hash = specHash(spec, imageId);
  mkdirSync(paths(c).ovsRunDir, { recursive: true });
  mkdirSync(paths(c).ovsDbDir, { recursive: true });
  mkdirSync(paths(c).faucetDir, { recursive: true });
  mkdirSync(`${c.logDir}/faucet`, { recursive: true });
  const state = await containerState(docker, name);
  if (state && state.Config.Labels?.['dovelab.spec'] === hash) {
    if (state.State.Running) return 'running';
    await dockerCall(`start ${name}`, (signal) => docker.getContainer(name).start({ abortSignal: signal } as object));
    return 'started';
  }
  if (state) await dockerCall(`remove ${name}`, (signal) => docker.getContainer(name).remove({ force: true, abortSignal: signal } as object));
  const created = await dockerCall(`create ${name}`, (signal) =>
    docker.createContainer({ ...spec, name, Labels: { 'dovelab.role': role, 'dovelab.spec': hash }, abortSignal: signal } as Docker.ContainerCreateOptions));
  await dockerCall(`start ${name}`, (signal) => created.start({ abortSignal: signal } as object));
  return 'created';
}

export async function removeInfraContainer(docker: Docker, role: InfraRole): Promise<void> {
  try { await dockerCall(`remove ${INFRA[role]}`, (signal) => docker.getContainer(INFRA[role]).remove({ force: true, abortSignal: signal } as object)); } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
}

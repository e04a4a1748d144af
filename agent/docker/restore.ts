// Docker's side of restoring driver containers dockerd gave up on (see lab/plan-restore.ts).
import type Docker from 'dockerode';
import { dockerCall } from './client.js';
import type { StoppedContainer } from '../lab/plan-restore.js';

/** Docker names a driver after its socket: both of ours. */
const DRIVERS = ['dovelab', 'dovesnap'];

/** Ids of the networks of our driver. */
export async function driverNetworkIds(docker: Docker): Promise<Set<string>> {
  const list = await dockerCall('list networks of the dovelab driver', (signal) =>
    docker.listNetworks({ filters: { driver: DRIVERS }, abortSignal: signal } as Docker.NetworkListOptions));
  return new Set(list.map((n) => n.Id));
}

/** Stopped containers on those networks, with what dockerd recorded of their last start. */
export async function stoppedOnNetworks(docker: Docker, networkIds: Set<string>): Promise<StoppedContainer[]> {
  if (!networkIds.size) return [];
  const list = await dockerCall('list stopped containers', (signal) =>
    docker.listContainers({ all: true, filters: { status: ['exited', 'created'] }, abortSignal: signal } as Docker.ContainerListOptions));
  const ours = list.filter((c) => Object.values(c.NetworkSettings?.Networks ?? {}).some((n) => networkIds.has(n.NetworkID)));
  const out: StoppedContainer[] = [];
  for (const c of ours) {
    const name = c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
    const info = await dockerCall(`inspect container ${name}`, (signal) => docker.getContainer(c.Id).inspect({ abortSignal: signal } as object));
    out.push({
      name,
      state: info.State.Status,
      error: info.State.Error ?? '',
      restartPolicy: info.HostConfig.RestartPolicy?.Name ?? '',
      networkIds: Object.values(info.NetworkSettings.Networks ?? {}).map((n) => n.NetworkID),
    });
  }
  return out;
}

/** Starts a container (a start can wait on our own driver's Join: a long deadline). */
export async function startContainer(docker: Docker, name: string): Promise<void> {
  await dockerCall(`start container ${name}`, (signal) => docker.getContainer(name).start({ abortSignal: signal } as object), 120_000);
}

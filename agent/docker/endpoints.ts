// Docker's side of a driver endpoint: which container it belongs to, and that container's labels.
// Libnetwork's Join carries no container, and inspecting the container while it starts would wait
// on its lock (Dovesnap's deadlock), so these ask Docker's lists, which do not wait on containers.
import type Docker from 'dockerode';
import { sleep } from '../sys/run.js';
import { dockerCall } from './client.js';

export interface ContainerOnNetwork {
  name: string;
  /** created, running, exited, restarting … as Docker lists it. */
  state: string;
  /** The endpoint Docker lists for it on this network ('' until its start is done). */
  endpoint: string;
  labels: Record<string, string>;
  /** When it was created (ms since the epoch; Docker lists whole seconds). */
  createdMs: number;
}

/** The network's name (Docker does not send it with CreateNetwork); undefined if Docker has no such network. */
export async function networkName(docker: Docker, id: string, ms: number): Promise<string | undefined> {
  const list = await dockerCall(`list network ${id.slice(0, 12)}`, (signal) =>
    docker.listNetworks({ filters: { id: [id] }, abortSignal: signal } as Docker.NetworkListOptions), ms);
  return list.find((n) => n.Id === id)?.Name;
}

/** Containers Docker has on network `name` (by the name they were created with), in any state. */
export async function containersOn(docker: Docker, name: string, ms: number): Promise<ContainerOnNetwork[]> {
  const list = await dockerCall(`list containers on network ${name}`, (signal) =>
    docker.listContainers({ all: true, filters: { network: [name] }, abortSignal: signal } as Docker.ContainerListOptions), ms);
  return list.map((c) => ({
    name: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
    state: c.State,
    endpoint: c.NetworkSettings?.Networks?.[name]?.EndpointID ?? '',
    labels: c.Labels ?? {},
    createdMs: c.Created * 1000,
  }));
}

/** The container of `endpoint` once Docker lists it (after its start), polling until waitMs. */
export async function containerOfEndpoint(docker: Docker, network: string, endpoint: string, waitMs: number): Promise<{ name: string; labels: Record<string, string> } | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    const list = await dockerCall(`list containers on network ${network.slice(0, 12)}`, (signal) =>
      docker.listContainers({ all: true, filters: { network: [network] }, abortSignal: signal } as Docker.ContainerListOptions));
    const c = list.find((x) => Object.values(x.NetworkSettings?.Networks ?? {}).some((n) => n.EndpointID === endpoint));
    if (c) return { name: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12), labels: c.Labels ?? {} };
    if (Date.now() > until) return undefined;
    await sleep(200);
  }
}

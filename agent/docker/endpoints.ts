// Docker's side of a driver endpoint: which container it belongs to. Libnetwork's Join carries no
// container, and inspecting the container while it starts would wait on its lock (Dovesnap's
// deadlock), so this asks Docker's container list, which does not wait, until the endpoint shows.
import type Docker from 'dockerode';
import { sleep } from '../sys/run.js';
import { dockerCall } from './client.js';

export async function containerOfEndpoint(docker: Docker, network: string, endpoint: string, waitMs: number): Promise<string | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    const list = await dockerCall(`list containers on network ${network.slice(0, 12)}`, (signal) =>
      docker.listContainers({ all: true, filters: { network: [network] }, abortSignal: signal } as Docker.ContainerListOptions));
    const c = list.find((x) => Object.values(x.NetworkSettings?.Networks ?? {}).some((n) => n.EndpointID === endpoint));
    if (c) return c.Names[0]?.replace(/^\//, '');
    if (Date.now() > until) return undefined;
    await sleep(200);
  }
}

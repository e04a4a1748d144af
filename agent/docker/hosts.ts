// Lab host containers: unprivileged, --network none; the agent wires their interfaces.
import type Docker from 'dockerode';
import { LABEL } from '../lab/diff.js';

export interface HostContainer { container: string; running: boolean; pid: number; labels: Record<string, string> }

export async function listLabHosts(docker: Docker): Promise<HostContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [LABEL.lab] } });
  return list.map((c) => ({
    container: (c.Names[0] ?? '').replace(/^\//, ''),
    running: c.State === 'running',
    pid: 0,
    labels: c.Labels,
  }));
}

export async function hostPid(docker: Docker, container: string): Promise<number> {
  const info = await docker.getContainer(container).inspect();
  if (!info.State.Running || !info.State.Pid) throw new Error(`lab host ${container} is not running`);
  return info.State.Pid;
}

export interface HostCreate { container: string; image: string; hostname: string; labels: Record<string, string> }

/** Creates and starts a lab host; returns the pid whose netns gets the interfaces. */
export async function startLabHost(docker: Docker, h: HostCreate): Promise<number> {
  const c = await docker.createContainer({
    name: h.container,
    Image: h.image,
    Hostname: h.hostname,
    Labels: h.labels,
    HostConfig: {
      NetworkMode: 'none',
      // Its own netns only: students set addresses and routes; nothing privileged.
      CapAdd: ['NET_ADMIN', 'NET_RAW'],
      RestartPolicy: { Name: 'no' },
    },
  });
  await c.start();
  return hostPid(docker, h.container);
}

export async function removeLabHost(docker: Docker, container: string): Promise<void> {
  try { await docker.getContainer(container).remove({ force: true }); } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
}

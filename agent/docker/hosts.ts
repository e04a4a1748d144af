// Lab host containers: unprivileged, --network none; the agent wires their interfaces.
import { readFileSync, statSync } from 'node:fs';
import type Docker from 'dockerode';
import { pack as tarPack } from 'tar-stream';
import { LABEL } from '../lab/diff.js';

export interface HostContainer { container: string; running: boolean; labels: Record<string, string> }

export async function listLabHosts(docker: Docker): Promise<HostContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [LABEL.lab] } });
  return list.map((c) => ({
    container: (c.Names[0] ?? '').replace(/^\//, ''),
    running: c.State === 'running',
    labels: c.Labels,
  }));
}

export async function hostPid(docker: Docker, container: string): Promise<number> {
  const info = await docker.getContainer(container).inspect();
  if (!info.State.Running || !info.State.Pid) throw new Error(`lab host ${container} is not running`);
  return info.State.Pid;
}

export interface HostCreate { container: string; image: string; hostname: string; labels: Record<string, string>; sysctl?: Record<string, string> }

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
      // net.* sysctls are per netns, so Docker may set them for an unprivileged container.
      Sysctls: h.sysctl ?? {},
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

/** busybox udhcpc inside the host: sends the host name, renews, keeps running in the background. */
export async function startDhcpClient(docker: Docker, container: string, ifname: string, hostname: string): Promise<void> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ['udhcpc', '-i', ifname, '-x', `hostname:${hostname}`, '-F', hostname, '-b', '-p', `/run/udhcpc.${ifname}.pid`],
    AttachStdout: false, AttachStderr: false,
  });
  const stream = await exec.start({ Detach: true }) as unknown as { destroy?: () => void } | undefined;
  // Detached: nothing comes back; close the response so it cannot hold the process open.
  stream?.destroy?.();
}

/** Copies lesson files into a host (path inside -> file on the appliance), before its startup runs. */
export async function copyFilesInto(docker: Docker, container: string, files: Record<string, string>): Promise<void> {
  const tar = tarPack();
  for (const [dest, src] of Object.entries(files)) {
    const mode = statSync(src).mode & 0o777;
    tar.entry({ name: dest.replace(/^\/+/, ''), mode }, readFileSync(src));
  }
  tar.finalize();
  await docker.getContainer(container).putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
}

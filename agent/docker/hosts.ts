// Lab host containers: unprivileged, --network none, limited; the agent wires their interfaces.
// Every Docker call has a deadline, and its error names the host.
import { readFileSync, statSync } from 'node:fs';
import type Docker from 'dockerode';
import type { HostContainer, HostCreate, LabHosts, StartupOutcome } from '../lab/adapters.js';
import { DeadlineExceeded } from '../sys/deadline.js';
import { dockerCall, execIn } from './client.js';

export type { HostContainer, HostCreate };

/** Where a host's startup output is kept, inside the host. */
export const STARTUP_LOG = '/var/log/dovelab-startup.log';

/** Capabilities of a lab host: its own netns only (students set addresses and routes), nothing privileged. */
export const HOST_CAP_ADD = ['NET_ADMIN', 'NET_RAW'];
/** Docker's defaults a lab host never needs (device nodes, file capabilities). */
export const HOST_CAP_DROP = ['MKNOD', 'SETFCAP', 'SETPCAP'];

const MiB = 1024 * 1024;

/** Files Docker bind-mounts into every container: replacing them fails ("device or resource busy"), so they are written in place. */
export const BIND_MOUNTED_FILES = new Set(['/etc/resolv.conf', '/etc/hosts', '/etc/hostname']);

/**
 * The shell line that runs a startup script (as `sh -c LINE dovelab-startup SCRIPT`): its output to
 * `log`, the script written to `file` and run as Kathará runs startups: by bash, or by the
 * interpreter its `#!` line names. An image without bash runs it with sh, and the log says so.
 */
export function startupCommand(log: string, file = '/tmp/dovelab-startup', bash = '/bin/bash'): string {
  return `mkdir -p "$(dirname ${log})"; exec >${log} 2>&1 </dev/null; `
    + `printf '%s\n' "$1" > ${file} && chmod 700 ${file} || { echo "dovelab: cannot write ${file}"; exit 126; }; `
    + `if [ "$(head -c 2 ${file})" = '#!' ]; then ${file}; `
    + `elif [ -x ${bash} ]; then ${bash} ${file}; `
    + `else echo "dovelab: this image has no ${bash}: the startup runs with sh (bash features such as set -o pipefail or source may fail)"; sh ${file}; fi; `
    + 'rc=$?; echo "dovelab: startup exited $rc"; exit $rc';
}

/** The container spec of a lab host (pure: tested without Docker). */
export function hostContainerSpec(h: HostCreate): Docker.ContainerCreateOptions {
  return {
    name: h.container,
    Image: h.image,
    Hostname: h.hostname,
    Labels: h.labels,
    HostConfig: {
      NetworkMode: 'none',
      CapAdd: HOST_CAP_ADD,
      CapDrop: HOST_CAP_DROP,
      SecurityOpt: ['no-new-privileges'],
      // One group must not starve OVS, Faucet or the other groups.
      PidsLimit: h.limits.pids,
      Memory: h.limits.memory_mb * MiB,
      MemorySwap: h.limits.memory_mb * MiB,
      NanoCpus: Math.round(h.limits.cpus * 1e9),
      RestartPolicy: { Name: 'no' },
      // net.* sysctls are per netns, so Docker may set them for an unprivileged container.
      Sysctls: h.sysctl ?? {},
    },
  };
}

const notFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

export function dockerLabHosts(docker: Docker, opts: { label: string }): LabHosts {
  const ctr = (name: string) => docker.getContainer(name);
  const self: LabHosts = {
    async list(): Promise<HostContainer[]> {
      const list = await dockerCall('list lab hosts', (signal) =>
        docker.listContainers({ all: true, filters: { label: [opts.label] }, abortSignal: signal } as Docker.ContainerListOptions));
      return list.map((c) => ({ container: (c.Names[0] ?? '').replace(/^\//, ''), running: c.State === 'running', labels: c.Labels }));
    },

    async pid(container) {
      const info = await dockerCall(`inspect ${container}`, (signal) => ctr(container).inspect({ abortSignal: signal } as object));
      if (!info.State.Running || !info.State.Pid) throw new Error(`lab host ${container} is not running`);
      return info.State.Pid;
    },

    async create(h) {
      const c = await dockerCall(`create ${h.container}`, (signal) => docker.createContainer({ ...hostContainerSpec(h), abortSignal: signal } as Docker.ContainerCreateOptions));
      await dockerCall(`start ${h.container}`, (signal) => c.start({ abortSignal: signal } as object));
    },

    async remove(container) {
      try {
        await dockerCall(`remove ${container}`, (signal) => ctr(container).remove({ force: true, abortSignal: signal } as object));
      } catch (e) { if (!notFound(e)) throw e; }
    },

    async copyFiles(container, files) {
      const all = Object.entries(files);
      // Docker's own bind mounts are written in place (their content), the rest as one archive.
      for (const [dest, src] of all.filter(([d]) => BIND_MOUNTED_FILES.has(d))) {
        await execIn(docker, container, ['sh', '-c', 'cat > "$1"', 'dovelab-write', dest], { input: readFileSync(src, 'utf8'), timeoutMs: 10_000 });
      }
      const rest = all.filter(([d]) => !BIND_MOUNTED_FILES.has(d));
      if (!rest.length) return;
      // tar-stream loads when files are copied (lab start), not with the agent (issue 13).
      const tar = (await import('tar-stream')).pack();
      for (const [dest, src] of rest) {
        const mode = statSync(src).mode & 0o777;
        tar.entry({ name: dest.replace(/^\/+/, ''), mode }, readFileSync(src));
      }
      tar.finalize();
      await dockerCall(`copy files into ${container}`, (signal) =>
        ctr(container).putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/', abortSignal: signal } as object));
    },

    exec: (container, argv, o = {}) => execIn(docker, container, argv, { allowFail: true, ...o }),

    async startup(container, script, budgetMs): Promise<StartupOutcome> {
      // The script's output goes to a log inside the host, so it survives our leaving early.
      const argv = ['sh', '-c', startupCommand(STARTUP_LOG), 'dovelab-startup', script];
      const t0 = Date.now();
      try {
        const r = await execIn(docker, container, argv, { allowFail: true, timeoutMs: budgetMs, keepOnTimeout: true });
        let tail = '';
        if (r.code !== 0) {
          const log = await execIn(docker, container, ['tail', '-n', '3', STARTUP_LOG], { allowFail: true, timeoutMs: 5_000 }).catch(() => undefined);
          tail = (log?.stdout ?? '').split('\n').filter((l) => l.trim() && !l.startsWith('dovelab: startup exited')).slice(-2).join(' | ');
        }
        return { state: 'exited', code: r.code, tail };
      } catch (e) {
        // Still running (a server in the foreground): it keeps running; we carry on.
        if (e instanceof DeadlineExceeded) return { state: 'running', afterMs: Date.now() - t0, log: STARTUP_LOG };
        throw e;
      }
    },

    async startDhcp(container, ifname, hostname) {
      // busybox udhcpc sends the host name and renews in the background. A client from an earlier
      // attach (bound to a veth that is gone) is stopped first: one client per interface.
      const script = 'p=/run/udhcpc.$1.pid; [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; ' +
        'command -v pkill >/dev/null && pkill -f "^udhcpc -i $1 " ; ' +
        'exec udhcpc -i "$1" -x "hostname:$2" -F "$2" -b -p "$p"';
      const exec = await dockerCall(`exec udhcpc in ${container}`, (signal) => ctr(container).exec({
        Cmd: ['sh', '-c', script, 'dovelab-dhcp', ifname, hostname], AttachStdout: false, AttachStderr: false, abortSignal: signal,
      } as Docker.ExecCreateOptions));
      const stream = await dockerCall(`start udhcpc in ${container}`, (signal) =>
        exec.start({ Detach: true, abortSignal: signal } as Docker.ExecStartOptions)) as unknown as { destroy?: () => void } | undefined;
      // Detached: nothing comes back; close the response so it cannot hold the process open.
      stream?.destroy?.();
    },
  };
  return self;
}

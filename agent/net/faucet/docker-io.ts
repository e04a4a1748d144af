// FaucetIo bound to the dovelab-faucet container: the real check_faucet_config, SIGHUP, :9302.
import { basename, dirname } from 'node:path';
import type Docker from 'dockerode';
import { INFRA, type Config } from '../../config.js';
import { containerState, dockerCall, execIn } from '../../docker/client.js';
import { scrape } from '../../metrics/prometheus.js';
import type { FaucetIo } from './apply.js';
import { askCheckd, CHECKD_PY, CHECKD_SOCKET } from './checkd.js';
import { FAUCET_STATUS_METRICS } from './status.js';

/** Faucet's own check takes ≈0.6 s here; far slower means something hangs. */
const CHECK_MS = 60_000;

/** Runs check_faucet_config on a host file (in the running Faucet, or a throwaway container). */
export async function checkFaucetConfig(docker: Docker, c: Config, hostPath: string): Promise<{ ok: boolean; error: string }> {
  const inContainer = `/etc/faucet-check/${basename(hostPath)}`;
  const state = await containerState(docker, INFRA.faucet);
  let code: number; let output: string;
  if (state?.State.Running && dirname(hostPath) === `${c.dataDir}/faucet`) {
    const resident = await viaCheckd(docker, c, basename(hostPath));
    if (resident) return resident;
    const r = await execIn(docker, INFRA.faucet, ['check_faucet_config', `/etc/faucet/${basename(hostPath)}`], { allowFail: true, timeoutMs: CHECK_MS });
    code = r.code; output = r.stdout + r.stderr;
  } else {
    const ctr = await dockerCall('create a check_faucet_config container', (signal) => docker.createContainer({
      Image: c.images.faucet, Cmd: ['check_faucet_config', inContainer],
      HostConfig: { Binds: [`${dirname(hostPath)}:/etc/faucet-check:ro`], NetworkMode: 'none' }, abortSignal: signal,
    } as Docker.ContainerCreateOptions));
    try {
      await dockerCall('start check_faucet_config', (signal) => ctr.start({ abortSignal: signal } as object));
      code = (await dockerCall('check_faucet_config', (signal) => ctr.wait({ abortSignal: signal } as object), CHECK_MS)).StatusCode as number;
      output = demux(await dockerCall('logs of check_faucet_config', (signal) => ctr.logs({ stdout: true, stderr: true, abortSignal: signal } as object)) as unknown as Buffer);
    } finally {
      await dockerCall('remove check_faucet_config', (signal) => ctr.remove({ force: true, abortSignal: signal } as object)).catch(() => {});
    }
  }
  return { ok: code === 0, error: code === 0 ? '' : lastLines(output) };
}

/** Starts the resident check in the running Faucet container (it exits at once if one runs). */
export async function startCheckd(docker: Docker): Promise<void> {
  const exec = await dockerCall('create the Faucet check daemon', (signal) => docker.getContainer(INFRA.faucet).exec({
    Cmd: ['python3', '-c', CHECKD_PY, `/etc/faucet/${CHECKD_SOCKET}`], AttachStdout: false, AttachStderr: false, abortSignal: signal,
  } as Docker.ExecCreateOptions));
  const res = await dockerCall('start the Faucet check daemon', (signal) =>
    exec.start({ Detach: true, abortSignal: signal } as Docker.ExecStartOptions)) as unknown as { destroy?: () => void } | undefined;
  // Detached: nothing comes back; an open response held a CLI process for minutes (seen).
  res?.destroy?.();
}

/**
 * The resident check's verdict, or undefined (then the one-shot command decides): no daemon yet
 * (one is started for the next check), or one that hangs or talks nonsense (it is killed).
 */
async function viaCheckd(docker: Docker, c: Config, name: string): Promise<{ ok: boolean; error: string } | undefined> {
  const sock = `${c.dataDir}/faucet/${CHECKD_SOCKET}`;
  try {
    const v = await askCheckd(sock, `/etc/faucet/${name}`);
    if (v) return { ok: v.ok, error: v.ok ? '' : lastLines(v.output) };
  } catch {
    await execIn(docker, INFRA.faucet, ['sh', '-c', `kill -9 "$(cat /etc/faucet/${CHECKD_SOCKET}.lock)"`], { allowFail: true, timeoutMs: 5_000 }).catch(() => {});
  }
  await startCheckd(docker).catch(() => {});
  return undefined;
}

/** Docker's multiplexed log stream: 8-byte frame headers (stream, 0, 0, 0, size BE32). */
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

const lastLines = (s: string) => s.trim().split('\n').filter((l) => l.trim()).slice(-4).join('\n');

export class FaucetUnavailable extends Error {}

/**
 * Asks Gauge to reload its config (SIGHUP to the container's init, as for Faucet): Gauge reads
 * faucet.yaml's port names only when it (re)loads, and labels its port counters with them. Returns
 * false when Gauge is not running.
 */
export async function reloadGauge(docker: Docker): Promise<boolean> {
  const st = await containerState(docker, INFRA.gauge);
  if (!st?.State.Running || !st.State.Pid) return false;
  process.kill(st.State.Pid, 'SIGHUP');
  return true;
}

export function faucetIo(docker: Docker, c: Config): FaucetIo {
  return {
    check: (hostPath) => checkFaucetConfig(docker, c, hostPath),
    // SIGHUP goes straight to the container's init (tini forwards it to Faucet), not through
    // Docker's kill API: Docker counts a signal sent that way as a manual stop, and then does not
    // start an unless-stopped Faucet again after dockerd restarts (seen).
    reload: async () => {
      const st = await containerState(docker, INFRA.faucet);
      if (!st?.State.Running || !st.State.Pid) throw new FaucetUnavailable(`Faucet is not running (container ${INFRA.faucet}): run \`dovelab infra up\``);
      process.kill(st.State.Pid, 'SIGHUP');
      // Gauge too (its port names follow faucet.yaml only when it reloads); best effort: Gauge
      // also reloads on its own when it sees the file change (GAUGE_CONFIG_STAT_RELOAD, 3-5 s).
      await reloadGauge(docker).catch(() => false);
    },
    metrics: async () => {
      try { return await scrape(`http://127.0.0.1:${c.faucetPromPort}/metrics`, 2000, FAUCET_STATUS_METRICS); } catch (e) {
        throw new FaucetUnavailable(`Faucet is not answering on 127.0.0.1:${c.faucetPromPort} (${(e as Error).message}): ` +
          `see \`docker logs ${INFRA.faucet}\`, then \`dovelab infra up\``);
      }
    },
  };
}

export { execIn };

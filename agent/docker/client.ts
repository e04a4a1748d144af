// One dockerode client per process, plus exec-with-output inside a container.
// First: dockerode's unused transports load only if used.
import './lazy-transports.js';
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { DeadlineExceeded, withDeadline } from '../sys/deadline.js';
import { CommandError, type RunResult } from '../sys/run.js';

/** Default deadline of one Docker API call, and of a command run in a container. */
export const DOCKER_CALL_MS = 30_000;
export const EXEC_MS = 60_000;

/** One Docker API call with a deadline; the error names the call (e.g. "inspect dovelab-g1-h1"). */
export const dockerCall = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>, ms = DOCKER_CALL_MS): Promise<T> =>
  withDeadline(`Docker: ${what}`, ms, fn);

export type DockerClient = Docker;

export function dockerClient(socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock'): Docker {
  return new Docker({ socketPath });
}

export class DockerUnavailable extends Error {
  constructor(cause: unknown) {
    super(`dockerd is not answering (${(cause as Error)?.message ?? cause}). ` +
      'Start it: `systemctl start docker` on the Pi, or `dovelab engine start` (runs dockerd in the background).');
  }
}

/** Pings dockerd; throws DockerUnavailable with the next step. */
export async function pingDocker(docker: Docker): Promise<void> {
  try { await dockerCall('ping', (signal) => (docker.ping as (o: object) => Promise<unknown>).call(docker, { abortSignal: signal }), 10_000); } catch (e) { throw new DockerUnavailable(e); }
}

export interface ExecOptions {
  allowFail?: boolean;
  input?: string;
  /** Deadline for the whole command (default EXEC_MS). */
  timeoutMs?: number;
  /** On the deadline, leave the command running (a startup script) instead of killing it. */
  keepOnTimeout?: boolean;
}

/**
 * Runs argv in a running container and collects its output (like `docker exec`). At the deadline
 * the command is killed (closing an exec does not stop it) and DeadlineExceeded names it.
 */
export async function execIn(docker: Docker, container: string, argv: string[], opts: ExecOptions = {}): Promise<RunResult> {
  const ms = opts.timeoutMs ?? EXEC_MS;
  const what = `docker exec ${container} ${argv.join(' ').replace(/\s+/g, ' ').slice(0, 60)}`;
  let started: Docker.Exec | undefined;
  try {
    const result = await withDeadline(what, ms, async (signal) => {
      const exec = await docker.getContainer(container).exec({
        Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: opts.input !== undefined, abortSignal: signal,
      } as Docker.ExecCreateOptions);
      started = exec;
      const stream = await exec.start({ hijack: opts.input !== undefined, stdin: opts.input !== undefined, abortSignal: signal } as Docker.ExecStartOptions);
      const out: Buffer[] = []; const err: Buffer[] = [];
      const so = new PassThrough(); const se = new PassThrough();
      so.on('data', (b: Buffer) => out.push(b)); se.on('data', (b: Buffer) => err.push(b));
      docker.modem.demuxStream(stream, so, se);
      if (opts.input !== undefined) stream.end(opts.input);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => { stream.destroy(); resolve(); };
        signal.addEventListener('abort', onAbort, { once: true });
        const done = () => { signal.removeEventListener('abort', onAbort); resolve(); };
        stream.on('end', done); stream.on('close', done); stream.on('error', reject);
      });
      let info = await exec.inspect({ abortSignal: signal } as object);
      for (let i = 0; info.Running && i < 200 && !signal.aborted; i++) { await new Promise((r) => setTimeout(r, 10)); info = await exec.inspect({ abortSignal: signal } as object); }
      return { code: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    });
    if (result.code !== 0 && !opts.allowFail) throw new CommandError([`docker exec ${container}`, ...argv], result);
    return result;
  } catch (e) {
    if (e instanceof DeadlineExceeded && started && !opts.keepOnTimeout) await killExec(started);
    throw e;
  }
}

/** Kills what an exec started (its pid is a pid of the appliance's own namespace). */
async function killExec(exec: Docker.Exec): Promise<void> {
  try {
    const info = await withDeadline('Docker: inspect exec', 5_000, (signal) => exec.inspect({ abortSignal: signal } as object));
    if (info.Running && info.Pid > 0) process.kill(info.Pid, 'SIGKILL');
  } catch { /* gone already, or dockerd not answering: nothing more we can do */ }
}

/** State of a container by name, or undefined when it does not exist. */
export async function containerState(docker: Docker, name: string) {
  try { return await dockerCall(`inspect ${name}`, (signal) => docker.getContainer(name).inspect({ abortSignal: signal } as object)); } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try { await dockerCall(`inspect image ${ref}`, (signal) => docker.getImage(ref).inspect({ abortSignal: signal } as object)); return true; } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

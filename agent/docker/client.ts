// One dockerode client per process, plus exec-with-output inside a container.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { CommandError, type RunResult } from '../sys/run.js';

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
  try { await docker.ping(); } catch (e) { throw new DockerUnavailable(e); }
}

/** Runs argv in a running container and collects its output (like `docker exec`). */
export async function execIn(docker: Docker, container: string, argv: string[],
  opts: { allowFail?: boolean; input?: string } = {}): Promise<RunResult> {
  const exec = await docker.getContainer(container).exec({
    Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: opts.input !== undefined,
  });
  const stream = await exec.start({ hijack: opts.input !== undefined, stdin: opts.input !== undefined });
  const out: Buffer[] = []; const err: Buffer[] = [];
  const so = new PassThrough(); const se = new PassThrough();
  so.on('data', (b: Buffer) => out.push(b)); se.on('data', (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, so, se);
  if (opts.input !== undefined) stream.end(opts.input);
  await new Promise<void>((resolve, reject) => { stream.on('end', resolve); stream.on('close', resolve); stream.on('error', reject); });
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 200; i++) { await new Promise((r) => setTimeout(r, 10)); info = await exec.inspect(); }
  const result = { code: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  if (result.code !== 0 && !opts.allowFail) throw new CommandError([`docker exec ${container}`, ...argv], result);
  return result;
}

/** State of a container by name, or undefined when it does not exist. */
export async function containerState(docker: Docker, name: string) {
  try { return await docker.getContainer(name).inspect(); } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try { await docker.getImage(ref).inspect(); return true; } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

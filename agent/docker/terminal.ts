// Terminals into lab hosts through Docker's exec API with a TTY: no docker CLI process per terminal
// (DESIGN §5: lighter than node-pty + `docker exec -it`). The shell runs inside the container, never
// on the appliance. Closing a terminal kills the shell and everything it started.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { killTree } from '../sys/procs.js';
import { dockerCall } from './client.js';

export interface Terminal {
  /** Raw terminal output (a TTY: stdout and stderr are one stream). */
  output: NodeJS.ReadableStream;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Ends the shell and whatever it started; safe to call twice. */
  close(): Promise<void>;
  /** The shell's pid on the appliance (0 when unknown). */
  pid: number;
}

export interface TerminalBackend {
  /** True when the container exists and runs. */
  running(container: string): Promise<boolean>;
  open(container: string, size?: { cols: number; rows: number }): Promise<Terminal>;
}

/** bash as a login shell, or sh where an image has no bash. */
export const SHELL_ARGV = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

export function dockerTerminals(docker: Docker): TerminalBackend {
  return {
    async running(container) {
      try {
        const st = await dockerCall(`inspect ${container}`, (signal) => docker.getContainer(container).inspect({ abortSignal: signal } as object), 5_000);
        return st.State.Running;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return false;
        throw e;
      }
    },
    async open(container, size) {
      const exec = await dockerCall(`exec ${container} (terminal)`, (signal) => docker.getContainer(container).exec({
        Cmd: SHELL_ARGV, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true,
        Env: ['TERM=xterm-256color'], abortSignal: signal,
      } as Docker.ExecCreateOptions), 10_000);
      const stream = await dockerCall(`start terminal in ${container}`, () =>
        exec.start({ hijack: true, stdin: true, Tty: true } as Docker.ExecStartOptions), 10_000) as Duplex;
      let pid = 0;
      for (let i = 0; i < 50 && !pid; i++) {
        pid = (await exec.inspect()).Pid ?? 0;
        if (!pid) await new Promise((r) => setTimeout(r, 20));
      }
      if (size) await exec.resize({ h: size.rows, w: size.cols }).catch(() => {});
      let closed = false;
      return {
        output: stream, pid,
        write: (data) => { if (!closed) stream.write(data); },
        resize: async (cols, rows) => { if (!closed) await exec.resize({ h: rows, w: cols }); },
        async close() {
          if (closed) return;
          closed = true;
          // The shell first (it is the session leader: its jobs and their children go with it).
          if (pid) killTree(pid);
          stream.destroy();
        },
      };
    },
  };
}

// Capture adapter: tcpdump on a capture port's far end (in the agent's capture netns) writing pcap
// to stdout, and a second tcpdump that decodes that pcap into one line per packet for the page.
// tcpdump is the field's tool: its pcap opens in Wireshark and its decode is what people know.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface Recorder {
  /** The pcap stream (global header first, then records; tcpdump -U flushes each packet). */
  pcap: Readable;
  /** Ends the recording (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): void;
  /** Resolves when tcpdump has exited; stderr's last lines if it failed. */
  exited: Promise<{ code: number | null; error?: string }>;
}

export interface Decoder {
  /** Feed pcap bytes (the same stream as recorded). */
  input: Writable;
  /** Called with each decoded line, in packet order. */
  onLine(fn: (line: string) => void): void;
  stop(): void;
}

export interface CaptureBackend {
  /** Starts tcpdump on `ifname` in netns `netns` with a BPF filter; resolves once it listens. */
  record(netns: string, ifname: string, filter: string, opts: { snaplen: number; startMs: number }): Promise<Recorder>;
  /** A tcpdump that reads pcap on stdin and prints one line per packet. */
  decoder(): Decoder;
}

const kill = (c: ChildProcess) => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  const t = setTimeout(() => { if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); }, 2_000);
  t.unref();
};

export const tcpdumpCaptures: CaptureBackend = {
  record(netns, ifname, filter, opts) {
    // -U: flush per packet (streamed as it records); -n: no DNS; --immediate-mode: no batching.
    const argv = ['netns', 'exec', netns, 'tcpdump', '-i', ifname, '-U', '-n', '--immediate-mode', '-s', String(opts.snaplen), '-w', '-', filter];
    const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<{ code: number | null; error?: string }>((resolve) => {
      child.on('error', (e) => resolve({ code: null, error: `cannot run tcpdump: ${e.message}` }));
      child.on('close', (code, signal) => resolve(code === 0 || signal ? { code } : { code, error: stderr.trim().split('\n').slice(-2).join(' | ') || `tcpdump exited ${code}` }));
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { kill(child); reject(new Error(`tcpdump on ${netns}:${ifname} did not start listening within ${opts.startMs} ms`)); }, opts.startMs);
      child.stderr!.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-4_000);
        if (/listening on/.test(stderr)) {
          clearTimeout(timer);
          resolve({ pcap: child.stdout!, stop: () => kill(child), exited });
        }
      });
      void exited.then((r) => { clearTimeout(timer); reject(new Error(`tcpdump on ${netns}:${ifname} ended before listening: ${r.error ?? `exit ${r.code}`}`)); });
    });
  },
  decoder() {
    // -t: the page shows its own time; -e: MAC addresses; -l: a line per packet as it comes.
    const child = spawn('tcpdump', ['-n', '-t', '-e', '-l', '-r', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', () => { /* no decode: the page shows packets without summaries */ });
    child.stdin!.on('error', () => { /* decoder gone: recording goes on */ });
    const lines = createInterface({ input: child.stdout! });
    return {
      input: child.stdin!,
      onLine: (fn) => { lines.on('line', fn); },
      stop: () => { child.stdin!.end(); kill(child); },
    };
  },
};

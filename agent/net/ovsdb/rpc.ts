// JSON-RPC 1.0 as OVSDB speaks it (RFC 7047 §4) over one stream: request ids, a deadline on every
// request, answers to the server's `echo`, notifications handed on. No reconnect here (client.ts).
import type { Duplex } from 'node:stream';
import { DeadlineExceeded } from '../../sys/deadline.js';
import { JsonStream } from './framing.js';

export class OvsdbRpcError extends Error {}

interface Pending { what: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class RpcSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly framing = new JsonStream();
  private closedWhy: string | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly on: { notification: (method: string, params: unknown) => void; closed: (why: string) => void },
  ) {
    stream.on('data', (chunk: Buffer) => {
      let msgs: unknown[];
      try { msgs = this.framing.push(chunk); } catch (e) { this.close((e as Error).message); return; }
      for (const m of msgs) this.receive(m as Record<string, unknown>);
    });
    stream.on('error', (e) => this.close(e.message));
    stream.on('close', () => this.close('the server closed the connection'));
    stream.on('end', () => this.close('the server closed the connection'));
  }

  get closed(): boolean { return this.closedWhy !== undefined; }

  /** Sends a request; rejects with DeadlineExceeded(what) if no answer comes within ms. */
  request(method: string, params: unknown[], what: string, ms: number): Promise<unknown> {
    if (this.closedWhy) return Promise.reject(new OvsdbRpcError(`${what}: connection to ovsdb-server lost (${this.closedWhy})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new DeadlineExceeded(what, ms)); }, ms);
      this.pending.set(id, { what, resolve, reject, timer });
      this.send({ method, params, id });
    });
  }

  close(why = 'closed by us'): void {
    if (this.closedWhy) return;
    this.closedWhy = why;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new OvsdbRpcError(`${p.what}: connection to ovsdb-server lost (${why})`));
    }
    this.pending.clear();
    this.stream.destroy();
    this.on.closed(why);
  }

  /** Requests in flight (for tests and status). */
  inFlight(): number { return this.pending.size; }

  private send(msg: unknown): void { this.stream.write(JSON.stringify(msg)); }

  private receive(m: Record<string, unknown>): void {
    if (typeof m.method === 'string') {
      const params = Array.isArray(m.params) ? m.params : [];
      if (m.id === null || m.id === undefined) { this.on.notification(m.method, params); return; }
      // The server checks we are alive with echo: answer with its own params (RFC 7047 §4.1.11).
      if (m.method === 'echo') this.send({ result: params, error: null, id: m.id });
      else this.send({ result: null, error: `unknown method ${m.method}`, id: m.id });
      return;
    }
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return; // an answer after its deadline: dropped
    this.pending.delete(m.id as number);
    clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined) {
      const e = m.error as { error?: string; details?: string } | string;
      p.reject(new OvsdbRpcError(`${p.what}: ${typeof e === 'string' ? e : `${e.error ?? JSON.stringify(e)}${e.details ? `: ${e.details}` : ''}`}`));
    } else p.resolve(m.result);
  }
}

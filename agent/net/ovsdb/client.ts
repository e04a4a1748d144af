// A small OVSDB client (RFC 7047) for the OVS container's ovsdb-server, over the unix socket its
// run directory shares with the host. There is no maintained OVSDB client on npm (checked
// 2026-12: no package `ovsdb` or `node-ovsdb`), so this is ours: transact, monitor (kept as an
// in-memory mirror for reads), echo, reconnect with a bounded backoff, a deadline on every call.
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { DeadlineExceeded } from '../../sys/deadline.js';
import { DB, transactionError, type Operation } from './ops.js';
import { MONITORED, Mirror, type TableUpdates } from './mirror.js';
import { RpcSession } from './rpc.js';

export class OvsdbError extends Error {}
/** The transaction reached the server and was refused (nothing of it was committed). */
export class OvsdbTxnError extends OvsdbError {}

export interface OvsdbClientOptions {
  /** The unix socket (the host path of the OVS container's db.sock). */
  path: string;
  /** Opens the stream; tests hand in their own. Default: a unix socket connection. */
  connect?: (path: string) => Duplex;
  connectMs?: number;
  /** Default deadline of one request. */
  callMs?: number;
  /** Reconnect delays: first, doubling up to max. */
  backoff?: { firstMs: number; maxMs: number };
  log?: (line: string) => void;
}

const MONITOR_ID = 'dovelab';

export class OvsdbClient {
  readonly mirror = new Mirror();
  private session: RpcSession | undefined;
  private synced = false;
  private connecting: Promise<RpcSession> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private stopped = false;
  private retryPending = false;
  private lastError = '';
  private readonly listeners = new Set<() => void>();
  private readonly o: Required<Omit<OvsdbClientOptions, 'log'>> & { log: (l: string) => void };

  constructor(opts: OvsdbClientOptions) {
    this.o = {
      connect: (p) => { const s = createConnection(p); s.unref(); return s; },
      connectMs: 5_000, callMs: 10_000, backoff: { firstMs: 100, maxMs: 5_000 }, log: () => {},
      ...opts,
    };
    this.delay = this.o.backoff.firstMs;
  }

  /** Connects in the background (keeps reconnecting after a loss until close()). */
  start(): this { void this.connect().catch(() => {}); return this; }

  /** Connected, monitoring, and the mirror holds the full state; waits at most ms. */
  async ready(what: string, ms = this.o.connectMs): Promise<void> {
    if (this.session && this.synced && !this.session.closed) return;
    await this.within(this.connect(true), what, ms);
  }

  /** One transaction (several operations, atomic). Throws OvsdbTxnError when the server refuses it. */
  async transact(ops: Operation[], what: string, ms = this.o.callMs): Promise<unknown[]> {
    const t0 = Date.now();
    await this.ready(what, ms);
    const session = this.session;
    if (!session) throw new OvsdbError(`OVSDB ${what}: connection to ovsdb-server lost (${this.lastError})`);
    const results = (await session.request('transact', [DB, ...ops], `OVSDB ${what}`, Math.max(1, ms - (Date.now() - t0)))) as unknown[];
    const why = transactionError(ops, results);
    if (why) throw new OvsdbTxnError(`OVSDB ${what}: ${why}`);
    return results;
  }

  /** Resolves once pred holds on the mirror (checked now and on every update); what names it on timeout. */
  waitFor(pred: (m: Mirror) => boolean, what: string, ms = this.o.callMs, detail?: () => string): Promise<void> {
    if (pred(this.mirror)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => { if (pred(this.mirror)) { done(); resolve(); } };
      const timer = setTimeout(() => {
        done();
        const d = detail?.();
        reject(new DeadlineExceeded(`${what}${d ? ` (${d})` : ''}`, ms));
      }, ms);
      const done = () => { clearTimeout(timer); this.listeners.delete(check); };
      this.listeners.add(check);
    });
  }

  /** Called after every change the monitor reports (and after a resync). */
  onChange(fn: () => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.session?.close();
  }

  status(): { connected: boolean; synced: boolean; lastError: string } {
    return { connected: !!this.session && !this.session.closed, synced: this.synced, lastError: this.lastError };
  }

  private async within<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceeded(`${what}: connecting to ovsdb-server at ${this.o.path}${this.lastError ? ` (last: ${this.lastError})` : ''}`, ms)), ms);
    });
    try { return await Promise.race([p, late]); } finally { clearTimeout(timer); }
  }

  /** The current session, or a new one (now, skipping the backoff, when a caller waits on it). */
  private connect(now = false): Promise<RpcSession> {
    if (this.session && this.synced && !this.session.closed) return Promise.resolve(this.session);
    if (this.connecting) return this.connecting;
    if (this.stopped) return Promise.reject(new OvsdbError(`OVSDB client for ${this.o.path} is closed`));
    if (now) { clearTimeout(this.retryTimer); this.retryPending = false; }
    this.connecting = this.open().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async open(): Promise<RpcSession> {
    try {
      const stream = await this.openStream();
      const session = new RpcSession(stream, {
        notification: (method, params) => {
          if (method === 'update' && params && (params as unknown[])[0] === MONITOR_ID) {
            this.mirror.apply((params as unknown[])[1] as TableUpdates);
            this.changed();
          }
        },
        closed: (why) => this.lost(session, why),
      });
      this.session = session;
      const monitor = Object.fromEntries(Object.entries(MONITORED).map(([t, columns]) => [t, { columns }]));
      const initial = await session.request('monitor', [DB, MONITOR_ID, monitor], `OVSDB monitor of ${Object.keys(MONITORED).join(', ')}`, this.o.callMs);
      this.mirror.clear();
      this.mirror.apply(initial as TableUpdates);
      this.synced = true;
      this.delay = this.o.backoff.firstMs;
      this.lastError = '';
      this.changed();
      return session;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.session?.close(this.lastError);
      this.retryLater();
      // No socket, or nobody behind it: the OVS container is stopped or absent (what the doctor and `up` say).
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new OvsdbError(`OVS is not running (no ovsdb-server on ${this.o.path}: ${this.lastError}): run \`dovelab infra up\``);
      throw new OvsdbError(`cannot reach ovsdb-server at ${this.o.path}: ${this.lastError} (is OVS running? \`dovelab infra up\`)`);
    }
  }

  private openStream(): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const s = this.o.connect(this.o.path);
      const timer = setTimeout(() => { s.destroy(); reject(new DeadlineExceeded(`connect to ${this.o.path}`, this.o.connectMs)); }, this.o.connectMs);
      timer.unref();
      const fail = (e: Error) => { clearTimeout(timer); reject(e); };
      s.once('error', fail);
      const ok = () => { clearTimeout(timer); s.off('error', fail); resolve(s); };
      // net.Socket says 'connect'; an in-memory stream used by tests is open at once.
      if ((s as { connecting?: boolean }).connecting) s.once('connect', ok); else ok();
    });
  }

  private lost(session: RpcSession, why: string): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.synced = false;
    this.lastError = why;
    if (!this.stopped) { this.o.log(`OVSDB: connection lost (${why}); reconnecting`); this.retryLater(); }
  }

  private retryLater(): void {
    if (this.stopped || this.retryPending) return;
    const d = this.delay;
    this.delay = Math.min(this.o.backoff.maxMs, this.delay * 2);
    clearTimeout(this.retryTimer);
    this.retryPending = true;
    this.retryTimer = setTimeout(() => { this.retryPending = false; void this.connect().catch(() => {}); }, d);
    this.retryTimer.unref();
  }

  private changed(): void { for (const f of [...this.listeners]) f(); }
}

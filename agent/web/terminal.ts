// WebSocket terminals: GET /api/terminal?host=h1 (student session). Only a host of the session's
// group or a shared host; the shell runs in that host's container (docker/terminal.ts). Caps per
// group and overall, an idle timeout, and every terminal closed when the server stops.
// Close codes (api-types.ts): 4401 no valid session, 4403 not your group, 4404 no such host,
// 4429 too many terminals, 4408 idle too long, 1011 the terminal could not start or broke.
import type { MiddlewareHandler } from 'hono';
import type { WSContext } from 'hono/ws';
import { upgradeWebSocket } from '@hono/node-server';
import { containerOf, hostKey, isSharedHost } from '../lab/desired.js';
import type { LabState } from '../lab/state.js';
import type { Terminal, TerminalBackend } from '../docker/terminal.js';

export const CLOSE = { noSession: 4401, notYourGroup: 4403, noSuchHost: 4404, tooMany: 4429, idle: 4408, broken: 1011 } as const;

export type TerminalTarget = { container: string; host: string; key: string } | { code: number; reason: string };

/**
 * Which container `asked` means for a student of `group`: a lesson host name (h1), or a host key
 * as the status and diagram show it (g1-h1, or dovelab-g1-h1). Another group's key is refused
 * with 4403, an unknown host with 4404. Pure.
 */
export function terminalTarget(st: LabState, group: number, asked: string | undefined): TerminalTarget {
  let name = (asked ?? '').trim().replace(/^dovelab-/, '');
  let askedGroup: number | undefined;
  const m = /^g(\d+)-(.+)$/.exec(name);
  if (m && !(name in st.topology.hosts)) { askedGroup = Number(m[1]); name = m[2]!; }
  if (!name || !Object.hasOwn(st.topology.hosts, name)) return { code: CLOSE.noSuchHost, reason: 'no such host' };
  const shared = isSharedHost(st.topology, name);
  if (askedGroup !== undefined && (shared || askedGroup < 1 || askedGroup > st.groups)) return { code: CLOSE.noSuchHost, reason: 'no such host' };
  if (askedGroup !== undefined && askedGroup !== group) return { code: CLOSE.notYourGroup, reason: 'not your group' };
  return { container: containerOf(st.topology, name, group), host: name, key: hostKey(shared ? 0 : group, name) };
}

export interface TerminalLimits { perGroup: number; total: number; idleMs: number }
export const DEFAULT_TERMINAL_LIMITS: TerminalLimits = { perGroup: 8, total: 64, idleMs: 30 * 60_000 };

interface Open { group: number; close(code: number, reason: string): void }

/** The terminals that are open now (for the caps and for shutdown). */
export class TerminalRegistry {
  private open = new Set<Open>();
  constructor(readonly limits: TerminalLimits = DEFAULT_TERMINAL_LIMITS) {}
  /** Reserves a place for `group`, or says why there is none. */
  reserve(group: number, close: Open['close']): Open | undefined {
    if (this.open.size >= this.limits.total) return undefined;
    if ([...this.open].filter((o) => o.group === group).length >= this.limits.perGroup) return undefined;
    const o = { group, close };
    this.open.add(o);
    return o;
  }
  release(o: Open): void { this.open.delete(o); }
  get count(): number { return this.open.size; }
  closeAll(reason: string): void { for (const o of [...this.open]) o.close(1001, reason); }
}

export interface TerminalRouteDeps {
  backend: TerminalBackend | undefined;
  registry: TerminalRegistry;
  /** The session's group and the lab on disk, or undefined when the session is not valid. */
  who: (cookieHeader: string | undefined) => { group: number; st: LabState } | undefined;
  log: (fields: Record<string, unknown>) => void;
}

const parseResize = (text: string): { cols: number; rows: number } | undefined => {
  if (!text.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(text) as { type?: unknown; cols?: unknown; rows?: unknown };
    if (o.type !== 'resize') return undefined;
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000;
    return ok(o.cols) && ok(o.rows) ? { cols: o.cols, rows: o.rows } : undefined;
  } catch { return undefined; }
};

export function terminalRoute(d: TerminalRouteDeps): MiddlewareHandler {
  return upgradeWebSocket((c) => {
    const who = d.who(c.req.header('cookie'));
    const asked = c.req.query('host');
    let term: Terminal | undefined;
    let slot: ReturnType<TerminalRegistry['reserve']>;
    let idle: NodeJS.Timeout | undefined;
    let ended = false;
    /** What the page typed (or resized) while the exec was starting: applied once it runs. */
    let pending: (string | Buffer)[] = [];
    let pendingBytes = 0;
    const t0 = Date.now();
    // In order: keystrokes after a resize wait for it (a `stty size` typed next sees the new size).
    let inOrder: Promise<void> = Promise.resolve();
    const apply = (t: Terminal, data: string | Buffer) => {
      inOrder = inOrder.then(async () => {
        if (typeof data === 'string') {
          const size = parseResize(data);
          if (size) { await t.resize(size.cols, size.rows).catch(() => {}); return; }
        }
        if (!ended) t.write(data);
      });
    };
    let hostKeyName = asked ?? '';

    const end = (ws: WSContext, code: number, reason: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      if (slot) d.registry.release(slot);
      void term?.close();
      try { ws.close(code, reason); } catch { /* already closed */ }
      d.log({ msg: 'terminal closed', group: who?.group, host: hostKeyName, code, reason, s: Math.round((Date.now() - t0) / 1000) });
    };
    const touch = (ws: WSContext) => {
      clearTimeout(idle);
      idle = setTimeout(() => end(ws, CLOSE.idle, 'idle too long'), d.registry.limits.idleMs);
    };

    return {
      onOpen(_e, ws) {
        if (!who) return end(ws, CLOSE.noSession, 'join a group first');
        const target = terminalTarget(who.st, who.group, asked);
        if ('code' in target) return end(ws, target.code, target.reason);
        hostKeyName = target.key;
        if (!d.backend) return end(ws, CLOSE.broken, 'terminals are not available here');
        slot = d.registry.reserve(who.group, (code, reason) => end(ws, code, reason));
        if (!slot) return end(ws, CLOSE.tooMany, 'too many terminals');
        const backend = d.backend;
        void (async () => {
          try {
            if (!(await backend.running(target.container))) return end(ws, CLOSE.noSuchHost, 'the host is not running');
            const t = await backend.open(target.container);
            if (ended) { await t.close(); return; }
            term = t;
            t.output.on('data', (b: Buffer) => { if (!ended) ws.send(b as unknown as Uint8Array<ArrayBuffer>); });
            t.output.on('end', () => end(ws, 1000, 'the shell ended'));
            t.output.on('error', () => end(ws, CLOSE.broken, 'the terminal broke'));
            d.log({ msg: 'terminal opened', group: who.group, host: target.key, pid: t.pid });
            for (const data of pending) apply(t, data);
            pending = [];
            touch(ws);
          } catch (e) {
            d.log({ msg: 'terminal failed', group: who.group, host: target.key, error: (e as Error).message.split('\n')[0] });
            end(ws, CLOSE.broken, 'the terminal could not start');
          }
        })();
      },
      onMessage(e, ws) {
        if (ended) return;
        const data = typeof e.data === 'string' ? e.data : e.data instanceof ArrayBuffer ? Buffer.from(e.data) : undefined;
        if (data === undefined) return;
        if (!term) {
          pendingBytes += data.length;
          if (pendingBytes > 64 * 1024) return end(ws, CLOSE.broken, 'too much input before the terminal started');
          pending.push(data);
          return;
        }
        touch(ws);
        apply(term, data);
      },
      onClose(_e, ws) { end(ws, 1000, 'closed by the page'); },
      onError(_e, ws) { end(ws, CLOSE.broken, 'socket error'); },
    };
  });
}

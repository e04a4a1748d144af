// Captures in the browser: the registry of recordings (each a tcpdump on the group's capture port,
// its pcap kept in memory, bounded in time and size) and the routes that start, follow, download
// and stop them. Which port a request means and whether the asker may have it: lab/capture.ts.
// The switch side (the capture port copying the captured ports) goes through lab/service.ts.
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { CAPTURE_LIMITS, CaptureRefused, captureSeconds, captureTarget, PcapFramer, printableText, type CaptureAsker } from '../lab/capture.js';
import { desiredOf, syncCaptures } from '../lab/service.js';
import type { LabState } from '../lab/state.js';
import type { CaptureBackend, Decoder, Recorder } from '../net/capture.js';
import type { ApiError, CapturePacket, CaptureRequest, CaptureView, InstructorCaptureRequest } from './api-types.js';
import type { WebDeps } from './deps.js';

/** How long tcpdump may take to say it listens. */
const START_MS = 5_000;
/** Slack on the switch's side: a capture's port stops copying a little after the capture ends. */
const MIRROR_SLACK_MS = 10_000;
/** The same frame twice within this is one frame seen at two captured ports (in at one, out at the other). */
const DUPLICATE_WINDOW_US = 1_000;

interface Capture {
  view: CaptureView;
  lab: string;
  labStartedAt: string;
  chunks: Buffer[];
  live: CapturePacket[];
  awaiting: CapturePacket[];
  /** Decoder lines still to come for packets already shown without one. */
  skipLines: number;
  recent: { us: number; data: Buffer }[];
  t0us: number | undefined;
  recorder?: Recorder;
  decoder?: Decoder;
  timer?: NodeJS.Timeout;
  /** Woken on every new chunk and at the end. */
  waiters: Set<() => void>;
  onPacket: Set<(p: CapturePacket) => void>;
  finishing?: Promise<void>;
  endedAt?: number;
}

export class CaptureBusy extends Error {}

export class CaptureRegistry {
  private captures = new Map<string, Capture>();
  private seq = 0;
  /** Mirror changes go one at a time, each with the full set of recording captures. */
  private syncing: Promise<unknown> = Promise.resolve();
  /** Captures between their cap check and their registration (tcpdump starting), per group. */
  private starting = new Map<number, number>();

  constructor(private d: { deps: WebDeps; backend: CaptureBackend; log: (f: Record<string, unknown>) => void; state: () => LabState | undefined }) {}

  /** Captures visible to `group` (undefined: the instructor sees all), newest first. */
  list(st: LabState | undefined, group?: number): CaptureView[] {
    this.prune();
    return [...this.captures.values()]
      .filter((c) => (group === undefined || (st && c.labStartedAt === st.startedAt && c.view.group === group)))
      .map((c) => ({ ...c.view })).reverse();
  }

  /** The capture if `group` may see it (undefined: instructor). */
  get(id: string, st: LabState | undefined, group?: number): Capture | undefined {
    const c = this.captures.get(id);
    if (!c) return undefined;
    if (group !== undefined && (!st || c.labStartedAt !== st.startedAt || c.view.group !== group)) return undefined;
    return c;
  }

  async start(st: LabState, asker: CaptureAsker, target: string, seconds: unknown): Promise<CaptureView> {
    this.prune();
    const secs = captureSeconds(seconds);
    const now = this.d.deps.now();
    const t = captureTarget(st, desiredOf(this.d.deps.cfg, st, now), asker, target);
    // Captures of an earlier lab run (its ports are gone) end now.
    for (const c of this.captures.values()) if (c.view.state === 'recording' && c.labStartedAt !== st.startedAt) void this.finish(c, 'error: the lab changed');
    const recording = [...this.captures.values()].filter((c) => c.view.state === 'recording' && !c.finishing);
    const startingAll = [...this.starting.values()].reduce((a, b) => a + b, 0);
    if (recording.length + startingAll >= CAPTURE_LIMITS.total) throw new CaptureBusy(`${recording.length + startingAll} captures are recording on this appliance; wait for one to end`);
    const group = t.port.group;
    if (recording.filter((c) => c.view.group === group).length + (this.starting.get(group) ?? 0) >= CAPTURE_LIMITS.perGroup) {
      throw new CaptureBusy(`this group already records ${CAPTURE_LIMITS.perGroup} captures; stop one first`);
    }
    const id = `${now.toString(36)}${(this.seq++).toString(36)}`;
    const [host, ifname] = target.split('.');
    const c: Capture = {
      view: {
        id, target: `${host}.${ifname}`, group: t.port.group, port: t.port.faucetName, state: 'recording',
        startedAt: new Date(now).toISOString(), endsAt: new Date(now + secs * 1000).toISOString(),
        packets: 0, bytes: 0, maxBytes: CAPTURE_LIMITS.maxBytes, filter: t.filter,
        pcapUrl: `/api/capture/${id}/pcap`, liveUrl: `/api/capture/${id}/live`,
      },
      lab: st.lab, labStartedAt: st.startedAt, chunks: [], live: [], awaiting: [], skipLines: 0, recent: [], t0us: undefined,
      waiters: new Set(), onPacket: new Set(),
    };
    // Listening first, then the switch copies: the first packets are not lost.
    this.starting.set(group, (this.starting.get(group) ?? 0) + 1);
    try {
      c.recorder = await this.d.backend.record(t.netns, t.capture.peer, t.filter, { snaplen: CAPTURE_LIMITS.snaplen, startMs: START_MS });
      this.captures.set(id, c);
    } finally {
      this.starting.set(group, this.starting.get(group)! - 1);
    }
    c.decoder = this.d.backend.decoder();
    c.decoder.onLine((line) => this.decoded(c, line));
    const framer = new PcapFramer();
    c.recorder.pcap.on('data', (chunk: Buffer) => {
      // Once it ends (time, size, stop), what tcpdump still had in the pipe is not taken.
      if (c.view.state !== 'recording' || c.finishing) return;
      try { this.take(c, framer, chunk); } catch (e) { void this.finish(c, `error: ${(e as Error).message}`); }
    });
    void c.recorder.exited.then((r) => { if (c.view.state === 'recording') void this.finish(c, r.error ? `error: ${r.error}` : 'stopped'); });
    try {
      await this.sync();
    } catch (e) {
      await this.finish(c, `error: the switch did not start copying: ${(e as Error).message.split('\n')[0]}`);
      this.captures.delete(id);
      throw e;
    }
    c.timer = setTimeout(() => void this.finish(c, 'time'), secs * 1000);
    this.d.log({ msg: 'capture', id, group: c.view.group, target: c.view.target, seconds: secs });
    return { ...c.view };
  }

  stop(c: Capture): Promise<void> { return this.finish(c, 'stopped'); }

  /** Replays what is there, then follows; returns the unsubscribe. */
  follow(c: Capture, onPacket: (p: CapturePacket) => void): () => void {
    for (const p of c.live) onPacket(p);
    c.onPacket.add(onPacket);
    return () => c.onPacket.delete(onPacket);
  }

  /** Resolves on the next chunk or the end. */
  next(c: Capture): Promise<void> {
    if (c.view.state === 'done') return Promise.resolve();
    return new Promise((r) => c.waiters.add(r));
  }

  chunksOf(c: Capture): Buffer[] { return c.chunks; }

  /** Ends every capture (the agent stops). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.captures.values()].map((c) => this.finish(c, 'stopped')));
  }

  private take(c: Capture, framer: PcapFramer, chunk: Buffer): void {
    const records = framer.push(chunk);
    if (framer.header && c.chunks.length === 0) { c.chunks.push(framer.header); c.view.bytes = framer.header.length; c.decoder?.input.write(framer.header); }
    for (const r of records) {
      const us = r.tsSec * 1e6 + r.tsUsec;
      c.recent = c.recent.filter((x) => us - x.us <= DUPLICATE_WINDOW_US);
      if (c.recent.some((x) => x.data.equals(r.data))) continue;
      c.recent.push({ us, data: r.data });
      if (c.view.bytes + r.raw.length > c.view.maxBytes) { void this.finish(c, 'size'); return; }
      c.chunks.push(r.raw);
      c.view.bytes += r.raw.length;
      c.t0us ??= us;
      const p: CapturePacket = { n: ++c.view.packets, t: Math.max(0, Math.round((us - c.t0us) / 1e5) / 10), len: r.origLen, summary: '', bytes: c.view.bytes };
      const text = printableText(r.data);
      if (text) p.text = text;
      c.awaiting.push(p);
      c.decoder?.input.write(r.raw);
      // A decoder that fell far behind (or died) does not hold the live view back.
      while (c.awaiting.length > 64) { this.publish(c, c.awaiting.shift()!); c.skipLines++; }
    }
    this.wake(c);
  }

  private decoded(c: Capture, line: string): void {
    if (c.skipLines > 0) { c.skipLines--; return; }
    const p = c.awaiting.shift();
    if (!p) return;
    p.summary = line;
    this.publish(c, p);
  }

  private publish(c: Capture, p: CapturePacket): void {
    c.live.push(p);
    if (c.live.length > CAPTURE_LIMITS.livePackets) c.live.shift();
    for (const fn of c.onPacket) fn(p);
  }

  private wake(c: Capture): void {
    for (const w of [...c.waiters]) w();
    c.waiters.clear();
  }

  private finish(c: Capture, reason: string): Promise<void> {
    c.finishing ??= (async () => {
      clearTimeout(c.timer);
      c.recorder?.stop();
      await c.recorder?.exited;
      c.view.state = 'done';
      c.view.endReason = reason;
      c.endedAt = this.d.deps.now();
      // Let the decoder finish its last lines, briefly.
      if (c.decoder) {
        c.decoder.input.end();
        const until = Date.now() + 1_000;
        while (c.awaiting.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        c.decoder.stop();
      }
      for (const p of c.awaiting.splice(0)) this.publish(c, p);
      this.wake(c);
      this.d.log({ msg: 'capture ended', id: c.view.id, reason, packets: c.view.packets, bytes: c.view.bytes });
      await this.sync().catch((e) => this.d.log({ msg: 'capture: could not stop the copy on the switch', error: (e as Error).message.split('\n')[0] }));
    })();
    return c.finishing;
  }

  /** Tells the switch which ports to copy: exactly those of captures recording now. */
  private sync(): Promise<unknown> {
    const run = async () => {
      const wanted: Record<string, string> = {};
      const run = this.d.state()?.startedAt;
      for (const c of this.captures.values()) {
        if (c.view.state !== 'recording' || c.finishing || c.labStartedAt !== run) continue;
        const until = new Date(Date.parse(c.view.endsAt) + MIRROR_SLACK_MS).toISOString();
        if (!wanted[c.view.port] || wanted[c.view.port]! < until) wanted[c.view.port] = until;
      }
      return syncCaptures(this.d.deps.lab, wanted, this.d.deps.now());
    };
    const p = this.syncing.then(run, run);
    this.syncing = p.catch(() => {});
    return p;
  }

  /** Finished captures go after a while, and beyond a few per group. */
  private prune(): void {
    const now = this.d.deps.now();
    const done = [...this.captures.values()].filter((c) => c.view.state === 'done' && c.endedAt !== undefined);
    for (const c of done) if (now - c.endedAt! > CAPTURE_LIMITS.keepMs) this.captures.delete(c.view.id);
    const byGroup = new Map<number, Capture[]>();
    for (const c of done) if (this.captures.has(c.view.id)) byGroup.set(c.view.group, [...(byGroup.get(c.view.group) ?? []), c]);
    for (const list of byGroup.values()) for (const c of list.slice(0, Math.max(0, list.length - CAPTURE_LIMITS.keptPerGroup))) this.captures.delete(c.view.id);
  }
}

const apiError = (c: Context, status: 400 | 401 | 403 | 404 | 429 | 503, error: string) => c.json<ApiError>({ error }, status);

export interface CaptureRouteDeps {
  deps: WebDeps;
  registry: CaptureRegistry;
  /** The student session's group and the lab on disk, if valid. */
  student: (c: Context) => { group: number; st: LabState } | undefined;
  instructor: (c: Context) => boolean;
  state: () => LabState | undefined;
  log: (f: Record<string, unknown>) => void;
}

/** The routes of captures (see api-types.ts, "Captures"). */
export function captureRoutes(app: Hono, r: CaptureRouteDeps): void {
  const start = async (c: Context, st: LabState | undefined, asker: CaptureAsker, target: unknown, seconds: unknown) => {
    if (!st) return apiError(c, 404, 'no lesson is running');
    if (typeof target !== 'string' || target.length > 64) return apiError(c, 400, 'expected JSON {"target": "host.interface", "seconds"?: N}');
    try {
      return c.json<CaptureView>(await r.registry.start(st, asker, target, seconds), 201, { 'Cache-Control': 'no-store' });
    } catch (e) {
      if (e instanceof CaptureRefused) return apiError(c, e.status, e.message);
      if (e instanceof CaptureBusy) return apiError(c, 429, e.message);
      r.log({ msg: 'capture refused', target, error: (e as Error).message.split('\n')[0] });
      return apiError(c, 503, `the capture could not start: ${(e as Error).message.split('\n')[0]}`);
    }
  };

  app.post('/api/capture', async (c) => {
    const s = r.student(c);
    if (!s) return apiError(c, 401, 'join a group first');
    let b: Partial<CaptureRequest> | undefined;
    try { b = (await c.req.json()) as Partial<CaptureRequest>; } catch { /* below */ }
    return start(c, s.st, { group: s.group }, b?.target, b?.seconds);
  });

  app.post('/api/instructor/capture', async (c) => {
    let b: Partial<InstructorCaptureRequest> | undefined;
    try { b = (await c.req.json()) as Partial<InstructorCaptureRequest>; } catch { /* below */ }
    if (b?.group !== undefined && (typeof b.group !== 'number' || !Number.isInteger(b.group))) return apiError(c, 400, 'group: expected a group number');
    return start(c, r.state(), { instructor: true, group: b?.group }, b?.target, b?.seconds);
  });

  /** Who may see captures here: a group, or the instructor (undefined). */
  const viewer = (c: Context): { group?: number; st: LabState | undefined } | undefined => {
    if (r.instructor(c)) return { st: r.state() };
    const s = r.student(c);
    return s ? { group: s.group, st: s.st } : undefined;
  };

  app.get('/api/captures', (c) => {
    const v = viewer(c);
    if (!v) return apiError(c, 401, 'join a group first');
    return c.json<CaptureView[]>(r.registry.list(v.st, v.group), 200, { 'Cache-Control': 'no-store' });
  });

  const found = (c: Context) => {
    const v = viewer(c);
    if (!v) return { error: apiError(c, 401, 'join a group first') };
    const cap = r.registry.get(c.req.param('id') ?? '', v.st, v.group);
    return cap ? { cap } : { error: apiError(c, 404, 'no such capture (they are kept for 15 minutes)') };
  };

  app.post('/api/capture/:id/stop', async (c) => {
    const f = found(c);
    if (f.error) return f.error;
    await r.registry.stop(f.cap);
    return c.json<CaptureView>({ ...f.cap.view }, 200, { 'Cache-Control': 'no-store' });
  });

  app.get('/api/capture/:id/pcap', (c) => {
    const f = found(c);
    if (f.error) return f.error;
    const cap = f.cap;
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        for (;;) {
          const chunks = r.registry.chunksOf(cap);
          if (i < chunks.length) { ctl.enqueue(new Uint8Array(chunks[i++]!)); return; }
          if (cap.view.state === 'done') { ctl.close(); return; }
          await r.registry.next(cap);
        }
      },
    });
    const name = `dovelab-g${cap.view.group}-${cap.view.target.replace('.', '-')}-${cap.view.startedAt.replace(/[-:]/g, '').slice(0, 15)}.pcap`;
    return c.body(body, 200, {
      'Content-Type': 'application/vnd.tcpdump.pcap',
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    });
  });

  app.get('/api/capture/:id/live', (c) => {
    const f = found(c);
    if (f.error) return f.error;
    const cap = f.cap;
    return streamSSE(c, async (stream) => {
      const queue: CapturePacket[] = [];
      let wake: (() => void) | undefined;
      const off = r.registry.follow(cap, (p) => { queue.push(p); wake?.(); });
      let open = true;
      stream.onAbort(() => { open = false; wake?.(); });
      try {
        while (open) {
          while (queue.length) await stream.writeSSE({ event: 'packet', data: JSON.stringify(queue.shift()) });
          if (cap.view.state === 'done' && cap.finishing) { await cap.finishing; while (queue.length) await stream.writeSSE({ event: 'packet', data: JSON.stringify(queue.shift()) }); break; }
          let beat: NodeJS.Timeout | undefined;
          await Promise.race([new Promise<void>((res) => { wake = res; }), r.registry.next(cap), new Promise<void>((res) => { beat = setTimeout(res, 15_000); })]);
          clearTimeout(beat);
          wake = undefined;
        }
        if (open) await stream.writeSSE({ event: 'end', data: JSON.stringify(cap.view) });
      } catch { /* the page went away */ } finally { off(); }
    });
  });
}

// Captures over the web (agent/web/capture.ts through createApp) with a FAKE CaptureBackend: the
// test plays tcpdump (it pushes pcap bytes into the recorder) and the decoder (one line per record
// it is fed), over the recording fake lab (the switch side: the capture port's mirror list in the
// applied faucet.yaml). Who may capture what, the pcap download, the live view, duplicates, the
// size limit, per-group limits, the instructor's captures, and 503 without a backend.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { paths, type Config } from '../../agent/config.js';
import { CAPTURE_LIMITS, PcapFramer } from '../../agent/lab/capture.js';
import { desiredOf, labUp } from '../../agent/lab/service.js';
import { readLabState, type LabState } from '../../agent/lab/state.js';
import type { CaptureBackend, Decoder, Recorder } from '../../agent/net/capture.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import type { CapturePacket, CaptureView } from '../../agent/web/api-types.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const LESSON = `
dovelab: 1
id: captest
title: Capture test
networks: {lab: {}, dmz: {}, office: {shared: true, vlan: 50}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
  h3: {interfaces: {eth0: {network: dmz, ip: 192.0.2.3/24}}}
  srv: {interfaces: {eth0: {network: office, ip: 203.0.113.1/24}}}
controls: {capture: [h1.eth0, h2.eth0]}
`;
const PASSWORD = 'correct horse battery';
const HOST = 'dovelab.local';
const ORIGIN = { Origin: `http://${HOST}`, Host: HOST };
/** One scrypt hash for the whole file (hashing is the slow part of a world). */
const passwordHash = hashPassword(PASSWORD);

// ---- frames and pcap bytes

const macBytes = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const macAt = (b: Buffer, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
/** An Ethernet frame (local experimental ethertype) carrying a sequence number and some text. */
function frame(src: string, dst: string, seq: number, text = '', size = 60): Buffer {
  const b = Buffer.alloc(Math.max(size, 18 + text.length));
  macBytes(dst).copy(b, 0); macBytes(src).copy(b, 6); b.writeUInt16BE(0x88b5, 12); b.writeUInt32BE(seq, 14);
  b.write(text, 18, 'latin1');
  return b;
}
/** What the fake decoder prints for a frame (tcpdump -e style). */
const decodeLine = (data: Buffer, len: number) => `${macAt(data, 6)} > ${macAt(data, 0)}, ethertype 0x88b5, length ${len}: seq ${data.readUInt32BE(14)}`;
const seqOf = (data: Buffer) => data.readUInt32BE(14);

function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); h.writeInt32LE(0, 8); h.writeUInt32LE(0, 12);
  h.writeUInt32LE(CAPTURE_LIMITS.snaplen, 16); h.writeUInt32LE(1, 20);
  return h;
}
/** A pcap record at `us` microseconds since the epoch. */
function record(us: number, data: Buffer, origLen = data.length): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Math.floor(us / 1e6), 0); h.writeUInt32LE(us % 1e6, 4); h.writeUInt32LE(data.length, 8); h.writeUInt32LE(origLen, 12);
  return Buffer.concat([h, data]);
}
const T0 = 1_796_000_000 * 1e6;

// ---- the fake backend

/** Plays tcpdump: the test pushes pcap bytes; stop() (or end()) closes the stream a moment later, like a process exiting. */
class FakeRecorder implements Recorder {
  pcap = new Readable({ read() {} });
  stops = 0;
  closed = false;
  exited: Promise<{ code: number | null; error?: string }>;
  private exit!: (r: { code: number | null; error?: string }) => void;
  private ending = false;
  constructor(readonly netns: string, readonly ifname: string, readonly filter: string, readonly opts: { snaplen: number; startMs: number }) {
    this.exited = new Promise((r) => { this.exit = r; });
  }
  /** Bytes tcpdump wrote (still delivered while it is exiting, like a pipe's buffer); false once closed. */
  push(...bufs: Buffer[]): boolean {
    if (this.closed) return false;
    for (const b of bufs) this.pcap.push(b);
    return true;
  }
  stop(): void { this.stops++; this.end({ code: null }); }
  end(r: { code: number | null; error?: string }): void {
    if (this.ending) return;
    this.ending = true;
    setImmediate(() => { this.closed = true; this.pcap.push(null); this.exit(r); });
  }
}

/** Plays the decoding tcpdump: one line per record fed, a moment later (or when released, if held). */
class FakeDecoder implements Decoder {
  fed: Buffer[] = [];
  lines: string[] = [];
  stopped = false;
  private pending: string[] = [];
  private fns: ((line: string) => void)[] = [];
  private framer = new PcapFramer();
  constructor(public hold = false) {}
  input = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      this.fed.push(chunk);
      for (const r of this.framer.push(chunk)) this.pending.push(decodeLine(r.data, r.origLen));
      this.flushSoon();
      cb();
    },
  });
  onLine(fn: (line: string) => void): void { this.fns.push(fn); }
  stop(): void { this.stopped = true; }
  release(): void { this.hold = false; this.flushSoon(); }
  private flushSoon(): void {
    setImmediate(() => {
      if (this.hold || this.stopped) return;
      for (const l of this.pending.splice(0)) { this.lines.push(l); for (const f of this.fns) f(l); }
    });
  }
}

class FakeCaptures implements CaptureBackend {
  recorders: FakeRecorder[] = [];
  decoders: FakeDecoder[] = [];
  /** How long "tcpdump" takes to listen. */
  recordDelayMs = 0;
  failRecord: string | undefined;
  holdDecoders = false;
  async record(netns: string, ifname: string, filter: string, opts: { snaplen: number; startMs: number }): Promise<Recorder> {
    if (this.recordDelayMs) await new Promise((r) => setTimeout(r, this.recordDelayMs));
    if (this.failRecord) throw new Error(this.failRecord);
    const r = new FakeRecorder(netns, ifname, filter, opts);
    this.recorders.push(r);
    return r;
  }
  decoder(): Decoder {
    const d = new FakeDecoder(this.holdDecoders);
    this.decoders.push(d);
    return d;
  }
}

// ---- the world

interface World {
  web: WebApp; cfg: Config; st: LabState; fake: FakeWorld; backend: FakeCaptures; now: { t: number }; labJson: string; dir: string;
  ctx: ReturnType<FakeWorld['context']>;
}

async function withWeb(fn: (w: World) => Promise<void>, opts: { captures?: boolean } = {}): Promise<void> {
  const t = tempConfig();
  let web: WebApp | undefined;
  try {
    t.cfg.web.instructor_password_hash = await passwordHash;
    const fake = new FakeWorld();
    const ctx = fake.context(t.cfg);
    const lesson = join(t.dir, 'lesson');
    mkdirSync(lesson, { recursive: true });
    writeFileSync(join(lesson, 'lesson.yaml'), LESSON);
    const { state } = await labUp(ctx, lesson, 2);
    // The clock starts at the wall clock: the lab's own planning (service.ts) reads Date.now().
    const now = { t: Date.now() };
    const backend = new FakeCaptures();
    web = createApp({
      cfg: t.cfg, lab: ctx, now: () => now.t, secret: Buffer.alloc(32, 5), log: () => {}, uiDir: join(t.dir, 'ui'),
      ipv4: () => '192.0.2.10',
      faucetStatus: async () => ({ hashes: [sha256(ctx.faucet.liveConfig() ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5,
      clientIp: () => '198.51.100.99',
      eventPollMs: 20,
      ...(opts.captures === false ? {} : { captures: backend }),
    });
    await fn({ web, cfg: t.cfg, st: state, fake, backend, now, labJson: paths(t.cfg).labState, dir: t.dir, ctx });
  } finally {
    await web?.close();
    t.done();
  }
}

const url = (p: string) => `http://${HOST}${p}`;
const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
const get = (cookie?: string): RequestInit => ({ headers: cookie ? { Cookie: cookie } : {} });

async function joinGroup(w: World, group: number): Promise<string> {
  const r = await w.web.app.request('/api/join', post({ code: w.st.joinCodes![String(group)] }));
  assert.is(r.status, 200);
  return /dovelab_session=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
}
async function login(w: World): Promise<string> {
  const r = await w.web.app.request(url('/api/instructor/login'), post({ password: PASSWORD }, ORIGIN));
  assert.is(r.status, 200, await r.clone().text());
  return /dovelab_instructor=[^;]+/.exec(r.headers.get('set-cookie')!)![0];
}
const capture = (w: World, cookie: string | undefined, body: unknown) => w.web.app.request('/api/capture', post(body, cookie ? { Cookie: cookie } : {}));
const teacherCapture = (w: World, cookie: string | undefined, body: unknown) =>
  w.web.app.request(url('/api/instructor/capture'), post(body, { ...ORIGIN, ...(cookie ? { Cookie: cookie } : {}) }));
const stop = (w: World, cookie: string, id: string) => w.web.app.request(`/api/capture/${id}/stop`, { method: 'POST', headers: { Cookie: cookie } });

async function started(r: Response): Promise<CaptureView> {
  assert.is(r.status, 201, await r.clone().text());
  return r.json() as Promise<CaptureView>;
}
/** The registry's view of a capture (what GET /api/captures shows the instructor). */
const viewOf = (w: World, id: string) => w.web.captures!.get(id, undefined)!.view;
const macOf = (w: World, faucetName: string) => desiredOf(w.cfg, w.st).ports.find((p) => p.faucetName === faucetName)!.mac;
/** The mirror list of a port in the applied faucet.yaml (undefined: copies nothing). */
const mirrorOf = (w: World, ofport: number) =>
  (parse(w.fake.faucetLive!) as { dps: { dovelab0: { interfaces: Record<number, { mirror?: number[] }> } } }).dps.dovelab0.interfaces[ofport]!.mirror;

/** Polls until `fn` gives something truthy; fails after `ms`. */
async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 3000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads a streamed body in the background. */
function reader(res: Response) {
  const rd = res.body!.getReader();
  const chunks: Buffer[] = [];
  let ended = false;
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await rd.read();
      if (end) break;
      chunks.push(Buffer.from(value));
    }
    ended = true;
    return Buffer.concat(chunks);
  })();
  return {
    get ended() { return ended; },
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString('utf8'),
    /** The body, once the server ends it. */
    end: () => waitFor('the end of the body', () => (ended ? true : undefined)).then(() => done),
    cancel: () => rd.cancel().catch(() => {}),
  };
}
type Sse = { event: string; data: string };
const sseEvents = (text: string): Sse[] => text.split('\n\n').filter((b) => b.trim()).map((block) => {
  const lines = block.split('\n');
  return { event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message', data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n') };
});
const packetsIn = (text: string) => sseEvents(text).filter((e) => e.event === 'packet').map((e) => JSON.parse(e.data) as CapturePacket);

// ---- tests

test('student: no session 401; a target not in controls.capture 403; a listed one 201 with its view and tcpdump on dovelab-cap/cap<g99>', () => withWeb(async (w) => {
  assert.is((await capture(w, undefined, { target: 'h1.eth0' })).status, 401);
  assert.is((await w.web.app.request('/api/captures')).status, 401);
  const g1 = await joinGroup(w, 1);
  for (const target of ['h3.eth0', 'srv.eth0', 'nope.eth0']) {
    const r = await capture(w, g1, { target });
    assert.is(r.status, 403, target);
    assert.match(((await r.json()) as { error: string }).error, 'does not let groups capture');
  }
  for (const body of [{}, { target: 5 }, { target: 'h1.eth0', seconds: 0 }, { target: 'h1.eth0', seconds: 301 }, { target: 'x'.repeat(65) }]) {
    assert.is((await capture(w, g1, body)).status, 400, JSON.stringify(body));
  }
  assert.is((await w.web.app.request('/api/capture', { method: 'POST', body: '{', headers: { 'Content-Type': 'application/json', Cookie: g1 } })).status, 400);
  assert.is(w.backend.recorders.length, 0, 'no tcpdump for anything refused');
  assert.equal(readLabState(w.labJson)!.overrides?.captures, undefined);

  // Positive control: a listed interface.
  const r = await capture(w, g1, { target: 'h1.eth0', seconds: 20 });
  assert.is(r.headers.get('cache-control'), 'no-store');
  const v = await started(r);
  assert.equal([v.target, v.group, v.port, v.state, v.packets, v.bytes, v.maxBytes], ['h1.eth0', 1, 'g1-h1-eth0', 'recording', 0, 0, 4 * 1024 * 1024]);
  assert.is(v.pcapUrl, `/api/capture/${v.id}/pcap`);
  assert.is(v.liveUrl, `/api/capture/${v.id}/live`);
  assert.is(Date.parse(v.endsAt) - Date.parse(v.startedAt), 20_000);
  assert.is(v.startedAt, new Date(w.now.t).toISOString());
  assert.is(w.backend.recorders.length, 1);
  const rec = w.backend.recorders[0]!;
  assert.equal([rec.netns, rec.ifname, rec.opts.snaplen], ['dovelab-cap', 'cap199', 2048]);
  assert.is(rec.filter, v.filter);
  assert.match(rec.filter, `ether host ${macOf(w, 'g1-h1-eth0')} or `);
  assert.not.ok(rec.filter.includes(macOf(w, 'g1-h2-eth0')), 'h2 (same VLAN) is not in the filter');
  assert.ok(rec.filter.includes(`ether src ${macOf(w, 'g1-h3-eth0')}`), 'h3 (the dmz) is excluded from multicast');
  // Group 2 gets its own port and capture port; the default length is 30 s.
  const v2 = await started(await capture(w, await joinGroup(w, 2), { target: 'h1.eth0' }));
  assert.equal([v2.group, v2.port, w.backend.recorders[1]!.ifname], [2, 'g2-h1-eth0', 'cap299']);
  assert.match(w.backend.recorders[1]!.filter, `ether host ${macOf(w, 'g2-h1-eth0')} or `);
  assert.is(Date.parse(v2.endsAt) - Date.parse(v2.startedAt), 30_000);
}));

test('switch side: a capture makes the capture port copy its port (until its end + slack); stop ends the copy', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  assert.equal([mirrorOf(w, 199), mirrorOf(w, 299)], [undefined, undefined], 'control: nothing copied before');
  const a = await started(await capture(w, g1, { target: 'h1.eth0', seconds: 60 }));
  assert.equal(mirrorOf(w, 199), [101]);
  assert.is(mirrorOf(w, 299), undefined, 'group 2\'s capture port untouched');
  const until = readLabState(w.labJson)!.overrides!.captures!['g1-h1-eth0']!;
  assert.is(Date.parse(until), Date.parse(a.endsAt) + 10_000, 'copying ends 10 s after the capture at the latest');
  const b = await started(await capture(w, g1, { target: 'h2.eth0' }));
  assert.equal(mirrorOf(w, 199), [101, 102]);

  const sa = await stop(w, g1, a.id);
  assert.is(sa.status, 200);
  const va = await sa.json() as CaptureView;
  assert.equal([va.state, va.endReason], ['done', 'stopped']);
  assert.equal(mirrorOf(w, 199), [102], 'a stopped: only h2 copied');
  assert.is(w.backend.recorders[0]!.stops, 1, 'tcpdump stopped');
  assert.ok(w.backend.decoders[0]!.stopped, 'decoder stopped');
  assert.is((await stop(w, g1, b.id)).status, 200);
  assert.is(mirrorOf(w, 199), undefined, 'nothing copied any more');
  assert.equal(readLabState(w.labJson)!.overrides?.captures, undefined);
  // Stopping again is harmless.
  const again = await stop(w, g1, a.id);
  assert.is(again.status, 200);
  assert.is(w.backend.recorders[0]!.stops, 1);
}));

test('pcap download: header and records as they come, to the end of the capture; the bytes frame back to what was recorded', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const res = await w.web.app.request(v.pcapUrl, get(g1));
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
  assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="dovelab-g1-h1-eth0-[0-9T-]+\.pcap"$/);
  const body = reader(res);
  const me = macOf(w, 'g1-h1-eth0'); const h2 = macOf(w, 'g1-h2-eth0');
  const recs = [
    record(T0, frame(me, h2, 1, 'hello')),
    record(T0 + 2_000, frame(h2, me, 2, 'world', 1514), 1514),
    record(T0 + 9_000, frame(me, BROADCAST, 3, '', 200), 1400),
  ];
  const rec = w.backend.recorders[0]!;
  // Split across pushes mid-header and mid-record.
  const all = Buffer.concat([pcapHeader(), ...recs]);
  rec.push(all.subarray(0, 10));
  rec.push(all.subarray(10, 50), all.subarray(50, 700));
  await waitFor('the first record', () => viewOf(w, v.id).packets === 1);
  rec.push(all.subarray(700));
  await waitFor('three records', () => viewOf(w, v.id).packets === 3);
  await waitFor('the streamed bytes', () => body.bytes().length === all.length);
  assert.not.ok(body.ended, 'still streaming while recording');
  assert.is(viewOf(w, v.id).bytes, all.length);
  assert.is((await stop(w, g1, v.id)).status, 200);
  const bytes = await body.end();
  assert.equal(bytes, all);
  const f = new PcapFramer();
  const got = f.push(bytes);
  assert.equal(f.header, pcapHeader());
  assert.equal(got.map((r) => r.raw), recs);
  assert.equal(got.map((r) => [seqOf(r.data), r.origLen]), [[1, 60], [2, 1514], [3, 1400]]);
  // Downloaded again after the end: the same file, at once.
  const again = await reader(await w.web.app.request(v.pcapUrl, get(g1))).end();
  assert.equal(again, all);
}));

test('duplicates: the same frame within 1 ms is one frame (two ports captured); 5 ms later it is kept', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const a = await started(await capture(w, g1, { target: 'h1.eth0' }));
  await started(await capture(w, g1, { target: 'h2.eth0' }));
  assert.equal(mirrorOf(w, 199), [101, 102], 'both ports copied into one capture port');
  const h1 = macOf(w, 'g1-h1-eth0'); const h2 = macOf(w, 'g1-h2-eth0');
  const ping = frame(h1, h2, 7, 'ping'); const pong = frame(h2, h1, 8, 'pong');
  // h1 -> h2 is copied twice (in at h1's port, out at h2's); both copies match h1's filter.
  w.backend.recorders[0]!.push(pcapHeader(),
    record(T0, ping), record(T0 + 300, ping), record(T0 + 400, pong), record(T0 + 999, pong),
    record(T0 + 5_000, ping));
  await waitFor('the records', () => w.backend.decoders[0]!.lines.length === 3);
  assert.is(viewOf(w, a.id).packets, 3);
  await stop(w, g1, a.id);
  const got = new PcapFramer().push(await reader(await w.web.app.request(a.pcapUrl, get(g1))).end());
  assert.equal(got.map((r) => [seqOf(r.data), r.tsSec * 1e6 + r.tsUsec - T0]), [[7, 0], [8, 400], [7, 5_000]]);
}));

/** Records of max-size frames, 2 ms apart, until past the 4 MiB limit. */
function bigRecords(w: World, n: number): Buffer[] {
  const me = macOf(w, 'g1-h1-eth0'); const h2 = macOf(w, 'g1-h2-eth0');
  return Array.from({ length: n }, (_, i) => record(T0 + i * 2_000, frame(me, h2, i, 'data', 1514)));
}
const FITS = Math.floor((CAPTURE_LIMITS.maxBytes - 24) / (16 + 1514));

test('size limit: the capture ends with endReason size, under 4 MiB, whole records only; the copy stops', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const recs = bigRecords(w, FITS + 60);
  const rec = w.backend.recorders[0]!;
  rec.push(pcapHeader());
  for (let i = 0; i < recs.length; i += 50) rec.push(Buffer.concat(recs.slice(i, i + 50)));
  await waitFor('the end', () => viewOf(w, v.id).state === 'done' && viewOf(w, v.id).endReason, 5000);
  const view = viewOf(w, v.id);
  assert.is(view.endReason, 'size');
  assert.is(view.packets, FITS);
  assert.is(view.bytes, 24 + FITS * 1530);
  assert.ok(view.bytes <= CAPTURE_LIMITS.maxBytes && view.bytes + 1530 > CAPTURE_LIMITS.maxBytes);
  assert.ok(rec.stops >= 1, 'tcpdump stopped');
  await waitFor('the copy to stop', () => mirrorOf(w, 199) === undefined);
  const bytes = await reader(await w.web.app.request(v.pcapUrl, get(g1))).end();
  assert.is(bytes.length, 24 + FITS * 1530);
  const got = new PcapFramer().push(bytes);
  assert.is(got.length, FITS);
  assert.is(Buffer.concat([bytes.subarray(0, 24), ...got.map((r) => r.raw)]).length, bytes.length, 'no partial record at the end');
  assert.equal(got.map((r) => seqOf(r.data)), Array.from({ length: FITS }, (_, i) => i), 'the first packets, in order');
}));

// Regression (was a bug; agent/web/capture.ts, CaptureRegistry.take / the recorder's 'data' handler): once a packet
// does not fit, take() calls finish(c, 'size') but the capture stays 'recording' until tcpdump
// has exited, so bytes still in the pipe are taken: a later smaller packet that fits is appended
// after the dropped ones (a hole in the middle of the file, and `packets` goes on counting).
// Expected: nothing is taken once the size limit is hit (e.g. check c.finishing in the handler).
test('size limit: no packet is taken after the one that did not fit', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const recs = bigRecords(w, FITS + 1);
  const rec = w.backend.recorders[0]!;
  rec.push(pcapHeader(), Buffer.concat(recs));
  // tcpdump had written one more, small packet before it got the signal.
  const late = record(T0 + (FITS + 5) * 2_000, frame(macOf(w, 'g1-h1-eth0'), BROADCAST, 999_999, 'late'));
  assert.ok(rec.push(late), 'control: the pipe still delivers');
  await waitFor('the end', () => viewOf(w, v.id).state === 'done' && viewOf(w, v.id).endReason);
  const got = new PcapFramer().push(await reader(await w.web.app.request(v.pcapUrl, get(g1))).end());
  assert.is(viewOf(w, v.id).endReason, 'size');
  assert.not.ok(got.some((r) => seqOf(r.data) === 999_999), 'the late packet is not after the hole');
  assert.is(viewOf(w, v.id).packets, FITS);
}));

// Regression (was a bug; agent/web/capture.ts, GET /api/capture/:id/pcap): the file name's time is
// startedAt.replace(/[:.]/g, '').slice(0, 15), which keeps the date's dashes and so cuts the
// seconds: "2026-12-01T1503". Two captures of one interface in the same minute get the same
// name. Expected (what slice(0, 15) is sized for): 20261201T150304.
test('pcap file name: the start time to the second (YYYYMMDDTHHMMSS)', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const res = await w.web.app.request(v.pcapUrl, get(g1));
  await reader(res).cancel();
  const d = new Date(v.startedAt);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}T${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`;
  assert.is(res.headers.get('content-disposition'), `attachment; filename="dovelab-g1-h1-eth0-${stamp}.pcap"`);
}));

test('live view: packet events with decoded summaries and text, in order, then one end event', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const res = await w.web.app.request(v.liveUrl, get(g1));
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const sse = reader(res);
  const me = macOf(w, 'g1-h1-eth0'); const h2 = macOf(w, 'g1-h2-eth0');
  const frames = [frame(me, h2, 1, 'user: alice'), frame(h2, me, 2, 'secret: tulip'), frame(me, BROADCAST, 3, '', 90)];
  const rec = w.backend.recorders[0]!;
  rec.push(pcapHeader(), record(T0, frames[0]!), record(T0 + 200_000, frames[1]!));
  rec.push(record(T0 + 1_500_000, frames[2]!, 120));
  const pk = await waitFor('three packet events', () => { const p = packetsIn(sse.text()); return p.length === 3 ? p : undefined; });
  assert.equal(pk.map((p) => [p.n, p.t, p.len, p.summary]), [
    [1, 0, 60, decodeLine(frames[0]!, 60)], [2, 0.2, 60, decodeLine(frames[1]!, 60)], [3, 1.5, 120, decodeLine(frames[2]!, 120)],
  ]);
  assert.match(pk[0]!.text ?? '', 'user: alice');
  assert.match(pk[1]!.text ?? '', 'secret: tulip');
  assert.not.ok(sseEvents(sse.text()).some((e) => e.event === 'end'), 'no end while recording');
  await stop(w, g1, v.id);
  await sse.end();
  const events = sseEvents(sse.text());
  assert.equal(events.map((e) => e.event), ['packet', 'packet', 'packet', 'end']);
  const end = JSON.parse(events[3]!.data) as CaptureView;
  assert.equal([end.id, end.state, end.endReason, end.packets], [v.id, 'done', 'stopped', 3]);
  // Opened after the end: the packets replayed, then end.
  const late = reader(await w.web.app.request(v.liveUrl, get(g1)));
  await late.end();
  assert.equal(sseEvents(late.text()).map((e) => e.event), ['packet', 'packet', 'packet', 'end']);
  assert.equal(packetsIn(late.text()), pk);
}));

// Regression (was a bug; agent/web/capture.ts, GET /api/capture/:id/live): every turn of the stream's loop races
// `stream.sleep(15_000)`, a plain setTimeout that is never cleared. Each packet (each wake) leaves
// a 15 s timer running, also after the stream has ended: thousands per second with a busy capture
// and a few pages open, and the process cannot exit for 15 s. Expected: one keep-alive timer per
// stream, cleared when the loop turns or ends.
test('live view: a stream that has ended leaves no timers running', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const sse = reader(await w.web.app.request(v.liveUrl, get(g1)));
  const rec = w.backend.recorders[0]!;
  rec.push(pcapHeader());
  for (let i = 1; i <= 20; i++) {
    rec.push(record(T0 + i * 1_000, frame(macOf(w, 'g1-h1-eth0'), BROADCAST, i)));
    await waitFor(`packet ${i}`, () => packetsIn(sse.text()).length === i);
  }
  await stop(w, g1, v.id);
  await sse.end();
  assert.equal(sseEvents(sse.text()).at(-1)!.event, 'end', 'control: the stream ended');
  // The capture's own 30 s timer was cleared by the stop, so "no more than before" is generous.
  const left = timers() - before;
  assert.ok(left <= 0, `${left} more timers running after the stream ended`);
}));

// Regression (was a bug; agent/web/capture.ts, take() and decoded()): when the decoder is more than 64 packets
// behind, take() publishes the oldest awaiting packets without a summary, but the decoder still
// prints a line for each of them later; decoded() gives each line to the head of `awaiting`,
// which is now a later packet. From then on every summary belongs to an earlier packet.
// Expected: a packet's summary is its own decode (or empty), e.g. by counting lines to skip.
test('live view: a decoder more than 64 packets behind does not give packets the summaries of others', () => withWeb(async (w) => {
  w.backend.holdDecoders = true;
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0' }));
  const me = macOf(w, 'g1-h1-eth0');
  const frames = Array.from({ length: 100 }, (_, i) => frame(me, BROADCAST, i + 1, `n${i + 1}`));
  w.backend.recorders[0]!.push(pcapHeader(), ...frames.map((f, i) => record(T0 + i * 10_000, f)));
  await waitFor('100 packets', () => viewOf(w, v.id).packets === 100);
  w.backend.decoders[0]!.release();
  await waitFor('the decoder to catch up', () => w.backend.decoders[0]!.lines.length === 100);
  await stop(w, g1, v.id);
  const pk = packetsIn(await reader(await w.web.app.request(v.liveUrl, get(g1))).end().then((b) => b.toString()));
  assert.is(pk.length, 100);
  assert.ok(pk.some((p) => p.summary !== ''), 'control: summaries arrived');
  const wrong = pk.filter((p) => p.summary !== '' && p.summary !== decodeLine(frames[p.n - 1]!, 60));
  assert.equal(wrong.map((p) => `${p.n}: ${p.summary.replace(/.*seq /, 'seq ')}`).slice(0, 3), [], `${wrong.length} packets carry another packet's summary`);
}));

test('another group\'s student: 404 for the capture (pcap, live, stop) and not listed; the instructor sees and downloads it', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1); const g2 = await joinGroup(w, 2);
  const v = await started(await capture(w, g1, { target: 'h2.eth0' }));
  for (const [m, p] of [['GET', v.pcapUrl], ['GET', v.liveUrl], ['POST', `/api/capture/${v.id}/stop`]] as const) {
    const r = await w.web.app.request(p, { method: m, headers: { Cookie: g2 } });
    assert.is(r.status, 404, `${m} ${p}`);
  }
  assert.equal(await (await w.web.app.request('/api/captures', get(g2))).json(), []);
  assert.is(viewOf(w, v.id).state, 'recording', 'group 2 could not stop it');
  // Control: its own group lists it; an unknown id is 404 for it too.
  const mine = await (await w.web.app.request('/api/captures', get(g1))).json() as CaptureView[];
  assert.equal(mine.map((c) => [c.id, c.port, c.state]), [[v.id, 'g1-h2-eth0', 'recording']]);
  assert.is((await w.web.app.request('/api/capture/nope/pcap', get(g1))).status, 404);
  // The instructor sees every group's captures and may download and stop them.
  const t = await login(w);
  const all = await (await w.web.app.request('/api/captures', get(t))).json() as CaptureView[];
  assert.equal(all.map((c) => c.id), [v.id]);
  w.backend.recorders[0]!.push(pcapHeader(), record(T0, frame(macOf(w, 'g1-h2-eth0'), BROADCAST, 1)));
  const dl = await w.web.app.request(v.pcapUrl, get(t));
  assert.is(dl.status, 200);
  const body = reader(dl);
  assert.is((await stop(w, t, v.id)).status, 200);
  assert.is(new PcapFramer().push(await body.end()).length, 1);
}));

test('per group at most 2 recording: the third is 429; another group is not held up; after a stop a new one starts', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const a = await started(await capture(w, g1, { target: 'h1.eth0' }));
  await started(await capture(w, g1, { target: 'h2.eth0' }));
  const third = await capture(w, g1, { target: 'h1.eth0' });
  assert.is(third.status, 429);
  assert.match(((await third.json()) as { error: string }).error, 'already records 2 captures');
  assert.is(w.backend.recorders.length, 2, 'no tcpdump for the refused one');
  await started(await capture(w, await joinGroup(w, 2), { target: 'h1.eth0' }));
  await stop(w, g1, a.id);
  const again = await started(await capture(w, g1, { target: 'h1.eth0' }));
  assert.is(again.state, 'recording');
  assert.equal(mirrorOf(w, 199), [101, 102]);
}));

// Regression (was a bug; agent/web/capture.ts, CaptureRegistry.start): the per-group (and total) limit is checked
// before `await backend.record(...)` but the capture is registered only after it, so requests that
// arrive while tcpdump starts (it takes a moment to listen) all pass the check: three at once give
// three recordings in one group. Expected: the third is 429 (count starting captures too).
test('per-group limit: three captures asked at once still give one 429', () => withWeb(async (w) => {
  w.backend.recordDelayMs = 20;
  const g1 = await joinGroup(w, 1);
  const rs = await Promise.all(['h1.eth0', 'h2.eth0', 'h1.eth0'].map((target) => capture(w, g1, { target })));
  const statuses = rs.map((r) => r.status).sort();
  assert.equal(statuses, [201, 201, 429], `got ${statuses}; recording in group 1: ${w.web.captures!.list(undefined).filter((c) => c.state === 'recording').length}`);
}));

test('instructor: 401 without login; with it any interface (a group for per-group hosts; shared hosts in group 0)', () => withWeb(async (w) => {
  assert.is((await teacherCapture(w, undefined, { target: 'h3.eth0', group: 2 })).status, 401);
  const g1 = await joinGroup(w, 1);
  assert.is((await teacherCapture(w, g1.replace('dovelab_session', 'dovelab_instructor'), { target: 'h3.eth0', group: 2 })).status, 401, 'a student cookie is no login');
  assert.is(w.backend.recorders.length, 0);
  const t = await login(w);
  const h3 = await started(await teacherCapture(w, t, { target: 'h3.eth0', group: 2, seconds: 10 }));
  assert.equal([h3.target, h3.group, h3.port], ['h3.eth0', 2, 'g2-h3-eth0']);
  assert.equal([w.backend.recorders[0]!.ifname, mirrorOf(w, 299)], ['cap299', [203]]);
  const srv = await started(await teacherCapture(w, t, { target: 'srv.eth0' }));
  assert.equal([srv.group, srv.port], [0, 'srv-eth0']);
  assert.equal([w.backend.recorders[1]!.ifname, mirrorOf(w, 99)], ['cap99', [50]]);
  for (const [body, status] of [
    [{ target: 'h3.eth0' }, 400], [{ target: 'h3.eth0', group: 'x' }, 400], [{ target: 'h3.eth0', group: 1.5 }, 400],
    [{ target: 'h3.eth0', group: 3 }, 400], [{ target: 'nope.eth0', group: 1 }, 404], [{ target: 'h3.eth9', group: 1 }, 404],
  ] as const) {
    assert.is((await teacherCapture(w, t, body)).status, status, JSON.stringify(body));
  }
  // The instructor's page is same-origin only, like every instructor POST.
  const cross = await w.web.app.request(url('/api/instructor/capture'), post({ target: 'srv.eth0' }, { Cookie: t, Host: HOST, Origin: 'http://evil.example' }));
  assert.is(cross.status, 403);
  assert.is(w.backend.recorders.length, 2);
}));

test('without a capture backend every capture route answers 503 (after the login check for the instructor)', async () => {
  await withWeb(async (w) => {
    const g1 = await joinGroup(w, 1);
    for (const [m, p] of [['POST', '/api/capture'], ['GET', '/api/captures'], ['GET', '/api/capture/x/pcap'], ['GET', '/api/capture/x/live'], ['POST', '/api/capture/x/stop']] as const) {
      const r = await w.web.app.request(p, m === 'POST' ? post({ target: 'h1.eth0' }, { Cookie: g1 }) : get(g1));
      assert.is(r.status, 503, `${m} ${p}`);
      assert.match(await r.text(), 'captures are not available here');
    }
    assert.is((await teacherCapture(w, undefined, { target: 'srv.eth0' })).status, 401);
    assert.is((await teacherCapture(w, await login(w), { target: 'srv.eth0' })).status, 503);
    assert.is(w.web.captures, undefined);
  }, { captures: false });
  // Positive control: with a backend the same calls answer (not 503).
  await withWeb(async (w) => {
    assert.is((await w.web.app.request('/api/captures')).status, 401);
    const g1 = await joinGroup(w, 1);
    assert.is((await w.web.app.request('/api/captures', get(g1))).status, 200);
    assert.is((await w.web.app.request('/api/capture/x/pcap', get(g1))).status, 404);
    assert.is((await teacherCapture(w, await login(w), { target: 'srv.eth0' })).status, 201);
  });
});

test('tcpdump that cannot start, or a switch that refuses the copy: 503, nothing recording, nothing copied', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  w.backend.failRecord = 'tcpdump: cap199: No such device exists';
  const r = await capture(w, g1, { target: 'h1.eth0' });
  assert.is(r.status, 503);
  assert.match(await r.text(), 'No such device');
  assert.is(mirrorOf(w, 199), undefined);
  w.backend.failRecord = undefined;
  w.fake.fail('faucet.apply', 'Faucet did not confirm', 1);
  const r2 = await capture(w, g1, { target: 'h1.eth0' });
  assert.is(r2.status, 503);
  assert.match(await r2.text(), 'the capture could not start: Faucet did not confirm');
  assert.is(w.backend.recorders[0]!.stops, 1, 'its tcpdump was stopped');
  assert.is(mirrorOf(w, 199), undefined, 'the previous config is back');
  assert.equal(await (await w.web.app.request('/api/captures', get(g1))).json(), [], 'not listed');
  // Control: it works once the switch does.
  await started(await capture(w, g1, { target: 'h1.eth0' }));
  assert.equal(mirrorOf(w, 199), [101]);
}));

test('time limit: a 1 s capture ends by itself (endReason time) and the copy stops', () => withWeb(async (w) => {
  const g1 = await joinGroup(w, 1);
  const v = await started(await capture(w, g1, { target: 'h1.eth0', seconds: 1 }));
  assert.equal(mirrorOf(w, 199), [101]);
  await waitFor('the end', () => viewOf(w, v.id).endReason, 3000);
  assert.is(viewOf(w, v.id).endReason, 'time');
  await waitFor('the copy to stop', () => mirrorOf(w, 199) === undefined);
  assert.is(w.backend.recorders[0]!.stops, 1);
}));

// Regression (was a bug; agent/web/capture.ts, CaptureRegistry.sync): the wanted set is built from every recording
// capture, including those of a previous run of the lab. After the lab is started again with
// fewer groups (or another lesson) while a capture of the old run records, its port is not in the
// new lab, syncCaptures refuses the whole set ("not a port of the lab") and every new capture is
// 503 until the old one runs out (up to 5 minutes). Expected: only captures of the running lab
// count (c.labStartedAt === the lab's startedAt), or a new lab ends the old captures.
test('a capture of the previous lab run does not block captures in the new run', () => withWeb(async (w) => {
  const old = await started(await capture(w, await joinGroup(w, 2), { target: 'h1.eth0', seconds: 300 }));
  assert.equal(mirrorOf(w, 299), [201]);
  const { state } = await labUp(w.ctx, join(w.dir, 'lesson'), 1);
  w.st = state;
  assert.is(viewOf(w, old.id).state, 'recording', 'the old capture still records');
  const r = await capture(w, await joinGroup(w, 1), { target: 'h1.eth0' });
  assert.is(r.status, 201, await r.clone().text());
}));

test.run();

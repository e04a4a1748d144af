// Web figures, as JSON (not a test). Needs root, dockerd, and a built tree (`npm run bench:web`).
// Brings up the stack, `dovelab up first-switch --groups 5` and a real `dovelab agent`, then:
// - page weight (gzip level 9, as kiosk-ui/build.mjs weighs it) of each page, from dist/kiosk-ui/manifest.json;
// - first render in headless Chromium: navigation start -> the page's first meaningful element
//   visible (median of 5 loads, each in a fresh browser context: cold cache);
// - keystroke echo over the real terminal WebSocket, against the same keystrokes through
//   `docker exec -it` in a pty (`script -qc`), same host, same run;
// - memory per open terminal: ours (the agent's PSS delta with 10 open) against 10 `docker exec -it`
//   (PSS of each docker CLI process), plus dockerd/containerd/shims' delta for both;
// - 30 simulated students (join, live stream, one terminal with a keystroke every 2 s) for
//   BENCH_WEB_SECONDS (default 60): the agent's RSS and CPU.
import { emitJson } from './emit.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { paths } from '../agent/config.js';
import { readLabState } from '../agent/lab/state.js';
import { hashPassword } from '../agent/web/instructor-auth.js';
import type { JoinResponse } from '../agent/web/api-types.js';
import { dovelab, LESSONS } from '../test/integration/_cli.js';
import { cfg, stack, startAgent, waitFor, type AgentProc } from '../test/integration/_stack.js';
import { closeBrowser, launch } from '../test/e2e/_browser.js';
import { BASE } from '../test/e2e/_agent.js';

const GROUPS = 5;
const CHECK_INTERVAL_S = 10;
const SECONDS = Number(process.env.BENCH_WEB_SECONDS ?? 60);
/** dist/kiosk-ui/ (this file runs from dist/bench/). */
const KIOSK_UI = fileURLToPath(new URL('../kiosk-ui/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!; };
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => pct(xs, 50);

// ---- /proc helpers ----
/** PSS and RSS (KiB) of a process, from smaps_rollup; 0 when it is gone. */
function mem(pid: number): { pss: number; rss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { pss: Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0), rss: Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0) };
  } catch { return { pss: 0, rss: 0 }; }
}
interface ProcInfo { pid: number; ppid: number; comm: string; ticks: number }
function procStat(pid: number): ProcInfo | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    // Fields after the comm: state(0) ppid(1) ... utime(11) stime(12).
    return { pid, ppid: Number(f[1]), comm: s.slice(s.indexOf('(') + 1, close), ticks: Number(f[11]) + Number(f[12]) };
  } catch { return undefined; }
}
const allProcs = (): ProcInfo[] => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map((n) => procStat(Number(n))).filter((p): p is ProcInfo => !!p);
/** Sum of PSS (KiB) of the daemons that serve execs: dockerd, containerd, the shims. */
function dockerSidePss(): { dockerd: number; containerd: number; shims: number } {
  const out = { dockerd: 0, containerd: 0, shims: 0 };
  for (const p of allProcs()) {
    if (p.comm === 'dockerd') out.dockerd += mem(p.pid).pss;
    else if (p.comm === 'containerd') out.containerd += mem(p.pid).pss;
    else if (p.comm.startsWith('containerd-shim')) out.shims += mem(p.pid).pss;
  }
  return out;
}
/** Median of 3 samples, 300 ms apart (the agent's heap moves with its GC). */
async function settled<T extends Record<string, number>>(f: () => T): Promise<T> {
  const xs: T[] = [];
  for (let i = 0; i < 3; i++) { if (i) await sleep(300); xs.push(f()); }
  return Object.fromEntries(Object.keys(xs[0]!).map((k) => [k, median(xs.map((x) => x[k]!))])) as T;
}
const CLK_TCK = 100;

// ---- page weight ----
interface PageEntry { html: string; js: string; css?: string; preload: string[] }
interface Manifest { student: PageEntry; kiosk: PageEntry; instructor: PageEntry; terminal: { js: string[]; css: string } }
function pageWeights() {
  const out = KIOSK_UI;
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
  const gz = (files: string[]) => files.reduce((a, f) => a + gzipSync(readFileSync(join(out, f)), { level: 9 }).length, 0);
  const raw = (files: string[]) => files.reduce((a, f) => a + readFileSync(join(out, f)).length, 0);
  const filesOf = (p: 'student' | 'kiosk' | 'instructor'): string[] => { const e = m[p]; return [e.html, e.js, ...(e.css ? [e.css] : []), ...e.preload]; };
  const term: string[] = [...m.terminal.js, m.terminal.css];
  const sets: Record<string, string[]> = { student: filesOf('student'), student_with_terminal: [...filesOf('student'), ...term], kiosk: filesOf('kiosk'), instructor: filesOf('instructor') };
  return {
    gzip: Object.fromEntries(Object.entries(sets).map(([k, f]) => [k, gz(f)])),
    raw: Object.fromEntries(Object.entries(sets).map(([k, f]) => [k, raw(f)])),
  };
}

// ---- first render ----
// Runs in each document before its own scripts (over the DevTools protocol: the page's CSP does not
// govern it): records performance.now() (counted from navigation start) at the first animation
// frame where the selector's element has a size.
const WATCH = (sel: string) => {
  const w = window as unknown as { __visibleAt?: number };
  const tick = () => {
    const e = document.querySelector(sel);
    const r = e?.getBoundingClientRect();
    if (r && r.width > 0 && r.height > 0) w.__visibleAt = performance.now(); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
};

async function firstRender(url: string, selector: string, loads = 5): Promise<{ visible_ms: number; fcp_ms: number; samples: number[] }> {
  const browser = await launch();
  const vis: number[] = []; const fcp: number[] = [];
  for (let i = 0; i < loads; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.addInitScript(WATCH, selector);
    await page.goto(url, { waitUntil: 'commit' });
    const h = await page.waitForFunction(() => (window as unknown as { __visibleAt?: number }).__visibleAt, undefined, { timeout: 15_000 });
    vis.push(await h.jsonValue() as number);
    fcp.push(await page.evaluate(() => new Promise<number>((res) => {
      const e = performance.getEntriesByName('first-contentful-paint')[0];
      if (e) return res(e.startTime);
      new PerformanceObserver((l) => res(l.getEntries()[0]!.startTime)).observe({ type: 'paint', buffered: true });
    })));
    await ctx.close();
  }
  return { visible_ms: r1(median(vis)), fcp_ms: r1(median(fcp)), samples: vis.map(r1) };
}

/** Wall time of 5 GETs of an API path (what a page waits for before it can draw its data): median and max (a cold status cache). */
async function apiMs(path: string): Promise<{ median: number; max: number }> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await (await fetch(`${BASE}${path}`)).arrayBuffer(); xs.push(performance.now() - t0); }
  return { median: r1(median(xs)), max: r1(Math.max(...xs)) };
}

/** Same-run baseline: a static page with one paragraph and no script, from a bare node:http server. */
async function staticBaseline(): Promise<ReturnType<typeof firstRender>> {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baseline</title></head><body><p id="b">Hello</p></body></html>';
  const srv = createServer((_q, r) => { r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); r.end(html); });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
  try { return await firstRender(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, '#b'); } finally { srv.close(); }
}

// ---- terminals ----
async function join_(code: string): Promise<string> {
  const r = await fetch(`${BASE}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  if (!r.ok) throw new Error(`join ${code}: ${r.status} ${await r.text()}`);
  await r.json() as JoinResponse;
  const cookie = r.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error('join set no cookie');
  return cookie;
}

/** A terminal client: an output buffer and a way to wait for something in it. */
interface Term { send(s: string): void; out(): string; waitFor(what: string, test: (s: string) => boolean, ms?: number): Promise<void>; mark(): void; since(): string; close(): Promise<void> }

function termOf(write: (s: string) => void, onData: (f: (b: Buffer) => void) => void, close: () => Promise<void>): Term {
  let buf = ''; let mark = 0;
  const waiters = new Set<() => void>();
  onData((b) => { buf += b.toString('latin1'); for (const w of [...waiters]) w(); });
  return {
    send: write, out: () => buf, mark: () => { mark = buf.length; }, since: () => buf.slice(mark), close,
    waitFor: (what, test, ms = 10_000) => new Promise<void>((res, rej) => {
      const t = setTimeout(() => { waiters.delete(check); rej(new Error(`timed out waiting for ${what}; output tail: ${JSON.stringify(buf.slice(-200))}`)); }, ms);
      const check = () => { if (test(buf.slice(mark))) { clearTimeout(t); waiters.delete(check); res(); } };
      waiters.add(check); check();
    }),
  };
}

async function wsTerminal(cookie: string, host = 'h1'): Promise<Term> {
  const ws = new WebSocket(`${BASE.replace(/^http/, 'ws')}/api/terminal?host=${host}`, { headers: { cookie } });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return termOf((s) => ws.send(s), (f) => ws.on('message', (d: Buffer, isBinary: boolean) => { if (isBinary) f(d); }), async () => { ws.close(); await closed; });
}

function cliTerminal(container: string): { term: Term; child: ChildProcess } {
  const child = spawn('script', ['-qc', `docker exec -it ${container} bash -l`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const term = termOf((s) => child.stdin!.write(s), (f) => { child.stdout!.on('data', f); child.stderr!.on('data', f); }, async () => {
    child.stdin!.write('exit\n');
    const t = setTimeout(() => child.kill('SIGTERM'), 2000);
    await exited; clearTimeout(t);
  });
  return { term, child };
}

/** Waits for the shell's prompt (the host name, then output going quiet). */
async function prompt(t: Term, hostRe: RegExp): Promise<void> {
  await t.waitFor('the shell prompt', (s) => hostRe.test(s) && /[#$] ?$/.test(s), 20_000);
  let len = -1;
  while (len !== t.out().length) { len = t.out().length; await sleep(150); }
}

/** One printable character -> its echo, `n` times; a backspace (and its echo) between samples. */
async function echoTimes(t: Term, n: number): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    t.mark();
    const t0 = process.hrtime.bigint();
    t.send('a');
    await t.waitFor('the echo of a', (s) => s.includes('a'));
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t.mark();
    t.send('\x7f');
    await t.waitFor('the echo of a backspace', (s) => s.includes('\b'));
    await sleep(5);
  }
  return xs;
}
const summary = (xs: number[]) => ({ p50: r2(pct(xs, 50)), p95: r2(pct(xs, 95)), n: xs.length });

// ---- the run ----
const t00 = Date.now();
await stack();
await dovelab(['down']);
const up = await dovelab(['up', `${LESSONS}/first-switch`, '--groups', String(GROUPS)]);
if (up.code !== 0) throw new Error(`dovelab up failed: ${up.stderr}`);
const codes = readLabState(paths(cfg).labState)!.joinCodes!;
const tmp = mkdtempSync(join(tmpdir(), 'dovelab-bench-web-'));
const config = join(tmp, 'dovelab.yaml');
writeFileSync(config, stringify({ ...cfg, web: { ...cfg.web, instructor_password_hash: await hashPassword('a long bench password') } }));
let agent: AgentProc | undefined;
const result: Record<string, unknown> = { bench: 'web' };
try {
  // The product's default check interval (`dovelab agent --interval`, 10 s), not the e2e tier's 2 s.
  agent = startAgent(join(tmp, 'agent.log'), CHECK_INTERVAL_S, { DOVELAB_CONFIG: config });
  await agent.waitLine('its start repair', /repair done \(start\)/, 60_000);
  await waitFor(`the web UI on ${BASE}`, async () => (await fetch(`${BASE}/api/kiosk`).catch(() => undefined))?.ok || undefined, 30_000);
  result.agent_check_interval_s = CHECK_INTERVAL_S;
  const pid = agent.pid;

  const w = pageWeights();
  result.page_weight_gzip_bytes = w.gzip;
  result.page_weight_raw_bytes = w.raw;

  result.first_render_ms = {
    student_join_form: await firstRender(`${BASE}/`, '#code'),
    kiosk: await firstRender(`${BASE}/kiosk`, '.k-qr svg'),
    instructor_login: await firstRender(`${BASE}/instructor`, '#pw'),
    baseline_static_page: await staticBaseline(),
    api_kiosk_response_ms: await apiMs('/api/kiosk'),
    loads: 5, measured: 'navigation start -> first animation frame where the element has a size (init script); median; fresh context each load',
  };
  await closeBrowser();

  // Keystroke echo: ours (WebSocket -> agent -> Docker exec API) vs `docker exec -it` in a pty.
  const cookie1 = await join_(codes['1']!);
  const ours = await wsTerminal(cookie1);
  await prompt(ours, /g1-h1/);
  await echoTimes(ours, 10);
  const oursEcho = await echoTimes(ours, 200);
  await ours.close();
  const cli = cliTerminal('dovelab-g1-h1');
  await prompt(cli.term, /g1-h1/);
  await echoTimes(cli.term, 10);
  const cliEcho = await echoTimes(cli.term, 200);
  await cli.term.close();
  result.keystroke_echo_ms = { ...summary(oursEcho), baseline_docker_exec_it_pty: summary(cliEcho) };

  // Memory per terminal, N = 10 of each kind (ours split over groups 1 and 2: the cap is 8 per group).
  const N = 10;
  // The agent's heap moves with its GC by more than a terminal costs: 3 rounds of open 10 / close 10,
  // the median delta; and the same delta with nothing opened (the noise floor), same rounds.
  const cookie2 = await join_(codes['2']!);
  const agentDeltas: { pss: number; rss: number }[] = []; const noise: number[] = [];
  let agent0 = mem(pid); let agent1 = agent0;
  let dock0 = dockerSidePss(); let dock1 = dock0;
  for (let round = 0; round < 3; round++) {
    await sleep(1000);
    const idle = await settled(() => mem(pid));
    await sleep(1000);
    agent0 = await settled(() => mem(pid));
    noise.push(Math.abs(agent0.pss - idle.pss));
    dock0 = await settled(dockerSidePss);
    const oursOpen: Term[] = [];
    for (let i = 0; i < N; i++) {
      const g = i % 2 === 0 ? 1 : 2;
      const t = await wsTerminal(g === 1 ? cookie1 : cookie2);
      await prompt(t, new RegExp(`g${g}-h1`));
      oursOpen.push(t);
    }
    await sleep(1000);
    agent1 = await settled(() => mem(pid));
    dock1 = await settled(dockerSidePss);
    agentDeltas.push({ pss: agent1.pss - agent0.pss, rss: agent1.rss - agent0.rss });
    for (const t of oursOpen) await t.close();
  }
  await sleep(1500);
  const dock2 = await settled(dockerSidePss);
  const clis: ReturnType<typeof cliTerminal>[] = [];
  for (let i = 0; i < N; i++) {
    const c = cliTerminal(`dovelab-g${(i % 2) + 1}-h1`);
    await prompt(c.term, new RegExp(`g${(i % 2) + 1}-h1`));
    clis.push(c);
  }
  await sleep(1000);
  const procs = allProcs();
  const dockerCli = clis.map((c) => procs.find((p) => p.ppid === c.child.pid && p.comm === 'docker'));
  if (dockerCli.some((p) => !p)) throw new Error('a docker CLI process under script was not found');
  const cliMem = dockerCli.map((p) => mem(p!.pid));
  const scriptMem = clis.map((c) => mem(c.child.pid!));
  const dock3 = await settled(dockerSidePss);
  for (const c of clis) await c.term.close();
  const mb = (kib: number) => r2(kib / 1024);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const dockDelta = (a: typeof dock0, b: typeof dock0) => ({ dockerd: mb((b.dockerd - a.dockerd) / N), containerd: mb((b.containerd - a.containerd) / N), shims: mb((b.shims - a.shims) / N) });
  result.terminal_memory = {
    n: N,
    mb_per_terminal: {
      ours_agent_pss: mb(median(agentDeltas.map((d) => d.pss)) / N),
      ours_agent_rss: mb(median(agentDeltas.map((d) => d.rss)) / N),
      ours_agent_pss_noise_floor: mb(median(noise) / N),
      baseline_docker_cli_pss: mb(sum(cliMem.map((m) => m.pss)) / N),
      baseline_docker_cli_rss: mb(sum(cliMem.map((m) => m.rss)) / N),
      baseline_script_pty_pss: mb(sum(scriptMem.map((m) => m.pss)) / N),
    },
    docker_side_delta_mb_per_terminal: { ours: dockDelta(dock0, dock1), baseline: dockDelta(dock2, dock3) },
    agent_pss_mb: { before: mb(agent0.pss), with_10_open: mb(agent1.pss), rounds: 3 },
  };

  // 30 students: join (6 per group), a live stream, one terminal with a keystroke every 2 s.
  const STUDENTS = 30;
  const students = await Promise.all(Array.from({ length: STUDENTS }, async (_, i) => {
    const g = (i % GROUPS) + 1;
    const cookie = await join_(codes[String(g)]!);
    const ac = new AbortController();
    const sse = await fetch(`${BASE}/api/events`, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
    if (!sse.ok || !sse.body) throw new Error(`events: ${sse.status}`);
    let events = 0;
    const reading = (async () => {
      const dec = new TextDecoder();
      try { for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) events += (dec.decode(chunk).match(/^event:/gm) ?? []).length; } catch { /* aborted */ }
    })();
    const term = await wsTerminal(cookie);
    await prompt(term, new RegExp(`g${g}-h1`));
    return { g, term, ac, reading, events: () => events };
  }));
  const echoes: number[] = []; let lost = 0;
  const ticks0 = procStat(pid)!.ticks; const dticks0 = allProcs().find((p) => p.comm === 'dockerd')?.ticks ?? 0;
  let rssMax = 0; const tw0 = Date.now();
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, mem(pid).rss); }, 500);
  const deadline = tw0 + SECONDS * 1000;
  await Promise.all(students.map(async (s, i) => {
    await sleep((i * 2000) / STUDENTS);
    let k = 0;
    while (Date.now() < deadline) {
      const next = Date.now() + 2000;
      const ch = k++ % 2 === 0 ? 'a' : '\x7f';
      s.term.mark();
      const t0 = process.hrtime.bigint();
      s.term.send(ch);
      try {
        await s.term.waitFor('echo', (o) => o.includes(ch === 'a' ? 'a' : '\b'), 2000);
        echoes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch { lost++; }
      await sleep(Math.max(0, next - Date.now()));
    }
  }));
  clearInterval(sampler);
  const windowS = (Date.now() - tw0) / 1000;
  const cpu = (procStat(pid)!.ticks - ticks0) / CLK_TCK / windowS;
  const dcpu = ((allProcs().find((p) => p.comm === 'dockerd')?.ticks ?? 0) - dticks0) / CLK_TCK / windowS;
  const rssEnd = mem(pid).rss;
  const events = students.reduce((a, s) => a + s.events(), 0);
  for (const s of students) { await s.term.close(); s.ac.abort(); await s.reading; }
  result.thirty_students = {
    students: STUDENTS, groups: GROUPS, seconds: r1(windowS),
    agent_rss_mb: { max: mb(rssMax), end: mb(rssEnd) },
    agent_cpu_percent_of_one_core: r1(cpu * 100),
    dockerd_cpu_percent_of_one_core: r1(dcpu * 100),
    keystroke_echo_ms: { ...summary(echoes), lost },
    sse_events_received: events,
  };
} finally {
  await closeBrowser().catch(() => {});
  await agent?.stop();
  await dovelab(['down']);
  rmSync(tmp, { recursive: true, force: true });
}
result.total_s = Math.round((Date.now() - t00) / 1000);
await emitJson(result);
process.exit(0);

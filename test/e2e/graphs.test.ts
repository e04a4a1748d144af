// Traffic graphs in real headless Chromium against the agent's web app over the fake world (no
// Docker, no OVS: seconds, in CI), with a real history store fed known counters as Gauge would give
// them: the student page draws each interface of its group (canvas drawn in the line's colour, the
// caption says the rate) and follows a new rate live; the console lists a host gone with its old
// lesson and a host's first incarnation from before its reset, draws them, and downloads the gone
// host's history as CSV with the right rows; ACL rule hits get a sparkline; the kiosk shows the
// class's total. Screenshots at phone, laptop and kiosk size in test-artifacts/e2e/; axe on each page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { Config } from '../../agent/config.js';
import { desiredOf, labUp } from '../../agent/lab/service.js';
import type { LabState } from '../../agent/lab/state.js';
import { portDirectory, type PortCounters, type PortEntry } from '../../agent/metrics/history-keys.js';
import { HistoryStore } from '../../agent/metrics/history-store.js';
import type { AclHit } from '../../agent/net/faucet/acl-hits.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { serveWeb, type WebServer } from '../../agent/web/server.js';
import { UI_DIR } from '../../agent/web/static.js';
import { FakeWorld, tempConfig } from '../unit/_fake-adapters.js';
import { closeBrowser, LINE_RX, LINE_TX, openPage, pixelsOf, screenshot, seriousA11y, type VIEWPORTS } from './_browser.js';
import { loud } from '../loud-hook.js';

const PASSWORD = 'a long teacher password';
const LESSON = fileURLToPath(new URL('../../../lessons/acl-firewall', import.meta.url));
const STEP = 5000;

let temp: ReturnType<typeof tempConfig>;
let cfg: Config;
let st: LabState;
let server: WebServer;
let base: string;
let store: HistoryStore;
let feeder: ReturnType<typeof setInterval> | undefined;
let downloads: string;

/** Bytes and packets per second each port's HOST sends and receives now (the switch counts the other way round). */
interface Rate { sentB: number; sentP: number; recvB: number; recvP: number }
const rates = new Map<string, Rate>();
const counters = new Map<string, PortCounters>();
/** Ports recorded at each scrape, by a name of ours. */
const ports = new Map<string, PortEntry>();

/** One scrape: every port's counters moved on by its rate over 5 s (a new incarnation starts from `reset`). */
function scrape(t: number, names: string[]): void {
  store.record(names.map((n) => {
    const r = rates.get(n)!;
    const c = counters.get(n) ?? { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 };
    const next = { rxPackets: c.rxPackets + r.sentP * 5, rxBytes: c.rxBytes + r.sentB * 5, txPackets: c.txPackets + r.recvP * 5, txBytes: c.txBytes + r.recvB * 5 };
    counters.set(n, next);
    return { entry: ports.get(n)!, counters: next };
  }), t);
}

const CURRENT = ['g1-client', 'g1-web', 'g2-client', 'g2-web'];
let aclReads = 0;

test.before(loud(async () => {
  temp = tempConfig();
  cfg = temp.cfg;
  cfg.web.port = 0;
  cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
  const world = new FakeWorld();
  const ctx = world.context(cfg);
  st = (await labUp(ctx, LESSON, 2)).state;
  // The switch's ACL counters: every read, rule 0 (drop icmp) of no-ping on g1's web.eth0 has 5 more packets.
  ctx.aclHits = async (): Promise<AclHit[]> => {
    aclReads++;
    return [
      { acl: 'lesson-no-ping', rule: 0, port: 'g1-web-eth0', ofport: 0, packets: 5 * aclReads, bytes: 490 * aclReads },
      { acl: 'lesson-no-ping', rule: 1, port: 'g1-web-eth0', ofport: 0, packets: 0, bytes: 0 },
    ];
  };
  store = new HistoryStore({ dir: join(temp.dir, 'history'), maxBytes: 1 << 22, segmentBytes: 1 << 18 });
  const dir = portDirectory({ desired: desiredOf(cfg, st), labRun: st.startedAt }).byName;
  for (const n of CURRENT) ports.set(n, dir.get(`${n}-eth0`)!);
  // A host of an earlier lesson, gone for 40 minutes: group 3's h2 of first-switch.
  ports.set('old-g3-h2', { ofport: 99, faucetName: 'g3-h2-eth0', token: 'first-switch@2026-01-01T00:00:00Z', owner: { kind: 'host', lab: 'first-switch', group: 3, host: 'h2', iface: 'eth0' } });
  rates.set('g1-client', { sentB: 1250, sentP: 2, recvB: 500, recvP: 1 });
  rates.set('g2-client', { sentB: 250, sentP: 1, recvB: 0, recvP: 0 });
  rates.set('g1-web', { sentB: 300, sentP: 3, recvB: 0, recvP: 0 });
  rates.set('g2-web', { sentB: 0, sentP: 0, recvB: 10, recvP: 0.2 }); // all-zero counters would be no news to the store
  rates.set('old-g3-h2', { sentB: 4000, sentP: 8, recvB: 100, recvP: 1 });

  // The timeline: the old host from 50 to 40 minutes ago (121 scrapes: 120 points); this lesson's
  // hosts for the last 15 minutes, g1-web reset 5 minutes ago (its counters start again, sending
  // nothing since).
  const now = Date.now();
  const first = now - 50 * 60_000;
  for (let t = first; t <= now - 40 * 60_000; t += STEP) scrape(t, ['old-g3-h2']);
  let t = now - 15 * 60_000;
  for (; t <= now - 5 * 60_000; t += STEP) scrape(t, CURRENT);
  counters.set('g1-web', { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0 });
  rates.set('g1-web', { sentB: 0, sentP: 0, recvB: 0, recvP: 0.2 });
  for (; t <= now; t += STEP) scrape(t, CURRENT);
  // The collector goes on, every 5 s, as the agent's does.
  let last = t - STEP;
  // (setInterval's n-th call comes at least n×5 s after the start, so the scrape is never in the future.)
  feeder = setInterval(() => { last += STEP; scrape(last, CURRENT); }, STEP);

  server = await serveWeb({
    cfg, lab: ctx, now: Date.now, secret: Buffer.alloc(32, 9), log: () => {}, uiDir: UI_DIR, ipv4: () => '192.0.2.10',
    faucetStatus: async () => ({ hashes: [sha256(world.faucetLive ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
    diskUsed: async () => 0.4, eventPollMs: 200, history: store,
  }, { hostname: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
  downloads = mkdtempSync(join(tmpdir(), 'dovelab-graphs-'));
}));

test.after(async () => {
  clearInterval(feeder);
  await closeBrowser();
  await server?.close();
  temp?.done();
  if (downloads) rmSync(downloads, { recursive: true, force: true });
});

const RX = LINE_RX;
const TX = LINE_TX;

/** The page's width, and what sticks out past `max` (to say why, when it does). */
const widthOf = (page: Page, max: number) => page.evaluate((m) => {
  const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > m + 0.5)
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${(e.getAttribute('class') ?? '').replace(/ /g, '.')} (${Math.round(e.getBoundingClientRect().right)})`);
  return { width: document.documentElement.scrollWidth, wide };
}, max);

async function asStudent(size: keyof typeof VIEWPORTS, group: number): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await openPage(size);
  await page.goto(`${base}/?code=${st.joinCodes![String(group)]}`);
  await page.getByText(`Group ${group}`, { exact: true }).first().waitFor({ timeout: 15_000 });
  return { page, problems };
}

async function asInstructor(size: keyof typeof VIEWPORTS): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await openPage(size);
  await page.goto(`${base}/instructor`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Traffic history' }).waitFor({ timeout: 15_000 });
  return { page, problems };
}

test('student, phone: a graph per interface of its own hosts, drawn, with the rates in the caption; not the other group\'s', async () => {
  const { page, problems } = await openPage('phone');
  const chunks: string[] = [];
  page.on('request', (r) => { if (/\/assets\/uplot-chart-/.test(r.url())) chunks.push(r.url()); });
  await page.goto(`${base}/?code=${st.joinCodes!['1']}`);
  const section = page.getByTestId('traffic');
  const client = page.getByTestId('traffic-g1-client.eth0');
  // The captions come with the data; uPlot only once a graph is in view (the section is far below on a phone).
  await client.getByTestId('graph-caption').waitFor({ timeout: 15_000 });
  assert.equal(chunks, [], 'uPlot not loaded before a graph is in view');
  await section.scrollIntoViewIfNeeded();
  assert.match(await client.getByTestId('graph-caption').innerText(),
    'g1-client.eth0 now: sent 1.25 kB/s (2 packets/s), received 500 B/s (1 packet/s). Peak in the last 15 min: sent 1.25 kB/s, received 500 B/s.');
  // g1-web: its reset 5 minutes ago started a new series; the page draws both as one interface.
  const web = page.getByTestId('traffic-g1-web.eth0');
  assert.match(await web.getByTestId('graph-caption').innerText(), /g1-web\.eth0 now: sent 0 B\/s .* Peak in the last 15 min: sent 300 B\/s/);
  assert.is(await page.locator('[data-testid^="traffic-g2-"]').count(), 0, 'no graph of group 2');
  assert.is(await section.locator('figure').count(), 2);
  // The canvas is drawn: the received line's blue and the sent line's amber are on it.
  const chart = '[data-testid="traffic-g1-client.eth0"] [data-testid="chart-bytes"]';
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  assert.ok(await pixelsOf(page, chart, RX) > 50, 'the rx line is drawn');
  assert.ok(await pixelsOf(page, chart, TX) > 50, 'the tx line is drawn');
  // Control: a box without the line's colour counts none (the check can fail).
  assert.is(await pixelsOf(page, chart, [0xff, 0x00, 0xff]), 0);
  assert.is(chunks.length, 1, 'the uPlot chunk, once for all graphs');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling on a phone (page is ${width} px wide)`);
  await screenshot(page, 'graphs-student-phone');
  await web.scrollIntoViewIfNeeded();
  await screenshot(page, 'graphs-student-phone-2');
  assert.equal(await seriousA11y(page, 'student traffic (phone)'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test('student, 360 px: the graphs fit the narrowest phone', async () => {
  const { page, problems } = await openPage('phone');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${base}/?code=${st.joinCodes!['2']}`);
  await page.getByText('Group 2', { exact: true }).first().waitFor({ timeout: 15_000 });
  // The chart itself into view once its caption is there (scrolling to the section while the page
  // above it still grew left the packets chart below the fold in CI: never seen, never drawn).
  await page.getByTestId('traffic-g2-client.eth0').getByTestId('graph-caption').waitFor({ timeout: 15_000 });
  const chart = '[data-testid="traffic-g2-client.eth0"] [data-testid="chart-packets"]';
  await page.locator(chart).scrollIntoViewIfNeeded();
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('traffic-g2-client.eth0').getByTestId('graph-caption').innerText(), 'sent 250 B/s (1 packet/s)');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `no sideways scrolling at 360 px (page is ${width} px wide)`);
  await screenshot(page, 'graphs-student-360');
  assert.equal(problems, []);
  await page.context().close();
});

test('student, laptop: the ACL switched on shows its rules\' hits with a sparkline', async () => {
  const { page, problems } = await asStudent('laptop', 1);
  await page.getByRole('button', { name: 'no-ping: off' }).click();
  await page.getByRole('button', { name: 'no-ping: on' }).waitFor({ timeout: 10_000 });
  const spark = page.locator('.acl-hit[data-rule="0"] [data-testid="acl-spark"]');
  await spark.waitFor({ timeout: 20_000 });
  // Each read of the switch has 5 more drops: the words add them up as the polls come (at least two reads' worth).
  await page.waitForFunction(() => Number(/\+(\d+)/.exec(document.querySelector('.acl-hit[data-rule="0"] [data-testid="acl-spark"]')?.textContent ?? '')?.[1] ?? 0) >= 10,
    undefined, { timeout: 20_000 });
  const said = (await spark.textContent())!;
  assert.match(said, /^\+\d+ packets in the last 2 min$/, said);
  const recent = Number(/\+(\d+)/.exec(said)![1]);
  assert.ok(recent >= 10 && recent % 5 === 0, `recent hits ${recent}`);
  assert.ok(await spark.locator('path').getAttribute('d'), 'the line is drawn');
  // Control: the allow rule counted nothing; its line lies flat at the bottom.
  assert.match((await page.locator('.acl-hit[data-rule="1"] [data-testid="acl-spark"]').textContent())!, /^\+0 /);
  await page.locator('#switches').scrollIntoViewIfNeeded();
  await screenshot(page, 'graphs-student-acl-laptop');
  await page.getByTestId('traffic').scrollIntoViewIfNeeded();
  await page.locator('[data-testid="traffic-g1-client.eth0"] [data-testid="chart-bytes"][data-drawn="true"]').waitFor({ timeout: 15_000 });
  await screenshot(page, 'graphs-student-laptop');
  assert.equal(await seriousA11y(page, 'student traffic (laptop)'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test('console, laptop: a host gone with its lesson is listed, drawn, and its CSV download has its rows', async () => {
  const { page, problems } = await asInstructor('laptop');
  const picker = page.getByTestId('history-picker');
  const gone = picker.locator('optgroup[label^="Gone"] option');
  // The list comes after the heading (and again every 15 s): wait for both gone series, then read it whole.
  const listed = (text: string) => gone.filter({ hasText: text }).first().waitFor({ state: 'attached', timeout: 20_000 })
    .catch(async (e: Error) => { throw new Error(`${text} not listed as gone: ${e.message}\npicker: ${(await picker.locator('option').allInnerTexts()).join(' | ')}`); });
  await listed('g3-h2.eth0 (first-switch)');
  await listed('g1-web.eth0 (acl-firewall) #1 of 2');
  const texts = await gone.allInnerTexts();
  assert.ok(texts.some((x) => x.startsWith('g3-h2.eth0 (first-switch)')), texts.join(' | '));
  assert.ok(texts.some((x) => x.startsWith('g1-web.eth0 (acl-firewall) #1 of 2')), `g1-web before its reset: ${texts.join(' | ')}`);
  const running = await picker.locator('optgroup[label="Running now"] option').allInnerTexts();
  assert.equal(running, ['g1-client.eth0 (acl-firewall)', 'g1-web.eth0 (acl-firewall) #2 of 2', 'g2-client.eth0 (acl-firewall)', 'g2-web.eth0 (acl-firewall)']);
  const id = await gone.filter({ hasText: 'g3-h2.eth0' }).getAttribute('value');
  await picker.selectOption(id!);
  const graph = page.getByTestId('history-graph');
  await graph.getByText(/^g3-h2\.eth0 \(first-switch\) 40 min ago: sent 4 kB\/s \(8 packets\/s\), received 100 B\/s \(1 packet\/s\)\. Peak while it ran: sent 4 kB\/s/).waitFor({ timeout: 15_000 });
  const chart = '[data-testid="history-graph"] [data-testid="chart-bytes"]';
  await graph.scrollIntoViewIfNeeded();
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  assert.ok(await pixelsOf(page, chart, TX) > 50, 'what g3-h2 sent is drawn');
  await screenshot(page, 'graphs-console-gone-laptop');

  // The CSV of the gone host: 120 points (121 scrapes 5 s apart), what it sent is its tx.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('history-csv').click()]);
  assert.is(dl.suggestedFilename(), 'history-g3-h2.csv');
  const file = join(downloads, 'g3-h2.csv');
  await dl.saveAs(file);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.is(lines[0], 'series,lab,group,host,interface,time,seconds,rx_packets_per_s,tx_packets_per_s,rx_bytes_per_s,tx_bytes_per_s');
  assert.is(lines.length - 1, 120, 'one row per 5 s point');
  for (const l of lines.slice(1)) assert.match(l, /,first-switch,3,h2,eth0,[^,]+,5,1,8,100,4000$/);
  const times = lines.slice(1).map((l) => Date.parse(l.split(',')[5]!));
  assert.ok(times.every((t, i) => i === 0 || t - times[i - 1]! === STEP), 'rows 5 s apart, in order');
  // The JSON download: the same points.
  const [dj] = await Promise.all([page.waitForEvent('download'), page.getByTestId('history-json').click()]);
  assert.is(dj.suggestedFilename(), 'history-g3-h2.json');
  await dj.saveAs(join(downloads, 'g3-h2.json'));
  const json = JSON.parse(readFileSync(join(downloads, 'g3-h2.json'), 'utf8')) as { series: { label: string; points: { txBps: number }[] }[] };
  assert.equal(json.series.map((s) => [s.label, s.points.length]), [['g3-h2.eth0 (first-switch)', 120]]);

  // g1-web before its reset: it sent 300 B/s for 10 minutes, then that series ended.
  await picker.selectOption((await gone.filter({ hasText: 'g1-web.eth0' }).getAttribute('value'))!);
  await graph.getByText(/^g1-web\.eth0 \(acl-firewall\) 5 min ago: sent 300 B\/s \(3 packets\/s\)/).waitFor({ timeout: 15_000 });
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  await screenshot(page, 'graphs-console-reset-laptop');
  assert.equal(await seriousA11y(page, 'console traffic history'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test('console, phone and kiosk size: the history card fits', async () => {
  for (const size of ['phone', 'kiosk'] as const) {
    const { page, problems } = await asInstructor(size);
    const graph = page.getByTestId('history-graph');
    await graph.scrollIntoViewIfNeeded();
    await page.locator('[data-testid="history-graph"] [data-testid="chart-bytes"][data-drawn="true"]').waitFor({ timeout: 15_000 });
    assert.match(await graph.getByTestId('graph-caption').innerText(), /^g1-client\.eth0 \(acl-firewall\) now: sent 1\.25 kB\/s/);
    const { width, wide } = await widthOf(page, size === 'phone' ? 390 : 800);
    assert.ok(width <= (size === 'phone' ? 390 : 800), `${size}: no sideways scrolling (${width} px): ${wide.join(', ')}`);
    await screenshot(page, `graphs-console-${size}`);
    assert.equal(await seriousA11y(page, `console traffic history (${size})`), []);
    assert.equal(problems, []);
    await page.context().close();
  }
});

test('kiosk 800×480: the class traffic line, the total rate in words, no scrollbars', async () => {
  const { page, problems } = await openPage('kiosk');
  await page.goto(`${base}/kiosk`);
  const box = page.getByTestId('class-traffic');
  await box.waitFor({ timeout: 15_000 });
  // What the class's hosts send now: 1250 + 250 B/s (the webs send nothing since g1-web's reset).
  assert.match((await box.textContent())!, /^Class traffic 1\.5 kB\/s · peak 1\.8 kB\/s in 15 min$/);
  // The groups' progress comes first: the traffic row is below the last group.
  const [lastGroup, row] = await page.evaluate(() => [Math.max(...[...document.querySelectorAll('.k-g')].map((e) => e.getBoundingClientRect().bottom)), document.querySelector('.k-traffic')!.getBoundingClientRect().top]);
  assert.ok(lastGroup! <= row!, `groups end at ${lastGroup}, the traffic row starts at ${row}`);
  assert.ok(Number(await box.locator('svg').getAttribute('data-points')) >= 50, 'about a point per 15 s');
  assert.ok(await box.locator('path').getAttribute('d'));
  const overflow = await page.evaluate(() => document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth);
  assert.not.ok(overflow, 'no scrollbars at 800×480');
  await screenshot(page, 'graphs-kiosk-800x480');
  assert.equal(await seriousA11y(page, 'kiosk with class traffic'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test('student: the graph follows a new rate live (no reload)', async () => {
  const { page, problems } = await asStudent('laptop', 1);
  const caption = page.getByTestId('traffic-g1-client.eth0').getByTestId('graph-caption');
  await caption.getByText(/now: sent 1\.25 kB\/s/).waitFor({ timeout: 15_000 });
  rates.set('g1-client', { sentB: 5000, sentP: 10, recvB: 500, recvP: 1 });
  await caption.getByText(/now: sent 5 kB\/s \(10 packets\/s\).*Peak in the last 15 min: sent 5 kB\/s/).waitFor({ timeout: 20_000 });
  assert.equal(problems, []);
  await page.context().close();
});

test.run();

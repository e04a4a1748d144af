// A traffic graph drawn from the real switch's counters, in real Chromium: first-switch up for one
// group with a real agent (Gauge scraped every second), h1 pings h2 with 1000-byte packets at 100
// per second, and the student's page draws h1.eth0 with that rate in its caption and both lines on
// the canvas; h3, which sent nothing, stays near zero (the control). Screenshots at phone and laptop
// size in test-artifacts/e2e/graphs-real-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { readLabState } from '../../agent/lab/state.js';
import { dovelab, LESSONS } from '../integration/_cli.js';
import { cfg, inHost, stack, waitFor, type AgentProc } from '../integration/_stack.js';
import { BASE, webAgent } from './_agent.js';
import { closeBrowser, LINE_RX, LINE_TX, openPage, pixelsOf, screenshot, seriousA11y } from './_browser.js';
import { loud } from '../loud-hook.js';

let agent: AgentProc | undefined;
let dir: string;
let code: string;

test.before(loud(async () => {
  await stack();
  const up = await dovelab(['up', `${LESSONS}/first-switch`, '--groups', '1']);
  if (up.code !== 0) throw new Error(`dovelab up first-switch: ${up.stderr}`);
  code = readLabState(paths(cfg).labState)!.joinCodes!['1']!;
  dir = mkdtempSync(join(tmpdir(), 'dovelab-e2e-graphs-real-'));
  agent = await webAgent(dir, { DOVELAB_HISTORY_DIR: join(dir, 'store'), DOVELAB_HISTORY_INTERVAL_S: '1' });
  await agent.waitLine('the history store', /history: \d+ series on disk/, 30_000);
}));

test.after(async () => {
  await closeBrowser();
  await agent?.stop();
  await dovelab(['down']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `sent 104 kB/s` in a caption -> bytes per second (the peak part: "Peak in the last 15 min: sent …"). */
function peakSent(caption: string): number {
  const m = /Peak in the last 15 min: sent ([\d.]+) (B|kB|MB)\/s/.exec(caption);
  if (!m) return -1;
  return Number(m[1]) * ({ B: 1, kB: 1000, MB: 1e6 } as Record<string, number>)[m[2]!]!;
}

test('h1 pings h2 at 100 × 1000-byte packets/s: the student page draws h1.eth0 at that rate; h3 (silent) stays low', async () => {
  // 600 echo requests of 1000 bytes of payload: frames of 1042 bytes, ~104 kB/s each way for 6 s.
  const ping = await inHost('dovelab-g1-h1', ['ping', '-q', '-s', '1000', '-i', '0.01', '-c', '600', '-w', '30', '198.51.100.12']);
  assert.match(ping.stdout, /600 packets transmitted, 600 received/, `the ping ran: ${ping.stdout}${ping.stderr}`);
  const { page, problems } = await openPage('laptop');
  await page.goto(`${BASE}/?code=${code}`);
  const h1 = page.getByTestId('traffic-g1-h1.eth0');
  await h1.getByTestId('graph-caption').waitFor({ timeout: 30_000 });
  await page.getByTestId('traffic').scrollIntoViewIfNeeded();
  // The page follows the store live: wait until the points of the ping are in (Gauge polls, the agent scrapes every second).
  let caption = '';
  await waitFor('h1.eth0\'s caption to show the ping\'s rate', async () => {
    caption = await h1.getByTestId('graph-caption').innerText();
    return peakSent(caption) >= 50_000 || undefined;
  }, 60_000, 1000).catch((e: Error) => { throw new Error(`${e.message}: "${caption}"`); });
  const sent = peakSent(caption);
  console.log(`    ${caption}`);
  // The highest 1-s point: 100 frames of 1042 bytes (Gauge's polls may split a second unevenly: up to twice).
  assert.ok(sent >= 50_000 && sent <= 250_000, `h1 sent peak ${sent} B/s`);
  const h3 = await page.getByTestId('traffic-g1-h3.eth0').getByTestId('graph-caption').innerText();
  assert.ok(peakSent(h3) >= 0 && peakSent(h3) < 5_000, `h3 sent nothing of the ping: "${h3}"`);
  const chart = '[data-testid="traffic-g1-h1.eth0"] [data-testid="chart-bytes"]';
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  assert.ok(await pixelsOf(page, chart, LINE_TX) > 50, 'the sent line is drawn');
  assert.ok(await pixelsOf(page, chart, LINE_RX) > 50, 'the received line is drawn');
  assert.is(await pixelsOf(page, chart, [0xff, 0x00, 0xff]), 0, 'control: a colour no line has counts none');
  await h1.scrollIntoViewIfNeeded();
  await screenshot(page, 'graphs-real-laptop');
  assert.equal(await seriousA11y(page, 'student traffic from the real switch (laptop)'), []);
  assert.equal(problems, []);
  await page.context().close();
  const phone = await openPage('phone');
  await phone.page.goto(`${BASE}/?code=${code}`);
  const p1 = phone.page.getByTestId('traffic-g1-h1.eth0');
  await p1.getByTestId('graph-caption').waitFor({ timeout: 30_000 });
  await p1.scrollIntoViewIfNeeded();
  await phone.page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  await screenshot(phone.page, 'graphs-real-phone');
  assert.equal(phone.problems, []);
  await phone.page.context().close();
});

test.run();

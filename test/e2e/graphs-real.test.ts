// A traffic graph drawn from the real switch's counters, in real Chromium: first-switch up for one
// group with a real agent (Gauge scraped every second), h1 sends h2 about 100 UDP datagrams of
// 1000 bytes per second for 6 s, and the student's page draws h1.eth0 with that rate in its caption
// and the sent line on the canvas; what h1 received, and h3, which sent nothing, stay near zero. Screenshots at phone and laptop
// size in test-artifacts/e2e/graphs-real-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { readLabState } from '../../agent/lab/state.js';
import { dovelab, LESSONS } from '../integration/_cli.js';
import { cfg, hostPidOf, inHost, run, stack, waitFor, type AgentProc } from '../integration/_stack.js';
import { BASE, webAgent } from './_agent.js';
import { closeBrowser, LINE_TX, openPage, pixelsOf, screenshot, seriousA11y } from './_browser.js';
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
  return bytes(/Peak in the last 15 min: sent ([\d.]+) (B|kB|MB)\/s/.exec(caption));
}
function peakReceived(caption: string): number {
  return bytes(/Peak in the last 15 min: sent [\d.]+ (?:B|kB|MB)\/s, received ([\d.]+) (B|kB|MB)\/s/.exec(caption));
}
const bytes = (m: RegExpExecArray | null) => (m ? Number(m[1]) * ({ B: 1, kB: 1000, MB: 1e6 } as Record<string, number>)[m[2]!]! : -1);

test('h1 sends h2 ~100 kB/s of UDP for 6 s: the student page draws h1.eth0 sending at that rate; h3 (silent) stays low', async () => {
  // One way (h2 listens, so it answers nothing, not even port-unreachable): the sent line stands apart from the received one.
  await run(['docker', 'exec', '-d', 'dovelab-g1-h2', 'nc', '-lu', '9999']);
  const pid = await hostPidOf('dovelab-g1-h2');
  await waitFor('h2 to listen on UDP 9999', async () => (await run(['nsenter', '-t', String(pid), '-n', 'ss', '-Hlun', 'sport', '=', ':9999'])).stdout.trim().length > 0 || undefined, 10_000, 50);
  // 600 datagrams, 10 every 0.1 s; how long that took is measured (a loaded machine sends slower).
  const send = await inHost('dovelab-g1-h1', ['bash', '-c', 's=$(date +%s%3N); for i in $(seq 60); do dd if=/dev/zero bs=1000 count=10 status=none; sleep 0.1; done > /dev/udp/198.51.100.12/9999; echo "sent in $(( $(date +%s%3N) - s )) ms"']);
  const took = Number(/sent in (\d+) ms/.exec(send.stdout)?.[1]);
  assert.ok(took > 0, `the traffic ran: ${send.stdout}${send.stderr}`);
  // 1042-byte frames (1000 bytes of UDP payload and 42 of headers), on average over the send.
  const rate = (600 * 1042) / (took / 1000);
  await run(['docker', 'exec', 'dovelab-g1-h2', 'pkill', '-f', 'nc -lu 9999'], { allowFail: true });
  const { page, problems } = await openPage('laptop');
  await page.goto(`${BASE}/?code=${code}`);
  const h1 = page.getByTestId('traffic-g1-h1.eth0');
  await h1.getByTestId('graph-caption').waitFor({ timeout: 30_000 });
  await page.getByTestId('traffic').scrollIntoViewIfNeeded();
  // The page follows the store live: wait until the points of the send are in (Gauge polls, the agent scrapes every second).
  let caption = '';
  await waitFor('h1.eth0\'s caption to show the send\'s rate', async () => {
    caption = await h1.getByTestId('graph-caption').innerText();
    return peakSent(caption) >= rate / 2 || undefined;
  }, 60_000, 1000).catch((e: Error) => { throw new Error(`${e.message} (sent ${Math.round(rate)} B/s on average over ${took} ms): "${caption}"`); });
  const sent = peakSent(caption);
  console.log(`    ${caption} (sent ${Math.round(rate)} B/s on average over ${took} ms)`);
  // Gauge's 5-s polls cut the send into parts: the peak part is near the average, not far above.
  assert.ok(sent >= rate / 2 && sent <= rate * 1.6, `h1 sent peak ${sent} B/s, ${Math.round(rate)} B/s on average`);
  assert.ok(peakReceived(caption) >= 0 && peakReceived(caption) < 5_000, `h1 received next to nothing: "${caption}"`);
  const h3 = await page.getByTestId('traffic-g1-h3.eth0').getByTestId('graph-caption').innerText();
  assert.ok(peakSent(h3) >= 0 && peakSent(h3) < 5_000, `h3 sent nothing of it: "${h3}"`);
  const chart = '[data-testid="traffic-g1-h1.eth0"] [data-testid="chart-bytes"]';
  await page.locator(`${chart}[data-drawn="true"]`).waitFor({ timeout: 15_000 });
  await h1.scrollIntoViewIfNeeded();
  // A line needs a second point: the one after the traffic (the page polls every 5 s).
  let tx = 0;
  await waitFor('the sent line to be drawn', async () => { tx = await pixelsOf(page, chart, LINE_TX); return tx > 50 || undefined; }, 40_000, 1000)
    .catch(async (e: Error) => { await screenshot(page, 'graphs-real-laptop-undrawn'); throw new Error(`${e.message} (${tx} pixels of its colour)`); });
  await screenshot(page, 'graphs-real-laptop');
  assert.is(await pixelsOf(page, chart, [0xff, 0x00, 0xff]), 0, 'control: a colour no line has counts none');
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

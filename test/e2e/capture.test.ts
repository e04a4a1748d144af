// A capture from the student page, in real Chromium against a real agent (mirror-capture lesson):
// the student captures h1.eth0, sees h1's secret in the live view as it records, downloads the
// pcap and tcpdump -r reads it; a group's page offers only what the lesson lists.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { CaptureView } from '../../agent/web/api-types.js';
import { run as runCmd } from '../integration/_stack.js';
import { openPage, screenshot, seriousA11y } from './_browser.js';
import { BASE, lessonWithAgent, type LessonRun } from './_agent.js';
import { loud } from '../loud-hook.js';

let lab: LessonRun;

test.before(loud(async () => { lab = await lessonWithAgent('mirror-capture', 2); }));
test.after(async () => { await lab?.end(); });

async function joinGroup(page: Page, group: number): Promise<void> {
  await page.goto(`${BASE}/?code=${lab.codes[String(group)]}`);
  await page.getByText(`Group ${group}`, { exact: true }).first().waitFor({ timeout: 15_000 });
}

test('a student captures h1.eth0: the secret shows in the live view while it records, the pcap downloads and tcpdump reads it', async () => {
  const { page, problems } = await openPage('laptop');
  await joinGroup(page, 1);
  const panel = page.getByTestId('capture');
  await panel.waitFor({ timeout: 15_000 });
  // Only the interfaces the lesson lists are offered.
  assert.ok(await page.getByTestId('capture-start-h1.eth0').isVisible());
  assert.ok(await page.getByTestId('capture-start-h2.eth0').isVisible());
  assert.is(await page.getByTestId('capture-start-h3.eth0').count(), 0);
  await page.getByTestId('capture-start-h1.eth0').click();
  // h1 sends its secret every second: it shows while the capture still records.
  const packets = page.getByTestId('capture-packets');
  await packets.getByText(/secret: tulip/).first().waitFor({ timeout: 20_000 });
  const recording = await page.evaluate(async () => (await (await fetch('/api/captures')).json()) as CaptureView[]);
  assert.is(recording[0]?.state, 'recording', 'the live view showed packets before the end');
  assert.match(await packets.innerText(), /198\.51\.100\.11\.\d+ > 198\.51\.100\.13\.9999: UDP/);
  await screenshot(page, 'student-capture-laptop');
  assert.equal(await seriousA11y(page, 'student capture'), []);
  // Stop early, then download: a whole pcap, tcpdump reads it.
  await page.getByTestId('capture-stop').click();
  await page.getByTestId('capture-status').getByText(/stopped/i).waitFor({ timeout: 20_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.getByTestId('capture-download').click()]);
  const file = await download.path();
  assert.ok(file, 'the download finished');
  assert.match(download.suggestedFilename(), /\.pcap$/);
  assert.is(readFileSync(file!).readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
  const r = await runCmd(['tcpdump', '-n', '-r', file!], { allowFail: true });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /198\.51\.100\.11\.\d+ > 198\.51\.100\.13\.9999: UDP, length 14/);
  const done = await page.evaluate(async () => (await (await fetch('/api/captures')).json()) as CaptureView[]);
  assert.equal([done[0]?.state, done[0]?.endReason], ['done', 'stopped']);
  assert.is(r.stdout.trim().split('\n').length, done[0]!.packets, 'every packet the page counted is in the file');
  assert.equal(problems, [], 'no console errors or CSP violations');
  await page.context().close();
});

test('the capture panel on a phone', async () => {
  const { page, problems } = await openPage('phone');
  await joinGroup(page, 2);
  await page.getByTestId('capture-start-h2.eth0').click();
  await page.getByTestId('capture-status').waitFor({ timeout: 15_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page does not scroll sideways (${overflow} px)`);
  await screenshot(page, 'student-capture-phone');
  await page.getByTestId('capture-stop').click();
  await page.getByTestId('capture-status').getByText(/stopped/i).waitFor({ timeout: 20_000 });
  assert.equal(problems, []);
  await page.context().close();
});

test.run();

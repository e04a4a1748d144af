// A student and the kiosk in real headless Chromium against a real agent on the real stack:
// join with the group's code, a terminal into h1 that pings h2, a task that turns green, the other
// group's hosts out of reach, the kiosk at 800×480. Screenshots in test-artifacts/e2e/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { inHost, waitFor } from '../integration/_stack.js';
import { openPage, screenshot, seriousA11y } from './_browser.js';
import { BASE, lessonWithAgent, type LessonRun } from './_agent.js';
import { loud } from '../loud-hook.js';

let run: LessonRun;
let codes: Record<string, string>;

test.before(loud(async () => {
  run = await lessonWithAgent('first-switch', 2);
  codes = run.codes;
}));

test.after(async () => { await run?.end(); });

/** Joins a group on the student page by typing its code, as a student does. */
async function join_(page: Page, group: number): Promise<void> {
  await page.goto(`${BASE}/`);
  await page.getByLabel('Group code').fill(codes[String(group)]!.toLowerCase());
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByText(`Group ${group}`, { exact: true }).first().waitFor({ timeout: 15_000 });
}

/** The terminal's text as the student sees it. */
const terminalText = (page: Page) => page.locator('.xterm-rows').last().innerText();

async function typeInTerminal(page: Page, text: string): Promise<void> {
  await page.locator('.xterm-helper-textarea').last().focus();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}


test('a wrong code is refused with a message; the right one joins group 1', async () => {
  const { page, problems } = await openPage('phone');
  await page.goto(`${BASE}/`);
  await screenshot(page, 'student-join-phone');
  assert.equal(await seriousA11y(page, 'join'), []);
  await page.getByLabel('Group code').fill('ZZZZZZ');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('alert').waitFor({ timeout: 10_000 });
  assert.ok((await page.getByText('Group 1', { exact: true }).count()) === 0, 'not joined with a wrong code');
  await join_(page, 1);
  // The lesson, its diagram and the group's tasks arrive from the agent.
  await page.locator('#lesson h1, #lesson h2').first().waitFor({ timeout: 15_000 });
  await page.locator('#diagram svg').waitFor({ timeout: 15_000 });
  await page.locator('li.task').first().waitFor();
  await screenshot(page, 'student-lab-phone');
  await page.locator('#diagram').scrollIntoViewIfNeeded();
  await screenshot(page, 'student-diagram-phone');
  // Only the wrong code's refusal is logged as an error.
  assert.ok(problems.every((p) => /403|Forbidden/.test(p)), problems.join('\n'));
  await page.context().close();
});

test('a student opens a terminal into h1, pings h2 and sees the reply; the ping task turns green', async () => {
  const { page, problems } = await openPage('laptop');
  await join_(page, 1);
  const ping = page.locator('li.task').filter({ hasText: 'h1 talks to h2' });
  await ping.waitFor();
  assert.not.match(await ping.innerText(), 'Done', 'the task is not done before the student acts');
  await page.getByRole('button', { name: 'Terminal on h1' }).click();
  await page.locator('.xterm-rows').last().waitFor({ timeout: 20_000 });
  await waitFor('the shell prompt in h1', async () => /g1-h1/.test(await terminalText(page)) || undefined, 20_000);
  await typeInTerminal(page, 'ping -c 1 -W 2 198.51.100.12');
  await waitFor('the ping reply in the terminal', async () => /1 received/.test(await terminalText(page)) || undefined, 20_000);
  await screenshot(page, 'student-terminal-laptop');
  // The agent's next check round sees h1's neighbour entry: the task turns green, without a reload.
  await waitFor('the ping task to turn green', async () => /Done/.test(await ping.innerText()) || undefined, 40_000);
  await screenshot(page, 'student-task-done-laptop');
  assert.equal(await seriousA11y(page, 'student with terminal'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test("a student's terminal reaches only their own group's hosts", async () => {
  const { page } = await openPage('laptop');
  await join_(page, 2);
  await page.getByRole('button', { name: 'Terminal on h1' }).click();
  await waitFor('the shell prompt in group 2 h1', async () => /g2-h1/.test(await terminalText(page)) || undefined, 20_000);
  await typeInTerminal(page, 'hostname');
  await waitFor('hostname g2-h1', async () => /\ng2-h1/.test(await terminalText(page)) || undefined, 10_000);
  // The same session asking for group 1's h1 by its name is refused by the agent (4403).
  const closed = await page.evaluate(() => new Promise<number>((resolve) => {
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/terminal?host=g1-h1`);
    ws.onclose = (e) => resolve(e.code);
  }));
  assert.is(closed, 4403);
  // Control: group 1's h1 was never touched by group 2's student (its shell history has no `hostname`).
  assert.not.match((await inHost('dovelab-g1-h1', ['sh', '-c', 'cat /root/.bash_history 2>/dev/null; true'])).stdout, 'hostname');
  await page.context().close();
});

test('the kiosk at 800×480 shows the QR code, the join URLs and each group\'s progress; no codes', async () => {
  const { page, problems } = await openPage('kiosk');
  await page.goto(`${BASE}/kiosk`);
  await page.locator('.k-qr svg').waitFor({ timeout: 15_000 });
  await page.getByText('Group 2', { exact: true }).waitFor();
  const text = await page.locator('body').innerText();
  assert.match(text, 'Your first switch');
  for (const code of Object.values(codes)) assert.not.match(text, code, 'the kiosk never shows join codes');
  const overflow = await page.evaluate(() => document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth);
  assert.not.ok(overflow, 'no scrollbars at 800×480');
  await screenshot(page, 'kiosk-800x480');
  assert.equal(await seriousA11y(page, 'kiosk'), []);
  assert.equal(problems, []);
  await page.context().close();
});

test.run();

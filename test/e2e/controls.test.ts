// Switches a lesson gives its groups (acl-firewall's `controls:`), in real Chromium against a real
// agent: group 1 turns on an ACL from its page, its firewall task turns green, group 2's does not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { GroupView } from '../../agent/web/api-types.js';
import { waitFor } from '../integration/_stack.js';
import { openPage, screenshot, seriousA11y } from './_browser.js';
import { BASE, lessonWithAgent, type LessonRun } from './_agent.js';
import { loud } from '../loud-hook.js';

let run: LessonRun;
let codes: Record<string, string>;

test.before(loud(async () => {
  run = await lessonWithAgent('acl-firewall', 2);
  codes = run.codes;
}));

test.after(async () => { await run?.end(); });

async function joinGroup(page: Page, group: number): Promise<void> {
  await page.goto(`${BASE}/?code=${codes[String(group)]}`);
  await page.getByText(`Group ${group}`, { exact: true }).first().waitFor({ timeout: 15_000 });
}

/** The group's view as its own page sees it (same session cookie). */
const groupView = (page: Page) => page.evaluate(async () => (await fetch('/api/group')).json()) as Promise<GroupView>;
const taskStatus = async (page: Page, id: string) => (await groupView(page)).tasks.find((t) => t.id === id)!.status;

test('group 1 switches on no-ping for web.eth0: its task turns green, group 2\'s stays open; unlisted switches are refused', async () => {
  const one = await openPage('laptop');
  const two = await openPage('laptop');
  await joinGroup(one.page, 1);
  await joinGroup(two.page, 2);
  const task = one.page.locator('li.task').filter({ hasText: 'Ping to the web server is blocked' });
  // Before: ping gets through in both groups (the checks ran and said so).
  await waitFor('the first check round of group 1', async () => (await taskStatus(one.page, 'no-ping')) === 'fail' || undefined, 40_000);
  const toggle = one.page.getByRole('button', { name: 'no-ping: off' });
  await toggle.click();
  await one.page.getByRole('button', { name: 'no-ping: on' }).waitFor({ timeout: 30_000 });
  assert.is(await one.page.getByRole('button', { name: 'no-ping: on' }).getAttribute('aria-pressed'), 'true');
  await waitFor('group 1\'s no-ping task to turn green', async () => /Done/.test(await task.innerText()) || undefined, 40_000);
  await screenshot(one.page, 'student-switches-laptop');
  // Group 2 did not switch: after a newer check round its task is still open.
  const switchedAt = Date.now();
  await waitFor('a check round after the switch', async () => {
    const v = await groupView(two.page);
    return v.checkedAt && Date.parse(v.checkedAt) > switchedAt ? v : undefined;
  }, 40_000);
  assert.is(await taskStatus(two.page, 'no-ping'), 'fail', 'group 2 is untouched');
  assert.equal((await groupView(two.page)).controls.acls[0]!.applied, []);
  assert.equal(one.problems, [], 'no console errors or CSP violations while switching');
  // The API refuses what the lesson does not list, even to a joined student.
  const refused = await one.page.evaluate(async () => (await fetch('/api/controls/acl', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'client.eth0', acls: ['no-ping'] }),
  })).status);
  assert.is(refused, 403);
  assert.equal(await seriousA11y(one.page, 'student switches'), []);
  // The only error since: the browser logging that refusal.
  assert.equal(one.problems.map((p) => /403/.test(p)), [true]);
  await one.page.context().close();
  await two.page.context().close();
});

test.run();

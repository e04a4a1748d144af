// The instructor in real headless Chromium against a real agent on the real stack: log in with the
// password from the appliance config, upload a lesson archive (acl-firewall as .tar.gz), start it
// for 2 groups, see the grid with 2 rows, switch an ACL on web.eth0 of group 1 and watch that
// group's check flip in the grid (group 2's stays), reset group 1 (the switch and the check go
// back), print cards, stop. Screenshots in test-artifacts/e2e/; axe on each view.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { Page } from 'playwright-core';
import { paths } from '../../agent/config.js';
import type { ClassView } from '../../agent/web/api-types.js';
import { readLabState } from '../../agent/lab/state.js';
import { removeLesson } from '../../agent/lesson/store.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { dovelab, LESSONS } from '../integration/_cli.js';
import { cfg, stack, waitFor, type AgentProc } from '../integration/_stack.js';
import { closeBrowser, openPage, screenshot, seriousA11y } from './_browser.js';
import { BASE, webAgent } from './_agent.js';
import { loud } from '../loud-hook.js';

const PASSWORD = 'a long teacher password';
let agent: AgentProc;
let tmp: string;
let archive: string;

const removeUploaded = () => removeLesson('acl-firewall', cfg.dataDir).catch(() => {});

test.before(loud(async () => {
  await stack();
  assert.is((await dovelab(['down'])).code, 0);
  await removeUploaded();
  tmp = mkdtempSync(join(tmpdir(), 'dovelab-e2e-instr-'));
  // The appliance config the agent reads: this machine's settings plus the instructor's password hash.
  const config = join(tmp, 'dovelab.yaml');
  writeFileSync(config, stringify({ ...cfg, web: { ...cfg.web, instructor_password_hash: await hashPassword(PASSWORD) } }));
  archive = join(tmp, 'acl-firewall.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', LESSONS, 'acl-firewall']);
  agent = await webAgent(tmp, { DOVELAB_CONFIG: config });
}));

test.after(async () => {
  await closeBrowser();
  await agent?.stop();
  await dovelab(['down']);
  await removeUploaded();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});


/** The grid cell of a group's task, as the instructor reads it. */
const cell = (page: Page, group: number, task: string) => page.locator(`tr[data-group="${group}"] td[data-task="${task}"]`);
const note = (page: Page) => page.locator('.i-note');

let page: Page;
let problems: string[];

test('login: a wrong password is refused with a message; the right one opens the console', async () => {
  ({ page, problems } = await openPage('laptop'));
  page.on('dialog', (d) => void d.accept());
  // Without a session every instructor API answers 401 (the agent's side of the login).
  assert.is((await fetch(`${BASE}/api/instructor/class`)).status, 401);
  await page.goto(`${BASE}/instructor`);
  await page.getByLabel('Password').waitFor({ timeout: 15_000 });
  await screenshot(page, 'instructor-login');
  assert.equal(await seriousA11y(page, 'instructor login'), []);
  await page.getByLabel('Password').fill('not it');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong password' }).waitFor({ timeout: 10_000 });
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'No lesson running' }).waitFor({ timeout: 15_000 });
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'dovelab_instructor');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict', 'an HttpOnly SameSite=Strict cookie');
});

test('upload acl-firewall as .tar.gz, start it for 2 groups: the grid has 2 rows', async () => {
  await page.locator('#pack').setInputFiles(archive);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await note(page).filter({ hasText: 'installed' }).waitFor({ timeout: 30_000 });
  const item = page.locator('.i-lessons li').filter({ hasText: 'acl-firewall' });
  await item.filter({ hasText: 'uploaded' }).waitFor();
  await item.getByLabel('Groups').fill('2');
  await item.getByRole('button', { name: /^Start/ }).click();
  await note(page).filter({ hasText: 'Starting' }).waitFor();
  await note(page).filter({ hasText: 'started for 2 group(s)' }).waitFor({ timeout: 180_000 });
  await waitFor('2 rows in the grid', async () => (await page.locator('table.i-grid tbody tr').count()) === 2 || undefined, 20_000);
  const st = readLabState(paths(cfg).labState)!;
  assert.is(st.groups, 2);
  assert.match(st.source, `${cfg.dataDir}/lessons/acl-firewall`, 'the uploaded copy runs');
  for (const g of [1, 2]) assert.match(await page.locator(`tr[data-group="${g}"] .i-code`).innerText(), st.joinCodes![String(g)]!);
  // The first check round: group 1 has not blocked ping yet.
  await waitFor('the first check round in the grid', async () => /Not yet/.test(await cell(page, 1, 'no-ping').innerText()) || undefined, 60_000);
  // The health panel's facts, read by the agent on this machine (printed for the record).
  const v = await page.evaluate(async () => (await fetch('/api/instructor/class')).json()) as ClassView;
  const h = v.health;
  console.log(`    health: load ${h.load.join('/')} (${h.cpus} CPUs), memory ${h.memory.availableMb}/${h.memory.totalMb} MB free, disk ${h.disk ? `${Math.round(h.disk.usedFraction * 100)}% used` : '?'}, ` +
    `CPU ${h.cpuTempC ?? 'n/a'} °C, containers ${JSON.stringify(h.infra.containers)}, Faucet dp up ${String(h.infra.faucetDpUp)}, dongles ${h.dongles.map((d) => `${d.name}:${d.present ? 'present' : 'missing'}`).join(' ')}`);
  assert.is(h.infra.docker, true);
  assert.equal(h.infra.containers, { ovs: 'running', faucet: 'running', gauge: 'running' });
  assert.is(h.infra.faucetDpUp, true);
  assert.is(v.hosts.length, 4, 'client and web in 2 groups');
  await screenshot(page, 'instructor-grid');
  assert.equal(await seriousA11y(page, 'instructor grid'), []);
});

test("an ACL on group 1's web.eth0 flips that group's check in the grid; group 2's stays", async () => {
  await page.locator('#sw-h ~ label select, .section-head select').first().selectOption('1');
  const toggle = page.getByRole('button', { name: 'no-ping on web.eth0' });
  assert.is(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  await note(page).filter({ hasText: 'web.eth0 (group 1): no-ping' }).waitFor({ timeout: 60_000 });
  await waitFor('the switch to show the ACL on', async () => (await toggle.getAttribute('aria-pressed')) === 'true' || undefined, 10_000);
  await waitFor("group 1's no-ping task to turn Done", async () => /Done/.test(await cell(page, 1, 'no-ping').innerText()) || undefined, 60_000);
  // Control: the other group, without the ACL, still reaches its web server.
  assert.match(await cell(page, 2, 'no-ping').innerText(), 'Not yet');
  await screenshot(page, 'instructor-grid-acl');
});

test('the whole lab\'s diagram shows every group', async () => {
  await page.getByRole('button', { name: 'Show the whole lab' }).click();
  const diagram = page.getByRole('img', { name: 'Wiring diagram of every group' });
  await diagram.waitFor({ timeout: 30_000 });
  const text = (await diagram.textContent()) ?? '';
  assert.match(text, 'group 1');
  assert.match(text, 'group 2');
  await diagram.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-diagram');
});

test('reset group 1: its ACL is undone and its check goes back', async () => {
  await page.getByRole('button', { name: 'Reset group 1' }).click();
  await note(page).filter({ hasText: 'group 1 is reset' }).waitFor({ timeout: 120_000 });
  await waitFor("group 1's no-ping task back to Not yet", async () => /Not yet/.test(await cell(page, 1, 'no-ping').innerText()) || undefined, 60_000);
  await waitFor('the switch to show the ACL off', async () => (await page.getByRole('button', { name: 'no-ping on web.eth0' }).getAttribute('aria-pressed')) === 'false' || undefined, 10_000);
});

test('group cards: one per group with its code, link and QR code', async () => {
  await page.getByRole('button', { name: 'Print group cards' }).click();
  await page.locator('.i-card svg').nth(1).waitFor({ timeout: 10_000 });
  const st = readLabState(paths(cfg).labState)!;
  assert.is(await page.locator('.i-card').count(), 2);
  assert.match(await page.locator('.i-card').first().innerText(), `?code=${st.joinCodes!['1']}`);
  await screenshot(page, 'instructor-cards');
  assert.equal(await seriousA11y(page, 'instructor cards'), []);
  await page.getByRole('button', { name: 'Back to the console' }).click();
  await page.locator('table.i-grid').waitFor();
});

test('stop: the lab is gone', async () => {
  await page.getByRole('button', { name: 'Stop lesson' }).click();
  await page.getByRole('heading', { name: 'No lesson running' }).waitFor({ timeout: 120_000 });
  assert.not.ok(existsSync(paths(cfg).labState));
  assert.equal(problems.filter((p) => !/403|Forbidden/.test(p)), [], 'only the wrong password is logged as an error');
  await page.context().close();
});

test.run();

// The console's Dongles section in real headless Chromium against the agent's web app over the fake
// lab, its NIC scan the Pi 4 fixture sysfs tree given through the config (hardware.sysfs): the page
// lists both dongles with port, MAC and link; the instructor makes the second dongle (eth2 in USB
// port 2-2, the mirror mir0 by default) a lab port; the API and the config file then say so and the
// agent's dongles map changed without a restart. Screenshots at phone, laptop and kiosk size.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { loadConfig, type Config } from '../../agent/config.js';
import { scanNics } from '../../agent/hardware/nics.js';
import { applyDiscovery } from '../../agent/hardware/roles.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import type { HardwareView } from '../../agent/web/api-types.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { serveWeb, type WebServer } from '../../agent/web/server.js';
import { UI_DIR } from '../../agent/web/static.js';
import { FakeWorld, tempConfig } from '../unit/_fake-adapters.js';
import { closeBrowser, openPage, screenshot, seriousA11y, type VIEWPORTS } from './_browser.js';
import { loud } from '../loud-hook.js';

const PASSWORD = 'a long teacher password';
const PI4 = fileURLToPath(new URL('../../../test/fixtures/sysfs/pi4', import.meta.url));

let temp: ReturnType<typeof tempConfig>;
let cfg: Config;
let file: string;
let server: WebServer;
let base: string;

test.before(loud(async () => {
  temp = tempConfig();
  file = join(temp.dir, 'dovelab.yaml');
  writeFileSync(file, [
    '# the appliance (e2e)',
    `dataDir: ${temp.cfg.dataDir}`, `runDir: ${temp.cfg.runDir}`, `logDir: ${temp.cfg.logDir}`, `aclFile: ${temp.cfg.aclFile}`,
    'hardware:',
    `  sysfs: ${PI4}   # the Pi 4 fixture tree`,
    '',
  ].join('\n'));
  const written = loadConfig(file, {});
  cfg = applyDiscovery(written, scanNics(written.hardware!.sysfs));
  cfg.web.port = 0;
  cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
  const world = new FakeWorld();
  const ctx = world.context(cfg);
  server = await serveWeb({
    cfg, lab: ctx, now: Date.now, secret: Buffer.alloc(32, 7), log: () => {}, uiDir: UI_DIR, ipv4: () => '192.0.2.10',
    faucetStatus: async () => ({ hashes: [sha256(world.faucetLive ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
    diskUsed: async () => 0.4, eventPollMs: 200,
    dongleRoles: { configFile: file },
  }, { hostname: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
}));

test.after(async () => {
  await closeBrowser();
  await server?.close();
  temp?.done();
});

async function loggedIn(size: keyof typeof VIEWPORTS): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await openPage(size);
  await page.goto(`${base}/instructor`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-testid=dongles] li[data-dongle]').first().waitFor({ timeout: 15_000 });
  return { page, problems };
}

/** The API as the page's session sees it. */
const apiHardware = (page: Page) => page.evaluate(async () => (await fetch('/api/instructor/hardware')).json()) as Promise<HardwareView>;

test('laptop: both dongles listed; the second made a lab port on the page; the API, the file and the agent\'s map say so', async () => {
  const { page, problems } = await loggedIn('laptop');
  const section = page.getByTestId('dongles');
  const second = section.locator('li[data-dongle=mir0]');
  for (const text of ['USB port 1-1.2', 'MAC 00:e0:4c:36:00:01', 'link up, 100 Mbit/s']) assert.ok(await section.locator('li[data-dongle=up0]').getByText(text, { exact: false }).isVisible(), text);
  for (const text of ['USB port 2-2', 'MAC 00:e0:4c:68:00:02', 'no link', '(now eth2)']) assert.ok(await second.getByText(text, { exact: false }).isVisible(), text);
  assert.match(await section.innerText(), /Never a dongle: eth0 \(the board's own port\), wlan0 \(Wi-Fi\)/);
  await section.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-dongles-laptop');
  assert.equal(await seriousA11y(page, 'instructor dongles'), []);
  assert.is((await apiHardware(page)).interfaces.find((i) => i.name === 'eth2')!.role, 'mirror', 'control: the default before');

  await second.getByLabel('Role').selectOption('lab');
  await second.getByRole('button', { name: 'Save mir0' }).click();
  // The list reloads: the dongle is now lab1 (the row's key is its stable name).
  const row = section.locator('li[data-dongle=lab1]');
  await row.getByRole('status').filter({ hasText: 'USB port 2-2 is lab' }).waitFor({ timeout: 10_000 });
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-dongles-changed');
  const v = await apiHardware(page);
  const eth2 = v.interfaces.find((i) => i.name === 'eth2')!;
  assert.equal([eth2.role, eth2.assignedName], ['lab', 'lab1']);
  assert.equal(v.dongles, [{ name: 'lab1', role: 'lab', present: false }, { name: 'up0', role: 'uplink', present: false }]);
  assert.equal(cfg.dongles, { lab1: 'lab', up0: 'uplink' });
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes('# the Pi 4 fixture tree'), 'comments kept');
  assert.equal(loadConfig(file, {}).hardware!.dongles, [{ usb_path: '2-2', role: 'lab' }]);
  assert.equal(problems, []);
});

for (const size of ['phone', 'kiosk'] as const) {
  test(`${size}: the section fits the width and the role select is on screen`, async () => {
    const { page, problems } = await loggedIn(size);
    const section = page.getByTestId('dongles');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, `instructor-dongles-${size}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page ${overflow}px wider than the ${size} screen`);
    const box = await section.locator('li[data-dongle=up0] select').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= page.viewportSize()!.width, 'the select is on screen');
    assert.equal(problems, []);
  });
}

test.run();

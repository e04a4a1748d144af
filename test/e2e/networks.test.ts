// The Docker networks in the instructor console, in real headless Chromium against the agent's web
// app over the fake world (no Docker, no OVS: seconds, in CI): networks.json is made by the driver's
// real verbs, the page shows the section, an ACL switched on web1 reaches Faucet's config, an ACL the
// appliance no longer has is refused with the server's reason beside db1, the networks' diagram
// draws. Screenshots at phone, laptop and kiosk size in test-artifacts/e2e/; axe on the page.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { paths, type Config } from '../../agent/config.js';
import { readNetworkState } from '../../agent/lab/network-state.js';
import { endpointCreate, endpointJoin, leaseFileOf, networkCreate, pendingRefills, refillNetworks } from '../../agent/lab/networks.js';
import { sha256 } from '../../agent/net/faucet/apply.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { serveWeb, type WebServer } from '../../agent/web/server.js';
import { UI_DIR } from '../../agent/web/static.js';
import { FakeWorld, tempConfig } from '../unit/_fake-adapters.js';
import { closeBrowser, openPage, screenshot, seriousA11y, type VIEWPORTS } from './_browser.js';
import { loud } from '../loud-hook.js';

const PASSWORD = 'a long teacher password';
const NET_A = 'a1'.repeat(32);
const NET_B = 'b2'.repeat(32);
const ACL_FILE = 'acls:\n  web-only:\n    - {match: {tcp_dst: 80}, action: allow}\n    - {match: {eth_type: arp}, action: allow}\n    - {action: drop}\n';

let temp: ReturnType<typeof tempConfig>;
let cfg: Config;
let world: FakeWorld;
let ctx: ReturnType<FakeWorld['context']>;
let server: WebServer;
let base: string;

test.before(loud(async () => {
  temp = tempConfig();
  cfg = temp.cfg;
  cfg.web.port = 0; // any free port
  cfg.web.instructor_password_hash = await hashPassword(PASSWORD);
  writeFileSync(cfg.aclFile, ACL_FILE);
  world = new FakeWorld();
  for (const i of ['odsaddport1', 'odsaddport2', 'mir0']) world.interfaces.add(i);
  world.facts = { odsaddport1: { addresses: [], defaultRoute: false }, odsaddport2: { addresses: [], defaultRoute: false } };
  ctx = world.context(cfg);
  // What `docker network create -d dovelab …` and `docker run --network …` would have made.
  await networkCreate(ctx, { id: NET_A, generic: { 'dovelab.vlan': '110', 'ovs.bridge.add_ports': 'odsaddport1' }, internal: true, ipv4: [{ Pool: '198.51.100.0/24', Gateway: '198.51.100.1/24' }] });
  await networkCreate(ctx, { id: NET_B, generic: { 'dovelab.vlan': '120', 'dovelab.dhcp': 'true', 'dovelab.uplink': 'odsaddport2' }, internal: true, ipv4: [] });
  world.dockerNetworks.set(NET_A, 'office').set(NET_B, 'school');
  const start = async (net: string, n: number, name: string, address?: string) => {
    const ep = `e${n}`.repeat(32);
    world.dockerContainers = [{ name, network: net === NET_A ? 'office' : 'school', state: 'created', endpoint: '', labels: {}, createdMs: Date.now() }];
    await endpointCreate(ctx, { network: net, endpoint: ep, ...(address ? { address } : {}) });
    await endpointJoin(ctx, net, ep, `/var/run/docker/netns/${name}`);
    return ep;
  };
  await start(NET_A, 1, 'web1', '198.51.100.10/24');
  await start(NET_A, 2, 'db1', '198.51.100.11/24');
  const pc = await start(NET_B, 3, 'pc1');
  mkdirSync(dirname(leaseFileOf(cfg, pc)), { recursive: true });
  writeFileSync(leaseFileOf(cfg, pc), JSON.stringify({ ip: '100.64.0.50', mask: '255.255.255.0', router: '100.64.0.1', hostname: 'pc1', at: new Date().toISOString() }));
  server = await serveWeb({
    cfg, lab: ctx, now: Date.now, secret: Buffer.alloc(32, 7), log: () => {}, uiDir: UI_DIR, ipv4: () => '192.0.2.10',
    faucetStatus: async () => ({ hashes: [sha256(world.faucetLive ?? '')], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 }),
    diskUsed: async () => 0.4, eventPollMs: 200,
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
  await page.getByRole('heading', { name: /Docker networks/ }).waitFor({ timeout: 15_000 });
  return { page, problems };
}

const row = (page: Page, name: string) => page.locator(`li[data-container="${name}"]`);
const epOf = (name: string) => readNetworkState(paths(cfg).networks).endpoints.find((e) => e.container === name)!;

test('laptop: the section shows each network and container; an ACL switched on web1 reaches Faucet; a refused one shows the reason', async () => {
  const { page, problems } = await loggedIn('laptop');
  const section = page.getByTestId('docker-networks');
  for (const text of ['office', 'VLAN 110 · flat', 'uplinks: odsaddport1', 'school', 'VLAN 120 · flat · DHCP', '198.51.100.10/24', '100.64.0.50 (DHCP, pc1)', epOf('web1').mac]) {
    assert.ok(await section.getByText(text, { exact: false }).first().isVisible(), text);
  }
  await section.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-networks-laptop');
  assert.equal(await seriousA11y(page, 'instructor networks'), []);

  // Switch no-ping on for web1: the button says so once the server confirmed, and Faucet has it.
  const noPing = row(page, 'web1').getByRole('button', { name: 'no-ping on web1' });
  assert.is(await noPing.getAttribute('aria-pressed'), 'false');
  await noPing.click();
  await page.waitForFunction(() => document.querySelector('li[data-container="web1"] button[aria-pressed="true"]')?.textContent?.includes('no-ping'), undefined, { timeout: 10_000 });
  await row(page, 'web1').getByRole('status').filter({ hasText: 'web1: no-ping; mirror off' }).waitFor({ timeout: 5_000 });
  assert.equal(epOf('web1').acls, ['no-ping']);
  assert.match(world.faucetLive ?? '', /appliance-no-ping/);
  assert.equal(epOf('db1').acls, [], 'db1 untouched');

  // The ACL file loses web-only while the page still offers it: the server refuses, the page says why, beside db1.
  writeFileSync(cfg.aclFile, '');
  // Spare ports the joins and the toggle took are made again once the driver is quiet: make them
  // now, so the only change left to see is the refused one's.
  pendingRefills(true);
  await refillNetworks(ctx);
  const live = world.faucetLive;
  await row(page, 'db1').getByRole('button', { name: 'web-only on db1' }).click();
  const alert = row(page, 'db1').getByRole('alert');
  await alert.waitFor({ timeout: 10_000 });
  assert.match(await alert.innerText(), /ACL web-only is not one of the appliance's \(known: allow-all, deny-all, no-ping\)/);
  assert.is(world.faucetLive, live, 'Faucet untouched by the refused change');
  assert.equal(epOf('db1').acls, []);
  // After the refusal the page reloads the list: web-only is gone from the switches.
  await row(page, 'db1').getByRole('button', { name: 'web-only on db1' }).waitFor({ state: 'detached', timeout: 10_000 });
  await alert.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-networks-refused');

  // Mirror on for db1, then the diagram.
  await row(page, 'db1').getByRole('button', { name: /mirror to mir0/ }).click();
  await page.waitForFunction(() => document.querySelector('li[data-container="db1"] .i-dn-mirror')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: 10_000 });
  assert.is(epOf('db1').mirror, 'mir0');
  await page.getByRole('button', { name: 'Show the networks diagram' }).click();
  const diagram = page.getByRole('img', { name: 'Wiring diagram of the Docker networks' });
  await diagram.waitFor({ timeout: 20_000 });
  const svg = await diagram.innerHTML();
  for (const s of ['office', 'school', 'web1', 'db1', 'odsaddport1', 'mir0']) assert.ok(svg.includes(s), `diagram shows ${s}`);
  await diagram.scrollIntoViewIfNeeded();
  await screenshot(page, 'instructor-networks-diagram');
  // Chromium logs the one refused POST (400) itself; anything else is a fault of the page.
  assert.equal(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p)), [], 'no other console errors or CSP violations');
  assert.is(problems.length, 1, 'exactly the refused change');
});

for (const size of ['phone', 'kiosk'] as const) {
  test(`${size}: the section fits the width (no sideways scrolling) and its switches are reachable`, async () => {
    const { page, problems } = await loggedIn(size);
    const section = page.getByTestId('docker-networks');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, `instructor-networks-${size}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page ${overflow}px wider than the ${size} screen`);
    const box = await row(page, 'web1').getByRole('button', { name: 'deny-all on web1' }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= (page.viewportSize()!.width), 'the switch is on screen');
    await row(page, 'pc1').scrollIntoViewIfNeeded();
    await screenshot(page, `instructor-networks-${size}-pc1`);
    assert.equal(problems, []);
  });
}

test.run();

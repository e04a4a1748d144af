// DEV ONLY: screenshots + axe-core + CSP/console check of the built pages against the mock server
// (student page, captures on the student page and the instructor console, kiosk).
//   node kiosk-ui/dev/shots.mjs [outdir]     (default /tmp/ui-shots; starts the mock on port 8098)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? '/tmp/ui-shots';
mkdirSync(outDir, { recursive: true });
const PORT = 8098;
const base = `http://localhost:${PORT}`;
const mock = spawn(process.execPath, [join(here, 'mock-server.mjs'), String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
let mockLog = '';
mock.stdout.on('data', (d) => (mockLog += d));
await new Promise((r) => mock.stdout.once('data', r));
process.on('exit', () => mock.kill());

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const problems = [];
let faults = false; // set once the script injects network faults through the mock's /dev/ endpoints
const results = {};
const axeSource = readFileSync(join(here, '../../node_modules/axe-core/axe.min.js'), 'utf8');

async function context(opts) {
  const ctx = await browser.newContext(opts);
  ctx.setDefaultTimeout(10_000);
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  return ctx;
}
function watch(page, name) {
  const requests = [];
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (/status of 400/.test(m.text()) && m.location().url.endsWith('/api/join')) return; // the wrong code we type on purpose
    // after we cut the stream / end sessions on purpose, the browser logs the failed API loads
    if (faults && /^Failed to load resource/.test(m.text()) && new URL(m.location().url).pathname.startsWith('/api/')) return;
    problems.push(`${name}: console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  return requests;
}
async function axe(page, name) {
  console.log(`axe ${name}...`);
  // addScriptTag({path}) inserts an inline <script>, which the page's CSP blocks; evaluating over
  // the DevTools protocol is not subject to the page's CSP.
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + (n.any[0]?.data?.contrastRatio ? ` [${n.any[0].data.fgColor} on ${n.any[0].data.bgColor}: ${n.any[0].data.contrastRatio}]` : '')).slice(0, 5) }));
  });
  results[name] = r;
  console.log(`axe ${name}: ${r.length ? r.map((v) => `${v.id} (${v.impact}) ${v.help} @ ${v.nodes.join(' | ')}`).join('\n  ') : 'no violations'}`);
}
const shot = async (page, file, opts = {}) => { await page.screenshot({ path: join(outDir, file), ...opts }); console.log(`shot ${join(outDir, file)}`); };

// 1. Phone: join form, a wrong code, then a group card link.
{
  const ctx = await context({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const reqs = watch(page, 'phone');
  await page.goto(base + '/');
  await page.waitForSelector('#code');
  await shot(page, 'student-join-phone.png');
  await axe(page, 'student-join');
  await page.fill('#code', 'xyzzy');
  await page.click('button[type=submit]');
  await page.waitForSelector('#code-error');
  await shot(page, 'student-join-error-phone.png');
  await axe(page, 'student-join-error');
  await page.goto(base + '/?code=abcdef');
  await page.waitForSelector('.task');
  await page.locator('.st-fail details summary').first().click();
  await page.evaluate(() => window.scrollTo(0, 0));
  if (new URL(page.url()).search) problems.push('phone: ?code= stayed in the address bar');
  if (reqs.some((u) => /terminal-/.test(u))) problems.push('phone: terminal chunk loaded before a terminal opened');
  await shot(page, 'student-lab-phone.png');
  await shot(page, 'student-lab-phone-full.png', { fullPage: true });
  await page.click('button[aria-label="Terminal on h1"]');
  await page.waitForSelector('.xterm-screen');
  await page.waitForSelector('.ts-open');
  await page.keyboard.type('ping -c 1 10.0.1.2');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  await page.locator('#terminals').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('#terminals .terms')?.scrollIntoView({ block: 'start' }));
  await shot(page, 'student-terminal-phone.png');
  const loaded = reqs.filter((u) => /assets\/terminal-/.test(u)).map((u) => u.split('/').pop());
  console.log(`phone: terminal assets loaded on open: ${loaded.join(', ')}`);
  await axe(page, 'student-lab-terminal-phone');
  await ctx.close();
}

/** The page must not scroll sideways (tables scroll inside their own box). */
async function noSideways(page, name) {
  const d = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth }));
  console.log(`${name}: page width ${d.sw} in a ${d.w} px window`);
  if (d.sw > d.w) problems.push(`${name}: the page scrolls sideways (${d.sw} > ${d.w})`);
}
const T = (id) => `[data-testid="${id}"]`;
/** The packet list shows its newest packet (it follows the bottom unless the reader scrolls up). */
async function followsNewest(page, name) {
  const gap = await page.locator('.cap-box').evaluate((b) => b.scrollHeight - b.scrollTop - b.clientHeight);
  if (gap > 2) problems.push(`${name}: the packet list is ${gap} px above its newest packet`);
}
const status = (page) => page.locator(T('capture-status')).innerText();
/** The pcap link, fetched by the page: a pcap (little-endian magic) offered as a download (its first bytes: it streams until the capture ends). */
async function checkPcap(page, name) {
  const r = await page.evaluate(async (sel) => {
    const res = await fetch(document.querySelector(sel).getAttribute('href'));
    const reader = res.body.getReader();
    let b = new Uint8Array(0);
    while (b.length < 24) { const { value, done } = await reader.read(); if (done) break; b = new Uint8Array([...b, ...value]); }
    await reader.cancel();
    return { cd: res.headers.get('content-disposition'), head: [...b.slice(0, 4)].map((x) => x.toString(16).padStart(2, '0')).join(''), link: b[20] };
  }, T('capture-download'));
  console.log(`${name}: pcap magic ${r.head}, linktype ${r.link}, ${r.cd}`);
  if (r.head !== 'd4c3b2a1' || r.link !== 1 || !/attachment/.test(r.cd ?? '')) problems.push(`${name}: the pcap link does not give a pcap download`);
}

// 1b. Phone: a capture of h1.eth0 in progress, a reload picks it up, Stop; a failed one; 360 px wide.
{
  const ctx = await context({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  watch(page, 'capture-phone');
  await page.goto(base + '/?code=ABCDEF');
  await page.waitForSelector(T('capture'));
  await page.locator(T('capture')).scrollIntoViewIfNeeded();
  await shot(page, 'student-capture-ready-phone.png');
  await page.click(T('capture-start-h1.eth0'));
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 8, `${T('capture-packets')} li`);
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  if (focused !== 'capture-stop') problems.push(`capture-phone: after Capture the focus is on ${focused}, not Stop`);
  await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), T('capture'));
  await shot(page, 'student-capture-phone.png');
  console.log(`capture-phone: "${await status(page)}" / "${await page.locator('.cap-stats').innerText()}"`);
  await axe(page, 'student-capture-phone');
  await noSideways(page, 'capture-phone');
  await checkPcap(page, 'capture-phone');
  await page.reload();
  await page.locator(T('capture-status')).filter({ hasText: 'Recording' }).waitFor();
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 8, `${T('capture-packets')} li`);
  console.log(`capture-phone: after a reload: "${await status(page)}", ${await page.locator(`${T('capture-packets')} li`).count()} packets shown`);
  await followsNewest(page, 'capture-phone after a reload');
  await page.locator(T('capture-stop')).focus();
  await page.keyboard.press('Enter');
  await page.locator(T('capture-status')).filter({ hasText: 'stopped' }).waitFor();
  const after = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  if (after !== 'capture-download') problems.push(`capture-phone: after Stop the focus is on ${after}, not the download link`);
  await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), T('capture'));
  await shot(page, 'student-capture-stopped-phone.png');
  console.log(`capture-phone: after Stop: "${await status(page)}"`);
  await page.click(T('capture-start-h2.eth0'));
  await page.waitForSelector(`${T('capture-packets')} li`);
  await fetch(base + '/dev/capture-fail', { method: 'POST' });
  await page.locator(T('capture-status')).filter({ hasText: 'failed' }).waitFor();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'start' }), T('capture'));
  await shot(page, 'student-capture-failed-360.png');
  console.log(`capture-360: "${await status(page)}"`);
  await noSideways(page, 'capture-360');
  await axe(page, 'student-capture-failed-360');
  await ctx.close();
}

// 1c. Laptop: keyboard only, a 10 s capture of h2.eth0 runs to its end.
{
  const ctx = await context({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, 'capture-laptop');
  await page.goto(base + '/?code=ABCDEF');
  await page.waitForSelector(T('capture'));
  await page.getByLabel('Length of a capture on h2.eth0').focus();
  await page.keyboard.press('ArrowUp'); // 30 s -> 10 s
  await page.keyboard.press('Tab');
  const on = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  if (on !== 'capture-start-h2.eth0') problems.push(`capture-laptop: Tab from the length went to ${on}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 10, `${T('capture-packets')} li`);
  await page.locator(T('capture')).evaluate((e) => e.scrollIntoView({ block: 'end' }));
  await shot(page, 'student-capture-laptop.png');
  console.log(`capture-laptop: "${await status(page)}" / "${await page.locator('.cap-stats').innerText()}"`);
  await page.locator(T('capture-status')).filter({ hasText: 'stopped after' }).waitFor({ timeout: 15_000 });
  await page.locator(T('capture')).evaluate((e) => e.scrollIntoView({ block: 'end' }));
  await shot(page, 'student-capture-done-laptop.png');
  console.log(`capture-laptop: at the end: "${await status(page)}" / "${await page.locator('.cap-stats').innerText()}"`);
  await followsNewest(page, 'capture-laptop');
  await axe(page, 'student-capture-done-laptop'); // after the shots: axe scrolls the packet list while it works
  await ctx.close();
}

// 1d. Instructor console at phone and laptop size: log in, capture web.eth0 of group 1.
for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['laptop', { width: 1366, height: 768 }]]) {
  const phone = size === 'phone';
  const ctx = await context({ viewport, ...(phone ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}) });
  const page = await ctx.newPage();
  watch(page, `instructor-${size}`);
  await page.goto(base + '/instructor');
  await page.getByLabel('Password').fill('teacher');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('table.i-sw');
  await shot(page, `instructor-${size}.png`);
  if (phone) await shot(page, 'instructor-phone-full.png', { fullPage: true });
  await noSideways(page, `instructor-${size}`);
  await axe(page, `instructor-${size}`);
  await page.click(T('capture-start-web.eth0'));
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 8, `${T('capture-packets')} li`);
  await page.locator('section[aria-labelledby=sw-h]').evaluate((e, block) => e.scrollIntoView({ block }), phone ? 'end' : 'start');
  await shot(page, `instructor-capture-${size}.png`);
  console.log(`instructor-${size}: "${await status(page)}"`);
  await noSideways(page, `instructor-capture-${size}`);
  await axe(page, `instructor-capture-${size}`);
  await checkPcap(page, `instructor-${size}`);
  await page.click(T('capture-stop'));
  await page.locator(T('capture-status')).filter({ hasText: 'stopped' }).waitFor();
  if (phone) {
    await page.getByRole('button', { name: 'Show the whole lab' }).click();
    await page.getByRole('img', { name: 'Wiring diagram of every group' }).scrollIntoViewIfNeeded();
    await shot(page, 'instructor-diagram-phone.png');
    await noSideways(page, 'instructor-diagram-phone');
    await page.getByRole('button', { name: 'Print group cards' }).click();
    await page.waitForSelector('.i-card svg');
    await shot(page, 'instructor-cards-phone.png');
    await noSideways(page, 'instructor-cards-phone');
    await axe(page, 'instructor-cards-phone');
  }
  await ctx.close();
}

// 1f. ACL hit counters next to the switches: the console (group 1's h1.eth0 with no-ping on) and the
// student page (no-ping switched on), at phone, laptop and the 7" display's size.
for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['laptop', { width: 1366, height: 768 }], ['800x480', { width: 800, height: 480 }]]) {
  const phone = size === 'phone';
  const ctx = await context({ viewport, ...(phone ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}) });
  const page = await ctx.newPage();
  watch(page, `acl-hits-${size}`);
  await page.goto(base + '/instructor');
  await page.getByLabel('Password').fill('teacher');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('table.i-sw');
  const toggle = page.getByRole('button', { name: 'no-ping on h1.eth0', exact: true });
  if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
  await page.locator('table.i-sw .acl-hits').first().waitFor();
  await page.locator('table.i-sw .acl-hits').first().evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await shot(page, `acl-hits-instructor-${size}.png`);
  await noSideways(page, `acl-hits-instructor-${size}`);
  await axe(page, `acl-hits-instructor-${size}`);
  const student = await ctx.newPage();
  watch(student, `acl-hits-student-${size}`);
  await student.goto(base + '/?code=abcdef');
  await student.waitForSelector('#switches');
  const sw = student.locator('#switches button.toggle', { hasText: 'no-ping' });
  if ((await sw.getAttribute('aria-pressed')) !== 'true') await sw.click();
  await student.locator('#switches .acl-hits').waitFor();
  await student.locator('#switches').evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await shot(student, `acl-hits-student-${size}.png`);
  await noSideways(student, `acl-hits-student-${size}`);
  await axe(student, `acl-hits-student-${size}`);
  console.log(`acl-hits-${size}: console "${(await page.locator('table.i-sw .acl-hits').first().textContent())}", student "${await student.locator('#switches .acl-hits').first().textContent()}"`);
  await ctx.close();
}

// 1e. The console's Dongles section at phone, laptop and the 7" display's size: a role changed and saved;
// the running lesson's mirror dongle locked. (DONGLES=dev in the mock's env: the no-discovery view.)
for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['laptop', { width: 1366, height: 768 }], ['800x480', { width: 800, height: 480 }]]) {
  const phone = size === 'phone';
  const ctx = await context({ viewport, ...(phone ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}) });
  const page = await ctx.newPage();
  watch(page, `dongles-${size}`);
  await page.goto(base + '/instructor');
  await page.getByLabel('Password').fill('teacher');
  await page.getByRole('button', { name: 'Log in' }).click();
  const section = page.locator('[data-testid=dongles]');
  await section.locator('li[data-dongle=up0]').waitFor();
  await section.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await shot(page, `dongles-${size}.png`);
  await noSideways(page, `dongles-${size}`);
  await axe(page, `dongles-${size}`);
  const row = section.locator('li[data-dongle=lab1], li[data-dongle=spare1]');
  if (await section.locator('li[data-dongle=mir0] select').count()) problems.push(`dongles-${size}: the running lesson's mirror dongle can be changed`);
  const was = await row.locator('select').inputValue();
  await row.locator('select').selectOption(was === 'unused' ? 'lab' : 'unused');
  await row.getByRole('button', { name: /^Save (lab1|spare1)$/ }).click();
  const done = section.locator(`li[data-dongle=${was === 'unused' ? 'lab1' : 'spare1'}]`);
  await done.locator('.i-dn-note.ok').waitFor();
  await done.evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await shot(page, `dongles-saved-${size}.png`);
  console.log(`dongles-${size}: "${await done.locator('.i-dn-note').textContent()}"`);
  await noSideways(page, `dongles-saved-${size}`);
  await ctx.close();
}

// 2. Laptop: two terminals as tabs, a hint open, a network blip, a refused host.
{
  const ctx = await context({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  watch(page, 'laptop');
  await page.goto(base + '/?code=ABCDEF');
  await page.waitForSelector('.task');
  await shot(page, 'student-lab-laptop.png');
  await page.click('button[aria-label="Terminal on h2"]');
  await page.waitForSelector('.ts-open');
  await page.click('button[aria-label="Terminal on h1"]');
  await page.waitForFunction(() => document.querySelectorAll('.ts-open').length === 2);
  await page.keyboard.type('ping -c 1 10.0.1.2');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  await shot(page, 'student-terminal-laptop.png');
  await axe(page, 'student-lab-terminal-laptop');
  // tasks live: a tick flips the ARP task to pass over SSE
  const before = await page.locator('.tally strong').textContent();
  await fetch(base + '/dev/tick', { method: 'POST' });
  await page.waitForFunction((b) => document.querySelector('.tally strong')?.textContent !== b, before, { timeout: 5000 });
  console.log(`laptop: tally ${before} -> ${await page.locator('.tally strong').textContent()} (live over SSE)`);
  // network blip
  faults = true;
  await fetch(base + '/dev/drop', { method: 'POST' });
  await page.waitForSelector('.term-panel:not([hidden]) .ts-reconnecting', { timeout: 5000 });
  await shot(page, 'student-reconnecting-laptop.png');
  await page.waitForFunction(() => document.querySelectorAll('.ts-open').length === 2, null, { timeout: 15000 });
  console.log('laptop: both terminals reconnected');
  await page.click('button[aria-label="Terminal on web"]');
  await page.waitForSelector('.term-panel:not([hidden]) .ts-closed');
  await shot(page, 'student-refused-laptop.png');
  // resize: the window shrinks -> the terminal sends a resize
  await page.click('#terminals [role=tab] >> text=h1');
  await page.waitForTimeout(300);
  const n = (mockLog.match(/resize/g) ?? []).length;
  await page.setViewportSize({ width: 1100, height: 700 });
  await page.waitForTimeout(500);
  console.log(`laptop: resize messages after window resize: ${(mockLog.match(/resize/g) ?? []).length - n}`);
  // the session ends on the server (lesson stopped): back to the join form with a message
  await fetch(base + '/dev/end-sessions', { method: 'POST' });
  await page.waitForSelector('#code-error', { timeout: 25_000 });
  console.log(`laptop: after the session ended: "${await page.locator('#code-error').textContent()}"`);
  await ctx.close();
}

// 3. Kiosk at 800x480, with and without alarms.
{
  const ctx = await context({ viewport: { width: 800, height: 480 } });
  const page = await ctx.newPage();
  watch(page, 'kiosk');
  await page.goto(base + '/kiosk');
  await page.waitForSelector('.k-g');
  await page.waitForTimeout(700);
  await shot(page, 'kiosk-800x480.png');
  await axe(page, 'kiosk');
  const dims = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,
    over: [...document.querySelectorAll('.kiosk *')].filter((e) => e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflow === 'hidden').map((e) => e.className) }));
  console.log(`kiosk: scroll ${dims.sw}x${dims.sh}; clipped boxes: ${dims.over.join(', ') || 'none'}`);
  if (dims.sw > 800 || dims.sh > 480) problems.push('kiosk: page scrolls');
  const fills = await page.$$eval('.k-fill', (els) => els.map((e) => e.getBoundingClientRect().width));
  console.log(`kiosk: bar fill widths (style prop under CSP): ${fills.map(Math.round).join(', ')}`);
  await fetch(base + '/dev/alarms', { method: 'POST' });
  await page.waitForFunction(() => !document.querySelector('.k-alarms'));
  await page.waitForTimeout(700);
  await shot(page, 'kiosk-800x480-no-alarms.png');
  // the stream fails for good: the kiosk falls back to polling /api/kiosk every 10 s
  const first = await page.locator('.k-g-num').first().textContent();
  await fetch(base + '/dev/events-off', { method: 'POST' });
  await fetch(base + '/dev/tick', { method: 'POST' });
  await page.waitForFunction((f) => document.querySelector('.k-g-num')?.textContent !== f, first, { timeout: 25_000 });
  console.log(`kiosk: group 1 ${first} -> ${await page.locator('.k-g-num').first().textContent()} by polling while the stream is down`);
  await ctx.close();
}

await browser.close();
console.log('mock log:\n' + mockLog);
mock.kill();
console.log(problems.length ? `PROBLEMS:\n  ${problems.join('\n  ')}` : 'no console errors, no CSP violations');
process.exitCode = problems.length || Object.values(results).some((r) => r.length) ? 1 : 0;

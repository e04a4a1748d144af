// Real headless Chromium (Debian's) driven by playwright-core, for the e2e tier. Screenshots go
// to test-artifacts/e2e/ (look at them); axe-core checks each page's accessibility.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.DOVELAB_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = fileURLToPath(new URL('../../../test-artifacts/e2e/', import.meta.url));

/** The sizes people meet the pages at. */
export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  laptop: { width: 1366, height: 768 },
  kiosk: { width: 800, height: 480 },
} as const;

let browser: Browser | undefined;

/** One browser per test file. A missing Chromium fails the tier (it never skips). */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (the test set-up does)`);
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    // Without the background-networking flags Chromium keeps dialing out, which this machine refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return browser;
}

export async function closeBrowser(): Promise<void> { await browser?.close(); browser = undefined; }

/** A new page at a viewport, collecting console errors and CSP violations. */
export async function openPage(size: keyof typeof VIEWPORTS): Promise<{ page: Page; problems: string[] }> {
  const ctx = await (await launch()).newContext({ viewport: VIEWPORTS[size], deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = `${SHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: false });
  return path;
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: number }

/** axe-core's violations on the page as it is now. */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern (a <script> tag would be refused).
  await page.evaluate(readFileSync(axePath, 'utf8'));
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

/** Serious or critical axe findings (the rest are printed for the record). */
export async function seriousA11y(page: Page, name: string): Promise<string[]> {
  const v = await axe(page);
  if (v.length) console.log(`    axe ${name}: ${v.map((x) => `${x.id} (${x.impact}, ${x.nodes})`).join('; ')}`);
  return v.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${x.id}: ${x.help}`);
}

/** Pixels of the canvas in `sel` within a few levels of the colour (the drawn line). */
export const pixelsOf = (page: Page, sel: string, rgb: [number, number, number]) => page.evaluate(([s, c]) => {
  const canvas = document.querySelector(`${s} canvas`) as HTMLCanvasElement | null;
  if (!canvas) return -1;
  const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - c[0]) < 8 && Math.abs(d[i + 1]! - c[1]) < 8 && Math.abs(d[i + 2]! - c[2]) < 8 && d[i + 3]! > 200) n++;
  return n;
}, [sel, rgb] as const);
/** The graphs' line colours (kiosk-ui's CSS): received, sent. */
export const LINE_RX: [number, number, number] = [0x0a, 0x58, 0xa8];
export const LINE_TX: [number, number, number] = [0xa4, 0x4a, 0x00];

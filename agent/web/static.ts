// The built pages (dist/kiosk-ui/, made by esbuild from kiosk-ui/): `/` is student.html, `/kiosk`
// kiosk.html, `/instructor` instructor.html, and any other file is served by its exact name under that directory. Traversal
// (`..`, encoded or not), backslashes, NUL and dotfiles are refused; symlinks may not lead out.
// Hashed asset names are cached for good; HTML is revalidated on every load.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/** dist/kiosk-ui next to the built agent (dist/agent/web/static.js -> dist/kiosk-ui). */
export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../kiosk-ui');

export const PAGES: Record<string, string> = { '/': 'student.html', '/kiosk': 'kiosk.html', '/instructor': 'instructor.html' };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

/** esbuild's `[name]-[hash]` (8 characters of A-Z, 0-9) or a hex content hash. */
const HASHED = /[-.]([A-Z0-9]{8}|[a-f0-9]{8,})\.[a-z0-9]+$/;

/** The file `urlPath` names under `root`, or undefined when the path is not one we serve. Pure apart from realpath. */
export function staticFile(root: string, urlPath: string): string | undefined {
  // Encoded separators and dots are never part of an asset name: refuse them before decoding.
  if (/%(2e|2f|5c|00)/i.test(urlPath) || urlPath.includes('\\') || urlPath.includes('\0')) return undefined;
  let path: string;
  try { path = decodeURIComponent(urlPath); } catch { return undefined; }
  const parts = path.split('/').filter((p) => p !== '');
  if (!parts.length || parts.some((p) => p.startsWith('.') || p.includes('\\') || p.includes('\0'))) return undefined;
  const file = resolve(root, ...parts);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    const real = realpathSync(file);
    if (!real.startsWith(realpathSync(root) + sep) || !statSync(real).isFile()) return undefined;
    return real;
  } catch { return undefined; }
}

export const NOT_BUILT = (root: string) =>
  `The Dovelab pages are not built yet (${root} is missing).\n` +
  'Build them with `npm run build` (esbuild bundles kiosk-ui/ into dist/kiosk-ui/), then reload.\n';

export async function serveUi(c: Context, root: string): Promise<Response> {
  if (!existsSync(root)) return c.text(NOT_BUILT(root), 503, { 'Cache-Control': 'no-store' });
  const url = new URL(c.req.url);
  const name = PAGES[url.pathname];
  const file = name ? staticFile(root, name) : staticFile(root, url.pathname.slice(1) || '/');
  if (!file) return c.text('not found\n', 404);
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const cache = type.startsWith('text/html') || !HASHED.test(file) ? 'no-cache' : 'public, max-age=31536000, immutable';
  const body = await readFile(file);
  return c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': cache });
}


// Builds our images from image-build/images/* without a registry; cached by a hash of each recipe.
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, copyFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import { pack } from 'tar-fs';
import { run } from '../sys/run.js';

export const BASE_TAG = 'dovelab/base:bookworm';
/** In build order: a recipe built FROM another of ours comes after it. */
export const RECIPES = ['ovs', 'faucet', 'labhost', 'router', 'services'] as const;
const HASH_LABEL = 'dovelab.recipe';

export interface BuildReport { image: string; built: boolean; ms: number }

/** Hash of every file in a recipe directory (names and bytes), plus extra inputs. */
export function recipeHash(dir: string, extra: string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string): string[] => readdirSync(d).sort().flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
  for (const f of walk(dir)) { h.update(relative(dir, f)); h.update('\0'); h.update(readFileSync(f)); h.update('\0'); }
  for (const e of extra) h.update(e);
  return h.digest('hex').slice(0, 20);
}

/**
 * The recipe of ours a Dockerfile builds FROM (`FROM dovelab/labhost` -> labhost), or undefined
 * (FROM dovelab/base:bookworm, which `buildImages` builds itself, or anything else). Only the
 * last stage's FROM counts. Pure.
 */
export function recipeParent(dockerfile: string): string | undefined {
  const froms = [...dockerfile.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)/gim)].map((m) => m[1]!);
  const m = /^dovelab\/([a-z0-9][a-z0-9_-]*)(?::latest)?$/.exec(froms.at(-1) ?? '');
  return m && m[1] !== 'base' ? m[1] : undefined;
}

/** The parent (FROM dovelab/<name>) of each recipe in `recipes`, read from its Dockerfile. */
export function recipeParents(recipes: string): Record<string, string | undefined> {
  return Object.fromEntries(RECIPES.map((r) => {
    const f = join(recipes, r, 'Dockerfile');
    return [r, existsSync(f) ? recipeParent(readFileSync(f, 'utf8')) : undefined];
  }));
}

/** The recipes to build for `only` (all when empty), with the recipes they build FROM, in RECIPES order. Pure. */
export function withParents(only: readonly string[] | undefined, parents: Record<string, string | undefined>): string[] {
  const want = new Set<string>(only?.length ? only : RECIPES);
  for (let grew = true; grew;) {
    grew = false;
    for (const n of [...want]) { const p = parents[n]; if (p && !want.has(p)) { want.add(p); grew = true; } }
  }
  return RECIPES.filter((r) => want.has(r));
}

async function labelOf(docker: Docker, ref: string): Promise<string | undefined> {
  try { return (await docker.getImage(ref).inspect()).Config.Labels?.[HASH_LABEL]; } catch { return undefined; }
}

/** The Debian mirror this machine already uses (never hard-coded). */
export function debianMirror(): string {
  if (process.env.DOVELAB_DEBIAN_MIRROR) return process.env.DOVELAB_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d')
    ? readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  for (const f of files) {
    if (!existsSync(f) || !/\.(list|sources)$/.test(f)) continue;
    const text = readFileSync(f, 'utf8');
    const deb822 = /^URIs:\s*(\S+)[\s\S]*?^Suites:\s*([^\n]*)/m.exec(text);
    if (deb822 && /\bbookworm\b/.test(deb822[2] ?? '') && !/security/.test(deb822[1] ?? '')) return deb822[1]!;
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line) return line[1]!;
  }
  throw new Error('no Debian bookworm mirror found in /etc/apt: set DOVELAB_DEBIAN_MIRROR');
}

/** Runs a command, forwarding each "I: ..." progress line of debootstrap. */
function runWithProgress(argv: string[], onLine: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const feed = (b: Buffer) => {
      const text = b.toString();
      tail = (tail + text).slice(-4000);
      for (const l of text.split('\n')) if (l.startsWith('I: ') || l.startsWith('E: ') || l.startsWith('W: ')) onLine(l);
    };
    child.stdout.on('data', feed); child.stderr.on('data', feed);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} failed (exit ${code}): ${tail.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

/**
 * Runs the base recipe's setup.sh in a debootstrapped rootfs: `chroot <rootfs> /bin/sh
 * /setup.sh <build id>`. setup.sh refuses to run unless /.dovelab-rootfs holds the id it is
 * given, so it can never rewrite a host by mistake. Neither the marker nor setup.sh ships:
 * both are gone when this returns (or throws), before docker import.
 */
export async function runBaseSetup(rootfs: string, setupSh: string, buildId: string): Promise<void> {
  const marker = join(rootfs, '.dovelab-rootfs');
  writeFileSync(marker, `${buildId}\n`);
  copyFileSync(setupSh, join(rootfs, 'setup.sh'));
  try {
    await run(['chroot', rootfs, '/bin/sh', '/setup.sh', buildId], { timeoutMs: 600_000 });
  } finally {
    rmSync(marker, { force: true });
    rmSync(join(rootfs, 'setup.sh'), { force: true });
  }
}

async function buildBase(docker: Docker, recipes: string, workDir: string, force: boolean, log: (s: string) => void): Promise<BuildReport> {
  const t0 = Date.now();
  const dir = join(recipes, 'base');
  const hash = recipeHash(dir, ['bookworm', 'minbase', process.arch]);
  if (!force && (await labelOf(docker, BASE_TAG)) === hash) {
    log(`${BASE_TAG}: up to date (${hash})`);
    return { image: BASE_TAG, built: false, ms: Date.now() - t0 };
  }
  const packages = readFileSync(join(dir, 'packages.txt'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const rootfs = join(workDir, 'base-rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  const mirror = debianMirror();
  log(`${BASE_TAG}: debootstrap bookworm (minbase + ${packages.length} packages)`);
  await runWithProgress(['debootstrap', '--variant=minbase', `--include=${packages.join(',')}`, 'bookworm', rootfs, mirror],
    (l) => log(`  ${BASE_TAG}: ${l}`));
  await runBaseSetup(rootfs, join(dir, 'setup.sh'), `${hash}-${randomUUID()}`);
  log(`${BASE_TAG}: docker import`);
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [repo, tag] = BASE_TAG.split(':');
  const stream = await docker.importImage(tar.stdout as unknown as string, { repo, tag, changes: [`LABEL ${HASH_LABEL}=${hash}`, 'CMD ["/bin/bash"]'] } as unknown as object);
  await followProgress(docker, stream as NodeJS.ReadableStream, () => {});
  rmSync(rootfs, { recursive: true, force: true });
  log(`${BASE_TAG}: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { image: BASE_TAG, built: true, ms: Date.now() - t0 };
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (e: { stream?: string; status?: string }) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string; errorDetail?: { message?: string } }[]) => {
      const failed = out?.find((o) => o.error);
      if (err) reject(err);
      else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
      else resolve();
    }, onEvent);
  });
}

async function buildRecipe(docker: Docker, recipes: string, name: string, baseHash: string, workDir: string, force: boolean,
  log: (s: string) => void, parentHash?: string): Promise<BuildReport> {
  const t0 = Date.now();
  const image = `dovelab/${name}`;
  const dir = join(recipes, name);
  // Built FROM another of ours: its hash is part of this one's, so a new parent rebuilds the child.
  const hash = recipeHash(dir, parentHash === undefined ? [baseHash] : [baseHash, parentHash]);
  if (!force && (await labelOf(docker, image)) === hash) {
    log(`${image}: up to date (${hash})`);
    return { image, built: false, ms: Date.now() - t0 };
  }
  // Context: the recipe plus this machine's CA bundle (pip behind an intercepting proxy needs it).
  const ctx = join(workDir, `ctx-${name}`);
  rmSync(ctx, { recursive: true, force: true });
  cpSync(dir, ctx, { recursive: true });
  copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(ctx, 'ca.crt'));
  const stream = await docker.buildImage(pack(ctx) as unknown as NodeJS.ReadableStream, {
    t: image, labels: { [HASH_LABEL]: hash }, rm: true, forcerm: true,
  } as Docker.ImageBuildOptions);
  await followProgress(docker, stream, (e) => {
    const step = /^Step (\d+\/\d+) : (.*)/.exec(e.stream ?? '');
    if (step) log(`  ${image}: step ${step[1]}: ${step[2]!.slice(0, 100)}`);
  });
  rmSync(ctx, { recursive: true, force: true });
  log(`${image}: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { image, built: true, ms: Date.now() - t0 };
}

export async function buildImages(docker: Docker, recipes: string, opts: { force?: boolean; only?: string[]; log?: (s: string) => void } = {}): Promise<BuildReport[]> {
  const log = opts.log ?? (() => {});
  const workDir = '/var/tmp/dovelab-build';
  mkdirSync(workDir, { recursive: true });
  const unknown = (opts.only ?? []).filter((n) => !(RECIPES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown image ${unknown.join(', ')} (one of ${RECIPES.join(', ')})`);
  const parents = recipeParents(recipes);
  const names = withParents(opts.only, parents);
  log(`[1/${names.length + 1}] ${BASE_TAG}`);
  const reports = [await buildBase(docker, recipes, workDir, !!opts.force, log)];
  const baseHash = (await labelOf(docker, BASE_TAG)) ?? '';
  for (const [i, name] of names.entries()) {
    log(`[${i + 2}/${names.length + 1}] dovelab/${name}`);
    const parent = parents[name];
    const parentHash = parent ? (await labelOf(docker, `dovelab/${parent}`)) ?? '' : undefined;
    reports.push(await buildRecipe(docker, recipes, name, baseHash, workDir, !!opts.force, log, parentHash));
  }
  // Older builds of our recipes, now untagged.
  if (reports.some((r) => r.built)) await docker.pruneImages({ filters: { dangling: ['true'], label: [HASH_LABEL] } });
  return reports;
}


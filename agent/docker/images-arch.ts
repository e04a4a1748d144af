// Builds our images for another architecture (arm64 for the Pi) from the same recipes as
// images.ts, into docker-archive tars plus manifest.json, never into this machine's dockerd.
// buildah does the work in its own storage (so nothing clashes with this machine's images and
// the image config really says arm64; `docker import --platform` here still records amd64);
// foreign binaries run under qemu-user-static (binfmt_misc). Cached by recipe hash.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { commandExists, run } from '../sys/run.js';
import { writeAtomic } from '../sys/files.js';
import { inspectArchive, retagArchive, sha256File } from './image-archive.js';
import { dockerArch, manifestText, parsePreloadManifest, upToDate, withImage, type PreloadManifest } from './image-manifest.js';
import { BASE_TAG, RECIPES, debianMirror, recipeHash, recipeParents, runBaseSetup, withParents } from './images.js';

const HASH_LABEL = 'dovelab.recipe';
/** Bumped when the way these tars are made changes: part of every recipe hash here. */
const FORMAT = 'buildah-docker-archive-1';
/** Docker architecture -> debootstrap architecture and the binfmt_misc entry that runs it. */
const ARCHES: Record<string, { deb: string; binfmt: string }> = {
  arm64: { deb: 'arm64', binfmt: 'qemu-aarch64' },
  amd64: { deb: 'amd64', binfmt: 'qemu-x86_64' },
};

export interface ArchBuildReport { name: string; tag: string; built: boolean; ms: number; size?: number; why: string }
export interface ArchBuildOptions {
  arch: string;
  /** Where the tars and manifest.json go (dist/<arch>/images). */
  outDir: string;
  only?: string[];
  force?: boolean;
  log?: (s: string) => void;
  /** buildah's storage and scratch space (default /var/tmp/dovelab-build/<arch>). */
  workDir?: string;
  /** How long to wait for another build in the same workDir (default 90 min). */
  lockWaitMs?: number;
}

/** The tag an image carries in its tar: what config.images expects on the Pi. */
export const shippedTag = (name: string) => `dovelab/${name}:latest`;

/** Runs argv, handing each output line to onLine; kills it after timeoutMs. */
function runLines(argv: string[], timeoutMs: number, onLine: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let partial = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${argv.slice(0, 3).join(' ')}: no end within ${timeoutMs / 60_000} min (killed)`)); }, timeoutMs);
    const feed = (b: Buffer) => {
      const text = partial + b.toString();
      tail = (tail + b.toString()).slice(-4000);
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    };
    child.stdout.on('data', feed); child.stderr.on('data', feed);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot run ${argv[0]}: ${e.message}`)); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(Object.assign(new Error(`${argv.slice(0, 3).join(' ')} failed (exit ${code}): ${tail.trim().split('\n').slice(-6).join(' | ')}`), { output: tail }));
    });
  });
}

/**
 * Failures of apt or pip to reach the package archive (the download, not the recipe): worth
 * another try. Seen here when something else briefly routed the archive's address elsewhere.
 */
export function isFetchFailure(message: string): boolean {
  return /Failed to fetch|Unable to connect to|Temporary failure resolving|Could not resolve|Connection (timed out|refused|reset)|ReadTimeoutError|ConnectTimeoutError|NewConnectionError|Max retries exceeded/.test(message);
}

/** Runs a build step, again (up to `tries` times, after a pause) when it failed to fetch packages. */
async function retryFetches<T>(what: string, log: (s: string) => void, fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try { return await fn(); } catch (e) {
      // apt-get update only warns when it cannot fetch the lists; the install then "cannot locate" packages.
      const text = `${(e as Error).message}\n${(e as { output?: string }).output ?? ''}`;
      if (attempt >= tries || !isFetchFailure(text)) throw e;
      const pauseS = 20 * attempt;
      log(`${what}: could not fetch packages (attempt ${attempt}/${tries}); again in ${pauseS} s: ${(e as Error).message.slice(-300)}`);
      await new Promise((r) => setTimeout(r, pauseS * 1000));
    }
  }
}

/** What this build needs on the host; one message naming everything missing. */
async function checkHost(arch: string): Promise<void> {
  const a = ARCHES[arch];
  if (!a) throw new Error(`--arch ${arch}: not supported (one of ${Object.keys(ARCHES).join(', ')})`);
  const missing: string[] = [];
  for (const cmd of ['buildah', 'debootstrap']) if (!(await commandExists(cmd))) missing.push(cmd);
  if (arch !== dockerArch(process.arch)) {
    const entry = `/proc/sys/fs/binfmt_misc/${a.binfmt}`;
    if (!existsSync(entry) || !/^enabled/m.test(readFileSync(entry, 'utf8'))) missing.push(`binfmt_misc entry ${a.binfmt} (qemu-user-static)`);
    else if (!/^flags:.*F/m.test(readFileSync(entry, 'utf8'))) missing.push(`the F flag on binfmt_misc ${a.binfmt} (containers cannot see the interpreter)`);
  }
  if (missing.length) throw new Error(`cannot build ${arch} images: missing ${missing.join(', ')} (run image-build/arm64-setup.sh as root)`);
}

/** buildah with this build's own storage: never the host's containers-storage, never dockerd. */
function buildahIn(workDir: string) {
  const g = ['buildah', '--root', join(workDir, 'storage'), '--runroot', join(workDir, 'run'), '--storage-driver', 'overlay'];
  return {
    argv: (...a: string[]) => [...g, ...a],
    run: (a: string[], timeoutMs = 120_000) => run([...g, ...a], { timeoutMs }),
    /** The recipe label of a local image (undefined: no such image). */
    async label(ref: string): Promise<string | undefined> {
      const r = await run([...g, 'inspect', '--type', 'image', ref], { allowFail: true, timeoutMs: 60_000 });
      if (r.code !== 0) return undefined;
      const j = JSON.parse(r.stdout) as { OCIv1?: { config?: { Labels?: Record<string, string> } } };
      return j.OCIv1?.config?.Labels?.[HASH_LABEL];
    },
  };
}
type Buildah = ReturnType<typeof buildahIn>;

/** debootstrap --arch + setup.sh in a chroot (under emulation) -> buildah image with that config. */
async function buildBase(b: Buildah, recipes: string, arch: string, hash: string, workDir: string, log: (s: string) => void): Promise<void> {
  const dir = join(recipes, 'base');
  const packages = readFileSync(join(dir, 'packages.txt'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const rootfs = join(workDir, 'base-rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  try {
    log(`${BASE_TAG} (${arch}): debootstrap --arch=${ARCHES[arch]!.deb} bookworm (minbase + ${packages.length} packages)`);
    await runLines(['debootstrap', `--arch=${ARCHES[arch]!.deb}`, '--variant=minbase', `--include=${packages.join(',')}`, 'bookworm', rootfs, debianMirror()],
      45 * 60_000, (l) => { if (/^(E|W): |^I: (Retrieving (InRelease|Packages)|Checking|Installing|Unpacking the|Configuring the|Base system)/.test(l)) log(`  ${l}`); });
    log(`${BASE_TAG} (${arch}): setup.sh in the rootfs`);
    await runBaseSetup(rootfs, join(dir, 'setup.sh'), `${hash}-${randomUUID()}`);
    const ctr = (await b.run(['from', '--arch', arch, '--os', 'linux', '--name', `dovelab-base-${randomUUID().slice(0, 8)}`, 'scratch'])).stdout.trim();
    try {
      const mnt = (await b.run(['mount', ctr])).stdout.trim();
      await run(['cp', '-a', `${rootfs}/.`, `${mnt}/`], { timeoutMs: 600_000 });
      await b.run(['umount', ctr]);
      await b.run(['config', '--arch', arch, '--os', 'linux', '--cmd', '["/bin/bash"]', '--label', `${HASH_LABEL}=${hash}`, ctr]);
      await b.run(['commit', '--format', 'docker', '--rm', ctr, `localhost/${BASE_TAG}`], 600_000);
    } catch (e) {
      await b.run(['rm', ctr]).catch(() => {});
      throw e;
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** `buildah bud` of a recipe for `arch`, then its docker-archive tar in outDir (returns its path). */
async function buildRecipe(b: Buildah, recipes: string, name: string, arch: string, hash: string, workDir: string, outDir: string, force: boolean, log: (s: string) => void): Promise<string> {
  const ctx = join(workDir, `ctx-${name}`);
  rmSync(ctx, { recursive: true, force: true });
  cpSync(join(recipes, name), ctx, { recursive: true });
  copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(ctx, 'ca.crt'));
  const local = `localhost/${shippedTag(name)}`;
  try {
    await runLines(b.argv('bud', '--arch', arch, '--os', 'linux', '--pull=never', '--format', 'docker', '--network', 'host', '--layers', ...(force ? ['--no-cache'] : []),
      '--label', `${HASH_LABEL}=${hash}`, '-t', local, ctx), 120 * 60_000, (l) => {
      const step = /^(?:\[(\d+\/\d+)\] )?STEP (\d+\/\d+): (.*)/.exec(l);
      if (step) log(`  dovelab/${name}: ${step[1] ? `stage ${step[1]} ` : ''}step ${step[2]}: ${step[3]!.slice(0, 100)}`);
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  // buildah's docker-archive also tags it docker.io/… and localhost/…: keep exactly the one tag.
  const pushed = join(workDir, `${name}.pushed.tar`);
  const tmp = join(outDir, `.${name}.tar.${process.pid}.tmp`);
  rmSync(pushed, { force: true });
  try {
    await b.run(['push', '--quiet', local, `docker-archive:${pushed}:${shippedTag(name)}`], 30 * 60_000);
    await retagArchive(pushed, tmp, shippedTag(name));
  } finally {
    rmSync(pushed, { force: true });
  }
  return tmp;
}

function readManifest(file: string, log: (s: string) => void): PreloadManifest | undefined {
  if (!existsSync(file)) return undefined;
  try { return parsePreloadManifest(readFileSync(file, 'utf8'), file); } catch (e) {
    log(`${(e as Error).message}: starting a new manifest`);
    return undefined;
  }
}

/**
 * Builds base + the recipes for `arch` and writes <outDir>/<name>.tar (tag dovelab/<name>:latest)
 * and <outDir>/manifest.json. A recipe whose hash, tar size and digest match the manifest is
 * not rebuilt; the base image stays in buildah's storage only (the Pi needs no base of its own).
 */
export async function buildArchImages(recipes: string, opts: ArchBuildOptions): Promise<ArchBuildReport[]> {
  const log = opts.log ?? (() => {});
  const { arch } = opts;
  if (!ARCHES[arch]) throw new Error(`--arch ${arch}: not supported (one of ${Object.keys(ARCHES).join(', ')})`);
  const unknown = (opts.only ?? []).filter((n) => !(RECIPES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown image ${unknown.join(', ')} (one of ${RECIPES.join(', ')})`);
  const workDir = opts.workDir ?? `/var/tmp/dovelab-build/${arch}`;
  mkdirSync(workDir, { recursive: true });
  const release = await lockWorkDir(workDir, opts.lockWaitMs ?? 90 * 60_000, log);
  try {
    return await buildUnlocked(recipes, { ...opts, workDir }, log);
  } finally { await release().catch(() => {}); }
}

/**
 * One build per work folder at a time (its buildah storage, base rootfs and tars): `npm test`
 * starts the arm64 build in the background and its arm64 tier builds again later, which waits
 * here for the first and then finds the tars up to date (hash, size and digest checked).
 */
async function lockWorkDir(workDir: string, waitMs: number, log: (s: string) => void): Promise<() => Promise<void>> {
  // stale/update generous: a nice-19 build on a busy machine may update the lock late.
  const o = { lockfilePath: join(workDir, 'build.lock'), stale: 120_000, update: 10_000, realpath: false };
  try { return await lockfile.lock(workDir, o); } catch (e) {
    if ((e as { code?: string }).code !== 'ELOCKED') throw e;
  }
  log(`another build holds ${o.lockfilePath}: waiting for it (at most ${Math.round(waitMs / 60_000)} min)`);
  const t0 = Date.now();
  const every = Math.min(5_000, Math.max(100, Math.round(waitMs / 10)));
  try {
    const release = await lockfile.lock(workDir, { ...o, retries: { retries: Math.ceil(waitMs / every), minTimeout: every, maxTimeout: every, factor: 1 } });
    log(`waited ${((Date.now() - t0) / 1000).toFixed(0)} s for the other build`);
    return release;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ELOCKED') throw e;
    throw new Error(`could not build: another build kept ${o.lockfilePath} for ${Math.round(waitMs / 60_000)} min`);
  }
}

async function buildUnlocked(recipes: string, opts: ArchBuildOptions & { workDir: string }, log: (s: string) => void): Promise<ArchBuildReport[]> {
  const { arch, outDir, workDir } = opts;
  const parents = recipeParents(recipes);
  const names = withParents(opts.only, parents);
  mkdirSync(outDir, { recursive: true });
  const manifestFile = join(outDir, 'manifest.json');
  let manifest = readManifest(manifestFile, log);

  const baseHash = recipeHash(join(recipes, 'base'), ['bookworm', 'minbase', arch, FORMAT]);
  // A recipe built FROM another of ours (router FROM labhost) has its parent's hash in its own.
  const hashes: Record<string, string> = {};
  for (const name of names) {
    const parent = parents[name];
    hashes[name] = recipeHash(join(recipes, name), parent ? [baseHash, arch, FORMAT, hashes[parent]!] : [baseHash, arch, FORMAT]);
  }
  const plan = await Promise.all(names.map(async (name) => {
    const hash = hashes[name]!;
    const entry = manifest?.images.find((i) => i.name === name);
    const tar = entry && existsSync(join(outDir, entry.file))
      ? { size: statSync(join(outDir, entry.file)).size, digest: await sha256File(join(outDir, entry.file)) } : undefined;
    const d = opts.force ? { ok: false, why: '--force' } : upToDate(entry, hash, arch, tar);
    return { name, hash, entry, ...d };
  }));
  const reports: ArchBuildReport[] = plan.filter((p) => p.ok).map((p) => {
    log(`${shippedTag(p.name)} (${arch}): up to date (${p.hash}, ${p.entry!.file})`);
    return { name: p.name, tag: shippedTag(p.name), built: false, ms: 0, size: p.entry!.size, why: p.why };
  });
  let todo = plan.filter((p) => !p.ok);
  if (!todo.length) return reports;

  await checkHost(arch);
  mkdirSync(workDir, { recursive: true });
  const b = buildahIn(workDir);
  // A child builds FROM its parent in buildah's storage: an up-to-date tar is not enough when
  // the storage lacks that parent (or holds an older one), so the parent is built again.
  for (const p of plan) {
    if (!p.ok || !todo.some((t) => parents[t.name] === p.name)) continue;
    if ((await b.label(`localhost/${shippedTag(p.name)}`)) === p.hash) continue;
    p.why = `not in buildah storage, which the recipes built FROM it need`;
    reports.splice(reports.findIndex((r) => r.name === p.name), 1);
    todo = plan.filter((q) => !q.ok || q === p || todo.includes(q));
  }
  const t0 = Date.now();
  if (opts.force || (await b.label(`localhost/${BASE_TAG}`)) !== baseHash) {
    log(`[base] ${BASE_TAG} (${arch}): building`);
    await retryFetches(`${BASE_TAG} (${arch})`, log, () => buildBase(b, recipes, arch, baseHash, workDir, log));
    log(`${BASE_TAG} (${arch}): built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    reports.push({ name: 'base', tag: BASE_TAG, built: true, ms: Date.now() - t0, why: 'base recipe changed or missing' });
  } else log(`${BASE_TAG} (${arch}): up to date in buildah storage (${baseHash})`);

  for (const [i, p] of todo.entries()) {
    const t1 = Date.now();
    log(`[${i + 1}/${todo.length}] ${shippedTag(p.name)} (${arch}): building (${p.why})`);
    // --layers: a retry resumes at the step that failed (the cache is pruned at the end).
    const tmp = await retryFetches(`${shippedTag(p.name)} (${arch})`, log, () => buildRecipe(b, recipes, p.name, arch, p.hash, workDir, outDir, !!opts.force, log));
    try {
      const img = await inspectArchive(tmp);
      if (img.arch !== arch || img.os !== 'linux') throw new Error(`${shippedTag(p.name)}: the built image says ${img.os}/${img.arch}, not linux/${arch}`);
      if (img.repoTags.join() !== shippedTag(p.name)) throw new Error(`${shippedTag(p.name)}: the tar carries ${img.repoTags.join(', ') || 'no tag'}`);
      const file = `${p.name}.tar`;
      const size = statSync(tmp).size;
      const digest = await sha256File(tmp);
      renameSync(tmp, join(outDir, file));
      manifest = withImage(manifest, { name: p.name, tag: shippedTag(p.name), file, digest, imageId: img.imageId, size, arch, recipeHash: p.hash });
      writeAtomic(manifestFile, manifestText(manifest));
      log(`${shippedTag(p.name)} (${arch}): built in ${((Date.now() - t1) / 1000).toFixed(1)} s, ${file} ${(size / 1e6).toFixed(1)} MB`);
      reports.push({ name: p.name, tag: shippedTag(p.name), built: true, ms: Date.now() - t1, size, why: p.why });
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  // Earlier builds of the same tags, now untagged in buildah's storage.
  await b.run(['rmi', '--prune'], 300_000).catch((e: Error) => log(`buildah rmi --prune: ${e.message}`));
  return reports;
}

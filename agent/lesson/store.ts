// Installed lesson packs: <dataDir>/lessons/<id>/, each replaced atomically and all or nothing;
// listed together with the packs bundled in the repository's lessons/ (read-only).
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';
import { archiveKind, ArchiveError, DEFAULT_ARCHIVE_LIMITS, unpackArchive, type ArchiveLimits } from './archive.js';
import { isInside, isPackMetadata, loadPack, type Pack } from './pack.js';

/** The repository's bundled packs (dist/agent/lesson/store.js -> lessons/). */
export const BUNDLED_LESSONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../lessons');

const ID = /^[a-z0-9-]+$/;
const INSTALLED = '.installed.json';

/** What `.installed.json` records about an install. */
export interface InstallRecord { id: string; version: string; title: string; installed_at: string; source: string }

export interface LessonEntry {
  id: string;
  title: string;
  summary?: string;
  minutes?: number;
  level?: string;
  /** '' when the pack is broken and no version is known. */
  version: string;
  /** Ships with Dovelab (read-only) rather than installed. */
  bundled: boolean;
  dir: string;
  /** Absent when the pack is broken. */
  groups?: { default: number; max: number };
  /** Installed packs: when and from where. */
  installed_at?: string;
  source?: string;
  /** An installed pack that hides a bundled one of the same id. */
  shadows_bundled?: boolean;
  /** The pack does not load: why (the lesson cannot be started). */
  error?: string;
}

export const lessonsDir = (dataDir: string) => join(dataDir, 'lessons');
const rand = () => randomBytes(4).toString('hex');

export interface InstallOptions {
  limits?: Partial<ArchiveLimits>;
  /** Clock for installed_at (tests). */
  now?: () => Date;
}

export interface Installed { id: string; version: string; title: string; dir: string; replaced?: { version: string } }

/**
 * Installs a pack from a directory, its lesson.yaml, or an archive into <dataDir>/lessons/<id>:
 * validated fully first (nothing of a rejected pack is installed), staged beside the store,
 * then swapped in for the pack of the same id, if any.
 */
export async function installPack(source: string, dataDir: string, opts: InstallOptions = {}): Promise<Installed> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...opts.limits };
  const store = lessonsDir(dataDir);
  mkdirSync(store, { recursive: true });
  const src = resolve(source);
  const staging = join(store, `.staging-${rand()}`);
  try {
    let pack: Pack;
    if (archiveKind(src)) {
      await unpackArchive(src, staging, limits);
      pack = loadPack(staging, { name: src });
    } else {
      const dir = packDirOf(src);
      loadPack(dir); // problems are reported against the source, before anything is copied
      copyPack(dir, staging, limits);
      pack = loadPack(staging, { name: dir });
    }
    const id = pack.lesson.id!;
    const record: InstallRecord = {
      id, version: pack.version, title: pack.lesson.title ?? id,
      installed_at: (opts.now?.() ?? new Date()).toISOString(), source: src,
    };
    writeFileSync(join(staging, INSTALLED), `${JSON.stringify(record, null, 2)}\n`);
    const old = await withStoreLock(store, () => swapIn(store, id, staging));
    return { id, version: pack.version, title: record.title, dir: join(store, id), ...(old ? { replaced: { version: old } } : {}) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A directory or its lesson.yaml -> the pack directory. */
function packDirOf(path: string): string {
  if (!existsSync(path)) throw new Error(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) return path;
  if (basename(path) === 'lesson.yaml') return dirname(path);
  throw new Error(`${path}: expected a lesson pack: a directory with lesson.yaml, its lesson.yaml, or a .zip, .tar.gz or .tgz archive`);
}

/**
 * Copies a pack directory: files and directories; links only to files inside the pack (copied as
 * files); nothing else. The archive limits apply (a USB stick may hold anything).
 */
function copyPack(from: string, to: string, limits: ArchiveLimits): void {
  const root = realpathSync(from);
  let files = 0; let bytes = 0;
  const refuse = (rel: string, why: string) => new ArchiveError(from, rel, why);
  const walk = (rel: string) => {
    mkdirSync(join(to, rel), { recursive: true });
    for (const n of readdirSync(join(root, rel)).sort()) {
      if (isPackMetadata(n)) continue;
      const r = rel ? `${rel}/${n}` : n;
      const abs = join(root, r);
      let st = lstatSync(abs);
      let real = abs;
      if (st.isSymbolicLink()) {
        try { real = realpathSync(abs); } catch { throw refuse(r, 'is a link to nothing'); }
        if (!isInside(root, real)) throw refuse(r, 'is a link that escapes the pack');
        st = statSync(real);
        if (!st.isFile()) throw refuse(r, 'is a link to a directory: only links to files are copied');
      }
      if (++files > limits.maxFiles) throw refuse(r, `one file too many: a pack may have at most ${limits.maxFiles} entries`);
      if (st.isDirectory()) { walk(r); continue; }
      if (!st.isFile()) throw refuse(r, 'is a device file, FIFO or socket: only files and directories are allowed');
      if (st.size > limits.maxFileBytes) throw refuse(r, `is ${st.size} bytes, over the limit of ${limits.maxFileBytes} per file`);
      bytes += st.size;
      if (bytes > limits.maxBytes) throw refuse(r, `copying it would pass the limit of ${limits.maxBytes} bytes in total`);
      copyFileSync(real, join(to, r));
    }
  };
  walk('');
}

/** Serializes swaps and removals in one store (two instructors uploading at once). */
async function withStoreLock<T>(store: string, fn: () => T): Promise<T> {
  const release = await lockfile.lock(store, {
    lockfilePath: `${store}/.lock`, stale: 10_000, update: 2_000, realpath: false,
    retries: { retries: 100, minTimeout: 50, maxTimeout: 500, factor: 1.2 },
  });
  try {
    recoverLeftovers(store);
    return fn();
  } finally { await release().catch(() => {}); }
}

/**
 * Moves staging to <store>/<id>: the old pack is renamed aside, staging renamed in, the old one
 * deleted. Returns the replaced pack's version (or '' if it had none recorded), or undefined.
 */
function swapIn(store: string, id: string, staging: string): string | undefined {
  const target = join(store, id);
  if (!existsSync(target)) { renameSync(staging, target); return undefined; }
  const oldVersion = readRecord(target)?.version ?? '';
  const aside = join(store, `.old-${id}-${rand()}`);
  renameSync(target, aside);
  try { renameSync(staging, target); } catch (e) { renameSync(aside, target); throw e; }
  rmSync(aside, { recursive: true, force: true });
  return oldVersion;
}

/** After a crash mid-swap: put a pack that was renamed aside back, or delete it; old staging goes. */
function recoverLeftovers(store: string): void {
  for (const n of readdirSync(store)) {
    const path = join(store, n);
    const old = /^\.old-([a-z0-9-]+)-[0-9a-f]{8}$/.exec(n);
    if (old) {
      if (!existsSync(join(store, old[1]!))) renameSync(path, join(store, old[1]!));
      else rmSync(path, { recursive: true, force: true });
    } else if (/^\.(staging|unpack)-/.test(n) && Date.now() - lstatSync(path).mtimeMs > 3_600_000) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

function readRecord(dir: string): InstallRecord | undefined {
  try { return JSON.parse(readFileSync(join(dir, INSTALLED), 'utf8')) as InstallRecord; } catch { return undefined; }
}

const packDirs = (dir: string) => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch { return []; }
};

function entry(dir: string, bundled: boolean, idFromDir: string): LessonEntry {
  const record = bundled ? undefined : readRecord(dir);
  const extra = record ? { installed_at: record.installed_at, source: record.source } : {};
  try {
    const pack = loadPack(dir, record?.version ? { version: record.version } : {});
    const l = pack.lesson;
    const id = l.id!;
    if (!bundled && id !== idFromDir) throw new Error(`${dir}: the lesson's id is "${id}" but it is installed as "${idFromDir}": install it again`);
    return {
      id, title: l.title ?? id, version: pack.version, bundled, dir: pack.dir,
      ...(l.summary !== undefined ? { summary: l.summary } : {}),
      ...(l.minutes !== undefined ? { minutes: l.minutes } : {}),
      ...(l.level !== undefined ? { level: l.level } : {}),
      groups: { default: l.groups?.default ?? 1, max: l.groups?.max ?? 30 },
      ...extra,
    };
  } catch (e) {
    return { id: idFromDir, title: record?.title ?? idFromDir, version: record?.version ?? '', bundled, dir, ...extra, error: (e as Error).message };
  }
}

/** Installed packs and the bundled ones they do not shadow, by id; broken packs carry `error`. */
export function listLessons(dataDir: string, bundledDir: string = BUNDLED_LESSONS_DIR): LessonEntry[] {
  const store = lessonsDir(dataDir);
  const installed = packDirs(store).map((n) => entry(join(store, n), false, n));
  const bundled = packDirs(bundledDir).map((n) => entry(join(bundledDir, n), true, n));
  const taken = new Set(installed.map((e) => e.id));
  for (const e of installed) if (bundled.some((b) => b.id === e.id)) e.shadows_bundled = true;
  return [...installed, ...bundled.filter((b) => !taken.has(b.id))].sort((a, b) => a.id.localeCompare(b.id) || Number(a.bundled) - Number(b.bundled));
}

/** Removes an installed pack (a bundled one of the same id then shows again). */
export async function removeLesson(id: string, dataDir: string, bundledDir: string = BUNDLED_LESSONS_DIR): Promise<void> {
  const store = lessonsDir(dataDir);
  const target = join(store, id);
  if (!ID.test(id) || !existsSync(target)) {
    if (ID.test(id) && bundledIds(bundledDir).has(id)) throw new Error(`lesson "${id}" is bundled with Dovelab and cannot be removed`);
    throw new Error(`lesson "${id}" is not installed (installed: ${packDirs(store).join(', ') || 'none'})`);
  }
  await withStoreLock(store, () => {
    const aside = join(store, `.old-${id}-${rand()}`);
    renameSync(target, aside);
    rmSync(aside, { recursive: true, force: true });
  });
}

function bundledIds(bundledDir: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const n of packDirs(bundledDir)) {
    const e = entry(join(bundledDir, n), true, n);
    if (!ids.has(e.id)) ids.set(e.id, e.dir);
  }
  return ids;
}

export interface FoundLesson {
  /** The pack directory to run (a lab copies what it runs). */
  dir: string;
  from: 'path' | 'archive' | 'installed' | 'bundled';
  /** Removes what finding made (an archive's unpacked copy); safe to call more than once. */
  dispose(): void;
}

const looksLikePath = (s: string) => /[/\\]/.test(s) || s === '.' || s === '..' || /\.(ya?ml|zip|tgz|tar\.gz)$/i.test(s);

/**
 * A path (pack directory, its lesson.yaml, an archive) or a lesson id -> the pack directory.
 * Ids are looked up among installed packs first, then bundled ones. An archive is unpacked
 * into a temporary directory that dispose() removes. Does not validate the pack (loadPack does).
 */
export async function findLesson(idOrPath: string, dataDir: string, bundledDir: string = BUNDLED_LESSONS_DIR,
  limits: Partial<ArchiveLimits> = {}): Promise<FoundLesson> {
  const keep = () => {};
  if (!looksLikePath(idOrPath) && ID.test(idOrPath)) {
    const installed = join(lessonsDir(dataDir), idOrPath);
    if (existsSync(join(installed, 'lesson.yaml'))) return { dir: installed, from: 'installed', dispose: keep };
    const bundled = bundledIds(bundledDir).get(idOrPath);
    if (bundled) return { dir: bundled, from: 'bundled', dispose: keep };
    if (!existsSync(idOrPath)) {
      const ids = listLessons(dataDir, bundledDir).map((e) => e.id);
      throw new Error(`no lesson "${idOrPath}": not installed, not bundled, and no such path (lessons: ${ids.join(', ') || 'none'})`);
    }
  }
  const path = resolve(idOrPath);
  if (archiveKind(path)) {
    if (!existsSync(path)) throw new Error(`${path}: no such file`);
    const tmp = mkdtempSync(join(tmpdir(), 'dovelab-pack-'));
    const dispose = () => rmSync(tmp, { recursive: true, force: true });
    try {
      return { dir: await unpackArchive(path, join(tmp, 'pack'), limits), from: 'archive', dispose };
    } catch (e) { dispose(); throw e; }
  }
  const dir = packDirOf(path);
  if (!existsSync(join(dir, 'lesson.yaml'))) throw new Error(`${dir}: not a lesson pack (it has no lesson.yaml)`);
  return { dir, from: 'path', dispose: keep };
}

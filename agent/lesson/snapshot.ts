// Every way into a lab goes through here: openLabLesson runs the pack checks (a bare topology
// file: all but the README), snapshotPack copies what the lab runs into its own folder,
// checking each file again as it copies (the pack may change between the two).
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readlinkSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, normalize, resolve } from 'node:path';
import { DEFAULT_ARCHIVE_LIMITS, overLimit, type ArchiveLimits } from './archive.js';
import { printable } from './load.js';
import { checkPack, hostFileSource, isInside, loadPack, PackError, type PackProblem } from './pack.js';
import { badHostPath, type Topology } from './schema.js';

/** What a lab runs: the checked topology, its file, and the pack folder its files: come from. */
export interface LabLesson { topology: Topology; lessonFile: string; packDir: string }

/**
 * A pack folder or its lesson.yaml -> the checked lesson. A folder with README.md is a pack and
 * gets loadPack's checks in full; a topology file without README.md beside it (or not named
 * lesson.yaml) gets the same checks except README.md and the id (it runs as "lab").
 * Throws PackError naming the file, the path inside it and the reason.
 */
export function openLabLesson(path: string): LabLesson {
  let isDir: boolean;
  try { isDir = statSync(path).isDirectory(); } catch {
    const [pack, file] = /\.ya?ml$/i.test(path) ? [dirname(path), basename(path)] : [path, 'lesson.yaml'];
    throw new PackError(pack, [{ file, path: '', message: 'missing: no such pack folder or lesson file' }]);
  }
  const name = isDir ? path : dirname(path);
  const file = isDir ? 'lesson.yaml' : basename(path);
  const packDir = resolve(name);
  if (file === 'lesson.yaml' && hasReadme(packDir)) {
    const pack = loadPack(packDir, { name });
    return { topology: pack.lesson, lessonFile: join(pack.dir, 'lesson.yaml'), packDir: pack.dir };
  }
  const { lesson, problems } = checkPack(packDir, { name, lessonFile: file, readme: 'optional', idRequired: false });
  if (problems.length || !lesson) throw new PackError(name, problems);
  return { topology: lesson, lessonFile: join(packDir, file), packDir };
}

/** README.md present in any form (a link or a folder too): then the folder is a pack and loadPack says what is wrong. */
function hasReadme(dir: string): boolean {
  try { lstatSync(join(dir, 'README.md')); return true; } catch { return false; }
}

interface Wanted { rel: string; from: string; file: string; path: string; optional?: boolean }

/**
 * Copies lesson.yaml, README.md (if any) and every file named by hosts.*.files into `dest`
 * (which must not exist): written into a temporary folder beside it, fsync'ed, then renamed.
 * Each source is checked again at copy time: its real path inside the pack's real path, a
 * regular file, within the archive limits. Throws PackError naming the file and path.
 * `limits` defaults to DEFAULT_ARCHIVE_LIMITS (tests pass smaller ones).
 */
export function snapshotPack(lesson: LabLesson, dest: string, limits: Partial<ArchiveLimits> = {}): void {
  const lim = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const root = resolve(lesson.packDir);
  const lessonRel = basename(lesson.lessonFile);
  const refuse = (p: Omit<PackProblem, 'file'> & { file?: string }): never => {
    throw new PackError(lesson.packDir, [{ file: p.file ?? lessonRel, path: p.path, message: p.message }]);
  };
  let realRoot: string;
  try { realRoot = realpathSync(root); } catch (e) { return refuse({ file: '', path: '', message: `the pack folder cannot be read: ${code(e)}` }); }

  const wanted: Wanted[] = [{ rel: 'lesson.yaml', from: lesson.lessonFile, file: lessonRel, path: '' }];
  wanted.push({ rel: 'README.md', from: join(root, 'README.md'), file: 'README.md', path: '', optional: true });
  const seen = new Set<string>(['lesson.yaml', 'README.md']);
  for (const [h, host] of Object.entries(lesson.topology.hosts)) {
    for (const [target, src] of Object.entries(host.files ?? {})) {
      const at = `hosts.${h}.files.${printable(target)}`;
      const badTarget = badHostPath(target);
      if (badTarget) refuse({ path: at, message: badTarget });
      const f = hostFileSource(root, realRoot, src);
      if ('why' in f) refuse({ path: at, message: f.why });
      const rel = normalize(src);
      if (seen.has(rel)) continue;
      seen.add(rel);
      wanted.push({ rel, from: join(root, rel), file: lessonRel, path: at });
    }
  }
  if (wanted.length > lim.maxFiles) refuse({ path: 'hosts', message: `the lab would copy ${wanted.length} files, over the limit of ${lim.maxFiles}` });

  const out = resolve(dest);
  if (exists(out)) throw new Error(`${out}: cannot snapshot the lesson there: it exists already`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.new-`));
  try {
    let total = 0;
    const dirs = new Set<string>([tmp]);
    for (const w of wanted) {
      const to = join(tmp, w.rel);
      if (!isInside(tmp, to)) refuse({ file: w.file, path: w.path, message: `${w.rel} escapes the pack` });
      const why = (message: string) => refuse({ file: w.file, path: w.path, message: w.path ? `${w.rel} ${message}` : message });
      let real: string;
      try { lstatSync(w.from); } catch { if (w.optional) continue; why('is missing'); }
      try { real = realpathSync(w.from); } catch { why('is missing (a link to nothing)'); }
      if (!isInside(realRoot, real!)) why('is a link to outside the pack: a pack carries its own files');
      for (let d = dirname(to); isInside(tmp, d) && !dirs.has(d); d = dirname(d)) dirs.add(d);
      mkdirSync(dirname(to), { recursive: true });
      total += durableCopy(real!, to, realRoot, lim, total, why);
    }
    // Deepest first, so each folder's entries are on disk before the folder that names it.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) fsyncDir(d);
    renameSync(tmp, out);
    fsyncDir(dirname(out));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
const exists = (p: string) => { try { lstatSync(p); return true; } catch { return false; } };

/**
 * Copies the regular file `real` to `to` (new), fsync'ed; returns the bytes copied. The source is
 * opened without following a link and checked on the open descriptor, so a file swapped for a
 * link after the checks is refused; bytes are counted while copying (a file may grow).
 */
function durableCopy(real: string, to: string, realRoot: string, lim: ArchiveLimits, before: number, why: (m: string) => never): number {
  let src: number;
  try { src = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch (e) {
    return why(code(e) === 'ELOOP' ? 'became a link while being copied: refused' : `cannot be read: ${code(e)}`);
  }
  let dst: number | undefined;
  try {
    const st = fstatSync(src);
    if (!st.isFile()) why('is not a regular file');
    // Where the descriptor really points (Linux): a folder of the path swapped for a link shows here.
    const opened = fdPath(src);
    if (opened !== undefined && !isInside(realRoot, opened)) why('is a link to outside the pack: a pack carries its own files');
    const tooBig = (n: number) => (n > lim.maxFileBytes ? `is ${overLimit(n, lim.maxFileBytes)} per file`
      : before + n > lim.maxBytes ? `brings the lab's copy to ${overLimit(before + n, lim.maxBytes)} in total` : undefined);
    const early = tooBig(st.size);
    if (early) why(early);
    try { dst = openSync(to, 'wx', st.mode & 0o111 ? 0o755 : 0o644); } catch (e) { throw new Error(`${to}: cannot write the lab's copy: ${code(e)}`); }
    const buf = Buffer.allocUnsafe(64 * 1024);
    let n = 0;
    for (;;) {
      const got = readSync(src, buf, 0, buf.length, null);
      if (got === 0) break;
      n += got;
      const over = tooBig(n);
      if (over) why(over);
      for (let off = 0; off < got;) off += writeSync(dst, buf, off, got - off);
    }
    fsyncSync(dst);
    return n;
  } finally {
    closeSync(src);
    if (dst !== undefined) closeSync(dst);
  }
}

function fdPath(fd: number): string | undefined {
  try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return undefined; }
}

/** Makes a folder's entries durable (a rename is only on the SD card once its folder is synced). */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

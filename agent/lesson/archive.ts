// Unpacks a lesson pack archive (.zip, .tar.gz, .tgz) safely: only files and directories that
// stay inside, within limits counted while unpacking; all or nothing. Parsing is yauzl's and
// node-tar's; this module decides what is allowed and where it goes.
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
// tar and yauzl load when an archive is unpacked: `dovelab lesson list` and the agent never need them (issue 13).
import type { ReadEntry } from 'tar';
import type { Entry, ZipFile } from 'yauzl';
import { LessonError } from './load.js';

const MiB = 1024 * 1024;
const size = (n: number) => formatSize(n);
/** "12.0 MiB, over the limit of 10.0 MiB"; exact bytes when rounding would show the same size twice. */
export function overLimit(n: number, limit: number): string {
  const [a, b] = formatSize(n) === formatSize(limit) ? [`${n} bytes`, `${limit} bytes`] : [formatSize(n), formatSize(limit)];
  return `${a}, over the limit of ${b}`;
}

export interface ArchiveLimits {
  /** Entries of any kind (files and directories). */
  maxFiles: number;
  /** Uncompressed bytes of all files together. */
  maxBytes: number;
  /** Uncompressed bytes of one file. */
  maxFileBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = { maxFiles: 2000, maxBytes: 50 * MiB, maxFileBytes: 50 * MiB };

/** What is wrong with an archive, naming the archive and (where there is one) the entry. */
export class ArchiveError extends LessonError {
  constructor(readonly archive: string, readonly entry: string, readonly reason: string) {
    super(archive, [{ path: entry, message: reason }]);
    this.name = 'ArchiveError';
    this.message = entry ? `${archive}: ${entry}: ${reason}` : `${archive}: ${reason}`;
  }
}

export type ArchiveKind = 'zip' | 'tar.gz';

/** The archive format a file name says, or undefined if it is not one we unpack. */
export function archiveKind(path: string): ArchiveKind | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.zip')) return 'zip';
  if (p.endsWith('.tar.gz') || p.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

/**
 * Unpacks `file` into `destDir` (which must not exist, or be empty) and returns destDir.
 * Everything is unpacked into a temporary directory beside destDir and renamed into place at
 * the end, so on failure destDir is left as it was. If the archive holds one top-level
 * directory with lesson.yaml in it, that directory becomes destDir.
 */
export async function unpackArchive(file: string, destDir: string, limits: Partial<ArchiveLimits> = {}): Promise<string> {
  const kind = archiveKind(file);
  if (!kind) throw new ArchiveError(file, '', 'not an archive we unpack: expected .zip, .tar.gz or .tgz');
  if (!existsSync(file)) throw new ArchiveError(file, '', 'no such file');
  const dest = resolve(destDir);
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new ArchiveError(file, '', `cannot unpack into ${dest}: it exists and is not an empty directory`);
  }
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = mkdtempSync(join(dirname(dest), `.unpack-${basename(dest)}-`));
  try {
    const ex = new Extractor(file, tmp, { ...DEFAULT_ARCHIVE_LIMITS, ...limits });
    if (kind === 'zip') await unzip(file, ex);
    else await untar(file, ex);
    renameSync(packRoot(tmp), dest);
    chmodSync(dest, 0o755); // mkdtemp made it 0700
    return dest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The unpacked tree's top, or its single top-level directory when that holds lesson.yaml. */
function packRoot(dir: string): string {
  const names = readdirSync(dir);
  if (names.includes('lesson.yaml') || names.length !== 1) return dir;
  const only = join(dir, names[0]!);
  return statSync(only).isDirectory() && existsSync(join(only, 'lesson.yaml')) ? only : dir;
}

type EntryKind = 'file' | 'dir' | 'link' | 'special' | 'unsupported';

/** Left out while unpacking: macOS Finder's resource forks and folder settings. */
const junk = (rel: string) => rel.split('/')[0] === '__MACOSX' || posix.basename(rel) === '.DS_Store';

/** Bytes for people: 512 bytes, 1.5 KiB, 50.0 MiB. */
export const formatSize = (n: number): string => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/** The rules for every entry, whatever the format: checked before an entry's data is written. */
class Extractor {
  private entries = 0;
  private declared = 0;
  private written = 0;
  constructor(readonly archive: string, readonly root: string, readonly limits: ArchiveLimits) {}

  error(entry: string, reason: string): ArchiveError { return new ArchiveError(this.archive, entry, reason); }

  /** Refuses archives that say up front that they have too many entries. */
  expectEntries(n: number): void {
    if (n > this.limits.maxFiles) throw this.error('', `has ${n} entries, over the limit of ${this.limits.maxFiles}`);
  }

  /** Checks one entry; makes its directory; returns the path to write a file to, or undefined. */
  begin(name: string, kind: EntryKind, declaredSize: number): string | undefined {
    const { maxFiles, maxBytes, maxFileBytes } = this.limits;
    if (++this.entries > maxFiles) throw this.error(name, `one entry too many: an archive may have at most ${maxFiles} entries`);
    const rel = this.relative(name);
    if (kind === 'link') throw this.error(name, 'is a link: links (symbolic or hard) are not allowed in a lesson pack');
    if (kind === 'special') throw this.error(name, 'is a device file, FIFO or socket: only files and directories are allowed');
    if (kind === 'unsupported') throw this.error(name, 'is an entry of a kind we do not unpack: only files and directories are allowed');
    if (junk(rel)) return undefined;
    if (kind === 'dir') { if (rel) this.mkdir(name, join(this.root, rel)); return undefined; }
    if (!rel) throw this.error(name, 'is a file without a name');
    if (declaredSize > maxFileBytes) throw this.error(name, `is ${size(declaredSize)}, over the limit of ${size(maxFileBytes)} per file`);
    if (this.declared + declaredSize > maxBytes) throw this.error(name, `unpacking it would pass the limit of ${size(maxBytes)} in total`);
    this.declared += declaredSize;
    const path = join(this.root, rel);
    this.mkdir(name, dirname(path));
    return path;
  }

  /** Opens a new file for an entry (synchronously, so entries land in archive order). */
  create(name: string, path: string, mode: number | undefined): WriteStream {
    let fd: number;
    try { fd = openSync(path, 'wx', fileMode(mode)); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'EISDIR') {
        throw this.error(name, statSync(path).isDirectory() ? 'is a file where the archive has a directory of that name' : 'appears twice in the archive');
      }
      throw this.error(name, `cannot be written: ${(e as Error).message}`);
    }
    return createWriteStream(path, { fd });
  }

  /** Counts bytes as they are written, whatever the headers said (zip bombs stop here). */
  counter(name: string): Transform {
    let mine = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        mine += chunk.length;
        this.written += chunk.length;
        if (mine > this.limits.maxFileBytes) done(this.error(name, `unpacks to more than ${size(this.limits.maxFileBytes)}, the limit per file`));
        else if (this.written > this.limits.maxBytes) done(this.error(name, `unpacking it passes the limit of ${size(this.limits.maxBytes)} in total`));
        else done(null, chunk);
      },
    });
  }

  /** Most bytes a tar stream may have for the limits: data plus headers, padding and metadata. */
  tarStreamLimit(): number { return this.limits.maxBytes + (this.limits.maxFiles + 2) * 4096 + MiB; }

  /** The entry's path relative to the pack ('' for the top), or an error if it leaves it. */
  private relative(name: string): string {
    if (name.includes('\0')) throw this.error(name, 'has a NUL character in its name');
    if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw this.error(name, 'is an absolute path: entries must stay inside the pack');
    const norm = posix.normalize(name);
    if (norm === '..' || norm.startsWith('../')) throw this.error(name, 'escapes the pack (..)');
    return norm === '.' || norm === './' ? '' : norm.replace(/\/+$/, '');
  }

  private mkdir(name: string, dir: string): void {
    try { mkdirSync(dir, { recursive: true }); } catch (e) {
      throw this.error(name, `cannot be created: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (a file and a directory of the same name?)`);
    }
  }
}

/** File mode to give an unpacked file: executable if the archive said so. */
const fileMode = (mode: number | undefined) => ((mode ?? 0) & 0o111 ? 0o755 : 0o644);


// ---- zip (yauzl) -------------------------------------------------------------------------------

function zipKind(e: Entry): EntryKind {
  const mode = (e.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & 0o170000;
  if (type === 0o120000) return 'link';
  if (e.fileName.endsWith('/') || type === 0o040000) return 'dir';
  if (type === 0 || type === 0o100000) return 'file';
  return 'special';
}

/** yauzl refuses bad names itself ("absolute path: /x"); say which entry and why, our way. */
function zipError(ex: Extractor, e: unknown): ArchiveError {
  if (e instanceof ArchiveError) return e;
  const msg = (e as Error).message;
  const m = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(msg);
  if (m?.[1] === 'absolute path') return ex.error(m[2]!, 'is an absolute path: entries must stay inside the pack');
  if (m?.[1] === 'invalid relative path') return ex.error(m[2]!, 'escapes the pack (..)');
  if (m) return ex.error(m[2]!, 'has a backslash in its name');
  return ex.error('', `not a readable zip archive: ${msg}`);
}

async function unzip(file: string, ex: Extractor): Promise<void> {
  const yauzl = (await import('yauzl')).default;
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (e) { throw zipError(ex, e); }
  try {
    ex.expectEntries(zip.entryCount);
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      const path = ex.begin(name, zipKind(entry), entry.uncompressedSize);
      if (path === undefined) continue;
      if (entry.isEncrypted()) throw ex.error(name, 'is encrypted: pack the lesson without a password');
      const out = ex.create(name, path, entry.externalFileAttributes >>> 16);
      try {
        await pipeline(await zip.openReadStreamPromise(entry), ex.counter(name), out);
      } catch (e) {
        out.destroy();
        if (e instanceof ArchiveError) throw e;
        throw ex.error(name, `cannot be unpacked: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    throw zipError(ex, e);
  } finally {
    zip.close();
  }
}

// ---- tar.gz (node-tar) -------------------------------------------------------------------------

function tarKind(e: ReadEntry): EntryKind {
  switch (e.type) {
    case 'File': case 'OldFile': case 'ContiguousFile': return 'file';
    case 'Directory': return 'dir';
    case 'SymbolicLink': case 'Link': return 'link';
    case 'CharacterDevice': case 'BlockDevice': case 'FIFO': return 'special';
    default: return 'unsupported';
  }
}

/** Bytes through, refusing more than `limit` (the decompressed tar stream, before parsing). */
function streamLimit(limit: number, onOver: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(onOver()); else done(null, chunk);
    },
  });
}

async function untar(file: string, ex: Extractor): Promise<void> {
  const { Parser } = await import('tar');
  return new Promise((resolveAll, reject) => {
    const src = createReadStream(file);
    const gunzip = createGunzip();
    const guard = streamLimit(ex.tarStreamLimit(), () => ex.error('', `unpacks to more than the limit of ${size(ex.limits.maxBytes)}`));
    const parser = new Parser({ strict: true });
    const open = new Set<WriteStream>();
    const writes: Promise<void>[] = [];
    let failed: ArchiveError | undefined;

    const fail = (e: unknown) => {
      if (failed) return;
      failed = e instanceof ArchiveError ? e : ex.error('', `not a readable .tar.gz archive: ${(e as Error).message}`);
      src.destroy(); gunzip.destroy(); guard.destroy();
      for (const w of open) w.destroy();
      void Promise.allSettled(writes).then(() => reject(failed));
    };

    parser.on('entry', (entry: ReadEntry) => {
      if (failed) { entry.resume(); return; }
      const name = entry.path;
      let out: WriteStream;
      try {
        const path = ex.begin(name, tarKind(entry), entry.size);
        if (path === undefined) { entry.resume(); return; }
        out = ex.create(name, path, entry.mode);
      } catch (e) { entry.resume(); fail(e); return; }
      open.add(out);
      writes.push(new Promise<void>((done) => {
        out.on('close', () => { open.delete(out); done(); });
        out.on('error', (e) => { entry.resume(); fail(ex.error(name, `cannot be written: ${e.message}`)); });
      }));
      entry.pipe(out);
    });
    parser.on('error', fail);
    parser.on('end', () => {
      void Promise.all(writes).then(() => { if (!failed) resolveAll(); });
    });
    src.on('error', (e) => fail(ex.error('', `cannot be read: ${e.message}`)));
    gunzip.on('error', (e) => fail(ex.error('', `not a gzip-compressed tar archive: ${e.message}`)));
    guard.on('error', fail);
    src.pipe(gunzip).pipe(guard).pipe(parser as unknown as Writable);
  });
}

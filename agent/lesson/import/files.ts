// Source files -> pack files: walks folder trees (regular files only, saying what it skipped)
// and gives each source file one place under files/ in the pack.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { DEFAULT_ARCHIVE_LIMITS, overLimit, type ArchiveLimits } from '../archive.js';
import { isInside } from '../pack.js';
import { ImportError } from './types.js';

export interface Walked {
  /** Regular files, relative to the walked folder, with '/' separators, sorted. */
  files: string[];
  /** What was left out (relative path) and why. */
  skipped: { rel: string; why: string }[];
}

/** Regular files below `dir`; symbolic links, sockets, devices and empty folders are reported, not followed. */
export function walkFiles(dir: string): Walked {
  const out: Walked = { files: [], skipped: [] };
  const visit = (rel: string) => {
    const entries = readdirSync(join(dir, rel)).sort();
    if (!entries.length && rel) out.skipped.push({ rel, why: 'empty folder (a pack carries files, not folders)' });
    for (const e of entries) {
      const r = rel ? `${rel}/${e}` : e;
      const st = lstatSync(join(dir, r));
      if (st.isDirectory()) visit(r);
      else if (st.isFile()) out.files.push(r);
      else out.skipped.push({ rel: r, why: st.isSymbolicLink() ? 'symbolic link (not copied; copy its target by hand)' : 'not a regular file' });
    }
  };
  visit('');
  return out;
}

/** Gives every source file one path in the pack: files/<path relative to the lab>, or files/external/<name> for files outside it. */
export class PackPaths {
  private readonly bySource = new Map<string, string>();
  private readonly taken = new Set<string>();
  constructor(private readonly labDir: string) {}

  for(abs: string): string {
    const known = this.bySource.get(abs);
    if (known) return known;
    const rel = relative(this.labDir, abs);
    const inside = rel && !rel.startsWith('..') && !rel.startsWith(sep);
    const base = inside ? `files/${rel.split(sep).join('/')}` : `files/external/${basename(abs)}`;
    let out = base;
    for (let k = 2; this.taken.has(out); k++) out = `${base}-${k}`;
    this.taken.add(out);
    this.bySource.set(abs, out);
    return out;
  }
}

/**
 * What the importers copy, counted against the limits a pack is installed with. One file too big
 * is left out (the caller lists it as not converted): the rest of the lab is still worth having.
 * Too many files or bytes in all is an error: which files to leave out is the teacher's choice.
 */
export class CopyBudget {
  readonly limits: ArchiveLimits;
  /** lesson.yaml and README.md come on top of the copied files. */
  private files = 2;
  private bytes = 0;
  constructor(limits: Partial<ArchiveLimits> = {}) { this.limits = { ...DEFAULT_ARCHIVE_LIMITS, ...limits }; }

  /** Counts one file to copy; returns why it is left out, or undefined. Throws ImportError past the pack's limits. */
  take(from: string, size: number): string | undefined {
    const { maxFiles, maxBytes, maxFileBytes } = this.limits;
    if (size > maxFileBytes) return `${overLimit(size, maxFileBytes)} per file in a lesson pack: not copied`;
    if (this.files + 1 > maxFiles) throw new ImportError(from, undefined, `one file too many: a lesson pack may have at most ${maxFiles} files (lesson.yaml and README.md included); leave some out of the lab folder`);
    if (this.bytes + size > maxBytes) throw new ImportError(from, undefined, `copying it brings the pack to ${overLimit(this.bytes + size, maxBytes)} in total; leave some files out of the lab folder`);
    this.files++;
    this.bytes += size;
    return undefined;
  }
}

/** The real path of `path` if it is inside the real `dir` (links resolved), else undefined. */
export function realInside(dir: string, path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return isInside(realpathSync(dir), real) ? real : undefined;
  } catch { return undefined; }
}

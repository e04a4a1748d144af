// Source files -> pack files: walks folder trees (regular files only, saying what it skipped)
// and gives each source file one place under files/ in the pack.
import { lstatSync, readdirSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';

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

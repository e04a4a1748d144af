// containerlab binds -> files copied into the pack and mapped into the host. Dovelab copies files
// into a host before its startup; it mounts nothing, so what cannot be copied is reported.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PackPaths, walkFiles } from './files.js';
import type { PackFile } from './types.js';

/** One bind as written (`host-path:container-path[:mode]`) and where it was written. */
export interface Bind { spec: string; where: string }
/** What cannot be copied: the thing, where it was written, and why. */
export type Skip = (what: string, where: string, why: string) => void;

/** The pack's copies of binds: each source copied once, each host mapping its own paths. */
export class BoundFiles {
  readonly files: PackFile[] = [];
  private readonly copied = new Set<string>();
  private readonly pack: PackPaths;
  constructor(private readonly labDir: string) { this.pack = new PackPaths(labDir); }

  /** Container path -> pack path for the binds of one host; the rest goes to `skip`. */
  map(binds: Bind[], skip: Skip): Record<string, string> {
    const out: Record<string, string> = {};
    const add = (from: string, inHost: string) => {
      const to = this.pack.for(from);
      if (!this.copied.has(to)) { this.copied.add(to); this.files.push({ from, to }); }
      out[inHost] = to;
    };
    for (const { spec, where } of binds) {
      const no = (why: string) => skip(`bind ${spec}`, where, why);
      const [src, dst] = spec.split(':');
      if (!src || dst === undefined) { no('an anonymous volume: there is nothing to copy'); continue; }
      if (!dst.startsWith('/')) { no('the path inside the container must be absolute'); continue; }
      if (src.includes('__clab')) { no("refers to containerlab's lab directory, which exists only after containerlab deploy"); continue; }
      const abs = src === '~' || src.startsWith('~/') ? join(homedir(), src.slice(1)) : isAbsolute(src) ? src : resolve(this.labDir, src);
      if (!existsSync(abs)) { no(`${src} does not exist (${isAbsolute(src) ? 'on this computer' : "relative paths start at the topology file's folder"})`); continue; }
      const st = statSync(abs);
      if (st.isFile()) add(abs, dst);
      else if (st.isDirectory()) {
        const walked = walkFiles(abs);
        for (const rel of walked.files) add(join(abs, rel), `${dst.replace(/\/+$/, '')}/${rel}`);
        for (const s of walked.skipped) skip(`${src}/${s.rel}`, where, s.why);
        if (!walked.files.length && !walked.skipped.length) no('an empty folder: there is nothing to copy');
      } else no('not a regular file or folder (e.g. a socket): not copied');
    }
    return out;
  }
}

// containerlab binds -> files copied into the pack and mapped into the host. Dovelab copies files
// into a host before its startup; it mounts nothing, so what cannot be copied is reported.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CopyBudget, PackPaths, realInside, walkFiles } from './files.js';
import { badHostPath } from '../schema.js';
import type { PackFile } from './types.js';

/** One bind as written (`host-path:container-path[:mode]`) and where it was written. */
export interface Bind { spec: string; where: string }
/** What cannot be copied: the thing, where it was written, and why. */
export type Skip = (what: string, where: string, why: string) => void;

export const OUTSIDE_WHY = 'outside the lab folder; pass --allow-host-files to copy it';

/** The pack's copies of binds: each source copied once, each host mapping its own paths. */
export class BoundFiles {
  readonly files: PackFile[] = [];
  private readonly copied = new Map<string, string | undefined>();
  private readonly pack: PackPaths;
  constructor(private readonly labDir: string, private readonly budget: CopyBudget, private readonly allowHostFiles = false) {
    this.pack = new PackPaths(labDir);
  }

  /** Container path -> pack path for the binds of one host; the rest goes to `skip`. */
  map(binds: Bind[], skip: Skip): Record<string, string> {
    const out: Record<string, string> = {};
    /** Maps `inHost` to the pack's copy of `real` (a regular file, copied once); what cannot be copied goes to `no`. */
    const add = (real: string, inHost: string, no: (why: string) => void): void => {
      const badTarget = badHostPath(inHost);
      if (badTarget) { no(`${inHost} ${badTarget}`); return; }
      if (!this.copied.has(real)) {
        const tooBig = this.budget.take(real, statSync(real).size);
        const to = tooBig ? undefined : this.pack.for(real);
        this.copied.set(real, to);
        if (to) this.files.push({ from: real, to });
        else no(tooBig!);
      }
      const to = this.copied.get(real);
      if (to) out[inHost] = to;
    };
    for (const { spec, where } of binds) {
      const no = (why: string) => skip(`bind ${spec}`, where, why);
      const [src, dst] = spec.split(':');
      if (!src || dst === undefined) { no('an anonymous volume: there is nothing to copy'); continue; }
      if (!dst.startsWith('/')) { no('the path inside the container must be absolute'); continue; }
      if (src.includes('__clab')) { no("refers to containerlab's lab directory, which exists only after containerlab deploy"); continue; }
      const abs = src === '~' || src.startsWith('~/') ? join(homedir(), src.slice(1)) : isAbsolute(src) ? src : resolve(this.labDir, src);
      if (!existsSync(abs)) { no(`${src} does not exist (${isAbsolute(src) ? 'on this computer' : "relative paths start at the topology file's folder"})`); continue; }
      // Judged by where the source really is: ~, absolute paths and links may all lead out.
      const inside = realInside(this.labDir, abs);
      if (!inside && !this.allowHostFiles) { no(OUTSIDE_WHY); continue; }
      const real = inside ?? realpathSync(abs);
      const st = statSync(real);
      if (st.isFile()) add(real, dst, no);
      else if (st.isDirectory()) {
        const walked = walkFiles(real);
        for (const rel of walked.files) add(join(real, rel), `${dst.replace(/\/+$/, '')}/${rel}`, (why) => skip(`${src}/${rel}`, where, why));
        for (const s of walked.skipped) skip(`${src}/${s.rel}`, where, s.why);
        if (!walked.files.length && !walked.skipped.length) no('an empty folder: there is nothing to copy');
      } else no('not a regular file or folder (e.g. a socket): not copied');
    }
    return out;
  }
}

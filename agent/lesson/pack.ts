// A lesson pack: a directory with lesson.yaml, README.md (the students' instructions) and
// optional files/. Validates what the schema cannot see: the pack's files and task hosts.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DEFAULT_ARCHIVE_LIMITS, overLimit, type ArchiveLimits } from './archive.js';
import { LessonError, parseTopology, printable, type Problem } from './load.js';
import type { Lesson } from './schema.js';

export interface Pack {
  /** Absolute path of the pack directory. */
  dir: string;
  lesson: Lesson;
  readme: string;
  /** lesson.yaml's `version`, else a short sha256 of the pack's contents. */
  version: string;
}

/** A problem in one file of the pack (`file` relative to the pack, e.g. lesson.yaml). */
export type PackProblem = Problem & { file: string };

/** Everything wrong with a pack, one line per problem: "<pack>/<file>: <path>: <reason>". */
export class PackError extends LessonError {
  override readonly problems: PackProblem[];
  constructor(readonly pack: string, problems: PackProblem[]) {
    super(pack, problems);
    this.problems = problems.map((p) => ({ ...p, path: printable(p.path), message: printable(p.message) }));
    this.name = 'PackError';
    this.message = this.problems.map((p) => `${join(pack, p.file)}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n');
  }
}

/** Files that are not part of a pack's contents (VCS, OS junk, our install record). */
export function isPackMetadata(name: string): boolean {
  return name === '.git' || name === '.installed.json' || name === '.DS_Store' || name === '__MACOSX';
}

export interface LoadPackOptions {
  /** How the pack is named in errors (e.g. the archive it came from); default: its directory. */
  name?: string;
  /** Version to use when lesson.yaml has none (e.g. recorded at install), instead of hashing. */
  version?: string;
}

/** Loads and fully validates a pack; throws PackError listing every problem found. */
export function loadPack(dir: string, opts: LoadPackOptions = {}): Pack {
  const root = resolve(dir);
  const name = opts.name ?? dir;
  const { lesson, readme, problems } = checkPack(root, { name, lessonFile: 'lesson.yaml', readme: 'required', idRequired: true });
  if (problems.length || !lesson || readme === undefined) throw new PackError(name, problems);
  return { dir: root, lesson, readme, version: lesson.version ?? opts.version ?? contentHash(root) };
}

export interface CheckPackOptions {
  /** How the pack is named in errors. */
  name: string;
  /** The topology file, relative to the pack (lesson.yaml, or a bare topology's own name). */
  lessonFile: string;
  /** A pack must have README.md; a bare topology file may go without. */
  readme: 'required' | 'optional';
  /** Installed packs are known by their id; a bare topology runs as "lab". */
  idRequired: boolean;
  limits?: Partial<ArchiveLimits>;
}

export interface CheckedPack { lesson?: Lesson; readme?: string; problems: PackProblem[] }

/**
 * The pack checks loadPack and the lab's openLabLesson share: lesson.yaml and README.md are
 * regular files inside the pack, the topology is valid, host files are regular files inside the
 * pack (after resolving links) within the size limits, tasks name hosts. Collects every problem.
 */
export function checkPack(root: string, o: CheckPackOptions): CheckedPack {
  const problems: PackProblem[] = [];
  const inFile = (file: string) => (path: string, message: string) => { problems.push({ file, path, message }); };
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...o.limits };
  const realRoot = realRootOf(root);

  let lesson: Lesson | undefined;
  const text = readPackText(root, realRoot, o.lessonFile, limits);
  if ('missing' in text) {
    inFile(o.lessonFile)('', o.lessonFile === 'lesson.yaml' ? 'missing: a lesson pack has lesson.yaml at its top' : 'missing');
  } else if ('why' in text) {
    inFile(o.lessonFile)('', text.why);
  } else {
    try {
      lesson = parseTopology(text.text, join(o.name, o.lessonFile));
    } catch (e) {
      if (!(e instanceof LessonError)) throw e;
      for (const p of e.problems) inFile(o.lessonFile)(p.path, p.message);
    }
  }
  if (lesson) {
    const say = inFile(o.lessonFile);
    if (o.idRequired && lesson.id === undefined) say('id', 'a lesson pack needs an id (lowercase letters, digits and dashes), e.g. id: first-switch');
    checkHostFiles(lesson, root, realRoot, limits, say);
    checkTasks(lesson, say);
  }
  let readme: string | undefined;
  const r = readPackText(root, realRoot, 'README.md', limits);
  if ('text' in r) readme = r.text;
  else if ('why' in r) inFile('README.md')('', r.why);
  else if (o.readme === 'required') inFile('README.md')('', "missing: a lesson pack has README.md, the students' instructions");
  return { ...(lesson ? { lesson } : {}), ...(readme !== undefined ? { readme } : {}), problems };
}

const realRootOf = (root: string) => { try { return realpathSync(root); } catch { return root; } };


/**
 * A text file of the pack (lesson.yaml, README.md): missing, refused (a link out of the pack, not
 * a regular file, too big) or its text. A link that stays inside the pack is followed.
 */
function readPackText(root: string, realRoot: string, rel: string, limits: ArchiveLimits): { text: string } | { missing: true } | { why: string } {
  const path = join(root, rel);
  try { lstatSync(path); } catch { return { missing: true }; }
  let real: string;
  try { real = realpathSync(path); } catch { return { why: 'is a link to nothing' }; }
  if (!isInside(realRoot, real)) return { why: 'is a link to outside the pack: a pack carries its own files' };
  try {
    const st = statSync(real);
    if (!st.isFile()) return rel === 'README.md' ? { missing: true } : { why: 'is not a regular file' };
    if (st.size > limits.maxFileBytes) return { why: `is ${overLimit(st.size, limits.maxFileBytes)} per file` };
    return { text: readFileSync(real, 'utf8') };
  } catch (e) { return { why: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }; }
}

/** Whether `path` is `root` or below it (both absolute, normalized). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

type Say = (path: string, message: string) => void;

/** Why a files: source (relative to the pack) cannot be used, or its real path and size. */
export function hostFileSource(root: string, realRoot: string, src: string): { real: string; size: number } | { why: string } {
  if (src.includes('\0')) return { why: `${printable(src)} has a NUL character` };
  if (isAbsolute(src)) return { why: `${src} is an absolute path: give a file inside the pack, e.g. files/motd.txt` };
  const path = resolve(root, src);
  if (!isInside(root, path)) return { why: `${src} escapes the pack` };
  try { lstatSync(path); } catch { return { why: `${src} is missing` }; }
  let real: string;
  try { real = realpathSync(path); } catch { return { why: `${src} is missing (a link to nothing)` }; }
  if (!isInside(realRoot, real)) return { why: `${src} escapes the pack (a link to ${real})` };
  let st;
  try { st = statSync(real); } catch (e) { return { why: `${src} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }; }
  if (!st.isFile()) return { why: `${src} is not a regular file` };
  return { real, size: st.size };
}

/** hosts.<h>.files: each source is a regular file inside the pack, also after resolving links, within the size limits. */
function checkHostFiles(lesson: Lesson, root: string, realRoot: string, limits: ArchiveLimits, say: Say): void {
  const counted = new Map<string, number>();
  for (const [h, host] of Object.entries(lesson.hosts)) {
    for (const [target, src] of Object.entries(host.files ?? {})) {
      const at = `hosts.${h}.files.${printable(target)}`;
      const f = hostFileSource(root, realRoot, src);
      if ('why' in f) { say(at, f.why); continue; }
      if (f.size > limits.maxFileBytes) { say(at, `${src} is ${overLimit(f.size, limits.maxFileBytes)} per file`); continue; }
      counted.set(f.real, f.size);
      const total = [...counted.values()].reduce((a, b) => a + b, 0);
      if (total > limits.maxBytes) { say(at, `${src} brings the host files to ${overLimit(total, limits.maxBytes)} in total`); counted.delete(f.real); }
    }
  }
  if (counted.size > limits.maxFiles) say('hosts', `the hosts' files are ${counted.size} files, over the limit of ${limits.maxFiles}`);
}

const isIPv4 = (s: string) => {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
};

/** Task checks name hosts of the lesson (`to` may also be an IPv4 address); task ids are unique. */
function checkTasks(lesson: Lesson, say: Say): void {
  const hosts = Object.keys(lesson.hosts);
  const known = `known: ${hosts.join(', ') || 'none'}`;
  const host = (at: string, h: string, orAddress: boolean) => {
    if (Object.hasOwn(lesson.hosts, h) || (orAddress && isIPv4(h))) return;
    say(at, `unknown host "${h}" (${known}${orAddress ? '; or give an IPv4 address' : ''})`);
  };
  const seen = new Map<string, number>();
  lesson.tasks.forEach((task, i) => {
    const first = seen.get(task.id);
    if (first !== undefined) say(`tasks.${i}.id`, `task id "${task.id}" is already used by task ${first}`);
    else seen.set(task.id, i);
    const c = task.check;
    for (const kind of ['reach', 'no_reach'] as const) {
      const r = c[kind];
      if (!r) continue;
      host(`tasks.${i}.check.${kind}.from`, r.from, false);
      host(`tasks.${i}.check.${kind}.to`, r.to, true);
    }
    if (c.command) host(`tasks.${i}.check.command.on`, c.command.on, false);
  });
}

/**
 * A short, stable sha256 of the pack's contents: every regular file (links followed inside the
 * pack) by relative path and bytes, in sorted order; metadata (isPackMetadata) left out.
 */
export function contentHash(dir: string): string {
  const root = realpathSync(dir);
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const names = readdirSync(join(root, rel)).filter((n) => !isPackMetadata(n)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = join(root, r);
      const st = lstatSync(abs);
      if (st.isDirectory()) { walk(r); continue; }
      if (st.isFile()) { addFile(r, abs); continue; }
      if (st.isSymbolicLink()) {
        let real: string | undefined;
        try { real = realpathSync(abs); } catch { /* dangling */ }
        if (real && isInside(root, real) && statSync(real).isFile()) addFile(r, real);
        else hash.update(`link\0${r}\0${readlinkSync(abs)}\0`);
      }
    }
  };
  const addFile = (rel: string, abs: string) => {
    const data = readFileSync(abs);
    hash.update(`file\0${rel}\0${data.length}\0`);
    hash.update(data);
  };
  walk('');
  return hash.digest('hex').slice(0, 12);
}

// A lesson pack: a directory with lesson.yaml, README.md (the students' instructions) and
// optional files/. Validates what the schema cannot see: the pack's files and task hosts.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LessonError, parseTopology, type Problem } from './load.js';
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
    this.problems = problems;
    this.name = 'PackError';
    this.message = problems.map((p) => `${join(pack, p.file)}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n');
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
  const problems: PackProblem[] = [];
  const inFile = (file: string) => (path: string, message: string) => { problems.push({ file, path, message }); };

  let lesson: Lesson | undefined;
  const text = readText(join(root, 'lesson.yaml'));
  if (text === undefined) {
    inFile('lesson.yaml')('', 'missing: a lesson pack has lesson.yaml at its top');
  } else {
    try {
      lesson = parseTopology(text, join(name, 'lesson.yaml'));
    } catch (e) {
      if (!(e instanceof LessonError)) throw e;
      for (const p of e.problems) inFile('lesson.yaml')(p.path, p.message);
    }
  }
  if (lesson) {
    const say = inFile('lesson.yaml');
    if (lesson.id === undefined) say('id', 'a lesson pack needs an id (lowercase letters, digits and dashes), e.g. id: first-switch');
    checkHostFiles(lesson, root, say);
    checkTasks(lesson, say);
  }
  const readme = readText(join(root, 'README.md'));
  if (readme === undefined) inFile('README.md')('', "missing: a lesson pack has README.md, the students' instructions");

  if (problems.length || !lesson || readme === undefined) throw new PackError(name, problems);
  return { dir: root, lesson, readme, version: lesson.version ?? opts.version ?? contentHash(root) };
}

function readText(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return undefined;
    return readFileSync(file, 'utf8');
  } catch { return undefined; }
}

/** Whether `path` is `root` or below it (both absolute, normalized). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

type Say = (path: string, message: string) => void;

/** hosts.<h>.files: each source is a regular file inside the pack, also after resolving links. */
function checkHostFiles(lesson: Lesson, root: string, say: Say): void {
  let realRoot: string;
  try { realRoot = realpathSync(root); } catch { realRoot = root; }
  for (const [h, host] of Object.entries(lesson.hosts)) {
    for (const [target, src] of Object.entries(host.files ?? {})) {
      const at = `hosts.${h}.files.${target}`;
      if (isAbsolute(src)) { say(at, `${src} is an absolute path: give a file inside the pack, e.g. files/motd.txt`); continue; }
      const path = resolve(root, src);
      if (!isInside(root, path)) { say(at, `${src} escapes the pack`); continue; }
      try { lstatSync(path); } catch { say(at, `${src} is missing`); continue; }
      let real: string;
      try { real = realpathSync(path); } catch { say(at, `${src} is missing (a link to nothing)`); continue; }
      if (!isInside(realRoot, real)) { say(at, `${src} escapes the pack`); continue; }
      if (!statSync(real).isFile()) say(at, `${src} is not a regular file`);
    }
  }
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

// Fuzz: seeded mutations of the bundled lesson packs (the YAML tree and the pack's files). Each
// pack is loaded or refused with a PackError naming the file and a path, never any other
// exception; the loaded ones are copied by snapshotPack and planned for 1..30 groups (return or
// throw PlanError).
// DOVELAB_FUZZ_SEED=<n> (and DOVELAB_FUZZ_COUNT) reproduce or widen a run.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { planDesired, PlanError } from '../../agent/lab/desired.js';
import { LessonError } from '../../agent/lesson/load.js';
import { loadPack, PackError } from '../../agent/lesson/pack.js';
import { openLabLesson, snapshotPack } from '../../agent/lesson/snapshot.js';
import { tempDir } from '../fixtures/packs/build.js';
import { rng } from './_rng.js';

const LESSONS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../lessons');
const SEED = Number(process.env.DOVELAB_FUZZ_SEED ?? 20261207);
const COUNT = Number(process.env.DOVELAB_FUZZ_COUNT ?? 320);

/** Seeded: the same sequence on every machine. */
function prng(seed: number) {
  const next = rng(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

type Tree = unknown;
type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** Sets an own property, even __proto__ (plain assignment would change the prototype). */
const put = (o: Obj, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

/** Every place in the tree: its parent and key (the root has none). */
function places(t: Tree): { parent: Obj | unknown[]; key: string | number; path: string }[] {
  const out: { parent: Obj | unknown[]; key: string | number; path: string }[] = [];
  const walk = (x: unknown, path: string) => {
    if (Array.isArray(x)) x.forEach((v, i) => { out.push({ parent: x, key: i, path: `${path}.${i}` }); walk(v, `${path}.${i}`); });
    else if (isObj(x)) for (const k of Object.keys(x)) { out.push({ parent: x, key: k, path: `${path}.${k}` }); walk(x[k], `${path}.${k}`); }
  };
  walk(t, '');
  return out;
}
const get = (p: { parent: Obj | unknown[]; key: string | number }) => (p.parent as Obj)[p.key as string];
const set = (p: { parent: Obj | unknown[]; key: string | number }, v: unknown) => {
  if (Array.isArray(p.parent)) p.parent[p.key as number] = v; else put(p.parent, p.key as string, v);
};

const WEIRD = ['', ' ', '..', '.', '../../etc/passwd', '/etc/hostname', 'a\0b', '\0', 'é', 'Ωmega', '🐦', 'h1', 'lab', 'eth0', 'dhcp', 'none',
  'constructor', '__proto__', 'toString', 'hasOwnProperty', '/proc/self/mem', '/sys/x', '/dev/null', 'files/../../x', 'files/motd.txt',
  '198.51.100.11/24', '198.51.100.300/24', '0e:00:00:00:01:02', '01:00:00:00:00:01', 'dovelab-x', 'x'.repeat(5000), 'a.b.c', 'h1.eth0', '-', '1', '\n', '\t'];
const NUMBERS = [-1, 0, 1, 2, 15, 16, 30, 31, 99, 100, 101, 4093, 4094, 4095, 65535, 65536, 1e9, 1.5, -0.5, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2];
const randomValue = (r: Rng): unknown => r.pick<() => unknown>([
  () => r.pick(WEIRD), () => r.pick(NUMBERS), () => r.next() < 0.5, () => null, () => [], () => ({}), () => [r.pick(WEIRD)], () => ({ [r.pick(WEIRD)]: r.pick(WEIRD) }),
])();

/** One mutation of the YAML tree; returns what it did (for the failure report). */
function mutateTree(t: Obj, r: Rng): string {
  const all = places(t);
  if (!all.length) return 'nothing to mutate';
  const at = r.pick(all);
  const v = get(at);
  switch (r.int(9)) {
    case 0: // delete a key or array element
      if (Array.isArray(at.parent)) at.parent.splice(at.key as number, 1); else delete at.parent[at.key as string];
      return `delete ${at.path}`;
    case 1: { const nv = randomValue(r); set(at, nv); return `type ${at.path} = ${JSON.stringify(nv)?.slice(0, 40)}`; }
    case 2: { // out-of-range numbers, on a number if one is near
      const nums = all.filter((p) => typeof get(p) === 'number');
      const p = nums.length ? r.pick(nums) : at;
      const n = r.pick(NUMBERS); set(p, n); return `number ${p.path} = ${n}`;
    }
    case 3: { // weird strings, on a string if one is near
      const strs = all.filter((p) => typeof get(p) === 'string');
      const p = strs.length ? r.pick(strs) : at;
      const s = r.pick(WEIRD); set(p, s); return `string ${p.path} = ${JSON.stringify(s.slice(0, 20))}`;
    }
    case 4: { // weird key
      if (Array.isArray(at.parent)) { at.parent.push(structuredClone(v)); return `duplicate ${at.path}`; }
      const k = r.pick(WEIRD);
      delete at.parent[at.key as string];
      put(at.parent, k, v);
      return `rename ${at.path} -> ${JSON.stringify(k.slice(0, 20))}`;
    }
    case 5: { // duplicate an entry (same MACs, addresses, ids)
      if (Array.isArray(at.parent)) { at.parent.push(structuredClone(v)); return `duplicate ${at.path}`; }
      put(at.parent, `${String(at.key).slice(0, 12)}-2`, structuredClone(v));
      return `duplicate ${at.path} as ${String(at.key).slice(0, 12)}-2`;
    }
    case 6: { // swap two string values (references to hosts, networks, ACLs)
      const strs = all.filter((p) => typeof get(p) === 'string');
      if (strs.length < 2) return 'no strings to swap';
      const a = r.pick(strs); const b = r.pick(strs); const va = get(a);
      set(a, get(b)); set(b, va);
      return `swap ${a.path} <-> ${b.path}`;
    }
    case 7: { // host files with hostile targets or sources
      const hosts = isObj(t.hosts) ? Object.keys(t.hosts) : [];
      const h = hosts.length ? r.pick(hosts) : 'h1';
      if (!isObj(t.hosts)) t.hosts = {};
      const host = (t.hosts as Obj)[h];
      if (!isObj(host)) return 'no host to give files';
      const files = isObj(host.files) ? host.files : (host.files = {});
      const target = r.pick(['/etc/motd', '/etc/../etc/shadow', '/proc/x', '/sys/y', '/dev/z', '/etc//a', '/etc/./b', 'rel/path', '/', '/ok/é/🐦', '/a\0b', `/${'d/'.repeat(300)}f`]);
      const src = r.pick(['files/motd.txt', 'files/index.html', '../outside', '/etc/hostname', 'files/missing.txt', 'files', '', 'files/../lesson.yaml', 'README.md', 'files/link-out', 'files/a\0b', 'files/dangling', 'files/dir-link/hostname']);
      put(files as Obj, target, src);
      return `files ${h}: ${JSON.stringify(target.slice(0, 30))} -> ${JSON.stringify(src)}`;
    }
    default: { // a whole section replaced or emptied
      const key = r.pick(['networks', 'hosts', 'tasks', 'acls', 'apply', 'uplinks', 'mirrors', 'groups', 'dovelab', 'id']);
      const nv = r.pick<unknown>([{}, [], null, 'x', 7, randomValue(r)]);
      put(t, key, nv);
      return `section ${key} = ${JSON.stringify(nv)?.slice(0, 40)}`;
    }
  }
}

/** One mutation of the pack's files. */
function mutateFiles(dir: string, r: Rng): string {
  switch (r.int(9)) {
    case 0: unlinkSync(join(dir, 'README.md')); return 'no README.md';
    case 1: mkdirSync(join(dir, 'files'), { recursive: true }); symlinkSync('/etc/hostname', join(dir, 'files/link-out')); return 'files/link-out -> /etc/hostname';
    case 2: mkdirSync(join(dir, 'files'), { recursive: true }); symlinkSync('/etc', join(dir, 'files/dir-link')); return 'files/dir-link -> /etc';
    case 3: rmSync(join(dir, 'files'), { recursive: true, force: true }); return 'no files/';
    case 4: unlinkSync(join(dir, 'README.md')); symlinkSync('/etc/hostname', join(dir, 'README.md')); return 'README.md -> /etc/hostname';
    case 5: unlinkSync(join(dir, 'README.md')); mkdirSync(join(dir, 'README.md')); return 'README.md is a folder';
    case 6: mkdirSync(join(dir, 'files'), { recursive: true }); symlinkSync('nowhere', join(dir, 'files/dangling')); return 'files/dangling -> nowhere';
    case 7: { // lesson.yaml as text: cut short or with a tab in its indentation
      const text = readFileSync(join(dir, 'lesson.yaml'), 'utf8');
      const cut = r.int(text.length);
      writeFileSync(join(dir, 'lesson.yaml'), r.next() < 0.5 ? text.slice(0, cut) : `${text.slice(0, cut)}\n\t- [\n${text.slice(cut)}`);
      return `lesson.yaml text cut at ${cut}`;
    }
    default: {
      const outside = join(dirname(dir), `${dir.split('/').pop()}-outside.yaml`);
      writeFileSync(outside, readFileSync(join(dir, 'lesson.yaml')));
      unlinkSync(join(dir, 'lesson.yaml')); symlinkSync(outside, join(dir, 'lesson.yaml'));
      return 'lesson.yaml -> a file outside the pack';
    }
  }
}

const tmp = tempDir('fuzz-pack');
test.after(() => tmp.remove());

test(`fuzz: ${COUNT} mutated lesson packs (seed ${SEED}) load or are refused with file and path; plans return or throw PlanError`, () => {
  const bases = readdirSync(LESSONS).filter((d) => !d.includes('.')).sort();
  assert.ok(bases.length >= 5, `bundled lessons in ${LESSONS}`);
  const baseTrees = new Map(bases.map((b) => [b, parse(readFileSync(join(LESSONS, b, 'lesson.yaml'), 'utf8')) as Obj]));
  const r = prng(SEED);
  const tally = { generated: 0, valid: 0, refused: 0, snapshots: 0, planned: 0, planRefused: 0 };
  const crashes: string[] = [];
  const started = Date.now();
  for (let i = 0; i < COUNT; i++) {
    const base = r.pick(bases);
    const tree = structuredClone(baseTrees.get(base)!);
    const did: string[] = [];
    // Most packs get tree mutations; some only file mutations; a few both.
    const treeMutations = r.next() < 0.85 ? 1 + r.int(3) : 0;
    for (let k = 0; k < treeMutations; k++) did.push(mutateTree(tree, r));
    const filesToo = treeMutations === 0 || r.next() < 0.25;
    // A pack whose files stay as they are reuses its base's copy (the disk is the slow part).
    const dir = join(tmp.dir, filesToo ? `p${i}` : `base-${base}`);
    if (filesToo || !existsSync(dir)) cpSync(join(LESSONS, base), dir, { recursive: true });
    writeFileSync(join(dir, 'lesson.yaml'), stringify(tree, { lineWidth: 0 }));
    if (filesToo) did.push(mutateFiles(dir, r));
    tally.generated++;
    const what = `#${i} (seed ${SEED}, from ${base}: ${did.join('; ')})`;
    let pack;
    try {
      pack = loadPack(dir);
    } catch (e) {
      if (!(e instanceof PackError) || !(e instanceof LessonError)) { crashes.push(`${what}: loadPack threw ${(e as Error)?.stack ?? String(e)}`); continue; }
      tally.refused++;
      const lines = e.message.split('\n');
      if (!e.problems.length || lines.length !== e.problems.length) crashes.push(`${what}: a PackError without one line per problem: ${e.message}`);
      e.problems.forEach((p, k) => {
        if (!['lesson.yaml', 'README.md'].includes(p.file) || !lines[k]?.startsWith(`${join(dir, p.file)}: `)) crashes.push(`${what}: problem does not name its file: ${lines[k]}`);
        // Whole-file problems (missing, a link out) name only the file; lesson.yaml's top level says what is wrong there.
        if (p.path === '' && p.file === 'lesson.yaml' && !/missing|link|regular file|Unrecognized key|expected object|Invalid input/.test(p.message)) crashes.push(`${what}: no path: ${lines[k]}`);
        if (p.message.includes('\0') || p.path.includes('\0')) crashes.push(`${what}: a raw NUL in the message: ${JSON.stringify(lines[k])}`);
      });
      continue;
    }
    tally.valid++;
    // What the checks let through, the lab's copy takes as it is (nothing changed in between).
    // Every fourth only: each copy fsyncs, and that is slow on a VM's disk.
    if (tally.valid % 4 === 1) try { tally.snapshots++; snapshotPack(openLabLesson(dir), join(tmp.dir, `snap-${i}`)); } catch (e) { crashes.push(`${what}: snapshotPack threw ${(e as Error)?.stack ?? String(e)}`); }
    for (const groups of [1, 1 + r.int(30), 30]) {
      try {
        planDesired(pack.lesson, { lab: pack.lesson.id ?? 'lab', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' });
        tally.planned++;
      } catch (e) {
        if (e instanceof PlanError) tally.planRefused++;
        else crashes.push(`${what}: planDesired(groups ${groups}) threw ${(e as Error)?.stack ?? String(e)}`);
      }
    }
  }
  console.log(`fuzz-pack: seed ${SEED}: ${tally.generated} packs, ${tally.valid} valid, ${tally.refused} refused; ${tally.snapshots} copied by snapshotPack; plans: ${tally.planned} made, ${tally.planRefused} refused (PlanError); ${Date.now() - started} ms`);
  assert.is(crashes.length, 0, `${crashes.length} crash(es):\n${crashes.slice(0, 10).join('\n\n')}`);
  assert.is(tally.generated, COUNT);
  // The fuzzer must exercise both sides, or it proves little.
  assert.ok(tally.valid >= COUNT / 20, `only ${tally.valid} valid packs: the mutations are too harsh to reach the planner`);
  assert.ok(tally.refused >= COUNT / 2, `only ${tally.refused} refused packs: the mutations are too mild`);
});

test.run();

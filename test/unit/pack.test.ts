// Lesson packs: lesson.yaml + README.md + files/, checked beyond the schema. Each bad pack must
// fail naming the file and the path inside it; all problems are reported at once.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LessonError } from '../../agent/lesson/load.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../agent/lesson/archive.js';
import { contentHash, loadPack, PackError } from '../../agent/lesson/pack.js';
import { openLabLesson, snapshotPack, type LabLesson } from '../../agent/lesson/snapshot.js';
import { copyGood, GOOD, PACKS, tempDir } from '../fixtures/packs/build.js';

const tmp = tempDir('pack-test');
test.after(() => tmp.remove());
let n = 0;
/** A fresh copy of the good pack, optionally with lesson.yaml edited. */
const goodCopy = (edit?: (yaml: string) => string) => {
  const dir = copyGood(join(tmp.dir, `p${++n}`));
  if (edit) writeFileSync(join(dir, 'lesson.yaml'), edit(readFileSync(join(dir, 'lesson.yaml'), 'utf8')));
  return dir;
};

/** The PackError that loading `dir` throws. */
const failure = (dir: string, name?: string): PackError => {
  try { loadPack(dir, name ? { name } : {}); } catch (e) {
    assert.instance(e, PackError);
    assert.instance(e, LessonError);
    return e as PackError;
  }
  assert.unreachable(`${dir} loaded, but it is a bad pack`);
  throw new Error('unreachable');
};

test('the good pack loads: lesson, README, version from its contents', () => {
  const p = loadPack(GOOD);
  assert.is(p.dir, GOOD);
  assert.is(p.lesson.id, 'test-pack');
  assert.is(p.lesson.tasks.length, 4);
  assert.is(p.lesson.hosts.h1!.files!['/etc/motd'], 'files/motd.txt');
  assert.match(p.readme, /^# Test pack/);
  assert.match(p.version, /^[0-9a-f]{12}$/);
});

test('the content version is stable, follows the contents and ignores the install record', () => {
  const a = goodCopy();
  const v = loadPack(a).version;
  assert.is(loadPack(GOOD).version, v, 'a copy elsewhere has the same version');
  writeFileSync(join(a, '.installed.json'), '{"id":"test-pack"}');
  mkdirSync(join(a, '.git'));
  writeFileSync(join(a, '.git', 'HEAD'), 'ref');
  assert.is(contentHash(a), v, 'metadata is not content');
  writeFileSync(join(a, 'README.md'), '# Test pack\n\nChanged.\n');
  assert.is.not(loadPack(a).version, v);
  writeFileSync(join(a, 'README.md'), readFileSync(join(GOOD, 'README.md')));
  writeFileSync(join(a, 'files', 'new.txt'), 'x');
  assert.is.not(loadPack(a).version, v, 'a new file changes the version');
});

test("lesson.yaml's version wins over the content hash and over a recorded one", () => {
  const dir = goodCopy((y) => y.replace('title: Test pack', 'title: Test pack\nversion: "2024.1"'));
  assert.is(loadPack(dir).version, '2024.1');
  assert.is(loadPack(dir, { version: 'recorded' }).version, '2024.1');
  assert.is(loadPack(goodCopy(), { version: 'recorded' }).version, 'recorded');
});

test('a pack with everything wrong reports every problem, each naming file and path', () => {
  const e = failure(join(PACKS, 'bad'));
  const yaml = `${join(PACKS, 'bad')}/lesson.yaml`;
  const lines = e.message.split('\n');
  const expected = [
    `${yaml}: id: a lesson pack needs an id`,
    `${yaml}: hosts.h1.files./etc/motd: files/missing.txt is missing`,
    `${yaml}: hosts.h1.files./etc/issue: ../good/files/motd.txt escapes the pack`,
    `${yaml}: hosts.h1.files./etc/hosts: /etc/hosts is an absolute path`,
    `${yaml}: hosts.h1.files./etc/dir: files is not a regular file`,
    `${yaml}: tasks.0.check.reach.from: unknown host "h9" (known: h1)`,
    `${yaml}: tasks.1.id: task id "ping" is already used by task 0`,
    `${yaml}: tasks.1.check.no_reach.to: unknown host "nowhere" (known: h1; or give an IPv4 address)`,
    `${yaml}: tasks.2.check.command.on: unknown host "ghost" (known: h1)`,
    `${yaml}: tasks.3.check.reach.to: unknown host "198.51.100.300"`,
    `${join(PACKS, 'bad')}/README.md: missing`,
  ];
  assert.is(lines.length, expected.length, e.message);
  expected.forEach((want, i) => assert.ok(lines[i]!.startsWith(want), `line ${i}: ${lines[i]}\nwanted: ${want}`));
  assert.equal(e.problems.map((p) => p.file), [...Array(10).fill('lesson.yaml'), 'README.md']);
  assert.is(e.problems[1]!.path, 'hosts.h1.files./etc/motd');
});

/** One change to the good pack -> the one problem it must cause. */
const broken: [string, (dir: string) => void, RegExp][] = [
  ['no lesson.yaml', (d) => unlinkSync(join(d, 'lesson.yaml')), /\/lesson\.yaml: missing: a lesson pack has lesson\.yaml/],
  ['no README.md', (d) => unlinkSync(join(d, 'README.md')), /\/README\.md: missing: a lesson pack has README\.md/],
  ['README.md is a directory', (d) => { unlinkSync(join(d, 'README.md')); mkdirSync(join(d, 'README.md')); }, /\/README\.md: missing/],
  ['no id', (d) => edit(d, (y) => y.replace('id: test-pack\n', '')), /\/lesson\.yaml: id: a lesson pack needs an id/],
  ['a host file is a link out of the pack', (d) => { unlinkSync(join(d, 'files/motd.txt')); symlinkSync('/etc/hostname', join(d, 'files/motd.txt')); },
    /\/lesson\.yaml: hosts\.h1\.files\.\/etc\/motd: files\/motd\.txt escapes the pack/],
  ['a host file is a link to nothing', (d) => { unlinkSync(join(d, 'files/motd.txt')); symlinkSync('gone.txt', join(d, 'files/motd.txt')); },
    /hosts\.h1\.files\.\/etc\/motd: files\/motd\.txt is missing \(a link to nothing\)/],
  ['a host file through a linked directory out of the pack', (d) => {
    rmSync(join(d, 'files'), { recursive: true }); symlinkSync('/etc', join(d, 'files'));
    edit(d, (y) => y.replace('files/motd.txt', 'files/hostname'));
  }, /hosts\.h1\.files\.\/etc\/motd: files\/hostname escapes the pack/],
  ['README.md is a link out of the pack', (d) => { unlinkSync(join(d, 'README.md')); symlinkSync('/etc/hostname', join(d, 'README.md')); },
    /\/README\.md: is a link to outside the pack/],
  ['lesson.yaml is a link out of the pack', (d) => {
    const outside = join(tmp.dir, `outside-${++n}.yaml`);
    writeFileSync(outside, readFileSync(join(d, 'lesson.yaml')));
    unlinkSync(join(d, 'lesson.yaml')); symlinkSync(outside, join(d, 'lesson.yaml'));
  }, /\/lesson\.yaml: is a link to outside the pack/],
  ['a task from an unknown host', (d) => edit(d, (y) => y.replace('{reach: {from: h1, to: h2}}', '{reach: {from: h3, to: h2}}')),
    /\/lesson\.yaml: tasks\.0\.check\.reach\.from: unknown host "h3" \(known: h1, h2\)/],
  ['a task to an unknown host', (d) => edit(d, (y) => y.replace('{no_reach: {from: h2, to: h1, tcp: 22}}', '{no_reach: {from: h2, to: web, tcp: 22}}')),
    /tasks\.2\.check\.no_reach\.to: unknown host "web" \(known: h1, h2; or give an IPv4 address\)/],
  ['a schema problem', (d) => edit(d, (y) => y.replace('level: beginner', 'level: expert')), /\/lesson\.yaml: level: Invalid option/],
  ['a YAML syntax error', (d) => edit(d, (y) => `${y}\nnotes: "unterminated\n`), /\/lesson\.yaml: line \d+: /],
];
function edit(dir: string, f: (y: string) => string) {
  writeFileSync(join(dir, 'lesson.yaml'), f(readFileSync(join(dir, 'lesson.yaml'), 'utf8')));
}
for (const [name, change, why] of broken) {
  test(`rejects: ${name}`, () => {
    const dir = goodCopy();
    change(dir);
    const e = failure(dir);
    assert.is(e.problems.length, 1, e.message);
    assert.match(e.message, why);
    assert.ok(e.message.startsWith(dir), e.message);
  });
}

test('links inside the pack are fine; a schema problem and a missing README are reported together', () => {
  const ok = goodCopy();
  unlinkSync(join(ok, 'files/motd.txt'));
  symlinkSync('../README.md', join(ok, 'files/motd.txt'));
  unlinkSync(join(ok, 'README.md'));
  writeFileSync(join(ok, 'files/readme.md'), '# Test pack\n');
  symlinkSync('files/readme.md', join(ok, 'README.md'));
  assert.is(loadPack(ok).lesson.id, 'test-pack');
  assert.is(loadPack(ok).readme, '# Test pack\n');

  const both = goodCopy((y) => y.replace('minutes: 20', 'minutes: -1'));
  unlinkSync(join(both, 'README.md'));
  const e = failure(both);
  assert.equal(e.problems.map((p) => `${p.file} ${p.path}`), ['lesson.yaml minutes', 'README.md ']);
});

test('errors name the pack as told (e.g. the archive it came from)', () => {
  const dir = goodCopy();
  unlinkSync(join(dir, 'README.md'));
  assert.is(failure(dir, '/media/stick/lesson.zip').message, "/media/stick/lesson.zip/README.md: missing: a lesson pack has README.md, the students' instructions");
});

// ---- the way into a lab: openLabLesson checks, snapshotPack copies (issue 7) ---------------------

/** The PackError that `f` throws. */
const refused = (f: () => unknown): PackError => {
  try { f(); } catch (e) {
    assert.instance(e, PackError);
    return e as PackError;
  }
  assert.unreachable('accepted, but should have been refused');
  throw new Error('unreachable');
};
/** Nothing of a failed snapshot is left: no dest, no temporary folder beside it. */
const noTrace = (dest: string) => {
  assert.not.ok(existsSync(dest), `${dest} was made`);
  assert.equal(readdirSync(dirname(dest)).filter((f) => f.includes('.new-')), [], 'a temporary folder was left');
};
let snaps = 0;
const snapDest = () => join(tmp.dir, 'labs', `lab-${++snaps}`);

test('openLabLesson: a pack folder and its lesson.yaml give the checked lesson, its file and its folder', () => {
  const dir = goodCopy();
  for (const path of [dir, join(dir, 'lesson.yaml')]) {
    const l = openLabLesson(path);
    assert.is(l.topology.id, 'test-pack');
    assert.is(l.lessonFile, join(dir, 'lesson.yaml'));
    assert.is(l.packDir, dir);
  }
});

test('openLabLesson: a folder with README.md is a pack (id required); a bare lesson.yaml is not, but gets the other checks', () => {
  const pack = goodCopy((y) => y.replace('id: test-pack\n', ''));
  assert.match(refused(() => openLabLesson(pack)).message, /lesson\.yaml: id: a lesson pack needs an id/);
  unlinkSync(join(pack, 'README.md'));
  assert.is(openLabLesson(pack).topology.id, undefined, 'positive control: without README.md and id it runs as a bare topology');
  // The checks a bare topology still gets: host files and tasks.
  symlinkSync('/etc/hostname', join(pack, 'files/host.txt'));
  edit(pack, (y) => y.replace('files/motd.txt', 'files/host.txt').replace('{reach: {from: h1, to: h2}}', '{reach: {from: h9, to: h2}}'));
  const e = refused(() => openLabLesson(join(pack, 'lesson.yaml')));
  assert.equal(e.problems.map((p) => `${p.file} ${p.path}`), ['lesson.yaml hosts.h1.files./etc/motd', 'lesson.yaml tasks.0.check.reach.from']);
  assert.match(e.message, new RegExp(`^${pack}/lesson\\.yaml: hosts\\.h1\\.files\\./etc/motd: files/host\\.txt escapes the pack`));
});

test('openLabLesson: a topology file of another name, a target with "..", a missing path', () => {
  const dir = goodCopy();
  writeFileSync(join(dir, 'other.yaml'), readFileSync(join(dir, 'lesson.yaml'), 'utf8').replace('id: test-pack\n', ''));
  assert.is(openLabLesson(join(dir, 'other.yaml')).lessonFile, join(dir, 'other.yaml'), 'positive control');
  edit(dir, (y) => y.replace('/etc/motd:', '/etc/../root/.bashrc:'));
  assert.match(refused(() => openLabLesson(dir)).message, /lesson\.yaml: hosts\.h1\.files\.\/etc\/\.\.\/root\/\.bashrc: has a "\.\." segment/);
  assert.match(refused(() => openLabLesson(join(dir, 'nope'))).message, /nope\/lesson\.yaml: missing/);
  assert.match(refused(() => openLabLesson(join(dir, 'nope.yaml'))).message, /\/nope\.yaml: missing/);
});

test('snapshotPack copies lesson.yaml, README.md and the host files (a link inside the pack as a file)', () => {
  const dir = goodCopy();
  // Positive control for the link tests below: a link that stays in the pack is copied as the file it names.
  unlinkSync(join(dir, 'files/motd.txt'));
  writeFileSync(join(dir, 'files/real-motd.txt'), 'Welcome\n');
  symlinkSync('real-motd.txt', join(dir, 'files/motd.txt'));
  const dest = snapDest();
  snapshotPack(openLabLesson(dir), dest);
  assert.equal(readdirSync(dest).sort(), ['README.md', 'files', 'lesson.yaml']);
  assert.equal(readdirSync(join(dest, 'files')), ['motd.txt'], 'only the files the hosts name');
  assert.ok(lstatSync(join(dest, 'files/motd.txt')).isFile(), 'a regular file, not a link');
  assert.is(readFileSync(join(dest, 'files/motd.txt'), 'utf8'), 'Welcome\n');
  assert.is(readFileSync(join(dest, 'lesson.yaml'), 'utf8'), readFileSync(join(dir, 'lesson.yaml'), 'utf8'));
  assert.equal(readdirSync(dirname(dest)).filter((f) => f.includes('.new-')), []);
  assert.throws(() => snapshotPack(openLabLesson(dir), dest), /exists already/);
});

test('snapshotPack: a bare topology file is copied as lesson.yaml, without README.md', () => {
  const dir = goodCopy();
  unlinkSync(join(dir, 'README.md'));
  writeFileSync(join(dir, 'other.yaml'), readFileSync(join(dir, 'lesson.yaml')));
  const dest = snapDest();
  snapshotPack(openLabLesson(join(dir, 'other.yaml')), dest);
  assert.equal(readdirSync(dest).sort(), ['files', 'lesson.yaml']);
});

test('snapshotPack refuses a host file swapped for a link out of the pack after the checks', () => {
  const dir = goodCopy();
  const lesson = openLabLesson(dir);
  const ok = snapDest();
  snapshotPack(lesson, ok);
  assert.ok(existsSync(join(ok, 'files/motd.txt')), 'positive control: the same lesson copies');
  unlinkSync(join(dir, 'files/motd.txt'));
  symlinkSync('/etc/hostname', join(dir, 'files/motd.txt'));
  const dest = snapDest();
  const e = refused(() => snapshotPack(lesson, dest));
  assert.match(e.message, new RegExp(`^${dir}/lesson\\.yaml: hosts\\.h1\\.files\\./etc/motd: files/motd\\.txt escapes the pack \\(a link to /etc/hostname\\)`));
  noTrace(dest);
  // The same through a linked folder, and README.md as a link out.
  rmSync(join(dir, 'files'), { recursive: true });
  symlinkSync('/etc', join(dir, 'files'));
  assert.match(refused(() => snapshotPack({ ...lesson, topology: { ...lesson.topology, hosts: { h1: { ...lesson.topology.hosts.h1!, files: { '/etc/motd': 'files/hostname' } } } } }, dest)).message,
    /files\/hostname escapes the pack/);
  rmSync(join(dir, 'files'));
  const noFiles = { ...lesson, topology: { ...lesson.topology, hosts: { h2: lesson.topology.hosts.h2! } } };
  unlinkSync(join(dir, 'README.md'));
  symlinkSync('/etc/hostname', join(dir, 'README.md'));
  assert.match(refused(() => snapshotPack(noFiles, dest)).message, new RegExp(`^${dir}/README\\.md: is a link to outside the pack`));
  unlinkSync(join(dir, 'README.md'));
  snapshotPack(noFiles, dest);
  assert.equal(readdirSync(dest), ['lesson.yaml'], 'positive control: without the link it copies');
});

test('snapshotPack re-checks targets and sources of a topology built in code: "..", absolute, missing', () => {
  const dir = goodCopy();
  const lesson = openLabLesson(dir);
  const withFiles = (files: Record<string, string>): LabLesson => ({ ...lesson, topology: { ...lesson.topology, hosts: { ...lesson.topology.hosts, h1: { ...lesson.topology.hosts.h1!, files } } } });
  const dest = snapDest();
  const cases: [Record<string, string>, RegExp][] = [
    [{ '/etc/../etc/shadow': 'files/motd.txt' }, /lesson\.yaml: hosts\.h1\.files\.\/etc\/\.\.\/etc\/shadow: has a "\.\." segment/],
    [{ '/sys/kernel/x': 'files/motd.txt' }, /hosts\.h1\.files\.\/sys\/kernel\/x: is under \/sys/],
    [{ '/etc/motd': '../outside.txt' }, /hosts\.h1\.files\.\/etc\/motd: \.\.\/outside\.txt escapes the pack/],
    [{ '/etc/motd': '/etc/hostname' }, /hosts\.h1\.files\.\/etc\/motd: \/etc\/hostname is an absolute path/],
    [{ '/etc/motd': 'files/gone.txt' }, /hosts\.h1\.files\.\/etc\/motd: files\/gone\.txt is missing/],
    [{ '/etc/motd': 'files' }, /hosts\.h1\.files\.\/etc\/motd: files is not a regular file/],
  ];
  for (const [files, why] of cases) {
    assert.match(refused(() => snapshotPack(withFiles(files), dest)).message, why);
    noTrace(dest);
  }
  snapshotPack(withFiles({ '/etc/motd': 'files/motd.txt', '/etc/issue': 'files/../files/motd.txt' }), dest);
  assert.equal(readdirSync(join(dest, 'files')), ['motd.txt'], 'positive control: a path that stays in the pack is copied once');
});

test('snapshotPack: a file removed after the checks is missing, not a crash', () => {
  const dir = goodCopy();
  const lesson = openLabLesson(dir);
  unlinkSync(join(dir, 'files/motd.txt'));
  const dest = snapDest();
  assert.match(refused(() => snapshotPack(lesson, dest)).message, /hosts\.h1\.files\.\/etc\/motd: files\/motd\.txt is missing/);
  noTrace(dest);
});

test('snapshotPack obeys the archive limits: per file (the default 50 MiB too), in total, and the file count', () => {
  const dir = goodCopy();
  writeFileSync(join(dir, 'files/motd.txt'), 'Welcome\n'.repeat(1250)); // 10000 bytes, bigger than lesson.yaml and README.md
  const lesson = openLabLesson(dir);
  const size = statSync(join(dir, 'files/motd.txt')).size;
  const dest = snapDest();
  snapshotPack(lesson, dest, { maxFileBytes: size, maxBytes: 3 * size });
  assert.ok(existsSync(join(dest, 'files/motd.txt')), 'positive control: within the limits it copies');
  const d2 = snapDest();
  assert.match(refused(() => snapshotPack(lesson, d2, { maxFileBytes: size - 1 })).message, /hosts\.h1\.files\.\/etc\/motd: files\/motd\.txt is 10000 bytes, over the limit of 9999 bytes per file/);
  assert.match(refused(() => snapshotPack(lesson, d2, { maxBytes: 100 })).message, /over the limit of 100 bytes in total/);
  assert.match(refused(() => snapshotPack(lesson, d2, { maxFiles: 2 })).message, /lesson\.yaml: hosts: the lab would copy 3 files, over the limit of 2/);
  noTrace(d2);
  // A sparse file one byte over the default limit: refused before a byte is read.
  truncateSync(join(dir, 'files/motd.txt'), DEFAULT_ARCHIVE_LIMITS.maxFileBytes + 1);
  assert.match(refused(() => snapshotPack(lesson, d2)).message, /files\/motd\.txt is 52428801 bytes, over the limit of 52428800 bytes per file/);
  noTrace(d2);
  assert.match(refused(() => openLabLesson(dir)).message, /hosts\.h1\.files\.\/etc\/motd: files\/motd\.txt is 52428801 bytes, over the limit/, 'openLabLesson says it first');
});

test.run();

// Lesson packs: lesson.yaml + README.md + files/, checked beyond the schema. Each bad pack must
// fail naming the file and the path inside it; all problems are reported at once.
import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LessonError } from '../../agent/lesson/load.js';
import { contentHash, loadPack, PackError } from '../../agent/lesson/pack.js';
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
  assert.is(loadPack(ok).lesson.id, 'test-pack');

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

test.run();

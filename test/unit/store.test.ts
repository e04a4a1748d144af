// The lesson store (<dataDir>/lessons/<id>): install from a directory or archive, replace
// atomically, list with bundled packs, remove, find; and lesson packs on USB sticks.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveError } from '../../agent/lesson/archive.js';
import { PackError } from '../../agent/lesson/pack.js';
import { BUNDLED_LESSONS_DIR, findLesson, installPack, listLessons, removeLesson, type InstallRecord } from '../../agent/lesson/store.js';
import { findUsbLessonDirs, parseMounts } from '../../agent/lesson/usb.js';
import { copyGood, dirItems, GOOD, makeZip, PACKS, tempDir, rejects } from '../fixtures/packs/build.js';

const tmp = tempDir('store-test');
test.after(() => tmp.remove());
let n = 0;
const fresh = (what: string) => { const d = join(tmp.dir, `${what}${++n}`); mkdirSync(d, { recursive: true }); return d; };
/** A copy of the good pack with lesson.yaml and README edited. */
const variant = (opts: { version?: string; id?: string; readme?: string } = {}) => {
  const dir = copyGood(join(fresh('src'), 'pack'));
  let y = readFileSync(join(dir, 'lesson.yaml'), 'utf8');
  if (opts.version) y = y.replace('title: Test pack', `title: Test pack\nversion: "${opts.version}"`);
  if (opts.id) y = y.replace('id: test-pack', `id: ${opts.id}`);
  writeFileSync(join(dir, 'lesson.yaml'), y);
  if (opts.readme) writeFileSync(join(dir, 'README.md'), opts.readme);
  return dir;
};
const record = (dataDir: string, id: string) => JSON.parse(readFileSync(join(dataDir, 'lessons', id, '.installed.json'), 'utf8')) as InstallRecord;
/** Only finished packs in the store: no staging, old or unpack directories left over. */
const storeNames = (dataDir: string) => readdirSync(join(dataDir, 'lessons')).sort();


test('install from a directory: copied to lessons/<id> with an install record', async () => {
  const data = fresh('data');
  const when = new Date('2024-05-06T07:08:09Z');
  const got = await installPack(GOOD, data, { now: () => when });
  const dir = join(data, 'lessons', 'test-pack');
  assert.equal(got, { id: 'test-pack', version: got.version, title: 'Test pack', dir });
  assert.match(got.version, /^[0-9a-f]{12}$/);
  assert.is(readFileSync(join(dir, 'files/motd.txt'), 'utf8'), readFileSync(join(GOOD, 'files/motd.txt'), 'utf8'));
  assert.equal(record(data, 'test-pack'), { id: 'test-pack', version: got.version, title: 'Test pack', installed_at: '2024-05-06T07:08:09.000Z', source: GOOD });
  assert.equal(storeNames(data), ['test-pack']);
});

test('install from a zip, a .tar.gz and a lesson.yaml path', async () => {
  const data = fresh('data');
  const work = fresh('work');
  const zip = await makeZip(join(work, 'one.zip'), dirItems(variant({ id: 'from-zip' }), 'from-zip/'));
  const tgz = join(work, 'two.tgz');
  await tar.c({ gzip: true, file: tgz, cwd: variant({ id: 'from-tgz' }) }, ['.']);
  assert.is((await installPack(zip, data)).id, 'from-zip');
  assert.is((await installPack(tgz, data)).id, 'from-tgz');
  assert.is((await installPack(join(GOOD, 'lesson.yaml'), data)).id, 'test-pack');
  assert.equal(storeNames(data), ['from-tgz', 'from-zip', 'test-pack']);
  assert.is(record(data, 'from-zip').source, zip);
  assert.ok(existsSync(join(data, 'lessons/from-tgz/files/motd.txt')));
});

test('installing again replaces the pack whole and says what it replaced', async () => {
  const data = fresh('data');
  await installPack(variant({ version: '1', readme: '# v1\n' }), data);
  const v1 = join(data, 'lessons/test-pack');
  writeFileSync(join(v1, 'files', 'stale.txt'), 'from v1 only');
  const got = await installPack(variant({ version: '2', readme: '# v2\n' }), data);
  assert.equal(got.replaced, { version: '1' });
  assert.is(got.version, '2');
  assert.is(readFileSync(join(v1, 'README.md'), 'utf8'), '# v2\n');
  assert.not.ok(existsSync(join(v1, 'files', 'stale.txt')), 'nothing of the old pack remains');
  assert.is(record(data, 'test-pack').version, '2');
  assert.equal(storeNames(data), ['test-pack']);
});

test('a failing second install leaves the first intact (bad pack, bad archive)', async () => {
  const data = fresh('data');
  await installPack(variant({ version: '1', readme: '# v1\n' }), data);
  const before = readFileSync(join(data, 'lessons/test-pack/README.md'), 'utf8');

  const noReadme = variant({ version: '2' });
  unlinkSync(join(noReadme, 'README.md'));
  const e1 = await rejects(installPack(noReadme, data), /pack\/README\.md: missing/);
  assert.instance(e1, PackError);

  const work = fresh('work');
  const evil = await makeZip(join(work, 'v2.zip'), [...dirItems(variant({ version: '2' })), { name: 'files/passwd', data: '/etc/passwd', mode: 0o120777 }]);
  assert.instance(await rejects(installPack(evil, data), /v2\.zip: files\/passwd: is a link/), ArchiveError);

  const badTask = variant({ version: '2' });
  writeFileSync(join(badTask, 'lesson.yaml'), readFileSync(join(badTask, 'lesson.yaml'), 'utf8').replace('from: h1, to: h2', 'from: h1, to: h7'));
  const zipped = await makeZip(join(work, 'v2b.zip'), dirItems(badTask));
  await rejects(installPack(zipped, data), /v2b\.zip\/lesson\.yaml: tasks\.0\.check\.reach\.to: unknown host "h7"/);

  assert.is(readFileSync(join(data, 'lessons/test-pack/README.md'), 'utf8'), before);
  assert.is(record(data, 'test-pack').version, '1');
  assert.equal(storeNames(data), ['test-pack'], 'no staging or unpack directories left');
});

test('a directory pack with a link out of it is refused; links inside are copied as files', async () => {
  const data = fresh('data');
  const out = variant();
  symlinkSync('/etc/hostname', join(out, 'files', 'host.txt'));
  await rejects(installPack(out, data), /pack: files\/host\.txt: is a link that escapes the pack/);
  assert.equal(storeNames(data), []);

  const inside = variant();
  symlinkSync('motd.txt', join(inside, 'files', 'again.txt'));
  await installPack(inside, data);
  assert.is(readFileSync(join(data, 'lessons/test-pack/files/again.txt'), 'utf8'), readFileSync(join(GOOD, 'files/motd.txt'), 'utf8'));
});

test('directory packs obey the same limits as archives', async () => {
  const data = fresh('data');
  await rejects(installPack(variant(), data, { limits: { maxFiles: 3 } }), /pack: .*: one file too many: a pack may have at most 3 entries/);
  await rejects(installPack(variant(), data, { limits: { maxFileBytes: 100 } }), /pack: lesson\.yaml: is \d+ bytes, over the limit of 100 per file/);
  assert.equal(storeNames(data), []);
});

test('concurrent installs of one id both finish; one of them is installed, whole', async () => {
  const data = fresh('data');
  const [a, b] = await Promise.all([installPack(variant({ version: 'a' }), data), installPack(variant({ version: 'b' }), data)]);
  assert.equal([a.version, b.version].sort(), ['a', 'b']);
  assert.ok(['a', 'b'].includes(record(data, 'test-pack').version));
  assert.equal(storeNames(data), ['test-pack']);
});

/** A bundled dir: test-pack (shadowed once installed), other, and a broken one. */
function bundledDir(): string {
  const dir = fresh('bundled');
  cpSync(GOOD, join(dir, 'test-pack'), { recursive: true });
  cpSync(variant({ id: 'other', version: '7' }), join(dir, 'other'), { recursive: true });
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'lesson.yaml'), 'dovelab: 1\n');
  writeFileSync(join(dir, 'README.md'), 'not a pack');
  return dir;
}

test('listLessons: installed packs shadow bundled ones; broken packs carry an error', async () => {
  const data = fresh('data');
  const bundled = bundledDir();
  let list = listLessons(data, bundled);
  assert.equal(list.map((e) => [e.id, e.bundled, !!e.error]), [['broken', true, true], ['other', true, false], ['test-pack', true, false]]);

  await installPack(variant({ version: '3' }), data);
  mkdirSync(join(data, 'lessons', 'mangled'));
  writeFileSync(join(data, 'lessons', 'mangled', 'lesson.yaml'), 'dovelab: [');
  list = listLessons(data, bundled);
  assert.equal(list.map((e) => [e.id, e.bundled, !!e.error]), [['broken', true, true], ['mangled', false, true], ['other', true, false], ['test-pack', false, false]]);
  const mine = list.find((e) => e.id === 'test-pack')!;
  assert.equal({ ...mine, installed_at: '' }, {
    id: 'test-pack', title: 'Test pack', summary: 'Two hosts on one switch, then an ACL between them.', minutes: 20, level: 'beginner',
    version: '3', bundled: false, dir: join(data, 'lessons', 'test-pack'), groups: { default: 2, max: 4 },
    installed_at: '', source: mine.source, shadows_bundled: true,
  });
  assert.match(list.find((e) => e.id === 'mangled')!.error!, /mangled\/lesson\.yaml: line 1/);
  assert.match(list.find((e) => e.id === 'broken')!.error!, /broken\/lesson\.yaml: networks: /);
  assert.is(list.find((e) => e.id === 'other')!.version, '7');
});

test("listLessons: an installed pack whose id is not its directory's is listed as broken", async () => {
  const data = fresh('data');
  await installPack(GOOD, data);
  cpSync(join(data, 'lessons', 'test-pack'), join(data, 'lessons', 'renamed'), { recursive: true });
  const e = listLessons(data, fresh('empty')).find((x) => x.id === 'renamed')!;
  assert.match(e.error!, /the lesson's id is "test-pack" but it is installed as "renamed"/);
});

test("the repository's bundled lessons are found by default", () => {
  const list = listLessons(fresh('data'));
  assert.ok(list.some((e) => e.id === 'first-switch' && e.bundled && e.dir === join(BUNDLED_LESSONS_DIR, 'first-switch')), JSON.stringify(list));
});

test('removeLesson: removes an installed pack; bundled ones cannot be removed', async () => {
  const data = fresh('data');
  const bundled = bundledDir();
  await installPack(GOOD, data);
  await removeLesson('test-pack', data, bundled);
  assert.equal(storeNames(data), []);
  assert.ok(listLessons(data, bundled).find((e) => e.id === 'test-pack')!.bundled, 'the bundled one shows again');
  await rejects(removeLesson('test-pack', data, bundled), /lesson "test-pack" is bundled with Dovelab and cannot be removed/);
  await rejects(removeLesson('nope', data, bundled), /lesson "nope" is not installed \(installed: none\)/);
  await rejects(removeLesson('../etc', data, bundled), /lesson "\.\.\/etc" is not installed/);
});

test('findLesson: ids (installed first, then bundled), directories, lesson.yaml and archives', async () => {
  const data = fresh('data');
  const bundled = bundledDir();
  assert.is((await findLesson('test-pack', data, bundled)).from, 'bundled');
  await installPack(GOOD, data);
  const inst = await findLesson('test-pack', data, bundled);
  assert.equal([inst.from, inst.dir], ['installed', join(data, 'lessons', 'test-pack')]);
  assert.equal([(await findLesson('other', data, bundled)).dir], [join(bundled, 'other')]);
  assert.equal([(await findLesson(GOOD, data, bundled)).from, (await findLesson(GOOD, data, bundled)).dir], ['path', GOOD]);
  assert.is((await findLesson(join(GOOD, 'lesson.yaml'), data, bundled)).dir, GOOD);

  const zip = await makeZip(join(fresh('work'), 'p.zip'), dirItems(GOOD, 'good/'));
  const found = await findLesson(zip, data, bundled);
  assert.is(found.from, 'archive');
  assert.ok(existsSync(join(found.dir, 'lesson.yaml')));
  found.dispose();
  assert.not.ok(existsSync(found.dir), 'dispose removes the unpacked copy');

  await rejects(findLesson('nope', data, bundled), /no lesson "nope": not installed, not bundled, and no such path \(lessons: broken, other, test-pack\)/);
  await rejects(findLesson(join(PACKS, 'missing.zip'), data, bundled), /missing\.zip: no such file/);
  await rejects(findLesson(join(PACKS, 'good', 'files'), data, bundled), /files: not a lesson pack \(it has no lesson\.yaml\)/);
});

// ---- USB sticks -----------------------------------------------------------------------------------

test('parseMounts decodes escaped mount points', () => {
  assert.equal(parseMounts('/dev/sda1 /media/My\\040Stick vfat rw 0 0\n\n'), [{ device: '/dev/sda1', mountpoint: '/media/My Stick', fstype: 'vfat' }]);
});

test('findUsbLessonDirs: packs and archives in dovelab-lessons/ of real, non-root mounts', () => {
  const root = fresh('usb');
  const stick = join(root, 'media', 'My Stick');
  const lessons = join(stick, 'dovelab-lessons');
  copyGood(join(lessons, 'pack-a'));
  mkdirSync(join(lessons, 'not-a-pack'));
  for (const f of ['b.zip', 'c.tgz', 'd.tar.gz', 'notes.txt', '.hidden.zip']) writeFileSync(join(lessons, f), 'x');
  const plain = join(root, 'media', 'plain');
  mkdirSync(plain, { recursive: true });
  const ram = join(root, 'run', 'ram');
  copyGood(join(ram, 'dovelab-lessons', 'in-tmpfs'));
  const mounts = join(root, 'mounts');
  writeFileSync(mounts, [
    '/dev/mmcblk0p2 / ext4 rw,noatime 0 0',
    'proc /proc proc rw 0 0',
    `tmpfs ${ram} tmpfs rw 0 0`,
    `/dev/sda1 ${stick.replace(/ /g, '\\040')} vfat rw 0 0`,
    `/dev/sda1 ${stick.replace(/ /g, '\\040')} vfat rw 0 0`,
    `/dev/sdb1 ${plain} ext4 rw 0 0`,
    `/dev/sdc1 ${join(root, 'gone')} ext4 rw 0 0`,
  ].join('\n'));
  assert.equal(findUsbLessonDirs(mounts), ['b.zip', 'c.tgz', 'd.tar.gz', 'pack-a'].map((f) => join(lessons, f)));
  assert.equal(findUsbLessonDirs(join(root, 'no-such-mounts')), []);
});

test.run();

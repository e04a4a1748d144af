// Unpacking pack archives: good ones land whole in destDir; hostile ones fail naming the archive
// and the entry, and leave nothing behind (no destDir, no temporary directory beside it).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchiveError, archiveKind, unpackArchive, type ArchiveLimits } from '../../agent/lesson/archive.js';
import { LessonError } from '../../agent/lesson/load.js';
import { loadPack } from '../../agent/lesson/pack.js';
import { dirItems, GOOD, lieAboutSizes, makeTarGz, makeZip, PACKS, tempDir, rejects } from '../fixtures/packs/build.js';

const tmp = tempDir('archive-test');
test.after(() => tmp.remove());
let n = 0;
/** A fresh directory for one case: `work/` holds archives, `out/` is where packs unpack. */
const workDir = () => {
  const dir = join(tmp.dir, `c${++n}`);
  mkdirSync(join(dir, 'work'), { recursive: true });
  mkdirSync(join(dir, 'out'));
  return { archive: (name: string) => join(dir, 'work', name), dest: join(dir, 'out', 'pack'), out: join(dir, 'out') };
};
const MiB = 1024 * 1024;

test('archiveKind by name', () => {
  assert.is(archiveKind('a/b.ZIP'), 'zip');
  assert.is(archiveKind('b.tar.gz'), 'tar.gz');
  assert.is(archiveKind('b.tgz'), 'tar.gz');
  assert.is(archiveKind('b.tar'), undefined);
  assert.is(archiveKind('lesson.yaml'), undefined);
});

test('a zip with one top-level directory unpacks to that directory', async () => {
  const c = workDir();
  const zip = await makeZip(c.archive('good.zip'), [{ name: 'good/', dir: true }, ...dirItems(GOOD, 'good/'),
    { name: '__MACOSX/good/._README.md', data: 'resource fork' }, { name: 'good/.DS_Store', data: 'x' }]);
  assert.is(await unpackArchive(zip, c.dest), c.dest);
  assert.is(readFileSync(join(c.dest, 'files/motd.txt'), 'utf8'), readFileSync(join(GOOD, 'files/motd.txt'), 'utf8'));
  assert.is(loadPack(c.dest).version, loadPack(GOOD).version, 'same contents as the source');
  assert.not.ok(existsSync(join(c.dest, '.DS_Store')), 'macOS junk left out');
  assert.equal(readdirSync(c.out), ['pack'], 'no temporary directory left beside it');
});

test('a zip with the pack at its top unpacks as it is; executable bits survive', async () => {
  const c = workDir();
  const zip = await makeZip(c.archive('flat.zip'), [...dirItems(GOOD), { name: 'files/setup.sh', data: '#!/bin/sh\n', mode: 0o100755 }]);
  await unpackArchive(zip, c.dest);
  assert.ok(existsSync(join(c.dest, 'lesson.yaml')));
  assert.is(statSync(join(c.dest, 'files/setup.sh')).mode & 0o777, 0o755);
  assert.is(statSync(join(c.dest, 'README.md')).mode & 0o777, 0o644);
  assert.is(statSync(c.dest).mode & 0o777, 0o755, 'readable like any installed directory');
});

test('a .tar.gz made by tar unpacks to its single top-level directory', async () => {
  const c = workDir();
  const file = c.archive('good.tar.gz');
  await tar.c({ gzip: true, file, cwd: PACKS }, ['good']);
  await unpackArchive(file, c.dest);
  assert.is(loadPack(c.dest).version, loadPack(GOOD).version);
  assert.equal(readdirSync(c.out), ['pack']);
});

test('an existing non-empty destDir is refused and left alone', async () => {
  const c = workDir();
  const zip = await makeZip(c.archive('good.zip'), dirItems(GOOD));
  mkdirSync(c.dest);
  writeFileSync(join(c.dest, 'keep.txt'), 'mine');
  await rejects(unpackArchive(zip, c.dest), /good\.zip: cannot unpack into .*: it exists and is not an empty directory/);
  assert.equal(readdirSync(c.dest), ['keep.txt']);
});

type Case = [string, (file: string) => Promise<string> | string, RegExp, Partial<ArchiveLimits>?];
const zips: Case[] = [
  ['an entry with ../ that escapes', (f) => makeZip(f, [{ name: 'lesson.yaml', data: 'x' }, { name: 'XX/evil.txt', data: 'x' }], { 'XX/evil.txt': '../evil.txt' }),
    /bad\.zip: \.\.\/evil\.txt: escapes the pack \(\.\.\)/],
  ['an absolute path', (f) => makeZip(f, [{ name: 'Xetc/cron.d/evil', data: 'x' }], { 'Xetc/cron.d/evil': '/etc/cron.d/evil' }),
    /bad\.zip: \/etc\/cron\.d\/evil: is an absolute path/],
  ['a symlink out of the pack', (f) => makeZip(f, [{ name: 'pack/lesson.yaml', data: 'x' }, { name: 'pack/files/passwd', data: '/etc/passwd', mode: 0o120777 }]),
    /bad\.zip: pack\/files\/passwd: is a link/],
  ['a device file', (f) => makeZip(f, [{ name: 'dev/null', data: '', mode: 0o020666 }]), /bad\.zip: dev\/null: is a device file, FIFO or socket/],
  ['more entries than allowed', (f) => makeZip(f, Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }))),
    /bad\.zip: has 6 entries, over the limit of 5/, { maxFiles: 5 }],
  ['one entry over the per-file limit (zip bomb)', (f) => makeZip(f, [{ name: 'ok.txt', data: 'x' }, { name: 'files/zeros.bin', data: Buffer.alloc(3 * MiB) }]),
    /bad\.zip: files\/zeros\.bin: is 3\.0 MiB, over the limit of 1\.0 MiB per file/, { maxFileBytes: MiB }],
  ['entries over the total limit', (f) => makeZip(f, ['a', 'b', 'c'].map((x) => ({ name: `${x}.bin`, data: Buffer.alloc(400 * 1024) }))),
    /bad\.zip: c\.bin: unpacking it would pass the limit of 1\.0 MiB in total/, { maxBytes: MiB }],
  ['headers that lie about the size (stopped while unpacking)', async (f) => {
    await makeZip(f, [{ name: 'zeros.bin', data: Buffer.alloc(2 * MiB) }]);
    lieAboutSizes(f, 100);
    return f;
  }, /bad\.zip: zeros\.bin: cannot be unpacked: too many bytes in the stream/],
  ['the same file twice', (f) => makeZip(f, [{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }]), /bad\.zip: a\.txt: appears twice in the archive/],
  ['not a zip at all', (f) => { writeFileSync(f, 'hello, I am text'); return f; }, /bad\.zip: not a readable zip archive/],
];
const tars: Case[] = [
  ['an entry with ../ that escapes', (f) => makeTarGz(f, [{ path: 'pack/lesson.yaml', data: 'x' }, { path: 'pack/../../evil.txt', data: 'x' }]),
    /bad\.tgz: pack\/\.\.\/\.\.\/evil\.txt: escapes the pack \(\.\.\)/],
  ['an absolute path', (f) => makeTarGz(f, [{ path: '/etc/cron.d/evil', data: 'x' }]), /bad\.tgz: \/etc\/cron\.d\/evil: is an absolute path/],
  ['a symlink out of the pack', (f) => makeTarGz(f, [{ path: 'files/passwd', type: 'SymbolicLink', linkpath: '/etc/passwd', size: 0 }]),
    /bad\.tgz: files\/passwd: is a link/],
  ['a hard link', (f) => makeTarGz(f, [{ path: 'a.txt', data: 'x' }, { path: 'b.txt', type: 'Link', linkpath: 'a.txt', size: 0 }]), /bad\.tgz: b\.txt: is a link/],
  ['a device file', (f) => makeTarGz(f, [{ path: 'dev/sda', type: 'BlockDevice', size: 0, devmaj: 8, devmin: 0 }]), /bad\.tgz: dev\/sda: is a device file/],
  ['a FIFO', (f) => makeTarGz(f, [{ path: 'pipe', type: 'FIFO', size: 0 }]), /bad\.tgz: pipe: is a device file, FIFO or socket/],
  ['more entries than allowed', (f) => makeTarGz(f, Array.from({ length: 6 }, (_, i) => ({ path: `f${i}.txt`, data: 'x' }))),
    /bad\.tgz: f5\.txt: one entry too many: an archive may have at most 5 entries/, { maxFiles: 5 }],
  ['one entry over the per-file limit (gzip bomb)', (f) => makeTarGz(f, [{ path: 'zeros.bin', data: Buffer.alloc(3 * MiB) }]),
    /bad\.tgz: zeros\.bin: is 3\.0 MiB, over the limit of 1\.0 MiB per file/, { maxFileBytes: MiB }],
  ['entries over the total limit', (f) => makeTarGz(f, ['a', 'b', 'c'].map((x) => ({ path: `${x}.bin`, data: Buffer.alloc(400 * 1024) }))),
    /bad\.tgz: c\.bin: unpacking it would pass the limit of 1\.0 MiB in total/, { maxBytes: MiB }],
  ['the same file twice', (f) => makeTarGz(f, [{ path: 'a.txt', data: '1' }, { path: 'a.txt', data: '2' }]), /bad\.tgz: a\.txt: appears twice in the archive/],
  ['a file where a directory is', (f) => makeTarGz(f, [{ path: 'files', data: '1' }, { path: 'files/motd.txt', data: '2' }]), /bad\.tgz: files\/motd\.txt: cannot be created/],
  ['a file where a directory was', (f) => makeTarGz(f, [{ path: 'files/', type: 'Directory', size: 0 }, { path: 'files', data: '1' }]),
    /bad\.tgz: files: is a file where the archive has a directory of that name/],
  ['not gzip', (f) => { writeFileSync(f, 'hello, I am text'); return f; }, /bad\.tgz: not a gzip-compressed tar archive/],
  ['gzip, but not tar', (f) => { writeFileSync(f, gzipSync('hello, I am text')); return f; }, /bad\.tgz: not a readable \.tar\.gz archive/],
];

for (const [kind, cases, file] of [['zip', zips, 'bad.zip'], ['tar.gz', tars, 'bad.tgz']] as const) {
  for (const [name, build, why, limits] of cases) {
    test(`${kind} rejected: ${name}; nothing left behind`, async () => {
      const c = workDir();
      const archive = await build(c.archive(file));
      const e = await rejects(unpackArchive(archive, c.dest, limits), why);
      assert.instance(e, ArchiveError);
      assert.instance(e, LessonError);
      assert.ok(e.message.startsWith(archive), e.message);
      assert.equal(readdirSync(c.out), [], 'no destDir and no temporary directory');
      assert.not.ok(existsSync(join(c.out, '..', 'evil.txt')));
    });
  }
}


test.run();

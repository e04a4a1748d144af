// First-boot image loading against this machine's real dockerd: a small image of our own,
// `docker save`d to a tar and removed, comes back by `dovelab images load` (checked by digest and
// image ID); a second run finds it present; a corrupt tar is refused before docker sees it.
// (Loading does not care about the architecture: the arm64 tars load the same way, see test/arm64.)
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { pack } from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256File } from '../../agent/docker/image-archive.js';
import { loadPreloadedImages } from '../../agent/docker/image-load.js';
import { dockerArch, manifestText, type PreloadImage } from '../../agent/docker/image-manifest.js';
import { CLI, docker, run } from './_stack.js';

const tmp = mkdtempSync(join(tmpdir(), 'dovelab-itest-load-'));
const TAG = `dovelab-itest/preload:${randomUUID().slice(0, 8)}`;
const exists = async (ref: string) => docker.getImage(ref).inspect().then((i) => i.Id, () => undefined);
test.after(async () => {
  await docker.getImage(TAG).remove({ force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

let entry: PreloadImage;
const dirWith = (name: string, tarBytes: Buffer, img: PreloadImage) => {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, img.file), tarBytes);
  writeFileSync(join(dir, 'manifest.json'), manifestText({ version: 1, images: [img] }));
  return dir;
};

test('set-up: a small image, docker save, docker rmi', async () => {
  // A one-file image of our own (unique content: a load really imports its layer).
  const rootfs = pack();
  rootfs.entry({ name: 'hello.txt' }, `preload test ${TAG}\n`);
  rootfs.finalize();
  await pipeline(rootfs, createWriteStream(join(tmp, 'rootfs.tar')));
  await run(['docker', 'import', join(tmp, 'rootfs.tar'), TAG], { timeoutMs: 120_000 });
  const id = await exists(TAG);
  assert.ok(id, 'imported');
  await pipeline(await docker.getImage(TAG).get(), createWriteStream(join(tmp, 'saved.tar')));
  await docker.getImage(TAG).remove();
  assert.is(await exists(TAG), undefined, 'removed before the load');
  entry = { name: 'preload', tag: TAG, file: 'preload.tar', imageId: id!, arch: dockerArch(process.arch),
    size: statSync(join(tmp, 'saved.tar')).size, digest: await sha256File(join(tmp, 'saved.tar')) };
});

test('a corrupt tar is refused by digest and docker never gets it; the good one then loads', async () => {
  const bytes = readFileSync(join(tmp, 'saved.tar'));
  const bad = Buffer.from(bytes);
  bad[bad.length - 2048] = bad[bad.length - 2048]! ^ 0x01;
  const r = await loadPreloadedImages(docker, dirWith('bad', bad, entry));
  assert.is(r[0]!.status, 'failed');
  assert.match(r[0]!.error!, /images\[0\]\.digest: .*preload\.tar has sha256:/);
  assert.is(await exists(TAG), undefined);
  // Positive control: the same manifest with the intact tar loads.
  const good = await loadPreloadedImages(docker, dirWith('good', bytes, entry));
  assert.equal(good.map((x) => x.error ?? x.status), ['loaded']);
  assert.is(await exists(TAG), entry.imageId);
  await docker.getImage(TAG).remove();
});

test('dovelab images load --dir: loads, then finds it present', async () => {
  const dir = dirWith('cli', readFileSync(join(tmp, 'saved.tar')), entry);
  assert.is(await exists(TAG), undefined, 'not there before');
  const first = await run(['node', CLI, 'images', 'load', '--dir', dir], { allowFail: true, timeoutMs: 300_000 });
  assert.is(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /1 loaded, 0 already there, 0 failed/);
  assert.is(await exists(TAG), entry.imageId);
  const inspect = await docker.getImage(TAG).inspect();
  assert.is(inspect.Architecture, dockerArch(process.arch));
  const second = await run(['node', CLI, 'images', 'load', '--dir', dir], { allowFail: true, timeoutMs: 300_000 });
  assert.is(second.code, 0, second.stderr + second.stdout);
  assert.match(second.stdout, /0 loaded, 1 already there, 0 failed/);
  // A manifest naming a file that is not there: exit 1, the reason printed.
  rmSync(join(dir, 'preload.tar'));
  await docker.getImage(TAG).remove();
  const third = await run(['node', CLI, 'images', 'load', '--dir', dir], { allowFail: true, timeoutMs: 300_000 });
  assert.is(third.code, 1);
  assert.match(third.stdout, /images\[0\]\.file: .*preload\.tar does not exist/);
});

test.run();

// One arm64 build per work folder at a time: npm test starts the build in the background and its
// arm64 tier builds again, which must wait for the first (never build beside it in the same
// buildah storage). The lock is held here by hand; past the lock, an outDir that is a file makes
// the build stop at once (so nothing is built).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildArchImages } from '../../agent/docker/images-arch.js';

const RECIPES = fileURLToPath(new URL('../../../image-build/images', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dovelab-arch-lock-'));
const workDir = join(dir, 'work');
const outFile = join(dir, 'not-a-folder');
writeFileSync(outFile, 'x');
test.after(() => rmSync(dir, { recursive: true, force: true }));

const holdLock = () => lockfile.lock(join(dir), { lockfilePath: join(workDir, 'build.lock'), realpath: false, stale: 120_000 });
const pastTheLock = /ENOTDIR|EEXIST|not a directory|file already exists/;

test('free work folder: the build goes past the lock (and stops at the bad outDir)', async () => {
  await buildArchImages(RECIPES, { arch: 'arm64', outDir: join(outFile, 'x'), workDir, lockWaitMs: 300 })
    .then(() => assert.unreachable(), (e: Error) => assert.match(e.message, pastTheLock));
});

test('work folder locked by another build: waits, then says who kept it', async () => {
  const release = await holdLock();
  const lines: string[] = [];
  try {
    await buildArchImages(RECIPES, { arch: 'arm64', outDir: join(outFile, 'x'), workDir, lockWaitMs: 300, log: (s) => lines.push(s) })
      .then(() => assert.unreachable(), (e: Error) => assert.match(e.message, `could not build: another build kept ${join(workDir, 'build.lock')}`));
    assert.match(lines.join('\n'), /another build holds .*build\.lock: waiting for it/);
  } finally { await release(); }
});

test('the lock released while waiting: the waiting build goes on', async () => {
  const release = await holdLock();
  const lines: string[] = [];
  const build = buildArchImages(RECIPES, { arch: 'arm64', outDir: join(outFile, 'x'), workDir, lockWaitMs: 60_000, log: (s) => {
    lines.push(s);
    if (/waiting for it/.test(s)) void release();
  } });
  await build.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, pastTheLock));
  assert.match(lines.join('\n'), /waited \d+ s for the other build/);
});

test.run();

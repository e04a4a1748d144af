// The Pi's images (`npm test`'s arm64 tier, or `npm run test:arm64`; image-build/README.md): built
// for arm64 from the same recipes (cached by recipe hash outside the clone, in
// /var/cache/dovelab/arm64-images: a tar is used only when the recipe hash, its size and sha256
// match the manifest; `npm test` starts this build in the background), then each tar is loaded into this
// machine's dockerd under a smoke tag (never dovelab/*: those are this machine's amd64 images)
// and run under qemu-user emulation: the binaries are aarch64 and answer --version.
// Needs root, dockerd, buildah, qemu-user-static (image-build/arm64-setup.sh); a missing piece
// fails the build test and every check after it (nothing is skipped).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerClient } from '../../agent/docker/client.js';
import { inspectArchive, retagArchive, sha256File } from '../../agent/docker/image-archive.js';
import { loadPreloadedImages } from '../../agent/docker/image-load.js';
import { manifestText, parsePreloadManifest, type PreloadManifest } from '../../agent/docker/image-manifest.js';
import { buildArchImages } from '../../agent/docker/images-arch.js';
import { RECIPES } from '../../agent/docker/images.js';
import { run } from '../../agent/sys/run.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(process.env.DOVELAB_CACHE ?? '/var/cache/dovelab', 'arm64-images');
// npm test (test/all.sh) runs its tiers one after another and is run under the stack lock as a
// whole where others share the machine: taking the lock again here would wait on our own caller.
const LOCK = process.env.DOVELAB_TEST_OWNS_STACK === '1' ? [] : ['flock', '-E', '75', '-w', '1200', '/tmp/dovelab-stack.lock'];
const docker = dockerClient();
const tmp = mkdtempSync(join(tmpdir(), 'dovelab-arm64-'));
const smokeTags: string[] = [];
test.after(async () => {
  for (const t of smokeTags) await docker.getImage(t).remove().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

let manifest: PreloadManifest | undefined;
const built = (): PreloadManifest => {
  if (!manifest) throw new Error('could not run: the arm64 build failed (see the first test)');
  return manifest;
};
const smokeTag = (name: string) => `dovelab-arm64-smoke/${name}:${built().images.find((i) => i.name === name)!.imageId.slice(7, 19)}`;

/** docker run --platform linux/arm64 under the stack lock; stdout (throws on a non-zero exit). */
async function inArm64(name: string, entrypoint: string, args: string[]): Promise<string> {
  const r = await run([...LOCK, 'docker', 'run', '--rm', '--platform', 'linux/arm64',
    '--network', 'none', '--entrypoint', entrypoint, smokeTag(name), ...args], { timeoutMs: 2_100_000, allowFail: true });
  if (LOCK.length && r.code === 75) throw new Error(`could not run: the stack lock /tmp/dovelab-stack.lock stayed taken for 20 min`);
  if (r.code !== 0) throw new Error(`${name}: ${entrypoint} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
  return r.stdout + r.stderr;
}
/** The ELF machine of a file inside the image: b7 00 is EM_AARCH64 (3e 00 would be x86-64). */
const elfMachine = async (name: string, path: string) =>
  (await inArm64(name, 'od', ['-An', '-tx1', '-j18', '-N2', path])).trim();

test('arm64 build of every recipe (cached by recipe hash)', async () => {
  const t0 = Date.now();
  const reports = await buildArchImages(join(ROOT, 'image-build/images'), { arch: 'arm64', outDir: OUT, log: (s) => console.log(`    ${s}`) });
  console.log(`    build: ${reports.filter((r) => r.built).map((r) => r.name).join(', ') || 'nothing to do'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const m = parsePreloadManifest(readFileSync(join(OUT, 'manifest.json'), 'utf8'), join(OUT, 'manifest.json'));
  assert.equal(m.images.map((i) => i.name).sort(), [...RECIPES].sort());
  for (const img of m.images) {
    assert.is(img.arch, 'arm64');
    assert.is(img.tag, `dovelab/${img.name}:latest`);
    const tar = await inspectArchive(join(OUT, img.file));
    assert.equal([tar.arch, tar.os, tar.imageId, tar.repoTags], ['arm64', 'linux', img.imageId, [img.tag]], img.file);
    assert.is(await sha256File(join(OUT, img.file)), img.digest, img.file);
  }
  manifest = m;
});

test('the tars docker-load (under smoke tags) and dockerd records arm64', async () => {
  const m = built();
  const images = [];
  for (const img of m.images) {
    const tag = smokeTag(img.name);
    await retagArchive(join(OUT, img.file), join(tmp, img.file), tag);
    smokeTags.push(tag);
    images.push({ ...img, tag, size: statSync(join(tmp, img.file)).size, digest: await sha256File(join(tmp, img.file)) });
  }
  writeFileSync(join(tmp, 'manifest.json'), manifestText({ version: 1, images }));
  const r = await loadPreloadedImages(docker, tmp, { arch: 'arm64', log: (s) => console.log(`    ${s}`) });
  assert.equal(r.map((x) => x.error ?? x.status), r.map(() => r[0]!.status === 'present' ? 'present' : 'loaded'));
  for (const img of images) {
    const i = await docker.getImage(img.tag).inspect();
    assert.equal([i.Architecture, i.Os, i.Id], ['arm64', 'linux', img.imageId], img.tag);
  }
});

test('ovs: ovs-vswitchd --version under emulation, and it is an aarch64 binary', async () => {
  assert.is((await inArm64('ovs', 'uname', ['-m'])).trim(), 'aarch64');
  assert.match(await inArm64('ovs', 'ovs-vswitchd', ['--version']), /ovs-vswitchd \(Open vSwitch\) 3\.\d+/);
  assert.match(await inArm64('ovs', 'ovsdb-server', ['--version']), /ovsdb-server \(Open vSwitch\) 3\.\d+/);
  assert.is(await elfMachine('ovs', '/usr/sbin/ovs-vswitchd'), 'b7 00');
  assert.is((await inArm64('ovs', 'cat', ['/.dovelab-image'])).trim(), 'dovelab/ovs');
});

test('faucet: faucet --version and gauge --version under emulation, on an aarch64 Python', async () => {
  assert.match(await inArm64('faucet', 'faucet', ['--version']), /1\.10\.12/);
  assert.match(await inArm64('faucet', 'gauge', ['--version']), /1\.10\.12/);
  assert.is((await inArm64('faucet', 'python3', ['-c', 'import platform, pytricia; print(platform.machine())'])).trim(), 'aarch64');
  assert.is(await elfMachine('faucet', '/usr/bin/python3.11'), 'b7 00');
  // The one C extension built from source in the image (no arm64 wheel on PyPI): aarch64 too.
  const so = (await inArm64('faucet', 'sh', ['-c', 'ls /opt/faucet/lib/python3.11/site-packages/pytricia*.so'])).trim();
  assert.is(await elfMachine('faucet', so), 'b7 00');
});

test('labhost: its tools run under emulation', async () => {
  assert.is((await inArm64('labhost', 'uname', ['-m'])).trim(), 'aarch64');
  assert.match(await inArm64('labhost', 'ping', ['-V']), /ping from iputils/);
  assert.match(await inArm64('labhost', 'tcpdump', ['--version']), /tcpdump version/);
  assert.is(await elfMachine('labhost', '/usr/bin/ping'), 'b7 00');
});

test('router: FRR and the preloaded capability shim are aarch64', async () => {
  assert.match(await inArm64('router', '/usr/lib/frr/zebra', ['--version']), /zebra version 8\./);
  assert.is(await elfMachine('router', '/usr/local/lib/libdovelab-frrcaps.so'), 'b7 00');
  assert.is((await inArm64('router', 'cat', ['/etc/ld.so.preload'])).trim(), '/usr/local/lib/libdovelab-frrcaps.so');
});

test('services: apache2, named and radvd run under emulation', async () => {
  assert.match(await inArm64('services', 'apache2ctl', ['-v']), /Apache\/2\.4/);
  assert.match(await inArm64('services', 'named', ['-v']), /BIND 9\./);
  assert.is(await elfMachine('services', '/usr/sbin/radvd'), 'b7 00');
});

test.run();

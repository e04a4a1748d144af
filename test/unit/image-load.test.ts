// First-boot image loading: real small docker-archive tars, a fake dockerd (the real one is in
// test/integration/image-load.test.ts). Good tars load and are checked after; a bad tar fails
// its own image (named: file, field, reason) and never reaches docker load; the others load.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspectArchive, retagArchive, sha256File } from '../../agent/docker/image-archive.js';
import { loadPreloadedImages, type LoadDocker } from '../../agent/docker/image-load.js';
import { manifestText, type PreloadImage } from '../../agent/docker/image-manifest.js';

const tmp = mkdtempSync(join(tmpdir(), 'dovelab-image-load-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A docker-archive as `docker save` writes it: one layer, a config named by its sha256, manifest.json. */
async function makeArchive(path: string, tag: string, arch: string, content: string): Promise<string> {
  const layerPack = pack();
  layerPack.entry({ name: 'hello.txt' }, content);
  layerPack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of layerPack) chunks.push(c as Buffer);
  const layer = Buffer.concat(chunks);
  const config = JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
  const out = pack();
  out.entry({ name: `${sha(layer)}/layer.tar` }, layer);
  out.entry({ name: `${sha(config)}.json` }, config);
  out.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [tag], Layers: [`${sha(layer)}/layer.tar`] }]));
  out.finalize();
  const parts: Buffer[] = [];
  for await (const c of out) parts.push(c as Buffer);
  writeFileSync(path, Buffer.concat(parts));
  return `sha256:${sha(config)}`;
}

/** A directory with tars for `names` and their manifest. */
async function preloadDir(names: string[], arch = 'arm64'): Promise<{ dir: string; images: PreloadImage[] }> {
  const dir = join(tmp, `d${++n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const images: PreloadImage[] = [];
  for (const name of names) {
    const file = `${name}.tar`;
    const imageId = await makeArchive(join(dir, file), `dovelab/${name}:latest`, arch, `I am ${name}\n`);
    images.push({ name, tag: `dovelab/${name}:latest`, file, imageId, arch, size: statSync(join(dir, file)).size, digest: await sha256File(join(dir, file)) });
  }
  writeFileSync(join(dir, 'manifest.json'), manifestText({ version: 1, images }));
  return { dir, images };
}

/** dockerd as far as loading goes: `load` reads the tar for real (tags and ID from inside it). */
class FakeDocker implements LoadDocker {
  images = new Map<string, { Id: string; Architecture: string }>();
  loads = 0;
  respond: (tag: string) => string | 'hang' = (tag) => `{"stream":"Loaded image: ${tag}\\n"}\n`;
  async loadImage(file: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
    this.loads++;
    const chunks: Buffer[] = [];
    for await (const c of file) chunks.push(c as Buffer);
    const path = join(tmp, `loaded-${this.loads}.tar`);
    writeFileSync(path, Buffer.concat(chunks));
    const img = await inspectArchive(path);
    const answer = this.respond(img.repoTags[0]!);
    if (answer === 'hang') return new Readable({ read() {} });
    if (!answer.includes('"error"')) for (const t of img.repoTags) this.images.set(t, { Id: img.imageId, Architecture: img.arch });
    return Readable.from([answer]);
  }
  getImage(name: string) {
    return { inspect: async () => { const i = this.images.get(name); if (!i) throw new Error(`no such image: ${name}`); return i; } };
  }
}

test('loads every image of the manifest, checks it is there, and a second run loads nothing', async () => {
  const { dir, images } = await preloadDir(['ovs', 'faucet', 'labhost']);
  const docker = new FakeDocker();
  const r = await loadPreloadedImages(docker, dir, { arch: 'arm64' });
  assert.equal(r.map((x) => [x.name, x.status]), [['ovs', 'loaded'], ['faucet', 'loaded'], ['labhost', 'loaded']]);
  for (const img of images) assert.is(docker.images.get(img.tag)?.Id, img.imageId);
  assert.is(docker.loads, 3);
  const again = await loadPreloadedImages(docker, dir, { arch: 'arm64' });
  assert.equal(again.map((x) => x.status), ['present', 'present', 'present']);
  assert.is(docker.loads, 3, 'nothing loaded again');
});

test('a corrupt tar (same size, one byte changed) fails by digest and is never loaded; the others load', async () => {
  const { dir } = await preloadDir(['ovs', 'faucet']);
  const bytes = readFileSync(join(dir, 'ovs.tar'));
  bytes[600] = bytes[600]! ^ 0xff;
  writeFileSync(join(dir, 'ovs.tar'), bytes);
  const docker = new FakeDocker();
  const r = await loadPreloadedImages(docker, dir, { arch: 'arm64' });
  assert.is(r[0]!.status, 'failed');
  assert.match(r[0]!.error!, `${join(dir, 'manifest.json')}: images[0].digest: ${join(dir, 'ovs.tar')} has sha256:`);
  assert.is(r[1]!.status, 'loaded', 'positive control: the good tar beside it loads');
  assert.is(docker.loads, 1);
  assert.not.ok(docker.images.has('dovelab/ovs:latest'));
});

test('missing file, wrong size, wrong architecture: each named, nothing loaded', async () => {
  const { dir, images } = await preloadDir(['ovs', 'faucet', 'labhost']);
  rmSync(join(dir, 'ovs.tar'));
  writeFileSync(join(dir, 'faucet.tar'), Buffer.concat([readFileSync(join(dir, 'faucet.tar')), Buffer.alloc(512)]));
  writeFileSync(join(dir, 'manifest.json'), manifestText({ version: 1, images: [images[0]!, images[1]!, { ...images[2]!, arch: 'amd64' }] }));
  const docker = new FakeDocker();
  const r = await loadPreloadedImages(docker, dir, { arch: 'arm64' });
  assert.equal(r.map((x) => x.status), ['failed', 'failed', 'failed']);
  assert.match(r[0]!.error!, /images\[0\]\.file: .*ovs\.tar does not exist/);
  assert.match(r[1]!.error!, /images\[1\]\.size: .*faucet\.tar has \d+ bytes, the manifest says \d+/);
  assert.match(r[2]!.error!, /images\[2\]\.arch: dovelab\/labhost:latest is for amd64, this machine runs arm64 images/);
  assert.is(docker.loads, 0);
  // Positive control: the same labhost entry, for the right architecture, loads.
  writeFileSync(join(dir, 'manifest.json'), manifestText({ version: 1, images: [images[2]!] }));
  assert.equal((await loadPreloadedImages(docker, dir, { arch: 'arm64' })).map((x) => x.status), ['loaded']);
});

test('an error from docker load, a tar with another tag, and a load that hangs: each fails', async () => {
  const { dir, images } = await preloadDir(['ovs', 'faucet', 'labhost']);
  // faucet.tar really carries another tag than the manifest says.
  const imageId = await makeArchive(join(dir, 'faucet.tar'), 'someone/else:latest', 'arm64', 'I am faucet\n');
  const faucet = { ...images[1]!, imageId, size: statSync(join(dir, 'faucet.tar')).size, digest: await sha256File(join(dir, 'faucet.tar')) };
  writeFileSync(join(dir, 'manifest.json'), manifestText({ version: 1, images: [images[0]!, faucet, images[2]!] }));
  const docker = new FakeDocker();
  docker.respond = (tag) => tag.includes('ovs') ? '{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}\n'
    : tag.includes('labhost') ? 'hang' : `{"stream":"Loaded image: ${tag}\\n"}\n`;
  const r = await loadPreloadedImages(docker, dir, { arch: 'arm64', deadlineMs: 200 });
  assert.equal(r.map((x) => x.status), ['failed', 'failed', 'failed']);
  assert.match(r[0]!.error!, 'no space left on device');
  assert.match(r[1]!.error!, /images\[1\]: docker load of .*faucet\.tar succeeded, but there is no image dovelab\/faucet:latest/);
  assert.match(r[2]!.error!, /docker load .*labhost\.tar: no answer within/);
  // Positive control: the same directory with a docker that answers loads ovs and labhost.
  const good = new FakeDocker();
  assert.equal((await loadPreloadedImages(good, dir, { arch: 'arm64' })).map((x) => x.status), ['loaded', 'failed', 'loaded']);
});

test('a missing or broken manifest throws naming it', async () => {
  const { dir } = await preloadDir(['ovs']);
  writeFileSync(join(dir, 'manifest.json'), '{"version":1,"images":[{"name":"ovs"}]}');
  await loadPreloadedImages(new FakeDocker(), dir, { arch: 'arm64' }).then(() => assert.unreachable(), (e: Error) =>
    assert.match(e.message, `${join(dir, 'manifest.json')}: images[0].tag:`));
  await loadPreloadedImages(new FakeDocker(), join(dir, 'nowhere'), { arch: 'arm64' }).then(() => assert.unreachable(), (e: Error) =>
    assert.match(e.message, /nowhere\/manifest\.json: no such file/));
});

test('retagArchive: same image ID and layers, only the new tag', async () => {
  const src = join(tmp, 'retag-src.tar');
  const id = await makeArchive(src, 'dovelab/ovs:latest', 'arm64', 'x\n');
  const dst = join(tmp, 'retag-dst.tar');
  await retagArchive(src, dst, 'dovelab-arm64-smoke/ovs:abc');
  const a = await inspectArchive(src);
  const b = await inspectArchive(dst);
  assert.equal(a.repoTags, ['dovelab/ovs:latest']);
  assert.equal(b.repoTags, ['dovelab-arm64-smoke/ovs:abc']);
  assert.is(b.imageId, id);
  assert.equal(b.layers, a.layers);
  assert.is(b.arch, 'arm64');
});

test('inspectArchive refuses a tar whose config does not match its name', async () => {
  const src = join(tmp, 'tampered.tar');
  await makeArchive(src, 'dovelab/ovs:latest', 'arm64', 'x\n');
  const ok = await inspectArchive(src);
  assert.is(ok.arch, 'arm64', 'positive control');
  const text = readFileSync(src, 'latin1').replace('"architecture":"arm64"', '"architecture":"amd64"');
  writeFileSync(src, Buffer.from(text, 'latin1'));
  await inspectArchive(src).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /has digest sha256:/));
});

test.run();

// The preload manifest (dist/<arch>/images/manifest.json): good ones parse, bad ones fail naming
// the file and the field; the build's cache decision; docker-archive manifests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ManifestError, dockerArch, manifestText, parseArchiveManifest, parseImageConfigPlatform, parsePreloadManifest,
  upToDate, withImage, type PreloadImage,
} from '../../agent/docker/image-manifest.js';

const H = (c: string) => `sha256:${c.repeat(64)}`;
const OVS: PreloadImage = { name: 'ovs', tag: 'dovelab/ovs:latest', file: 'ovs.tar', digest: H('a'), imageId: H('b'), size: 1000, arch: 'arm64', recipeHash: '0123456789abcdef0123' };
const FAUCET: PreloadImage = { ...OVS, name: 'faucet', tag: 'dovelab/faucet:latest', file: 'faucet.tar' };
const doc = (images: unknown[], extra: object = {}) => JSON.stringify({ version: 1, images, ...extra });

test('a good manifest parses and round-trips', () => {
  const m = parsePreloadManifest(doc([OVS, FAUCET]), 'm.json');
  assert.equal(m.images, [OVS, FAUCET]);
  assert.equal(parsePreloadManifest(manifestText(m), 'm.json'), m);
});

// [what, document, field named in the error]
const BAD: [string, string, string][] = [
  ['not JSON', '{"version": 1,', '(top)'],
  ['wrong version', doc([OVS], { version: 2 }), 'version'],
  ['unknown top-level key', doc([OVS], { extra: 1 }), '(top)'],
  ['unknown image key', doc([{ ...OVS, colour: 'red' }]), 'images[0]'],
  ['digest not sha256', doc([OVS, { ...FAUCET, digest: 'md5:abc' }]), 'images[1].digest'],
  ['image id missing', doc([{ ...OVS, imageId: undefined }]), 'images[0].imageId'],
  ['file with a directory', doc([{ ...OVS, file: '../etc/passwd.tar' }]), 'images[0].file'],
  ['file not a tar', doc([{ ...OVS, file: 'ovs.tgz' }]), 'images[0].file'],
  ['tag without a version', doc([{ ...OVS, tag: 'dovelab/ovs' }]), 'images[0].tag'],
  ['size zero', doc([{ ...OVS, size: 0 }]), 'images[0].size'],
  ['duplicate name', doc([OVS, { ...FAUCET, name: 'ovs' }]), 'images[1].name'],
  ['duplicate file', doc([OVS, { ...FAUCET, file: 'ovs.tar' }]), 'images[1].file'],
];
for (const [what, text, field] of BAD) {
  test(`bad manifest: ${what} -> error names the file and ${field}`, () => {
    try {
      parsePreloadManifest(text, '/opt/dovelab/images/manifest.json');
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, ManifestError);
      const err = e as ManifestError;
      assert.is(err.file, '/opt/dovelab/images/manifest.json');
      assert.is(err.field, field);
      assert.ok(err.message.startsWith(`/opt/dovelab/images/manifest.json: ${field}: `), err.message);
    }
  });
}

test('withImage adds, replaces by name, keeps the list sorted', () => {
  let m = withImage(undefined, OVS);
  m = withImage(m, FAUCET);
  assert.equal(m.images.map((i) => i.name), ['faucet', 'ovs']);
  m = withImage(m, { ...OVS, size: 2000 });
  assert.equal(m.images.map((i) => [i.name, i.size]), [['faucet', 1000], ['ovs', 2000]]);
});

test('upToDate: only the same recipe hash, arch, size and digest count', () => {
  const disk = { size: 1000, digest: H('a') };
  assert.ok(upToDate(OVS, OVS.recipeHash!, 'arm64', disk).ok, 'positive control');
  const cases: [string, ReturnType<typeof upToDate>][] = [
    ['not in the manifest', upToDate(undefined, OVS.recipeHash!, 'arm64', disk)],
    ['recipe changed', upToDate(OVS, 'ffffffffffffffffffff', 'arm64', disk)],
    ['built for arm64, not amd64', upToDate(OVS, OVS.recipeHash!, 'amd64', disk)],
    ['missing', upToDate(OVS, OVS.recipeHash!, 'arm64', undefined)],
    ['has 999 bytes', upToDate(OVS, OVS.recipeHash!, 'arm64', { ...disk, size: 999 })],
    ['has digest', upToDate(OVS, OVS.recipeHash!, 'arm64', { ...disk, digest: H('c') })],
  ];
  for (const [why, r] of cases) {
    assert.not.ok(r.ok, why);
    assert.ok(r.why.includes(why), `${r.why} should say "${why}"`);
  }
});

test('parseArchiveManifest: image ID from the config name; one image per tar', () => {
  const hex = 'd'.repeat(64);
  const img = parseArchiveManifest(JSON.stringify([{ Config: `${hex}.json`, RepoTags: ['dovelab/ovs:latest'], Layers: ['l1/layer.tar'] }]), 'ovs.tar');
  assert.equal(img, { imageId: `sha256:${hex}`, repoTags: ['dovelab/ovs:latest'], configFile: `${hex}.json`, layers: ['l1/layer.tar'] });
  assert.equal(parseArchiveManifest(JSON.stringify([{ Config: `blobs/sha256/${hex}`, RepoTags: null, Layers: [] }]), 'x').repoTags, []);
  assert.throws(() => parseArchiveManifest(JSON.stringify([]), 'ovs.tar'), /ovs\.tar: manifest\.json: exactly one image/);
  assert.throws(() => parseArchiveManifest(JSON.stringify([{ Config: 'config.json', Layers: [] }]), 'ovs.tar'), /not named by its sha256/);
  assert.throws(() => parseArchiveManifest('[', 'ovs.tar'), /ovs\.tar: manifest\.json: not JSON/);
});

test('parseImageConfigPlatform and dockerArch', () => {
  assert.equal(parseImageConfigPlatform('{"architecture":"arm64","os":"linux"}', 'c'), { arch: 'arm64', os: 'linux' });
  assert.throws(() => parseImageConfigPlatform('{"os":"linux"}', 'c'), /no architecture/);
  assert.is(dockerArch('x64'), 'amd64');
  assert.is(dockerArch('arm64'), 'arm64');
});

test.run();

// The image recipes' relations (router and services build FROM labhost), the importer's map of
// foreign images to ours, validate's missing-image problems, and labhost's systemctl (run here
// against a folder of fake init scripts).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recipeParent, recipeParents, withParents, RECIPES } from '../../agent/docker/images.js';
import { closestImage, imageForStartup, repoName } from '../../agent/lesson/import/images.js';
import { settleImages } from '../../agent/lesson/import/build.js';
import { missingImageProblems } from '../../agent/lesson/images.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { run } from '../../agent/sys/run.js';

const IMAGES = fileURLToPath(new URL('../../../image-build/images', import.meta.url));

test('recipeParent: the last stage FROM one of ours, never base', () => {
  assert.is(recipeParent('FROM dovelab/labhost\nRUN true\n'), 'labhost');
  assert.is(recipeParent('FROM dovelab/base:bookworm AS build\nRUN cc\nFROM dovelab/labhost:latest\n'), 'labhost');
  assert.is(recipeParent('FROM dovelab/base:bookworm\n'), undefined);
  assert.is(recipeParent('FROM dovelab/labhost AS x\nFROM debian:bookworm\n'), undefined);
});

test('the real recipes: router and services build FROM labhost, which comes first', () => {
  const parents = recipeParents(IMAGES);
  assert.equal(parents, { ovs: undefined, faucet: undefined, labhost: undefined, router: 'labhost', services: 'labhost' });
  assert.equal(withParents(['router'], parents), ['labhost', 'router']);
  assert.equal(withParents(['services', 'ovs'], parents), ['ovs', 'labhost', 'services']);
  assert.equal(withParents([], parents), [...RECIPES]);
  // Control: a recipe without a parent is built alone.
  assert.equal(withParents(['faucet'], parents), ['faucet']);
});

test('the recipes have no architecture of their own (the arm64 build uses the same files)', () => {
  for (const r of ['labhost', 'router', 'services']) {
    const text = readFileSync(join(IMAGES, r, 'Dockerfile'), 'utf8');
    assert.not.match(text, /amd64|x86_64|aarch64|arm64|--platform/, r);
  }
});

test('repoName strips registry, library/, tag and digest', () => {
  assert.is(repoName('docker.io/library/debian:bookworm'), 'debian');
  assert.is(repoName('quay.io/frrouting/frr:9.1.0'), 'quay.io/frrouting/frr');
  assert.is(repoName('kathara/frr'), 'kathara/frr');
  assert.is(repoName('localhost:5000/x/y:1'), 'localhost:5000/x/y');
});

test('closestImage: Kathará and containerlab images -> ours; unknown ones -> none', () => {
  assert.is(closestImage('kathara/frr')!.image, 'dovelab/router');
  assert.is(closestImage('kathara/quagga:latest')!.image, 'dovelab/router');
  assert.is(closestImage('kathara/bind')!.image, 'dovelab/services');
  assert.is(closestImage('alpine:3')!.image, 'dovelab/labhost');
  assert.is(closestImage('ubuntu')!.image, 'dovelab/labhost');
  assert.is(closestImage('nokia/srlinux'), undefined);
  assert.is(closestImage('ceos:4.32'), undefined);
  // kathara/base: by what the startup runs (or the files shipped).
  assert.is(closestImage('kathara/base', '/etc/init.d/quagga start\n')!.image, 'dovelab/router');
  assert.is(closestImage('kathara/base', 'systemctl start apache2\n')!.image, 'dovelab/services');
  assert.is(closestImage('kathara/base', 'ip addr add 10.0.0.1/24 dev eth0\n')!.image, 'dovelab/labhost');
  assert.is(closestImage('kathara/base', '', ['/etc/bind/named.conf'])!.image, 'dovelab/services');
  assert.is(imageForStartup(undefined, ['/etc/frr/frr.conf']), 'dovelab/router');
});

test('frrouting/frr starts FRR by itself: the line goes into the startup, unless it is there', () => {
  assert.is(closestImage('frrouting/frr:v8.4.1')!.starts, '/etc/init.d/frr start');
  assert.is(closestImage('frrouting/frr', 'service frr restart\n')!.starts, undefined);
  assert.is(closestImage('kathara/frr')!.starts, undefined);
  const hosts = { r1: { interfaces: {}, startup: 'ip addr add 10.0.0.1/24 dev eth1' }, n: { interfaces: {} } };
  const w = settleImages(hosts, { r1: 'frrouting/frr:latest', n: 'nokia/srlinux' }, (i) => i.startsWith('dovelab/'));
  assert.is(hosts.r1.startup, 'ip addr add 10.0.0.1/24 dev eth1\n# frrouting/frr:latest starts this by itself, dovelab/router does not:\n/etc/init.d/frr start\n');
  assert.is((hosts.r1 as { image?: string }).image, 'dovelab/router');
  assert.is((hosts.n as { image?: string }).image, undefined);
  assert.match(w.join('\n'), /image "frrouting\/frr:latest" is not available here: r1 uses dovelab\/router, the closest of ours/);
  assert.match(w.join('\n'), /image "nokia\/srlinux" is not available here: n uses dovelab\/labhost instead/);
});

test('settleImages names an image of ours that is not built here', () => {
  const hosts = { r1: { interfaces: {} } };
  const w = settleImages(hosts, { r1: 'kathara/frr' }, (i) => i === 'dovelab/labhost');
  assert.match(w.join('\n'), /not built on this appliance \(`dovelab images build router`\)/);
  // Control: built, not named as missing.
  const w2 = settleImages({ r1: { interfaces: {} } }, { r1: 'kathara/frr' }, (i) => i.startsWith('dovelab/'));
  assert.not.match(w2.join('\n'), /not built/);
});

test('missingImageProblems: each image not on the appliance, with its hosts and how to get it', () => {
  const t = TopologySchema.parse({
    dovelab: 1, networks: { n: {} }, hosts: {
      a: { interfaces: { eth0: { network: 'n' } } },
      r1: { image: 'dovelab/router', interfaces: { eth0: { network: 'n' } } },
      r2: { image: 'dovelab/router', interfaces: { eth0: { network: 'n' } } },
      x: { image: 'kathara/base', interfaces: { eth0: { network: 'n' } } },
    },
  });
  const p = missingImageProblems(t, 'dovelab/labhost', new Set(['dovelab/labhost:latest']));
  assert.equal(p.map((x) => x.path), ['hosts.r1.image', 'hosts.x.image']);
  assert.match(p[0]!.message, 'dovelab/router (used by r1, r2) is not on this appliance: build it with `dovelab images build router`');
  assert.match(p[1]!.message, 'kathara/base (used by x) is not on this appliance: load it');
  // Control: with every image there, no problem.
  assert.equal(missingImageProblems(t, 'dovelab/labhost', new Set(['dovelab/labhost:latest', 'dovelab/router:latest', 'kathara/base:latest'])), []);
});

test('labhost systemctl runs the unit\'s /etc/init.d script (aliases, .service, unknown units)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-systemctl-'));
  try {
    const fake = (name: string, status = 0) => {
      writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $1"\n[ "$1" = status ] && exit ${status}\nexit 0\n`);
      chmodSync(join(dir, name), 0o755);
    };
    fake('named'); fake('apache2', 3); fake('frr');
    const sc = (...a: string[]) => run(['sh', join(IMAGES, 'labhost/systemctl'), ...a], { allowFail: true, env: { ...process.env, DOVELAB_INITD: dir } });
    let r = await sc('start', 'bind9.service');
    assert.equal([r.code, r.stdout.trim()], [0, 'named start']);
    r = await sc('restart', 'frr', 'httpd');
    assert.equal([r.code, r.stdout.trim().split('\n')], [0, ['frr restart', 'apache2 restart']]);
    r = await sc('is-active', 'apache2');
    assert.equal([r.code, r.stdout.trim()], [3, 'inactive']);
    r = await sc('is-active', 'frr');
    assert.equal([r.code, r.stdout.trim()], [0, 'active']);
    r = await sc('enable', '--now', 'frr');
    assert.equal([r.code, r.stdout.trim()], [0, 'frr start']);
    r = await sc('enable', 'frr');
    assert.equal([r.code, r.stdout.trim()], [0, '']);
    r = await sc('start', 'nginx');
    assert.is(r.code, 5);
    assert.match(r.stderr, 'Unit nginx.service not found');
    r = await sc('daemon-reload');
    assert.is(r.code, 0);
    r = await sc('list-units');
    assert.equal(r.stdout.trim().split('\n'), ['apache2.service', 'frr.service', 'named.service']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();

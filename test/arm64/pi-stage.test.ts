// The arm64 chroot check (image-build/arm64-chroot-check.sh): the Pi image's stage installed into
// a Debian arm64 root under qemu-user-static, and `dovelab doctor --offline` passing there on the
// image's Node 22 for arm64. Then negative controls in the same root: doctor --offline fails when a
// program the kiosk needs is gone and when an x86-64 native add-on sits in node_modules.
// Needs root, debootstrap, qemu-user-static + binfmt_misc and Debian's archive (host-setup.sh);
// the first run on a machine makes the base root (minutes), later runs take it from the cache.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEADLINE_MS = 45 * 60_000;

test('arm64 chroot: the stage installs and the agent passes doctor --offline on Node 22 arm64; broken roots fail it', () => {
  const r = spawnSync('bash', [join(REPO, 'image-build/arm64-chroot-check.sh'), '--keep'], { encoding: 'utf8', timeout: DEADLINE_MS, maxBuffer: 256 * 1024 * 1024 });
  const out = `${r.stdout}\n${r.stderr}`;
  const kept = /arm64-check: kept (\S+)/.exec(out)?.[1];
  try {
    assert.is(r.status, 0, `arm64-chroot-check.sh failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${out.split('\n').slice(-40).join('\n')}`);
    assert.match(out, /\[arm64-check \d+s\] PASSED in \d+ s/);
    assert.match(out, /^ok {3}node: Node 22\.\d+\.\d+ \(arm64\)/m);
    assert.match(out, /^ok {3}agent modules load: \d+ modules/m);
    assert.match(out, /^ok {3}command chromium:/m);
    assert.match(out, /^ok {3}file \/etc\/systemd\/system\/dovelab-kiosk\.service:/m);
    assert.not.match(out, /^FAIL /m);
    // doctor says what it skipped.
    assert.match(out, /^skip dockerd answering/m);
    const timing = /PASSED in (\d+) s/.exec(out)?.[1];
    console.log(`  arm64 chroot check: ${timing} s (${/base root from cache/.test(out) ? 'base root from the cache' : 'base root made'})`);

    assert.ok(kept && existsSync(join(kept, 'rootfs/opt/dovelab/agent')), `the kept root: ${kept}`);
    const root = join(kept!, 'rootfs');
    const doctor = () => spawnSync('chroot', [root, '/opt/dovelab/node/bin/node', '/opt/dovelab/agent/dist/agent/cli.js', 'doctor', '--offline'], { encoding: 'utf8', timeout: 10 * 60_000 });
    // Positive control in the kept root (no /proc mounted now): still passes.
    const again = doctor();
    assert.is(again.status, 0, again.stdout + again.stderr);
    renameSync(join(root, 'usr/bin/cage'), join(root, 'usr/bin/cage.away'));
    const noCage = doctor();
    assert.is(noCage.status, 1, noCage.stdout);
    assert.match(noCage.stdout, /^FAIL command cage: cage\n {7}fix: apt-get install cage$/m);
    renameSync(join(root, 'usr/bin/cage.away'), join(root, 'usr/bin/cage'));
    // An x86-64 add-on (this host's node binary stands in for one) in the agent's node_modules.
    const foreign = join(root, 'opt/dovelab/agent/node_modules/dovelab-test-foreign/build/Release');
    mkdirSync(foreign, { recursive: true });
    copyFileSync(process.execPath, join(foreign, 'foreign.node'));
    const wrongArch = doctor();
    assert.is(wrongArch.status, 1, wrongArch.stdout);
    assert.match(wrongArch.stdout, /^FAIL native add-ons match this arch: not built for arm64: dovelab-test-foreign\/build\/Release\/foreign\.node/m);
  } finally {
    if (kept) rmSync(kept, { recursive: true, force: true });
  }
});

test.run();

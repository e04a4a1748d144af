// Real tools over the repository's scripts and the Pi image's units:
// - shellcheck of every shell script (by extension, by shebang, or by a `# shellcheck shell=`
//   directive for sourced fragments such as pi-gen's config);
// - `systemd-analyze verify` of the stage's units in a temporary root. systemd 252 (bookworm)
//   exits 0 after "Unknown key" or an unparsable value (it only prints them), so any output at all
//   fails the test; the negative controls below show both kinds are caught.
// A missing tool is a failure ("could not run" never passes); image-build/host-setup.sh installs them.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UNITS_FROM = join(REPO, 'pi-gen-config/stage-dovelab/00-dovelab/files/rootfs');

const tool = (name: string) => {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  assert.is(r.status, 0, `${name} is not installed: run image-build/host-setup.sh`);
};

/** Files of the checkout (tracked or new, not ignored) that are shell: *.sh, a sh/bash shebang, or a shellcheck shell= directive. */
function shellScripts(): string[] {
  const r = spawnSync('git', ['-C', REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\0').filter(Boolean).filter((f) => {
    if (f.endsWith('.sh')) return true;
    if (/\.(ts|js|mjs|cjs|json|md|ya?ml|txt|html|css|svg|png|lock)$/.test(f)) return false;
    if (!lstatSync(join(REPO, f)).isFile()) return false; // symlinks (the sysfs fixture trees), directories
    const head = readFileSync(join(REPO, f)).subarray(0, 1000).toString('utf8');
    return /^#!\s*(\/usr\/bin\/env\s+)?(\/bin\/|\/usr\/bin\/)?(ba)?sh\b/.test(head) || /^# shellcheck shell=(ba)?sh\b/m.test(head);
  });
}

test('shellcheck: every shell script of the repository is clean', () => {
  tool('shellcheck');
  const files = shellScripts();
  for (const must of ['image-build/host-setup.sh', 'image-build/arm64-chroot-check.sh', 'image-build/build-image.sh', 'pi-gen-config/config',
    'pi-gen-config/stage-dovelab/00-dovelab/files/install-rootfs.sh', 'pi-gen-config/stage-dovelab/00-dovelab/files/rootfs/usr/local/bin/dovelab']) {
    assert.ok(files.includes(must), `${must} is found as a script`);
  }
  const r = spawnSync('shellcheck', ['--format=gcc', ...files], { cwd: REPO, encoding: 'utf8' });
  assert.is(r.stdout + r.stderr, '', `shellcheck findings:\n${r.stdout}${r.stderr}`);
  assert.is(r.status, 0);
  // Negative control: a known finding is reported.
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-sc-'));
  try {
    writeFileSync(join(dir, 'bad.sh'), '#!/bin/bash\nrm -rf $1/tmp\n');
    const bad = spawnSync('shellcheck', ['--format=gcc', join(dir, 'bad.sh')], { encoding: 'utf8' });
    assert.is.not(bad.status, 0);
    assert.match(bad.stdout, /SC2086/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

/**
 * A root for `systemd-analyze verify --root`: the host's own system units (sysinit.target,
 * docker.service of Debian's docker.io, ...), the stage's files, and stubs only for the Debian
 * packages' programs the units run (cage, chromium, curl, mkdir). Our own programs
 * (/usr/local/bin/dovelab, the first-boot scripts) come from the stage, never stubbed.
 */
function verifyRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'dovelab-verify-'));
  mkdirSync(join(root, 'lib/systemd'), { recursive: true });
  cpSync('/lib/systemd/system', join(root, 'lib/systemd/system'), { recursive: true });
  cpSync(UNITS_FROM, root, { recursive: true });
  for (const b of ['/usr/bin/cage', '/usr/bin/chromium', '/usr/bin/curl', '/bin/mkdir']) {
    mkdirSync(dirname(join(root, b)), { recursive: true });
    writeFileSync(join(root, b), '#!/bin/sh\nexit 0\n');
    chmodSync(join(root, b), 0o755);
  }
  return root;
}

const verify = (root: string, units: string[]) => spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => join(root, 'etc/systemd/system', u))], { encoding: 'utf8' });

test('systemd-analyze verify: the stage\'s units are clean in a root with their dependencies', () => {
  tool('systemd-analyze');
  assert.ok(existsSync('/lib/systemd/system/docker.service'), 'docker.service (docker.io) on this host: image-build/host-setup.sh installs it');
  const root = verifyRoot();
  try {
    const units = readdirSync(join(root, 'etc/systemd/system')).filter((f) => f.endsWith('.service')).sort();
    assert.equal(units, ['dovelab-agent.service', 'dovelab-boot-config.service', 'dovelab-firstboot.service', 'dovelab-kiosk.service', 'dovelab-lesson.service']);
    const r = verify(root, units);
    assert.is(r.stdout + r.stderr, '', `systemd-analyze verify:\n${r.stdout}${r.stderr}`);
    assert.is(r.status, 0);

    // Negative controls, each on a fresh copy of one unit: a misspelt key, a bad value, a missing program.
    const agent = join(root, 'etc/systemd/system/dovelab-agent.service');
    const good = readFileSync(agent, 'utf8');
    writeFileSync(agent, good.replace('TimeoutStopSec=', 'TimeoutStopSek='));
    assert.match((({ stdout, stderr }) => stdout + stderr)(verify(root, ['dovelab-agent.service'])), /Unknown key 'TimeoutStopSek'/);
    writeFileSync(agent, good.replace('Restart=always', 'Restart=alwayz'));
    assert.match((({ stdout, stderr }) => stdout + stderr)(verify(root, ['dovelab-agent.service'])), /restart specifier/);
    writeFileSync(agent, good);
    rmSync(join(root, 'usr/local/lib/dovelab/firstboot.sh'));
    const missing = verify(root, ['dovelab-firstboot.service']);
    assert.is.not(missing.status, 0);
    assert.match(missing.stdout + missing.stderr, /firstboot\.sh is not executable/);
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test.run();

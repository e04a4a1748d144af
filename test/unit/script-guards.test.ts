// Scripts meant for a chroot or a container refuse to run anywhere else, changing nothing
// (issue 7: image-build/images/base/setup.sh run on a host broke its name resolution).
//
// How this cannot harm the machine even if a guard were broken: every script runs in a
// sandbox made with `unshare --mount --uts --ipc --net --pid` (own mounts, hostname, network
// with only a down loopback, pids), chrooted into an overlay whose lower layer is this
// machine's root file system and whose upper layer is a tmpfs of that mount namespace. Every
// write, delete or chmod lands in the tmpfs (the lower layer is never written) and vanishes
// with the namespace. Nothing else is reachable: the other mounts (/proc, /sys, /var/lib/docker,
// /work, ...) do not exist in the overlay, /dev is a tmpfs holding only null, zero and urandom,
// and the script runs without CAP_SYS_ADMIN, CAP_MKNOD, CAP_SYS_CHROOT or CAP_NET_ADMIN (no
// mounts, no new devices, no chroot escape, no network), with no_new_privs. The programs the
// scripts would run first (apt-get, ovsdb-tool, dpkg-query) are stubs first on PATH that
// record their arguments and exit 97.
//
// "Changed nothing" is then exact: the overlay's upper layer after the run equals the one
// before it (any file written, deleted or changed in mode appears there). Each refusal has a
// positive control in the same test: the same sandbox with the marker (or as root on Debian)
// passes the guard, which shows in the upper layer (the files the script writes first) and in
// the stub calls.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SETUP = join(REPO, 'image-build/images/base/setup.sh');
const OVS_ENTRYPOINT = join(REPO, 'image-build/images/ovs/entrypoint.sh');
const HOST_SETUP = join(REPO, 'image-build/host-setup.sh');
const REFUSED = 3; // the exit status of the container/chroot guards
const STUB_FAILED = 97;

/** Runs as the root of a new mount/uts/ipc/net/pid namespace, outside the chroot. */
const SANDBOX = String.raw`
set -euo pipefail
tools=$1 prep=$2 user=$3; shift 3
mount -t tmpfs -o size=64m,mode=755 guardtest /mnt
mkdir /mnt/upper /mnt/work /mnt/root /mnt/guard
cp -a "$tools"/. /mnt/guard/
chmod 755 /mnt/guard
mount -t overlay guardtest -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work /mnt/root
mount -t tmpfs -o size=1m,mode=755 guardtest-dev /mnt/root/dev
mknod -m 666 /mnt/root/dev/null c 1 3
mknod -m 666 /mnt/root/dev/zero c 1 5
mknod -m 666 /mnt/root/dev/urandom c 1 9
mount --bind /mnt/guard /mnt/root/mnt
R=/mnt/root
eval "$prep"
list() { (cd /mnt/upper && find . -mindepth 1 -printf '%y %m %p\n' | LC_ALL=C sort); }
echo @@before; list
if [[ $user == root ]]; then
  caps=(--bounding-set -all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid,+kill,+setgid,+setuid --inh-caps -all)
else
  caps=(--reuid 65534 --regid 65534 --clear-groups --bounding-set -all --inh-caps -all)
fi
set +e
chroot /mnt/root /usr/bin/env -i PATH=/mnt/stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  /usr/bin/setpriv --no-new-privs "${'$'}{caps[@]}" -- "$@" </dev/null >/mnt/guard/.stdout 2>/mnt/guard/.stderr
rc=$?
set -e
echo "@@rc $rc"
echo @@after; list
echo @@calls; cat /mnt/guard/calls 2>/dev/null || true
echo @@stderr; cat /mnt/guard/.stderr
`;

/** A stub program: records its name and arguments (and what `note` prints), then fails. */
const stub = (note = '') => `#!/bin/sh\necho "\${0##*/} $*${note}" >> /mnt/calls\nexit ${STUB_FAILED}\n`;

interface Outcome { code: number; before: string[]; after: string[]; calls: string[]; stderr: string }
interface RunOpts {
  /** Bash run before the snapshot, outside the chroot; $R is the sandbox root. */
  prep?: string;
  user?: 'root' | 'nobody';
  /** Repository files copied into the sandbox under /mnt (path inside /mnt → source). */
  files: Record<string, string>;
  stubs: string[];
  /** Shell appended to each stub's record line, e.g. ' $(test -e /x && echo x-present)'. */
  stubNote?: string;
  argv: string[];
}

function sandboxed(o: RunOpts): Outcome {
  const tools = mkdtempSync(join(tmpdir(), 'guardtest-'));
  try {
    for (const [to, from] of Object.entries(o.files)) {
      spawnSync('mkdir', ['-p', dirname(join(tools, to))]);
      copyFileSync(from, join(tools, to));
    }
    spawnSync('mkdir', ['-p', join(tools, 'stubs')]);
    for (const s of o.stubs) { writeFileSync(join(tools, 'stubs', s), stub(o.stubNote)); chmodSync(join(tools, 'stubs', s), 0o755); }
    const r = spawnSync('unshare', ['--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--kill-child', '--propagation', 'private',
      '--', 'bash', '-c', SANDBOX, 'guardtest-sandbox', tools, o.prep ?? '', o.user ?? 'root', ...o.argv], { encoding: 'utf8', timeout: 30_000 });
    const out = r.stdout ?? '';
    const m = /^@@before\n([\s\S]*?)^@@rc (\d+)\n@@after\n([\s\S]*?)^@@calls\n([\s\S]*?)^@@stderr\n([\s\S]*)$/m.exec(out);
    // Could not run (no root, no unshare, no overlayfs) is an error, never a pass.
    if (!m) throw new Error(`the sandbox could not run (exit ${r.status}, ${r.error?.message ?? ''}): ${r.stderr}${out}`);
    const lines = (s: string) => s.split('\n').filter(Boolean);
    return { code: Number(m[2]), before: lines(m[1]!), after: lines(m[3]!), calls: lines(m[4]!), stderr: m[5]! };
  } finally {
    rmSync(tools, { recursive: true, force: true });
  }
}

const has = (o: Outcome, entry: RegExp) => o.after.some((l) => entry.test(l));

test('this machine carries no guard markers (else the refusals below would prove nothing)', () => {
  for (const m of ['/.dovelab-rootfs', '/.dovelab-image']) {
    assert.is(spawnSync('test', ['-e', m]).status, 1, `${m} exists on this machine`);
  }
});

test('the guards come first: nothing but comments before them, set -e after', () => {
  for (const [file, first] of [[SETUP, 'dovelab_build_id='], [OVS_ENTRYPOINT, 'dovelab_image=']] as const) {
    const code = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
    assert.is(code[0], first, file);
    assert.ok(code.indexOf('set -eu') > code.findIndex((l) => l.includes('exit 3')), `${file}: set -eu after the guard`);
  }
});

const setupRun = (prep: string, args: string[]) => sandboxed({
  prep, files: { 'setup.sh': SETUP }, stubs: ['apt-get'], argv: ['/bin/sh', '/mnt/setup.sh', ...args],
});

test('base setup.sh: refuses outside the rootfs being built, changing nothing; runs inside it', () => {
  const id = 'guardtest-build-1';
  const marker = `printf '%s\\n' ${id} > "$R/.dovelab-rootfs"`;
  const refusals = {
    'no marker (a host)': setupRun('', [id]),
    'marker but no build id given': setupRun(marker, []),
    'marker with another build id': setupRun(`printf 'guardtest-build-0\\n' > "$R/.dovelab-rootfs"`, [id]),
    'empty marker, empty id': setupRun(`: > "$R/.dovelab-rootfs"`, ['']),
  };
  for (const [why, o] of Object.entries(refusals)) {
    assert.is(o.code, REFUSED, `${why}: exit ${o.code}, stderr ${o.stderr}`);
    assert.match(o.stderr, /setup\.sh: refusing to run: this is not a dovelab base rootfs being built/, why);
    assert.match(o.stderr, /Nothing was changed/, why);
    assert.equal(o.after, o.before, `${why}: the file system changed`);
    assert.equal(o.calls, [], why);
  }
  // Positive control: the same sandbox with the marker and its id passes the guard. Its first
  // actions are visible: policy-rc.d and the apt/dpkg settings written, then apt-get called.
  const ok = setupRun(marker, [id]);
  assert.is(ok.code, STUB_FAILED, `exit ${ok.code}, stderr ${ok.stderr}`);
  assert.not.match(ok.stderr, /refusing/);
  assert.ok(has(ok, /^f 755 \.\/usr\/sbin\/policy-rc\.d$/), ok.after.join('\n'));
  assert.ok(has(ok, /^f \d+ \.\/etc\/apt\/apt\.conf\.d\/90dovelab$/));
  assert.ok(has(ok, /^f \d+ \.\/etc\/dpkg\/dpkg\.cfg\.d\/90dovelab-nodoc$/));
  assert.ok(ok.calls.includes('apt-get -q update'), ok.calls.join('\n'));
});

const ovsRun = (prep: string) => sandboxed({
  prep, files: { 'ovs-entrypoint': OVS_ENTRYPOINT },
  stubs: ['ovsdb-tool', 'ovsdb-server', 'ovs-vsctl', 'ovs-vswitchd'], argv: ['/bin/sh', '/mnt/ovs-entrypoint'],
});

test('ovs entrypoint: refuses outside the dovelab/ovs container, changing nothing; runs inside it', () => {
  const refusals = {
    'no marker (a host)': ovsRun(''),
    'another image': ovsRun(`echo dovelab/labhost > "$R/.dovelab-image"`),
  };
  for (const [why, o] of Object.entries(refusals)) {
    assert.is(o.code, REFUSED, `${why}: exit ${o.code}, stderr ${o.stderr}`);
    assert.match(o.stderr, /ovs-entrypoint: refusing to run: this is not the dovelab\/ovs container/, why);
    assert.equal(o.after, o.before, `${why}: the file system changed`);
    assert.equal(o.calls, [], why);
  }
  // Positive control: with the marker the Dockerfile writes, it makes its directories and
  // creates the database (the stub ovsdb-tool fails, so it stops there).
  const ok = ovsRun(`echo dovelab/ovs > "$R/.dovelab-image"`);
  assert.is(ok.code, STUB_FAILED, `exit ${ok.code}, stderr ${ok.stderr}`);
  assert.ok(has(ok, /^d \d+ \.\/etc\/openvswitch$/), ok.after.join('\n'));
  assert.ok(has(ok, /^d \d+ \.\/var\/log\/openvswitch$/));
  assert.equal(ok.calls, ['ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema']);
});

test('the ovs image writes the marker its entrypoint checks', () => {
  assert.match(readFileSync(join(REPO, 'image-build/images/ovs/Dockerfile'), 'utf8'), /^RUN echo dovelab\/ovs > \/\.dovelab-image$/m);
});

const hostSetupRun = (opts: { prep?: string; user?: 'root' | 'nobody' }) => sandboxed({
  ...opts, files: { 'image-build/host-setup.sh': HOST_SETUP }, stubs: ['dpkg-query', 'apt-get'],
  stubNote: '$(test -e /usr/sbin/policy-rc.d && echo " [policy-rc.d]")',
  argv: ['/bin/bash', '/mnt/image-build/host-setup.sh'],
});

test('host-setup.sh: refuses as non-root and on non-Debian, changing nothing; runs as root on Debian', () => {
  const nonRoot = hostSetupRun({ user: 'nobody' });
  assert.is(nonRoot.code, 1, nonRoot.stderr);
  assert.match(nonRoot.stderr, /host-setup: run as root \(nothing was changed\)/);
  assert.equal(nonRoot.after, nonRoot.before);
  assert.equal(nonRoot.calls, []);

  const notDebian = hostSetupRun({ prep: 'rm "$R/etc/debian_version"' });
  assert.ok(notDebian.before.includes('c 0 ./etc/debian_version'), notDebian.before.join('\n')); // whiteout
  assert.is(notDebian.code, 1, notDebian.stderr);
  assert.match(notDebian.stderr, /host-setup: refusing to run: this is not a Debian system/);
  assert.equal(notDebian.after, notDebian.before);
  assert.equal(notDebian.calls, []);

  // Positive control: as root on Debian it goes on (every package looks missing to the stub
  // dpkg-query; the stub apt-get fails). Without systemd it writes policy-rc.d for the
  // install, and removes it again although apt-get failed.
  const ok = hostSetupRun({ prep: 'rm -f "$R/usr/sbin/policy-rc.d"; rm -rf "$R/run/systemd/system"' });
  assert.is(ok.code, STUB_FAILED, ok.stderr);
  assert.ok(ok.calls.includes('apt-get update -q [policy-rc.d]'), ok.calls.join('\n'));
  assert.ok(ok.calls.some((c) => c.startsWith('dpkg-query -W')));
  assert.equal(ok.after, ok.before, 'policy-rc.d left behind after a failed apt-get');
});

test.run();

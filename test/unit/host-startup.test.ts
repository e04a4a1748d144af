// Issue 11, the engine side: the startup wrapper (bash, a #! line, sh where there is no bash),
// interface sysctls split from those Docker sets at creation, ip_forward 0 unless the lesson says.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startupCommand, BIND_MOUNTED_FILES } from '../../agent/docker/hosts.js';
import { effectiveSysctls, splitSysctls, sysctlInterface } from '../../agent/lesson/sysctl.js';
import { planDesired } from '../../agent/lab/desired.js';
import { crossCheck } from '../../agent/lesson/load.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { run } from '../../agent/sys/run.js';

/** Runs the wrapper here (not in a container) with its log and script file in a temp folder. */
async function runStartup(script: string, bash = '/bin/bash'): Promise<{ code: number; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-startup-'));
  try {
    const r = await run(['sh', '-c', startupCommand(join(dir, 'log/startup.log'), join(dir, 'startup'), bash), 'dovelab-startup', script], { allowFail: true });
    return { code: r.code, log: readFileSync(join(dir, 'log/startup.log'), 'utf8') };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('startup: run by bash: set -euo pipefail, source and arrays work', async () => {
  const r = await runStartup('set -euo pipefail\nsource /dev/null\na=(x y)\necho "n=${#a[@]} $(set -o | grep -c "pipefail.*on")"\n');
  assert.is(r.code, 0, r.log);
  assert.match(r.log, /^n=2 1$/m);
  assert.match(r.log, /dovelab: startup exited 0/);
});

test('startup: a #! line is honoured (sh runs it: no bash arrays); the exit code is kept', async () => {
  const r = await runStartup('#!/bin/sh\n[ -n "$BASH_VERSION" ] && echo bash || echo not-bash\nexit 3\n');
  assert.is(r.code, 3);
  assert.match(r.log, /^not-bash$/m);
  const b = await runStartup('[ -n "$BASH_VERSION" ] && echo bash || echo not-bash\n');
  assert.match(b.log, /^bash$/m, 'control: without a #! line, bash runs it');
});

test('startup: an image without bash runs it with sh and the log says so', async () => {
  const r = await runStartup('echo ran\n', '/nonexistent/bash');
  assert.is(r.code, 0);
  assert.match(r.log, /dovelab: this image has no \/nonexistent\/bash: the startup runs with sh/);
  assert.match(r.log, /^ran$/m);
});

test('bind-mounted files are written in place', () => {
  assert.equal([...BIND_MOUNTED_FILES].sort(), ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
});

test('sysctls: interface keys are set after wiring; all/default/lo and the rest at creation', () => {
  assert.equal(['net.ipv6.conf.eth0.accept_ra', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.lo.rp_filter', 'net.ipv4.neigh.eth1.gc_stale_time', 'net.ipv4.ip_forward'].map(sysctlInterface),
    ['eth0', undefined, undefined, 'eth1', undefined]);
  assert.equal(splitSysctls({ 'net.ipv6.conf.eth0.accept_ra': '2', 'net.ipv4.ip_forward': '1' }),
    { atCreate: { 'net.ipv4.ip_forward': '1' }, byInterface: { eth0: { 'net.ipv6.conf.eth0.accept_ra': '2' } } });
  assert.equal(effectiveSysctls({ 'net.ipv4.icmp_ratelimit': 0 }, undefined), { 'net.ipv4.ip_forward': '0', 'net.ipv4.icmp_ratelimit': '0' });
});

test('sysctls: a host\'s `all` forwarding / disable_ipv6 over the lesson\'s `default` reaches the interfaces wired later (Linux sets default with all)', () => {
  const kathara = { 'net.ipv6.conf.all.forwarding': 0, 'net.ipv6.conf.default.forwarding': 0, 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 };
  // Kathará's ipv6=true gives all.* only: default follows, whatever order Docker sets them in.
  const on = effectiveSysctls(kathara, { 'net.ipv6.conf.all.forwarding': 1, 'net.ipv6.conf.all.disable_ipv6': 0 });
  assert.is(on['net.ipv6.conf.default.forwarding'], '1');
  assert.is(on['net.ipv6.conf.default.disable_ipv6'], '0');
  // Control: a host without its own value keeps the lesson's default; a host that gives default keeps it.
  assert.is(effectiveSysctls(kathara, {})['net.ipv6.conf.default.forwarding'], '0');
  assert.is(effectiveSysctls(kathara, { 'net.ipv6.conf.all.forwarding': 1, 'net.ipv6.conf.default.forwarding': 0 })['net.ipv6.conf.default.forwarding'], '0');
  // Keys Linux does not propagate (rp_filter takes the max of all and the interface) are left alone.
  assert.is(effectiveSysctls({ 'net.ipv4.conf.default.rp_filter': 0 }, { 'net.ipv4.conf.all.rp_filter': 1 })['net.ipv4.conf.default.rp_filter'], '0');
});

const lesson = (extra: string) => TopologySchema.parse({
  dovelab: 1, networks: { a: {} },
  hosts: { h: { interfaces: { eth0: { network: 'a' } }, ...JSON.parse(extra) }, r: { interfaces: { eth0: { network: 'a' } }, sysctl: { 'net.ipv4.ip_forward': 1 } } },
});

test('plan: no host forwards unless its lesson says so; defaults.sysctl under the host\'s own; interface sysctls apart', () => {
  const d = planDesired(lesson('{"sysctl": {"net.ipv6.conf.eth0.accept_ra": 2}}'), { lab: 't', groups: 1, bridge: 'b', dpId: 1, defaultImage: 'img' });
  const h = d.hosts.find((x) => x.host === 'h')!; const r = d.hosts.find((x) => x.host === 'r')!;
  assert.equal(h.sysctl, { 'net.ipv4.ip_forward': '0' });
  assert.equal(h.ifaceSysctl, { eth0: { 'net.ipv6.conf.eth0.accept_ra': '2' } });
  assert.equal(r.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.is(r.ifaceSysctl, undefined);
  const t = TopologySchema.parse({ ...lesson('{}'), defaults: { sysctl: { 'net.ipv4.ip_forward': 1, 'net.ipv4.icmp_ratelimit': 0 } } });
  const d2 = planDesired(t, { lab: 't', groups: 1, bridge: 'b', dpId: 1, defaultImage: 'img' });
  assert.equal(d2.hosts.find((x) => x.host === 'h')!.sysctl, { 'net.ipv4.ip_forward': '1', 'net.ipv4.icmp_ratelimit': '0' });
});

test('validation: an interface sysctl for an interface the host does not have is refused with the path', () => {
  const problems = crossCheck(lesson('{"sysctl": {"net.ipv6.conf.eth7.accept_ra": 2}}'));
  assert.equal(problems.map((p) => p.path), ['hosts.h.sysctl.net.ipv6.conf.eth7.accept_ra']);
  assert.match(problems[0]!.message, /no interface "eth7"/);
  assert.equal(crossCheck(lesson('{"sysctl": {"net.ipv6.conf.eth0.accept_ra": 2}}')), [], 'control: eth0 is wired');
});

test.run();

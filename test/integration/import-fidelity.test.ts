// Issue 11: a Kathará lab in the shapes real courses use comes up as its author meant. Startups run
// by bash (set -euo pipefail, source, a shebang), /etc/resolv.conf from a device folder, an
// interface sysctl set after wiring, startup sysctl lines lifted, Kathará's defaults (the routers
// forward), and the generated end-to-end task passes across two routers with static routes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importLab, writePack, type ImportResult } from '../../agent/lesson/import/index.js';
import { runChecks } from '../../agent/lab/check-run.js';
import { checkIo, desiredOf, labDown, labUp } from '../../agent/lab/service.js';
import type { LabState } from '../../agent/lab/state.js';
import { cfg, hostPidOf, inHost, pingLoss, run, stack } from './_stack.js';
import { loud } from '../loud-hook.js';

const LAB = fileURLToPath(new URL('../../../test/fixtures/import/kathara-fidelity', import.meta.url));
let imported: ImportResult;
let state: LabState;
let warnings: string[] = [];
let out = '';

const cat = async (container: string, path: string) => {
  const r = await inHost(container, ['cat', path]);
  if (r.code !== 0) throw new Error(`${container}: cat ${path} failed: ${r.stderr}`);
  return r.stdout;
};

test.before(loud(async () => {
  imported = importLab(LAB);
  out = join(mkdtempSync(join(tmpdir(), 'dovelab-fidelity-')), 'pack');
  writePack(imported, out);
  const up = await labUp(await stack(), out, 1);
  state = up.state;
  warnings = up.report.warnings;
}));

test.after(async () => {
  await labDown(await stack()).catch((e) => console.log(`    labDown: ${(e as Error).message}`));
  if (out) rmSync(dirname(out), { recursive: true, force: true });
});

test('the import: the GUI device is left out, the task list checks pc1 -> pc2 across the routers', () => {
  assert.equal(Object.keys(imported.lesson.hosts).sort(), ['pc1', 'pc2', 'r1', 'r2']);
  assert.ok(imported.notConverted.some((n) => n.what === 'device wireshark (bridged, port, image, num_terms)' && /mirror/.test(n.why)), JSON.stringify(imported.notConverted));
  assert.ok(imported.lesson.tasks!.some((t) => t.id === 'reach-pc1-pc2'), JSON.stringify(imported.lesson.tasks));
  assert.is(imported.lesson.hosts.pc2!.interfaces.eth0!.ip, '198.51.100.140/26', '${PC2_ADDR:-…} read through the env export');
  assert.equal(imported.lesson.hosts.r1!.sysctl, { 'net.ipv4.conf.all.send_redirects': 0 });
  assert.equal(warnings, [], `no startup failed or hung: ${warnings.join('; ')}`);
});

test('startups ran with bash: set -euo pipefail, source, arrays all worked (the script ran to its end)', async () => {
  assert.is((await cat('dovelab-g1-pc1', '/tmp/greeting')).trim(), 'FIDELITY HELLO-FROM-SHARED');
  assert.is((await cat('dovelab-g1-pc1', '/tmp/shell')).trim(), 'pipefail=on');
  assert.match(await cat('dovelab-g1-pc1', '/var/log/dovelab-startup.log'), /dovelab: startup exited 0/);
  assert.match(await cat('dovelab-g1-pc2', '/var/log/dovelab-startup.log'), /dovelab: startup exited 0/);
});

test('/etc/resolv.conf from the device folder is in the host (written in place over Docker\'s bind mount)', async () => {
  assert.is(await cat('dovelab-g1-pc1', '/etc/resolv.conf'), readFileSync(join(LAB, 'pc1/etc/resolv.conf'), 'utf8'));
  // Control: a host without one keeps Docker's own.
  assert.not.match(await cat('dovelab-g1-pc2', '/etc/resolv.conf'), /fidelity\.test/);
});

test('sysctls: the interface one after wiring, lifted ones, Kathará defaults (seen from the appliance in the host netns)', async () => {
  const read = async (c: string, key: string) => (await run(['nsenter', '-t', String(await hostPidOf(c)), '-n', 'sysctl', '-n', key])).stdout.trim();
  assert.is(await read('dovelab-g1-pc1', 'net.ipv6.conf.eth0.accept_ra'), '2');
  assert.is(await read('dovelab-g1-pc2', 'net.ipv6.conf.eth0.accept_ra'), '1', 'control: the kernel default elsewhere');
  assert.is(await read('dovelab-g1-r1', 'net.ipv4.conf.all.send_redirects'), '0', 'lifted from r1.startup');
  assert.is(await read('dovelab-g1-r2', 'net.ipv4.conf.all.send_redirects'), '0', 'lifted from r2.startup (echo > /proc/sys)');
  assert.is(await read('dovelab-g1-r1', 'net.ipv4.ip_forward'), '1');
  assert.is(await read('dovelab-g1-pc1', 'net.ipv4.icmp_ratelimit'), '0');
  assert.is(await read('dovelab-g1-pc1', 'net.ipv6.conf.all.disable_ipv6'), '1');
});

test('the generated tasks pass, end to end included; the path depends on the routers forwarding', async () => {
  const results = (await runChecks(checkIo(await stack()), state, desiredOf(cfg, state))).results;
  assert.ok(results.some((r) => r.task === 'reach-pc1-pc2'), JSON.stringify(results));
  assert.ok(results.every((r) => r.status === 'pass'), JSON.stringify(results, null, 1));
  assert.is(await pingLoss('dovelab-g1-pc1', '198.51.100.140', 3), 0, 'pc1 reaches pc2 through r1 and r2');
  // Negative, with the positive above as control: r1 stops forwarding, the same probe fails; back on, it passes.
  const fwd = async (v: string) => run(['nsenter', '-t', String(await hostPidOf('dovelab-g1-r1')), '-n', 'sysctl', '-qw', `net.ipv4.ip_forward=${v}`]);
  await fwd('0');
  try {
    assert.is(await pingLoss('dovelab-g1-pc1', '198.51.100.140', 3), 100);
  } finally { await fwd('1'); }
  assert.is(await pingLoss('dovelab-g1-pc1', '198.51.100.140', 3), 0);
});

test('our own lessons: a host routes only when its lesson says so (a new netns may copy the appliance\'s ip_forward)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-noroute-'));
  try {
    writeFileSync(join(dir, 'lesson.yaml'), [
      'dovelab: 1', 'id: no-accidental-routing', 'networks: {left: {}, right: {}}', 'hosts:',
      '  a: {interfaces: {eth0: {network: left, ip: 198.51.100.10/25, gateway: 198.51.100.1}}}',
      '  r: {interfaces: {eth0: {network: left, ip: 198.51.100.1/25}, eth1: {network: right, ip: 198.51.100.129/25}}}',
      '  b: {interfaces: {eth0: {network: right, ip: 198.51.100.140/25, gateway: 198.51.100.129}}}', '',
    ].join('\n'));
    await labUp(await stack(), dir, 1);
    const pid = String(await hostPidOf('dovelab-g1-r'));
    assert.is((await run(['nsenter', '-t', pid, '-n', 'sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(), '0');
    assert.is(await pingLoss('dovelab-g1-a', '198.51.100.1', 2), 0, 'control: a reaches the router');
    assert.is(await pingLoss('dovelab-g1-a', '198.51.100.140', 3), 100, 'r does not forward');
    await run(['nsenter', '-t', pid, '-n', 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    assert.is(await pingLoss('dovelab-g1-a', '198.51.100.140', 3), 0, 'control: the same probe passes once r forwards');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();

// Dongle hardening and its undoing: the record of the original values, the no-overwrite rule,
// restore on release. First on a fake sysctl/sysfs tree (no root), then on a real veth we create
// in the root netns (interface sysctls are per netns, and so is /proc/sys/net for this process),
// which is deleted afterwards.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dongleRecordPath, hardenDongle, heldDongles, releaseDongle, type DongleRecord } from '../../agent/net/dongle.js';
import { run } from '../../agent/sys/run.js';
import { rejects } from '../fixtures/packs/build.js';

/** A fake /proc/sys/net and /sys/class/net with one interface. */
function fakeTree(ifname: string, values: { disable_ipv6?: string; arp_ignore: string; forwarding: string }, flags = '0x1003') {
  const base = mkdtempSync(join(tmpdir(), 'dongle-test-'));
  const sysctlRoot = join(base, 'proc');
  const sysfsNet = join(base, 'sys');
  const put = (p: string, v: string) => { mkdirSync(join(p, '..'), { recursive: true }); writeFileSync(p, `${v}\n`); };
  if (values.disable_ipv6 !== undefined) put(join(sysctlRoot, 'ipv6/conf', ifname, 'disable_ipv6'), values.disable_ipv6);
  put(join(sysctlRoot, 'ipv4/conf', ifname, 'arp_ignore'), values.arp_ignore);
  put(join(sysctlRoot, 'ipv4/conf', ifname, 'forwarding'), values.forwarding);
  put(join(sysfsNet, ifname, 'flags'), flags);
  const read = (family: string, key: string) => readFileSync(join(sysctlRoot, family, 'conf', ifname, key), 'utf8').trim();
  return { base, opts: { sysctlRoot, sysfsNet }, stateDir: join(base, 'run/dongles'), read };
}

test('fake tree: harden records originals, then hardens; a second harden keeps the first record; release restores', async () => {
  const t = fakeTree('up0', { disable_ipv6: '0', arp_ignore: '2', forwarding: '1' });
  try {
    await hardenDongle('up0', t.stateDir, t.opts);
    const rec = JSON.parse(readFileSync(dongleRecordPath(t.stateDir, 'up0'), 'utf8')) as DongleRecord;
    assert.equal(rec.sysctls, { 'ipv6/disable_ipv6': '0', 'ipv4/arp_ignore': '2', 'ipv4/forwarding': '1' });
    assert.is(rec.up, true);
    // Positive control: harden did change them.
    assert.equal([t.read('ipv6', 'disable_ipv6'), t.read('ipv4', 'arp_ignore'), t.read('ipv4', 'forwarding')], ['1', '8', '0']);
    await hardenDongle('up0', t.stateDir, t.opts);
    assert.equal((JSON.parse(readFileSync(dongleRecordPath(t.stateDir, 'up0'), 'utf8')) as DongleRecord).sysctls, rec.sysctls, 'second harden must not overwrite');
    assert.equal(heldDongles(t.stateDir), ['up0']);
    assert.is(await releaseDongle('up0', t.stateDir, t.opts), true);
    assert.equal([t.read('ipv6', 'disable_ipv6'), t.read('ipv4', 'arp_ignore'), t.read('ipv4', 'forwarding')], ['0', '2', '1']);
    assert.is(existsSync(dongleRecordPath(t.stateDir, 'up0')), false);
    assert.equal(heldDongles(t.stateDir), []);
    assert.is(await releaseDongle('up0', t.stateDir, t.opts), false, 'nothing left to release');
  } finally { rmSync(t.base, { recursive: true, force: true }); }
});

test('fake tree: with IPv6 off in the kernel only the IPv4 values are recorded and restored', async () => {
  const t = fakeTree('mir0', { arp_ignore: '0', forwarding: '1' });
  try {
    await hardenDongle('mir0', t.stateDir, t.opts);
    assert.equal((JSON.parse(readFileSync(dongleRecordPath(t.stateDir, 'mir0'), 'utf8')) as DongleRecord).sysctls, { 'ipv4/arp_ignore': '0', 'ipv4/forwarding': '1' });
    assert.equal([t.read('ipv4', 'arp_ignore'), t.read('ipv4', 'forwarding')], ['8', '0']);
    assert.is(await releaseDongle('mir0', t.stateDir, t.opts), true);
    assert.equal([t.read('ipv4', 'arp_ignore'), t.read('ipv4', 'forwarding')], ['0', '1']);
  } finally { rmSync(t.base, { recursive: true, force: true }); }
});

test('fake tree: an absent interface is refused by harden; an unplugged one just loses its record on release', async () => {
  const t = fakeTree('up0', { disable_ipv6: '0', arp_ignore: '0', forwarding: '1' });
  try {
    await rejects(hardenDongle('up1', t.stateDir, t.opts), /up1: no such interface/);
    assert.is(existsSync(dongleRecordPath(t.stateDir, 'up1')), false);
    await hardenDongle('up0', t.stateDir, t.opts);
    rmSync(join(t.opts.sysctlRoot, 'ipv4/conf/up0'), { recursive: true });
    rmSync(join(t.opts.sysctlRoot, 'ipv6/conf/up0'), { recursive: true });
    assert.is(await releaseDongle('up0', t.stateDir, t.opts), true);
    assert.is(existsSync(dongleRecordPath(t.stateDir, 'up0')), false);
  } finally { rmSync(t.base, { recursive: true, force: true }); }
});

test('names that are not interface names are refused before any path is built', async () => {
  for (const bad of ['../up0', 'up0/x', '', 'a'.repeat(16), '.hidden']) {
    await rejects(hardenDongle(bad, '/nonexistent'), /not a valid interface name/);
    await rejects(releaseDongle(bad, '/nonexistent'), /not a valid interface name/);
  }
});

test('fake tree: a damaged record is an error, not a silent pass', async () => {
  const t = fakeTree('up0', { disable_ipv6: '0', arp_ignore: '0', forwarding: '1' });
  try {
    mkdirSync(t.stateDir, { recursive: true });
    writeFileSync(dongleRecordPath(t.stateDir, 'up0'), '{"version":1');
    await rejects(releaseDongle('up0', t.stateDir, t.opts), /unreadable dongle record/);
  } finally { rmSync(t.base, { recursive: true, force: true }); }
});

test('real veth in the root netns: harden changes the values, release brings back the originals and the down state', async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (it creates a veth in the root netns)');
  const near = `dgt${process.pid}`.slice(0, 15);
  const far = `dgp${process.pid}`.slice(0, 15);
  const state = mkdtempSync(join(tmpdir(), 'dongle-state-'));
  const p = (family: string, key: string) => `/proc/sys/net/${family}/conf/${near}/${key}`;
  const read = () => ['ipv6/disable_ipv6', 'ipv4/arp_ignore', 'ipv4/forwarding'].map((k) => readFileSync(p(k.split('/')[0]!, k.split('/')[1]!), 'utf8').trim());
  const up = () => (Number.parseInt(readFileSync(`/sys/class/net/${near}/flags`, 'utf8'), 16) & 1) === 1;
  await run(['ip', 'link', 'add', near, 'type', 'veth', 'peer', 'name', far]);
  try {
    // Originals that differ from every hardened value.
    writeFileSync(p('ipv6', 'disable_ipv6'), '0');
    writeFileSync(p('ipv4', 'arp_ignore'), '2');
    writeFileSync(p('ipv4', 'forwarding'), '1');
    assert.equal(read(), ['0', '2', '1']);
    assert.is(up(), false);
    await hardenDongle(near, state);
    assert.equal(read(), ['1', '8', '0'], 'harden changed them');
    // The engine brings the port up; a second harden (agent restart, re-plan) keeps the record.
    await run(['ip', 'link', 'set', 'dev', near, 'up']);
    await hardenDongle(near, state);
    const rec = JSON.parse(readFileSync(dongleRecordPath(state, near), 'utf8')) as DongleRecord;
    assert.equal(rec.sysctls, { 'ipv6/disable_ipv6': '0', 'ipv4/arp_ignore': '2', 'ipv4/forwarding': '1' });
    assert.is(rec.up, false);
    assert.is(await releaseDongle(near, state), true);
    assert.equal(read(), ['0', '2', '1'], 'originals are back');
    assert.is(up(), false, 'down again, as it was');
    assert.equal(heldDongles(state), []);
  } finally {
    await run(['ip', 'link', 'del', near], { allowFail: true });
    rmSync(state, { recursive: true, force: true });
  }
  assert.is((await run(['ip', 'link', 'show', 'dev', near], { allowFail: true })).code !== 0, true, 'veth removed');
});

test.run();

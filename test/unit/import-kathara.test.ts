// Kathará labs -> lesson packs: each fixture lab converts to concrete networks, interfaces,
// addresses, startup and files, validates as a lesson, and names what it could not carry.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTopology } from '../../agent/lesson/load.js';
import { ImportError, importLab, lessonText, parseLabConf, type ImportResult } from '../../agent/lesson/import/index.js';
import { fixture, scratchLab } from '../fixtures/import/helpers.js';

const hasWarning = (r: ImportResult, re: RegExp) => assert.ok(r.warnings.some((w) => re.test(w)), `no warning matching ${re}:\n${r.warnings.join('\n')}`);
const nc = (r: ImportResult, what: string) => r.notConverted.find((n) => n.what === what);
const validates = (r: ImportResult) => parseTopology(lessonText(r), 'lesson.yaml');

test('(a) two hosts on one collision domain: network, addresses from startup, MAC, one task', () => {
  const r = importLab(fixture('kathara-two-hosts'));
  const t = validates(r);
  assert.is(r.format, 'kathara');
  assert.is(t.id, 'two-hosts');
  assert.is(t.title, 'Two hosts');
  assert.is(t.summary, 'Two PCs on one collision domain ping each other');
  assert.is(t.version, '1.0');
  assert.equal(t.authors, ['Dovelab tests']);
  assert.equal(Object.keys(t.networks), ['a']);
  assert.equal(r.names.networks, { A: 'a' });
  assert.equal(r.lesson.hosts.pc1!.interfaces, { eth0: { network: 'a', ip: '198.51.100.1/24' } });
  assert.equal(r.lesson.hosts.pc2!.interfaces, { eth0: { network: 'a', ip: '198.51.100.2/24', mac: '0e:00:00:00:00:02' } });
  assert.is(r.lesson.hosts.pc1!.startup, '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces\nip -4 address flush dev eth0\nip address add 198.51.100.1/24 dev eth0\nip link set eth0 up\n');
  assert.is(r.lesson.hosts.pc2!.startup, '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces\nip -4 address flush dev eth0\nifconfig eth0 198.51.100.2 netmask 255.255.255.0 up\n');
  assert.is(r.lesson.hosts.pc1!.image, undefined);
  assert.equal(r.lesson.tasks, [{ id: 'reach-pc1-pc2', title: 'pc1 reaches pc2', check: { reach: { from: 'pc1', to: 'pc2' } } }]);
  assert.equal(r.files, []);
  assert.equal(r.notConverted, []);
  hasWarning(r, /collision domains renamed .*: A → a/);
  hasWarning(r, /pc1, pc2 have no image in lab\.conf \(Kathará's default is kathara\/base\)/);
});

test('(b) hub lab: four PCs, renames, shared.startup first, exec last, env exports, files, dropped options', () => {
  const r = importLab(fixture('kathara-hub'));
  const t = validates(r);
  assert.is(t.id, 'hub-lab');
  assert.equal(t.authors, ['A. Teacher <teacher@example.org>']);
  assert.is(r.web, 'https://example.org/labs/hub');
  assert.equal(Object.keys(t.networks), ['lan-1']);
  assert.equal(Object.keys(t.hosts), ['pc1', 'pc2', 'pc3', 'pc-4']);
  assert.equal(r.names.hosts, { pc1: 'pc1', pc2: 'pc2', pc3: 'pc3', pc_4: 'pc-4' });
  hasWarning(r, /devices renamed .*: pc_4 → pc-4/);
  hasWarning(r, /collision domains renamed .*: LAN_1 → lan-1/);
  for (const [h, n] of [['pc1', 11], ['pc2', 12], ['pc3', 13], ['pc-4', 14]] as const) {
    assert.equal(t.hosts[h]!.interfaces.eth0, { network: 'lan-1', ip: `203.0.113.${n}/24` });
  }
  assert.is(r.lesson.hosts.pc1!.startup, '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces\nip -4 address flush dev eth0\n# --- shared.startup ---\necho "lab started" > /tmp/lab\n# --- pc1.startup ---\nip address add 203.0.113.11/24 dev eth0\n');
  assert.is(r.lesson.hosts.pc2!.startup?.split('\n').slice(2, 4).join('\n'), "# --- lab.conf env ---\nexport GREETING='hello world'");
  assert.match(r.lesson.hosts.pc3!.startup!, /# --- lab\.conf exec ---\necho pc3 is up > \/tmp\/up\n$/);
  hasWarning(r, /export lines .*: pc2 \(GREETING\)/);
  // Files: pc1/ folder -> its root; shared/ -> /shared in every host.
  assert.equal(r.lesson.hosts.pc1!.files, { '/etc/motd': 'files/pc1/etc/motd', '/shared/notes.txt': 'files/shared/notes.txt' });
  assert.equal(r.lesson.hosts['pc-4']!.files, { '/shared/notes.txt': 'files/shared/notes.txt' });
  assert.equal(r.files.map((f) => [f.from.slice(f.from.indexOf('kathara-hub/')), f.to]), [
    ['kathara-hub/pc1/etc/motd', 'files/pc1/etc/motd'], ['kathara-hub/shared/notes.txt', 'files/shared/notes.txt']]);
  hasWarning(r, /shared\/ is copied into every host at \/shared/);
  // Images: kathara/base is not here.
  assert.is(r.lesson.hosts.pc1!.image, undefined);
  hasWarning(r, /image "kathara\/base" is not available here: pc1, pc2, pc3, pc-4 use dovelab\/labhost, the closest of ours \(Kathará's all-in-one image; chosen from what the startup runs/);
  // Not converted, with where.
  assert.equal(nc(r, 'pc1[mem]="256m"')?.where, 'lab.conf:10');
  assert.match(nc(r, 'pc2[bridged]="true"')!.why, /uplink/);
  assert.equal(nc(r, 'pc3[port]="8080:80/tcp"')?.where, 'lab.conf:17');
  assert.equal(nc(r, 'pc_4[num_terms]="2"')?.where, 'lab.conf:21');
  assert.match(nc(r, 'lab.dep')!.why, /start order/);
  assert.match(nc(r, 'pc1.shutdown')!.why, /no script when a lab stops/);
  assert.is(r.notConverted.length, 6);
  // Six pairs on one LAN, six tasks.
  assert.equal(t.tasks.map((x) => x.id), ['reach-pc1-pc2', 'reach-pc1-pc3', 'reach-pc1-pc-4', 'reach-pc2-pc3', 'reach-pc2-pc-4', 'reach-pc3-pc-4']);
});

test('(c) two routers: three networks, sysctl, routes kept in startup, default routes as gateways', () => {
  const r = importLab(fixture('kathara-routers'), { imageAvailable: (i) => i === 'kathara/frr' || i.startsWith('dovelab/') });
  const t = validates(r);
  assert.equal(Object.keys(t.networks), ['a', 'b', 'c']);
  assert.equal(t.hosts.r1!.interfaces, { eth0: { network: 'a', ip: '198.51.100.1/26' }, eth1: { network: 'b', ip: '198.51.100.65/26' } });
  assert.equal(t.hosts.r2!.interfaces, { eth0: { network: 'b', ip: '198.51.100.66/26' }, eth1: { network: 'c', ip: '198.51.100.129/26' } });
  assert.equal(t.hosts.pc1!.interfaces.eth0, { network: 'a', ip: '198.51.100.10/26', gateway: '198.51.100.1' });
  assert.equal(t.hosts.pc2!.interfaces.eth0, { network: 'c', ip: '198.51.100.140/26', gateway: '198.51.100.129' });
  assert.equal(t.hosts.r1!.sysctl, { 'net.ipv4.ip_forward': 1 });
  assert.equal(t.hosts.r2!.sysctl, { 'net.ipv4.ip_forward': 1 });
  assert.match(t.hosts.r1!.startup!, /^ip route add 198\.51\.100\.128\/26 via 198\.51\.100\.66$/m);
  assert.is(t.hosts.r1!.image, 'kathara/frr', 'an available image is kept');
  assert.ok(!r.warnings.some((w) => w.includes('"kathara/frr" is not available')));
  // Tasks between hosts that share a subnet, then end to end between the hosts with a gateway (issue 11).
  assert.equal(t.tasks.map((x) => x.id), ['reach-r1-r2', 'reach-r1-pc1', 'reach-r2-pc2', 'reach-pc1-pc2']);
});

test('(c) without the image: the routers get the closest of ours, dovelab/router, named in a warning', () => {
  const r = importLab(fixture('kathara-routers'));
  assert.is(r.lesson.hosts.r1!.image, 'dovelab/router');
  hasWarning(r, /image "kathara\/frr" is not available here: r1, r2 use dovelab\/router, the closest of ours \(labhost \+ FRR/);
});

test('lab.conf given as a file; --id overrides the lesson id', () => {
  const r = importLab(`${fixture('kathara-two-hosts')}/lab.conf`, { id: 'ping-lab' });
  assert.is(r.lesson.id, 'ping-lab');
  assert.throws(() => importLab(fixture('kathara-two-hosts'), { id: 'Bad Id' }), /lesson id "Bad Id"/);
});

// ---- lab.conf, line by line --------------------------------------------------------------------

test('lab.conf values: quoted, single-quoted, bare, comments, blank lines, MAC, metadata', () => {
  const c = parseLabConf([
    '# comment', '', 'LAB_NAME = "My lab"', "LAB_WEB='https://example.org'", 'LAB_VERSION=2',
    'pc1[0]="A"   # trailing comment', "pc1[1]='B/0E:00:00:00:00:0A'", 'pc1[image]=kathara/base',
    'pc1[exec]=echo hi there', 'CD_MODE[A]="hub"',
  ].join('\r\n'), 'lab.conf');
  assert.equal(c.meta, { name: 'My lab', web: 'https://example.org', version: '2' });
  const d = c.devices[0]!;
  assert.equal(d.interfaces, [{ index: 0, cd: 'A', line: 6 }, { index: 1, cd: 'B', mac: '0e:00:00:00:00:0a', line: 7 }]);
  assert.equal(d.options, [{ key: 'image', value: 'kathara/base', line: 8 }, { key: 'exec', value: 'echo hi there', line: 9 }]);
  assert.equal(c.cdModes, [{ cd: 'A', mode: 'hub', line: 10 }]);
});

const broken: [string, string, number, RegExp][] = [
  ['no brackets', 'pc1[0]="A"\npc2 0 = B\n', 2, /not a lab\.conf line .*: pc2 0 = B/],
  ['unterminated quote', 'pc1[0]="A\n', 1, /unterminated double quote/],
  ['empty value', '\n\npc1[0]=""\n', 3, /empty value/],
  ['text after the quote', 'pc1[0]="A" B\n', 1, /unexpected text after the closing quote/],
  ['bad collision domain', 'pc1[0]="A B"\n', 1, /collision domain "A B"/],
  ['interface given twice', 'pc1[0]="A"\npc1[0]="B"\n', 2, /pc1 already has interface 0 \(line 1\)/],
  ['unknown top-level key', 'FOO=bar\n', 1, /not a lab\.conf line/],
];
for (const [name, text, line, why] of broken) {
  test(`broken lab.conf: ${name} -> ImportError with file and line`, () => {
    const lab = scratchLab({ 'lab.conf': text });
    try {
      importLab(lab.dir);
      assert.unreachable('accepted a broken lab.conf');
    } catch (e) {
      assert.instance(e, ImportError);
      const err = e as ImportError;
      assert.is(err.file, `${lab.dir}/lab.conf`);
      assert.is(err.line, line);
      assert.match(err.reason, why);
      assert.ok(err.message.startsWith(`${lab.dir}/lab.conf:${line}: `), err.message);
    } finally { lab.remove(); }
  });
}

test('options: non-net sysctl, ipv6, cpus, unknown options, env without =, bridged=false; stray files', () => {
  const lab = scratchLab({
    'lab.conf': [
      'pc1[0]="A"', 'pc1[sysctl]="kernel.shmmax=1000"', 'pc1[sysctl]="net.ipv4.conf.all.rp_filter=0"', 'pc1[ipv6]="true"',
      'pc1[cpus]="0.5"', 'pc1[colour]="red"', 'pc1[env]="NOEQUALS"', 'pc1[bridged]="false"', 'pc1[0x]="oops"',
    ].join('\n'),
    'notes.txt': 'teacher notes', 'ghost.startup': 'echo boo', 'ghost/etc/x': 'x', 'pc1/etc/empty/.keep': '',
  });
  try {
    const r = importLab(lab.dir);
    // ipv6=true turns IPv6 on as Kathará does (issue 11: no longer "not converted").
    assert.equal(r.lesson.hosts.pc1!.sysctl, { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv6.conf.all.disable_ipv6': 0, 'net.ipv6.conf.default.disable_ipv6': 0, 'net.ipv6.conf.all.forwarding': 1, 'net.ipv6.conf.all.accept_ra': 0, 'net.ipv6.icmp.ratelimit': 0 });
    assert.match(nc(r, 'pc1[sysctl]="kernel.shmmax=1000"')!.why, /only net\.\* sysctls/);
    assert.is(nc(r, 'pc1[sysctl]="kernel.shmmax=1000"')!.where, 'lab.conf:2');
    assert.is(nc(r, 'pc1[ipv6]="true"'), undefined);
    assert.ok(nc(r, 'pc1[cpus]="0.5"'));
    assert.match(nc(r, 'pc1[colour]="red"')!.why, /not a Kathará option/);
    assert.match(nc(r, 'pc1[0x]="oops"')!.why, /not a Kathará option/);
    assert.match(nc(r, 'pc1[env]="NOEQUALS"')!.why, /NAME=value/);
    assert.is(nc(r, 'pc1[bridged]="false"'), undefined, 'bridged=false is Kathará\'s default: nothing lost');
    assert.match(nc(r, 'notes.txt')!.why, /not part of the Kathará lab format/);
    assert.match(nc(r, 'ghost.startup')!.why, /no device "ghost" in lab\.conf/);
    assert.match(nc(r, 'ghost/')!.why, /no device "ghost"/);
    // A dotfile is copied like any other file.
    assert.equal(r.lesson.hosts.pc1!.files, { '/etc/empty/.keep': 'files/pc1/etc/empty/.keep' });
  } finally { lab.remove(); }
});

test('clashing addresses and two default routes: the lesson keeps what it can, the rest is listed', () => {
  const lab = scratchLab({
    'lab.conf': 'pc1[0]="A"\npc2[0]="A"\npc2[1]="B"\n',
    'pc1.startup': 'ip addr add 198.51.100.7/24 dev eth0\n',
    'pc2.startup': 'ip addr add 198.51.100.7/24 dev eth0\nip addr add 203.0.113.2/24 dev eth1\nip addr add 203.0.113.3/24 dev eth1\nroute add default gw 203.0.113.1\n',
  });
  try {
    const r = importLab(lab.dir);
    validates(r);
    assert.is(r.lesson.hosts.pc1!.interfaces.eth0!.ip, '198.51.100.7/24');
    assert.equal(r.lesson.hosts.pc2!.interfaces.eth0, { network: 'a' });
    assert.equal(r.lesson.hosts.pc2!.interfaces.eth1, { network: 'b', ip: '203.0.113.2/24', gateway: '203.0.113.1' });
    const dup = r.notConverted.find((n) => n.what === 'ip 198.51.100.7/24 of pc2.eth0');
    assert.ok(dup, JSON.stringify(r.notConverted));
    assert.match(dup!.why, /already the address of pc1\.eth0/);
    hasWarning(r, /pc2's startup gives eth1 more than one address: the lesson shows the first \(203\.0\.113\.2\/24\)/);
    assert.equal(r.lesson.tasks, undefined, 'no pair shares a subnet with static addresses');
  } finally { lab.remove(); }
});

test('a startup that builds a bridge makes its collision domains hubs; one using /hostlab is named in a warning', () => {
  const lab = scratchLab({
    'lab.conf': 'sw[0]="A"\nsw[1]="B"\n',
    'sw.startup': 'ip link add br0 type bridge\nip link set eth0 master br0\n. /hostlab/common.sh\n',
  });
  try {
    const r = importLab(lab.dir);
    // Its collision domains become hubs, which says why (the bridge in the host needs frames as a hub passes them).
    hasWarning(r, /^collision domains a, b are hubs \(kind: hub, as in Kathará\): sw makes a bridge/);
    assert.not.ok(r.warnings.some((w) => /builds a bridge inside/.test(w)), 'the older advice is superseded');
    hasWarning(r, /startup of sw uses \/hostlab/);
  } finally { lab.remove(); }
});

test('no lab.conf, or an empty folder: a clear error', () => {
  const lab = scratchLab({ 'readme.txt': 'x' });
  try {
    assert.throws(() => importLab(lab.dir), /not a Kathará lab \(no lab\.conf\)/);
    assert.throws(() => importLab(`${lab.dir}/nope`), /no such file or folder/);
  } finally { lab.remove(); }
});

// ---- the importer never reads outside the lab folder (issue 7) --------------------------------

/** A two-device lab, and a folder outside it (in os.tmpdir()) with things a link might reach. */
function katharaLab(extra: Record<string, string> = {}) {
  const outside = mkdtempSync(join(tmpdir(), 'dovelab-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'not for the lab');
  writeFileSync(join(outside, 'evil.startup'), 'echo evil');
  const lab = scratchLab({ 'lab.conf': 'pc1[0]="A"\npc2[0]="A"\npc3[0]="A"\n', 'pc2/etc/motd': 'hello', ...extra });
  return { lab: lab.dir, outside, remove: () => { lab.remove(); rmSync(outside, { recursive: true, force: true }); } };
}
const LINK_OUT = /^a link to outside the lab folder \(or to nothing\): not followed/;

test('Kathará: device folders, startups and shared/ that link out of the lab are not followed; links inside are', () => {
  const t = katharaLab({ 'pc2.startup': 'ip addr add 198.51.100.2/24 dev eth0\n', 'shared/notes.txt': 'notes' });
  try {
    symlinkSync(t.outside, join(t.lab, 'pc1'));
    symlinkSync(join(t.outside, 'evil.startup'), join(t.lab, 'pc1.startup'));
    symlinkSync(join(t.outside, 'evil.startup'), join(t.lab, 'shared.startup'));
    symlinkSync('pc2.startup', join(t.lab, 'pc3.startup'));
    symlinkSync(join(t.outside, 'secret.txt'), join(t.lab, 'shared/leak.txt'));
    const r = importLab(t.lab);
    validates(r);
    assert.match(nc(r, 'pc1')!.why, LINK_OUT);
    assert.match(nc(r, 'pc1.startup')!.why, LINK_OUT);
    assert.match(nc(r, 'shared.startup')!.why, LINK_OUT);
    assert.match(nc(r, 'shared/leak.txt')!.why, /symbolic link \(not copied/);
    assert.ok(r.files.every((f) => !f.from.startsWith(t.outside)), 'nothing is read from outside');
    assert.ok(Object.values(r.lesson.hosts).every((h) => !h.startup?.includes('evil')), 'no startup read from outside');
    // Positive controls: the real folder, shared/ and a startup linked inside the lab come along.
    assert.equal(r.lesson.hosts.pc2!.files, { '/etc/motd': 'files/pc2/etc/motd', '/shared/notes.txt': 'files/shared/notes.txt' });
    assert.equal(r.lesson.hosts.pc1!.files, { '/shared/notes.txt': 'files/shared/notes.txt' });
    assert.match(r.lesson.hosts.pc3!.startup!, /198\.51\.100\.2\/24/);
  } finally { t.remove(); }
});

test('Kathará: shared/ itself a link out is not followed (positive control: a real shared/ is copied)', () => {
  const t = katharaLab();
  try {
    symlinkSync(t.outside, join(t.lab, 'shared'));
    const r = importLab(t.lab);
    assert.match(nc(r, 'shared')!.why, LINK_OUT);
    assert.equal(r.files.map((f) => f.to), ['files/pc2/etc/motd']);
    rmSync(join(t.lab, 'shared'));
    mkdirSync(join(t.lab, 'shared'));
    writeFileSync(join(t.lab, 'shared/secret.txt'), 'ours');
    assert.equal(importLab(t.lab).files.map((f) => f.to).sort(), ['files/pc2/etc/motd', 'files/shared/secret.txt']);
  } finally { t.remove(); }
});

test('Kathará: device-folder files for /proc, /sys, /dev are not converted (the lesson would refuse them)', () => {
  const t = katharaLab({ 'pc2/proc/sys/net/ipv4/ip_forward': '1' });
  try {
    const r = importLab(t.lab);
    validates(r);
    assert.match(nc(r, 'pc2/proc/sys/net/ipv4/ip_forward')!.why, /is under \/proc/);
    assert.equal(r.lesson.hosts.pc2!.files, { '/etc/motd': 'files/pc2/etc/motd' });
  } finally { t.remove(); }
});

test('Kathará: copies obey the pack limits: a file too big is left out with the reason; too many bytes or files is an error naming the file', () => {
  const t = katharaLab({ 'pc2/var/big.pcap': 'x'.repeat(3000), 'shared/a.txt': 'a'.repeat(400) });
  try {
    const r = importLab(t.lab, { limits: { maxFileBytes: 1000 } });
    assert.match(nc(r, 'pc2/var/big.pcap')!.why, /^2\.9 KiB, over the limit of 1000 bytes per file in a lesson pack: not copied$/);
    assert.equal(r.files.map((f) => f.to).sort(), ['files/pc2/etc/motd', 'files/shared/a.txt'], 'positive control: the rest is copied');
    assert.throws(() => importLab(t.lab, { limits: { maxFileBytes: 1000, maxBytes: 402 } }),
      (e: Error) => e instanceof ImportError && e.message.startsWith(`${t.lab}/shared/a.txt: copying it brings the pack to 405 bytes, over the limit of 402 bytes in total`));
    assert.throws(() => importLab(t.lab, { limits: { maxFiles: 4 } }),
      (e: Error) => e instanceof ImportError && /shared\/a\.txt: one file too many: a lesson pack may have at most 4 files/.test(e.message));
  } finally { t.remove(); }
});

test('/shared in a startup with no shared/ folder: the host makes its own /shared first (after a #! line), and the report says it is not shared', () => {
  const lab = scratchLab({
    'lab.conf': 'pc1[0]="A"\npc2[0]="A"\nsniffer[0]="A"\n',
    'sniffer.startup': '#!/bin/bash\nip link set eth0 up\ntcpdump -i eth0 -n -w /shared/capture.pcap &\n',
    'pc1.startup': 'ip address add 198.51.100.1/24 dev eth0\nmkdir -p /var/shared/logs\n',
  });
  try {
    const r = importLab(lab.dir);
    const s = r.lesson.hosts.sniffer!.startup!;
    assert.match(s, /^#!\/bin\/bash\n# dovelab: Kathará mounts .*\nmkdir -p \/shared\nip link set eth0 up\n/);
    hasWarning(r, /^startups of sniffer use \/shared, which Kathará mounts .* each Dovelab host has its own \/shared/);
    assert.not.match(r.lesson.hosts.pc1!.startup!, /mkdir -p \/shared/, 'control: a startup that does not use /shared (only /var/shared) is left alone');
    validates(r);
  } finally { lab.remove(); }
  // Control: with a shared/ folder, /shared is there already (its files are copied in): no mkdir, no such line.
  const withShared = scratchLab({ 'lab.conf': 'sniffer[0]="A"\n', 'sniffer.startup': 'tcpdump -i eth0 -w /shared/capture.pcap &\n', 'shared/readme.txt': 'hi\n' });
  try {
    const r = importLab(withShared.dir);
    assert.not.match(r.lesson.hosts.sniffer!.startup!, /mkdir -p \/shared/);
    assert.not.ok(r.warnings.some((w) => /^startups of .* use \/shared/.test(w)));
  } finally { withShared.remove(); }
});

test.run();

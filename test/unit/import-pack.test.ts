// Writing an imported pack (atomic, never over a non-empty folder), its README, the reach tasks'
// limit, and the startup-script reading both importers share.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTopology } from '../../agent/lesson/load.js';
import { importLab, importSummary, writePack } from '../../agent/lesson/import/index.js';
import { MAX_TASKS } from '../../agent/lesson/import/finish.js';
import { maskToPrefix, scanScript } from '../../agent/lesson/import/script.js';
import { fixture, scratchLab } from '../fixtures/import/helpers.js';

test('writePack: lesson.yaml (with header) loads, README and files are written, no temp folder is left', () => {
  const out = scratchLab({});
  try {
    const r = importLab(fixture('kathara-hub'));
    const dest = join(out.dir, 'hub');
    assert.equal(writePack(r, dest), { dir: dest, files: 2 });
    const text = readFileSync(join(dest, 'lesson.yaml'), 'utf8');
    assert.ok(text.startsWith('# Dovelab lesson imported from the Kathará lab kathara-hub by `dovelab lesson import`.\n'), text.slice(0, 120));
    const t = loadTopology(dest);
    assert.equal(Object.keys(t.hosts), ['pc1', 'pc2', 'pc3', 'pc-4']);
    assert.is(readFileSync(join(dest, 'files/pc1/etc/motd'), 'utf8'), 'Welcome to pc1\n');
    assert.is(readFileSync(join(dest, 'files/shared/notes.txt'), 'utf8'), 'notes for everyone\n');
    assert.equal(readdirSync(out.dir), ['hub'], 'the temporary folder was renamed into place');
    const readme = readFileSync(join(dest, 'README.md'), 'utf8');
    assert.match(readme, /^# Hub_Lab\n\nFour PCs on one LAN\n/);
    assert.match(readme, /Authors: A\. Teacher <teacher@example\.org> · Web: https:\/\/example\.org\/labs\/hub/);
    assert.match(readme, /\| pc-4 \| eth0 \| lan-1 \| 203\.0\.113\.14\/24 \|  \|/);
    assert.match(readme, /## Tasks\n\n- pc1 reaches pc2 \(`reach-pc1-pc2`\)/);
    assert.match(readme, /## Imported from Kathará\n/);
    assert.match(readme, /### Warnings\n\n- devices renamed/);
    assert.match(readme, /### Not converted\n\n\| what \| where \| why \|\n\|---\|---\|---\|\n\| pc1\[mem\]="256m" \| lab\.conf:10 \| /);
    assert.match(readme, /\| lab\.dep \| lab\.dep \| /);
  } finally { out.remove(); }
});

test('writePack: an existing empty folder is fine; a non-empty one is refused and left alone', () => {
  const out = scratchLab({ 'full/keep.txt': 'mine' });
  try {
    const r = importLab(fixture('clab-bridge/lan.clab.yml'));
    mkdirSync(join(out.dir, 'empty'));
    writePack(r, join(out.dir, 'empty'));
    assert.ok(existsSync(join(out.dir, 'empty/files/configs/web/style.css')));
    assert.throws(() => writePack(r, join(out.dir, 'full')), /full: is not empty: refusing to overwrite it/);
    assert.equal(readdirSync(join(out.dir, 'full')), ['keep.txt']);
    writeFileSync(join(out.dir, 'plain'), 'x');
    assert.throws(() => writePack(r, join(out.dir, 'plain')), /exists and is not a folder/);
    assert.equal(readdirSync(out.dir).sort(), ['empty', 'full', 'plain'], 'no temporary folders left behind');
  } finally { out.remove(); }
});

test('writePack: a failed copy leaves nothing behind', () => {
  const out = scratchLab({});
  try {
    const r = importLab(fixture('kathara-hub'));
    const broken = { ...r, files: [...r.files, { from: join(out.dir, 'gone.txt'), to: 'files/gone.txt' }] };
    assert.throws(() => writePack(broken, join(out.dir, 'pack')), /gone\.txt: disappeared while importing/);
    assert.equal(readdirSync(out.dir), []);
    const escaping = { ...r, files: [{ from: r.files[0]!.from, to: 'files/../../evil' }] };
    assert.throws(() => writePack(escaping, join(out.dir, 'pack')), /outside files\//);
    assert.equal(readdirSync(out.dir), []);
  } finally { out.remove(); }
});

test(`reach tasks: one per pair sharing a subnet, at most ${MAX_TASKS}`, () => {
  const pcs = [1, 2, 3, 4, 5, 6];
  const lab = scratchLab(Object.fromEntries([
    ['lab.conf', pcs.map((n) => `pc${n}[0]="lan"`).join('\n')],
    ...pcs.map((n) => [`pc${n}.startup`, `ip addr add 198.51.100.${n}/24 dev eth0\n`]),
  ]));
  try {
    const r = importLab(lab.dir);
    assert.is(r.lesson.tasks!.length, MAX_TASKS);
    assert.equal(r.lesson.tasks![0], { id: 'reach-pc1-pc2', title: 'pc1 reaches pc2', check: { reach: { from: 'pc1', to: 'pc2' } } });
    assert.is(r.lesson.tasks![9]!.id, 'reach-pc3-pc4', '5 pairs with pc1, 4 with pc2, then the first with pc3');
    assert.match(importSummary(r), /6 hosts, 1 network, 10 tasks, 0 files/);
  } finally { lab.remove(); }
});

const scripts: [string, string, ReturnType<typeof scanScript>][] = [
  ['ip address add, abbreviated and reordered', 'ip a add 10.0.0.1/8 dev eth0\nip -4 addr add dev eth1 192.168.1.1/24 brd + \n/sbin/ip address replace 172.16.0.1/16 dev eth2 label eth2:0',
    { addresses: [{ iface: 'eth0', cidr: '10.0.0.1/8' }, { iface: 'eth1', cidr: '192.168.1.1/24' }, { iface: 'eth2', cidr: '172.16.0.1/16' }], gateways: [], buildsBridge: false }],
  ['ifconfig with netmask, with prefix, classful', 'ifconfig eth0 10.1.2.3 netmask 255.255.0.0 up\nifconfig eth1 192.0.2.9/28 up\nifconfig eth2 172.16.5.5 up\nifconfig eth3 up',
    { addresses: [{ iface: 'eth0', cidr: '10.1.2.3/16' }, { iface: 'eth1', cidr: '192.0.2.9/28' }, { iface: 'eth2', cidr: '172.16.5.5/16' }], gateways: [], buildsBridge: false }],
  ['address without prefix is /32; IPv6 ignored', 'ip addr add 10.0.0.1 dev eth0\nip -6 addr add 2001:db8::1/64 dev eth0',
    { addresses: [{ iface: 'eth0', cidr: '10.0.0.1/32' }], gateways: [], buildsBridge: false }],
  ['default routes: ip route, route add, not other routes', 'ip route add 10.2.0.0/16 via 10.0.0.2\nip r add default via 10.0.0.254 dev eth0\nroute add default gw 10.0.0.253',
    { addresses: [], gateways: ['10.0.0.254', '10.0.0.253'], buildsBridge: false }],
  ['commands in bash -c, after && and ;, comments skipped', "bash -c 'ip addr add 10.0.0.5/24 dev eth1' && echo ok; # ip addr add 10.9.9.9/24 dev eth9",
    { addresses: [{ iface: 'eth1', cidr: '10.0.0.5/24' }], gateways: [], buildsBridge: false }],
  ['bridges: ip link, brctl, ovs-vsctl', 'brctl addbr br0', { addresses: [], gateways: [], buildsBridge: true }],
  ['ovs-vsctl add-br', 'ovs-vsctl --may-exist add-br br0', { addresses: [], gateways: [], buildsBridge: true }],
  ['a veth is not a bridge', 'ip link add v0 type veth peer name v1', { addresses: [], gateways: [], buildsBridge: false }],
];
for (const [name, script, facts] of scripts) test(`scanScript: ${name}`, () => assert.equal(scanScript(script), facts));

test('maskToPrefix', () => {
  assert.equal(['255.255.255.0', '255.255.255.255', '0.0.0.0', '255.255.240.0', '255.0.255.0', '1.2.3'].map(maskToPrefix), [24, 32, 0, 20, undefined, undefined]);
});

test.run();

// Issue 11, the importer's fidelity rules one by one: Kathará's defaults, sysctl lines lifted,
// shebangs, variables in addresses, interfaces not given, IPv6, tools the image lacks, GUI devices,
// nothing runnable, one report line per kind, containerlab groups and templates, end-to-end tasks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTopology } from '../../agent/lesson/load.js';
import { ImportError, importLab, lessonText, type ImportResult } from '../../agent/lesson/import/index.js';
import { liftSysctls, LIFTED_MARK } from '../../agent/lesson/import/lift.js';
import { expandVars } from '../../agent/lesson/import/vars.js';
import { missingTools, IMAGE_TOOLS } from '../../agent/lesson/import/image-tools.js';
import { commands } from '../../agent/lesson/import/script.js';
import { joinScript } from '../../agent/lesson/import/build.js';
import { mergeByReason, scriptInterfaces } from '../../agent/lesson/import/review.js';
import { scratchLab } from '../fixtures/import/helpers.js';

const hasWarning = (r: ImportResult, re: RegExp) => assert.ok(r.warnings.some((w) => re.test(w)), `no warning matching ${re}:\n${r.warnings.join('\n')}`);
const noWarning = (r: ImportResult, re: RegExp) => assert.ok(!r.warnings.some((w) => re.test(w)), `a warning matches ${re}:\n${r.warnings.join('\n')}`);
const withLab = <T>(files: Record<string, string>, fn: (dir: string) => T): T => { const l = scratchLab(files); try { return fn(l.dir); } finally { l.remove(); } };
const validates = (r: ImportResult) => parseTopology(lessonText(r), 'lesson.yaml');

test('Kathará defaults: defaults.sysctl carries forwarding, rp_filter 0, no ICMP rate limit, IPv6 off; ipv6=true turns it on per device', () => {
  withLab({ 'lab.conf': 'a[0]="A"\nb[0]="A"\nb[ipv6]="true"\n' }, (dir) => {
    const r = importLab(dir);
    const t = validates(r);
    assert.equal(t.defaults?.sysctl, {
      'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0, 'net.ipv4.conf.lo.rp_filter': 0,
      'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1,
      'net.ipv6.conf.all.forwarding': 0, 'net.ipv6.conf.default.forwarding': 0,
    });
    assert.is(t.hosts.a!.sysctl, undefined, 'control: a device without ipv6 keeps the defaults');
    assert.is(t.hosts.b!.sysctl!['net.ipv6.conf.all.disable_ipv6'], 0);
    hasWarning(r, /Kathará's per-device defaults are the lesson's defaults\.sysctl/);
  });
});

test('containerlab: hosts forward IPv4 by default (as on a Docker host), said in the report', () => {
  withLab({ 'lab.clab.yml': 'name: x\ntopology:\n  nodes:\n    a: {kind: linux}\n    b: {kind: linux}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n' }, (dir) => {
    const r = importLab(`${dir}/lab.clab.yml`);
    assert.equal(validates(r).defaults?.sysctl, { 'net.ipv4.ip_forward': 1 });
    hasWarning(r, /every host forwards IPv4/);
  });
});

test('liftSysctls: sysctl -w, bare sysctl, echo > /proc/sys become comments and values; other forms and non-net keys stay', () => {
  const l = liftSysctls([
    'sysctl -w net.ipv4.ip_forward=1', '  /sbin/sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter="0"',
    'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding', 'sysctl -w kernel.shmmax=1000', 'sysctl -w net.ipv4.ip_forward=1 && echo ok',
    'echo "not a sysctl"', 'sysctl -w net.ipv6.conf.eth5.accept_ra=2',
  ].join('\n'), (k) => (k.includes('eth5') ? 'eth5 is not an interface the lab gives h' : undefined));
  assert.equal(l.sysctl, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0, 'net.ipv6.conf.all.forwarding': 1 });
  const lines = l.script.split('\n');
  assert.is(lines[0], `${LIFTED_MARK} sysctl -w net.ipv4.ip_forward=1`);
  assert.ok(lines[1]!.startsWith(`  ${LIFTED_MARK}`), 'indentation kept');
  assert.ok(lines[2]!.startsWith(LIFTED_MARK));
  assert.is(lines[5], 'echo "not a sysctl"', 'control: other lines untouched');
  assert.equal(l.kept.map((k) => k.why), ['only net.* sysctls can be set in a lab host', 'a form the importer does not lift', 'eth5 is not an interface the lab gives h']);
});

test('import: lifted sysctls land in the host, the report says students cannot change sysctls live', () => {
  withLab({ 'lab.conf': 'r[0]="A"\nr[1]="B"\n', 'r.startup': 'ip addr add 198.51.100.1/24 dev eth0\nsysctl -w net.ipv4.conf.eth1.proxy_arp=1\necho 0 > /proc/sys/net/ipv4/ip_forward\n' }, (dir) => {
    const r = importLab(dir);
    const t = validates(r);
    assert.equal(t.hosts.r!.sysctl, { 'net.ipv4.conf.eth1.proxy_arp': 1, 'net.ipv4.ip_forward': 0 });
    assert.ok(!/^sysctl -w/m.test(t.hosts.r!.startup!), t.hosts.r!.startup);
    hasWarning(r, /Students cannot change sysctls live: \/proc\/sys is read-only/);
  });
});

test('a #! line stays the first line when exports and shared.startup join it', () => {
  assert.is(joinScript([{ from: 'lab.conf env', text: "export A='1'" }, { from: 'pc.startup', text: '#!/bin/bash\nset -e\necho $A\n' }]),
    "#!/bin/bash\n# --- lab.conf env ---\nexport A='1'\n# --- pc.startup ---\nset -e\necho $A\n");
  assert.is(joinScript([{ from: 'pc.startup', text: '#!/bin/sh\necho hi\n' }]), '#!/bin/sh\necho hi\n', 'one part: as written');
  withLab({ 'lab.conf': 'pc[0]="A"\n', 'pc.startup': '#!/bin/sh\necho hi\n' }, (dir) => hasWarning(importLab(dir), /another interpreter than bash: .*pc \(#!\/bin\/sh\)/));
  withLab({ 'lab.conf': 'pc[0]="A"\n', 'pc.startup': '#!/usr/bin/env bash\necho hi\n' }, (dir) => noWarning(importLab(dir), /another interpreter/));
});

test('variables: ${VAR:-default}, ${VAR}, $VAR from earlier assignments and exports; unknown ones reported', () => {
  assert.is(expandVars('ip addr add ${IP:-10.0.0.1/24} dev eth0'), 'ip addr add 10.0.0.1/24 dev eth0');
  assert.is(expandVars("export IP='10.0.0.9/24'\nip addr add ${IP:-10.0.0.1/24} dev $DEV"), "export IP='10.0.0.9/24'\nip addr add 10.0.0.9/24 dev $DEV");
  assert.is(expandVars('NET=10.1.1\nip addr add ${NET}.1/24 dev eth0'), 'NET=10.1.1\nip addr add 10.1.1.1/24 dev eth0');
  withLab({ 'lab.conf': 'a[0]="A"\na[env]="ADDR=198.51.100.7/24"\nb[0]="A"\n', 'a.startup': 'ip addr add ${ADDR:-198.51.100.9/24} dev eth0\n', 'b.startup': 'ip addr add $B_ADDR dev eth0\n' }, (dir) => {
    const r = importLab(dir);
    assert.is(r.lesson.hosts.a!.interfaces.eth0!.ip, '198.51.100.7/24');
    hasWarning(r, /addresses the importer could not read .*: b \(\$B_ADDR\)/);
  });
});

test('interfaces a startup configures that lab.conf does not give are flagged; made ones and lo are not', () => {
  assert.equal(scriptInterfaces('ip link add name br0 type bridge\nip link set eth0 master br0\nip link set br0 up\nip addr add 10.0.0.1/24 dev eth3\nifconfig lo up\nip link add link eth0 name eth0.10 type vlan id 10\nip link set eth0.10 up').configured.sort(), ['br0', 'eth0', 'eth0.10', 'eth3', 'lo'].sort());
  withLab({ 'lab.conf': 'pc[0]="A"\nsw[0]="A"\n', 'pc.startup': 'ip addr add 198.51.100.1/24 dev eth0\nip addr add 198.51.100.129/25 dev eth1\nip link set lo up\n', 'sw.startup': 'ip link add br0 type bridge\nip link set br0 up\nip link set eth0 master br0\n' }, (dir) => {
    const r = importLab(dir);
    hasWarning(r, /^startups configure interfaces that the lab does not give the host .*: pc \(eth1\)$/);
  });
});

test('IPv6 addresses in startups are reported and turn IPv6 on for that host', () => {
  withLab({ 'lab.conf': 'a[0]="A"\nb[0]="A"\n', 'a.startup': 'ip -6 addr add 2001:db8::1/64 dev eth0\nip addr add 198.51.100.1/24 dev eth0\n', 'b.startup': 'ip addr add 198.51.100.2/24 dev eth0\n' }, (dir) => {
    const r = importLab(dir);
    const t = validates(r);
    hasWarning(r, /IPv6 addresses set by startups .*: a \(eth0 2001:db8::1\/64\)/);
    hasWarning(r, /IPv6 is on for a: /);
    assert.is(t.hosts.a!.sysctl!['net.ipv6.conf.all.disable_ipv6'], 0);
    assert.is(t.hosts.b!.sysctl, undefined, 'control: b stays with the defaults');
  });
});

test('tools the chosen image lacks are named, one line per image, hosts per tool', () => {
  const lacks = missingTools(commands('systemctl start apache2\nservice named start\n/etc/init.d/frr start\nvtysh -c "show ip route"\nsudo ifconfig eth0 up\nip addr\nping -c1 x\necho hi'), 'dovelab/labhost');
  assert.equal(lacks, { commands: ['vtysh'], services: ['apache2', 'named', 'frr'] });
  // The router image has what labhost lacks for routing, and not apache2 or named.
  assert.equal(missingTools(commands('systemctl start apache2\nservice named start\n/etc/init.d/frr start\nvtysh -c "show ip route"'), 'dovelab/router'), { commands: [], services: ['apache2', 'named'] });
  assert.is(missingTools([['vtysh']], 'some/unknown-image'), undefined, 'an image not in the table is not judged');
  assert.ok(IMAGE_TOOLS['dovelab/labhost']!.commands.includes('ip'));
  // Devices whose image maps to labhost (debian) but whose startups run FRR: named, one line.
  withLab({ 'lab.conf': 'r1[0]="A"\nr2[0]="A"\nr1[image]="debian"\nr2[image]="debian"\n', 'r1.startup': 'systemctl start frr\nvtysh -c "conf t"\n', 'r2.startup': 'systemctl start frr\n' }, (dir) => {
    const r = importLab(dir);
    hasWarning(r, /^startups use what dovelab\/labhost does not have \(those commands fail\): vtysh \(r1\), service frr \(r1, r2\)$/);
  });
  // Without an image, the importer picks the router for them: nothing is missing, no such line.
  withLab({ 'lab.conf': 'r1[0]="A"\nr2[0]="A"\n', 'r1.startup': 'systemctl start frr\nvtysh -c "conf t"\n', 'r2.startup': 'systemctl start frr\n' }, (dir) => {
    assert.not.ok(importLab(dir).warnings.some((w) => w.startsWith('startups use what')));
  });
});

test('a device with no interfaces and nothing to run (a Wireshark GUI) is left out, pointing to mirrors and captures', () => {
  withLab({ 'lab.conf': 'pc[0]="A"\nws[bridged]="true"\nws[port]="3000:3000"\nws[image]="lscr.io/linuxserver/wireshark"\n', 'shared/x.txt': 'x' }, (dir) => {
    const r = importLab(dir);
    assert.equal(Object.keys(r.lesson.hosts), ['pc']);
    const n = r.notConverted.find((x) => x.what === 'device ws (bridged, port, image)');
    assert.match(n!.why, /mirror .*capture/);
    assert.is(n!.where, 'lab.conf:2');
    assert.ok(!r.notConverted.some((x) => x.what.startsWith('ws[')), 'its dropped options are in that one line');
    assert.ok(!r.warnings.some((w) => w.includes('wireshark')), 'no warning about the image of a device left out');
  });
  // Control: a device without interfaces that has a startup stays.
  withLab({ 'lab.conf': 'pc[0]="A"\nlone[image]="x"\n', 'lone.startup': 'echo hi\n' }, (dir) => assert.ok(importLab(dir).lesson.hosts.lone));
});

test('nothing runnable is an error naming why (all vendor kinds), not an empty lesson', () => {
  withLab({ 'lab.clab.yml': 'name: v\ntopology:\n  nodes:\n    r1: {kind: nokia_srlinux}\n    r2: {kind: nokia_srlinux}\n  links:\n    - endpoints: ["r1:e1-1", "r2:e1-1"]\n' }, (dir) => {
    assert.throws(() => importLab(`${dir}/lab.clab.yml`), (e: Error) => e instanceof ImportError && /nothing in it can run in Dovelab/.test(e.message) && /node r1 \(kind nokia_srlinux\), node r2 \(kind nokia_srlinux\): kind nokia_srlinux is not converted/.test(e.message));
  });
  withLab({ 'lab.conf': 'ws[image]="wireshark"\n' }, (dir) => assert.throws(() => importLab(dir), /nothing in it can run/));
});

test('one report line per kind of drop: the same option on several devices is one line; different kinds stay apart', () => {
  const merged = mergeByReason([
    { what: 'a[mem]="1g"', where: 'lab.conf:2', why: 'no memory limit' }, { what: 'b[mem]="2g"', where: 'lab.conf:5', why: 'no memory limit' },
    { what: 'mgmt-ipv4: "x"', where: 'f: n1', why: 'no mgmt' }, { what: 'mgmt:', where: 'f: mgmt', why: 'no mgmt' },
  ]);
  assert.equal(merged, [
    { what: 'a[mem]="1g", b[mem]="2g"', where: 'lab.conf:2, lab.conf:5', why: 'no memory limit' },
    { what: 'mgmt-ipv4: "x"', where: 'f: n1', why: 'no mgmt' }, { what: 'mgmt:', where: 'f: mgmt', why: 'no mgmt' },
  ]);
  withLab({ 'lab.conf': 'a[0]="A"\na[mem]="1g"\nb[0]="A"\nb[mem]="1g"\nc[0]="A"\nc[mem]="2g"\n' }, (dir) => {
    const mem = importLab(dir).notConverted.filter((n) => n.what.includes('[mem]'));
    assert.is(mem.length, 1);
    assert.is(mem[0]!.what, 'a[mem]="1g", b[mem]="1g", c[mem]="2g"');
  });
});

test('per-host warnings of one kind are one line; a single host keeps its own sentence', () => {
  withLab({ 'lab.conf': 'a[0]="A"\nb[0]="A"\nc[0]="A"\n', 'a.startup': 'brctl addbr br0\n. /hostlab/x.sh\n', 'b.startup': 'ip link add br1 type bridge\n. /hostlab/y.sh\n', 'c.startup': 'echo hi\n' }, (dir) => {
    const r = importLab(dir);
    hasWarning(r, /^startups of a, b use \/hostlab, which Dovelab does not mount/);
    // Their collision domain becomes a hub (import/hubs.ts), said once; the older advice to make
    // the bridge a network is gone with it.
    assert.is(r.warnings.filter((w) => /are hubs|is a hub/.test(w)).length, 1, r.warnings.join('\n'));
    assert.is(r.warnings.filter((w) => /bridges? inside/.test(w)).length, 0, r.warnings.join('\n'));
  });
});

test('set -e startups: ip address add / ip route add default become replace (Dovelab set them already); others untouched', () => {
  withLab({ 'lab.conf': 'a[0]="A"\nb[0]="A"\n', 'a.startup': 'set -euo pipefail\nip address add 198.51.100.1/24 dev eth0\nip route add default via 198.51.100.254\nip route add 10.0.0.0/8 via 198.51.100.9\n', 'b.startup': 'ip address add 198.51.100.2/24 dev eth0\n' }, (dir) => {
    const r = importLab(dir);
    assert.is(r.lesson.hosts.a!.startup, 'set -euo pipefail\nip address replace 198.51.100.1/24 dev eth0\nip route replace default via 198.51.100.254\nip route add 10.0.0.0/8 via 198.51.100.9\n');
    assert.is(r.lesson.hosts.b!.startup, 'ip address add 198.51.100.2/24 dev eth0\n', 'control: without set -e nothing changes');
    hasWarning(r, /set -e\): .* became `replace` .*: a$/);
  });
});

test('containerlab: defaults.group picks the group; a group that is only a graph label is said; templated topologies are refused', () => {
  withLab({ 'lab.clab.yml': 'name: g\ntopology:\n  defaults: {kind: linux, group: hosts}\n  groups:\n    hosts: {exec: ["echo from group"]}\n  nodes:\n    a: {}\n    b: {group: spine}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n' }, (dir) => {
    const r = importLab(`${dir}/lab.clab.yml`);
    assert.match(r.lesson.hosts.a!.startup!, /echo from group/);
    assert.ok(!r.lesson.hosts.b!.startup?.includes('from group'), 'control: b names its own group');
    assert.ok(r.notConverted.some((n) => n.what === 'group: spine' && /graph/.test(n.why)), JSON.stringify(r.notConverted));
  });
  withLab({ 'lab.clab.yml': 'name: t\ntopology:\n  nodes:\n{{ range $i := seq 1 3 }}\n    n{{ $i }}: {kind: linux}\n{{ end }}\n' }, (dir) => {
    assert.throws(() => importLab(`${dir}/lab.clab.yml`), (e: Error) => e instanceof ImportError && e.line === 4 && /a templated topology/.test(e.message));
  });
});

test('end-to-end tasks: hosts with gateways and no common subnet, across the routers; neighbours first', () => {
  withLab({
    'lab.conf': 'r[0]="A"\nr[1]="B"\nc[0]="A"\ns[0]="B"\n',
    'r.startup': 'ip addr add 198.51.100.1/25 dev eth0\nip addr add 198.51.100.129/25 dev eth1\n',
    'c.startup': 'ip addr add 198.51.100.10/25 dev eth0\nip route add default via 198.51.100.1\n',
    's.startup': 'ip addr add 198.51.100.140/25 dev eth0\nip route add default via 198.51.100.129\n',
  }, (dir) => {
    const t = validates(importLab(dir));
    assert.equal(t.tasks.map((x) => x.id), ['reach-r-c', 'reach-r-s', 'reach-c-s']);
    assert.equal(t.tasks[2]!.check.reach, { from: 'c', to: 's', timeout: 3 });
    assert.match(t.tasks[2]!.title!, /across the routers/);
  });
});

test.run();

// containerlab topologies -> lesson packs: linux nodes become hosts, links and bridge nodes
// become networks, exec becomes the startup; what has no Dovelab equivalent is named.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTopology } from '../../agent/lesson/load.js';
import { ImportError, importLab, lessonText, writePack, type ImportResult } from '../../agent/lesson/import/index.js';
import { fixture, scratchLab } from '../fixtures/import/helpers.js';

const hasWarning = (r: ImportResult, re: RegExp) => assert.ok(r.warnings.some((w) => re.test(w)), `no warning matching ${re}:\n${r.warnings.join('\n')}`);
const nc = (r: ImportResult, what: string) => r.notConverted.find((n) => n.what === what);
const validates = (r: ImportResult) => parseTopology(lessonText(r), 'lesson.yaml');
const clab = (body: string) => scratchLab({ 'lab.clab.yml': body });

test('(d) triangle: one network per link, interfaces kept, addresses from exec, kinds and defaults inherited', () => {
  const r = importLab(fixture('clab-triangle/triangle.clab.yml'));
  const t = validates(r);
  assert.is(r.format, 'containerlab');
  assert.is(t.id, 'triangle');
  assert.equal(Object.keys(t.networks), ['n1-n2', 'n2-n3', 'n3-n1']);
  assert.is(t.networks['n1-n2']!.description, 'containerlab link n1:eth1 <-> n2:eth1');
  assert.equal(r.lesson.hosts.n1!.interfaces, { eth1: { network: 'n1-n2', ip: '198.51.100.1/30' }, eth2: { network: 'n3-n1', ip: '198.51.100.9/30' } });
  assert.equal(r.lesson.hosts.n2!.interfaces, { eth1: { network: 'n1-n2', ip: '198.51.100.2/30' }, eth2: { network: 'n2-n3', ip: '198.51.100.5/30' } });
  assert.equal(r.lesson.hosts.n3!.interfaces, { eth1: { network: 'n2-n3', ip: '198.51.100.6/30' }, eth2: { network: 'n3-n1', ip: '198.51.100.10/30' } });
  assert.is(r.lesson.hosts.n1!.startup, '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces\nip -4 address flush dev eth1\nip -4 address flush dev eth2\nip addr add 198.51.100.1/30 dev eth1\nip addr add 198.51.100.9/30 dev eth2\n');
  // defaults.sysctls reach every node; kinds.linux.image is inherited, the node's own image wins.
  for (const h of ['n1', 'n2', 'n3']) assert.equal(r.lesson.hosts[h]!.sysctl, { 'net.ipv4.ip_forward': 1 });
  assert.is(r.lesson.hosts.n1!.image, undefined);
  assert.is(r.lesson.hosts.n3!.image, 'dovelab/labhost');
  hasWarning(r, /image "alpine:3" is not available here: n1, n2 use dovelab\/labhost/);
  assert.equal(nc(r, 'mgmt-ipv4: "172.20.20.11"')?.where, 'triangle.clab.yml: topology.nodes.n1.mgmt-ipv4');
  assert.match(nc(r, 'mgmt-ipv4: "172.20.20.11"')!.why, /no management network/);
  assert.match(nc(r, 'mgmt:')!.why, /no management network/);
  assert.is(r.notConverted.length, 2);
  assert.equal(t.tasks.map((x) => x.id), ['reach-n1-n2', 'reach-n1-n3', 'reach-n2-n3']);
});

test('(e) bridge node: one network for its links, binds copied, env exported, ports and a missing bind listed', () => {
  const r = importLab(fixture('clab-bridge'));
  const t = validates(r);
  assert.is(t.id, 'bridge-lan');
  assert.is(t.title, 'Bridge LAN');
  assert.equal(Object.keys(t.networks), ['br1']);
  assert.equal(Object.keys(t.hosts), ['pc1', 'pc2', 'pc3', 'pc4'], 'the bridge node is not a host');
  hasWarning(r, /^bridge node br1 is network "br1", not a host/);
  for (const [h, n] of [['pc1', 1], ['pc2', 2], ['pc3', 3], ['pc4', 4]] as const) {
    assert.equal(r.lesson.hosts[h]!.interfaces, { eth1: { network: 'br1', ip: `203.0.113.${n}/24` } });
    assert.is(r.lesson.hosts[h]!.image, 'dovelab/labhost');
  }
  assert.is(r.lesson.hosts.pc1!.startup, [
    '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces', 'ip -4 address flush dev eth1',
    '# --- containerlab env ---', "export LAB='bridge-lan'", "export ROLE='server'",
    '# --- containerlab exec ---', 'ip addr add 203.0.113.1/24 dev eth1', 'echo "$ROLE on $LAB" > /tmp/role', ''].join('\n'));
  hasWarning(r, /export lines .*: pc1 \(LAB, ROLE\), pc2 \(LAB\), pc3 \(LAB\), pc4 \(LAB\)/);
  assert.equal(r.lesson.hosts.pc1!.files, {
    '/etc/motd': 'files/configs/motd', '/var/www/index.html': 'files/configs/web/index.html', '/var/www/style.css': 'files/configs/web/style.css',
  });
  assert.equal(r.files.map((f) => f.to), ['files/configs/motd', 'files/configs/web/index.html', 'files/configs/web/style.css']);
  assert.ok(r.files.every((f) => f.from.startsWith(fixture('clab-bridge/configs/'))));
  hasWarning(r, /binds are copied into the hosts .* :ro is not enforced/);
  const missing = nc(r, 'bind configs/missing.conf:/etc/missing.conf');
  assert.is(missing?.where, 'lan.clab.yml: topology.nodes.pc1.binds.2');
  assert.match(missing!.why, /configs\/missing\.conf does not exist/);
  assert.match(nc(r, 'ports: ["8080:80"]')!.why, /no ports are forwarded/);
  assert.is(r.notConverted.length, 2);
  assert.is(t.tasks.length, 6);
});

test('a link to an unknown node is an error naming the link and its line', () => {
  const lab = clab('name: x\ntopology:\n  nodes:\n    a: {kind: linux}\n    b: {kind: linux}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n    - endpoints: ["a:eth2", "zz:eth1"]\n');
  try {
    importLab(`${lab.dir}/lab.clab.yml`);
    assert.unreachable('accepted a link to an unknown node');
  } catch (e) {
    assert.instance(e, ImportError);
    const err = e as ImportError;
    assert.is(err.file, `${lab.dir}/lab.clab.yml`);
    assert.is(err.line, 8);
    assert.is(err.reason, 'links[1] (a:eth2 <-> zz:eth1): unknown node "zz" (known: a, b)');
  } finally { lab.remove(); }
});

const bad: [string, string, RegExp][] = [
  ['not YAML', 'name: x\ntopology: [\n', /lab\.clab\.yml:\d+: /],
  ['no nodes', 'name: x\ntopology: {}\n', /expected a containerlab topology/],
  ['a node without a kind', 'name: x\ntopology:\n  nodes:\n    a: {image: alpine}\n', /lab\.clab\.yml:4: node a has no kind/],
  ['an endpoint without an interface', 'name: x\ntopology:\n  nodes: {a: {kind: linux}}\n  links:\n    - endpoints: ["a", "a:eth1"]\n', /links\[0\]: endpoint "a" is not node:interface/],
  ['one interface in two links', 'name: x\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}, c: {kind: linux}}\n  links:\n    - endpoints: ["a:eth1", "b:eth1"]\n    - endpoints: ["a:eth1", "c:eth1"]\n', /:6: links\[1\] \(a:eth1 <-> c:eth1\): a uses eth1 in another link already/],
  ['a bad interface name', 'name: x\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - endpoints: ["a:ethernet-1/1", "b:eth1"]\n', /"ethernet-1\/1" is not a Linux interface name/],
  ['three endpoints', 'name: x\ntopology:\n  nodes: {a: {kind: linux}, b: {kind: linux}}\n  links:\n    - endpoints: ["a:eth1", "b:eth1", "b:eth2"]\n', /a link has two endpoints, this one has 3/],
];
for (const [name, body, why] of bad) {
  test(`bad topology: ${name}`, () => {
    const lab = clab(body);
    try { assert.throws(() => importLab(`${lab.dir}/lab.clab.yml`), (e: Error) => e instanceof ImportError && why.test(e.message)); } finally { lab.remove(); }
  });
}

test('link forms: brief, extended (with MAC), list; special ends and other kinds are listed, their host ends kept', () => {
  const lab = clab(`
name: forms
topology:
  nodes:
    a: {kind: linux}
    b: {kind: linux}
    srl: {kind: nokia_srlinux, image: ghcr.io/nokia/srlinux}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
    - type: veth
      endpoints: [{node: a, interface: eth2, mac: "0E:00:00:00:00:AA"}, {node: b, interface: eth2}]
    - ["a:eth3", "b:eth3"]
    - endpoints: ["a:eth4", "srl:e1-1"]
    - endpoints: ["b:eth4", "host:veth-b"]
    - type: host
      endpoint: {node: a, interface: eth5, host-interface: veth-a}
    - endpoints: ["a:eth6", "b:eth6"]
      mtu: 9000
`);
  try {
    const r = importLab(`${lab.dir}/lab.clab.yml`);
    validates(r);
    assert.equal(Object.keys(r.lesson.networks), ['a-b', 'a-b-2', 'a-b-3', 'a-srl', 'b-host', 'a-b-4']);
    assert.equal(r.lesson.hosts.a!.interfaces, {
      eth1: { network: 'a-b' }, eth2: { network: 'a-b-2', mac: '0e:00:00:00:00:aa' }, eth3: { network: 'a-b-3' }, eth4: { network: 'a-srl' }, eth6: { network: 'a-b-4' },
    });
    assert.equal(r.lesson.hosts.b!.interfaces.eth4, { network: 'b-host' });
    assert.match(nc(r, 'node srl (kind nokia_srlinux)')!.why, /Dovelab hosts are Linux containers/);
    assert.match(nc(r, 'srl:e1-1 of link a:eth4 <-> srl:e1-1')!.why, /a:eth4 is on network "a-srl" without it/);
    assert.match(nc(r, 'host:veth-b of link b:eth4 <-> host:veth-b')!.why, /uplink/);
    assert.ok(r.notConverted.some((n) => n.what.startsWith('link ') && n.what.endsWith('(type host)')), JSON.stringify(r.notConverted));
    assert.match(nc(r, 'mtu: 9000 of link a:eth6 <-> b:eth6')!.why, /MTU/);
  } finally { lab.remove(); }
});

test('a host that builds a bridge in exec stays a host, with a warning; groups, kinds and node levels merge', () => {
  const lab = scratchLab({
    'files/a.txt': 'A', 'files/b.txt': 'B',
    'lab.clab.yml': `
name: merge
topology:
  defaults:
    kind: linux
    env: {LEVEL: defaults, D: "1"}
    binds: ["files/a.txt:/etc/x.txt", "files/a.txt:/etc/defaults.txt"]
    labels: {team: blue}
  kinds:
    linux:
      image: dovelab/labhost
      exec: ["echo from kind"]
      env: {LEVEL: kind}
  groups:
    switches:
      exec: ["echo from group"]
  nodes:
    sw:
      group: switches
      exec:
        - ip link add name br0 type bridge
        - ovs-vsctl add-br br1
      env: {LEVEL: node}
      binds: ["files/b.txt:/etc/x.txt", "/var/run/somedir", "__clabNodeDir__/conf:/conf"]
    pc: {}
    pc2: {group: switches}
  links:
    - endpoints: ["sw:eth1", "pc:eth1"]
`,
  });
  try {
    const r = importLab(`${lab.dir}/lab.clab.yml`);
    validates(r);
    hasWarning(r, /^host sw builds a bridge inside its container; consider making it a network$/);
    // exec: defaults, kind, group and node commands in that order; env: the most specific value per name.
    assert.is(r.lesson.hosts.sw!.startup, [
      '# --- containerlab env ---', "export LEVEL='node'", "export D='1'",
      '# --- containerlab exec ---', 'echo from kind', 'echo from group', 'ip link add name br0 type bridge', 'ovs-vsctl add-br br1', ''].join('\n'));
    assert.match(r.lesson.hosts.pc!.startup!, /export LEVEL='kind'\nexport D='1'\n# --- containerlab exec ---\necho from kind\n$/);
    assert.match(r.lesson.hosts.pc2!.startup!, /echo from kind\necho from group\n$/);
    // binds: the node's bind to /etc/x.txt wins over the defaults'.
    assert.equal(r.lesson.hosts.sw!.files, { '/etc/x.txt': 'files/files/b.txt', '/etc/defaults.txt': 'files/files/a.txt' });
    assert.equal(r.lesson.hosts.pc!.files, { '/etc/x.txt': 'files/files/a.txt', '/etc/defaults.txt': 'files/files/a.txt' });
    assert.equal(r.files.map((f) => f.to).sort(), ['files/files/a.txt', 'files/files/b.txt'], 'each source copied once');
    assert.match(nc(r, 'bind /var/run/somedir')!.why, /anonymous volume/);
    assert.match(nc(r, 'bind __clabNodeDir__/conf:/conf')!.why, /containerlab deploy/);
    const labels = r.notConverted.filter((n) => n.what.startsWith('labels:'));
    assert.equal(labels.map((n) => n.where), ['lab.clab.yml: topology.defaults.labels'], 'reported once where it is set');
  } finally { lab.remove(); }
});

test('node names are renamed to lesson names; long link names are shortened and unique', () => {
  const lab = clab(`
name: Names
topology:
  nodes:
    Client_01: {kind: linux}
    very-long-server-name: {kind: linux}
    SW: {kind: ovs-bridge}
  links:
    - endpoints: ["Client_01:eth1", "very-long-server-name:eth1"]
    - endpoints: ["Client_01:eth2", "very-long-server-name:eth2"]
    - endpoints: ["Client_01:eth3", "SW:p1"]
`);
  try {
    const r = importLab(`${lab.dir}/lab.clab.yml`);
    validates(r);
    assert.equal(r.names.hosts, { Client_01: 'client-01', 'very-long-server-name': 'very-long-serve' });
    assert.equal(Object.keys(r.lesson.networks), ['sw', 'client-very-lo', 'client-very-l-2']);
    hasWarning(r, /nodes renamed .*: Client_01 → client-01, very-long-server-name → very-long-serve/);
    hasWarning(r, /bridge nodes \(as networks\) renamed .*: SW → sw/);
    hasWarning(r, /^ovs-bridge node SW is network "sw"/);
  } finally { lab.remove(); }
});

// ---- importers never read outside the lab folder (issue 7) -----------------------------------

const OUTSIDE = /^outside the lab folder; pass --allow-host-files to copy it$/;
/** A lab whose pc binds `binds`, with files/inside.txt in it; and a folder outside it (in os.tmpdir()). */
function bindLab(binds: string[]) {
  const outside = mkdtempSync(join(tmpdir(), 'dovelab-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'not for the lab');
  const lab = scratchLab({
    'files/inside.txt': 'inside',
    'lab.clab.yml': `name: binds\ntopology:\n  nodes:\n    pc:\n      kind: linux\n      binds: ${JSON.stringify(binds.map((b) => b.replace('OUT', outside)))}\n`,
  });
  return { lab: lab.dir, outside, remove: () => { lab.remove(); rmSync(outside, { recursive: true, force: true }); } };
}

test('binds: an absolute source outside the lab folder is not converted; a relative one inside is copied', () => {
  const t = bindLab(['OUT/secret.txt:/etc/secret', 'files/inside.txt:/etc/inside']);
  try {
    const r = importLab(join(t.lab, 'lab.clab.yml'));
    assert.equal(r.lesson.hosts.pc!.files, { '/etc/inside': 'files/files/inside.txt' }, 'positive control: the file inside is copied');
    assert.equal(r.files.map((f) => f.to), ['files/files/inside.txt']);
    const n = nc(r, `bind ${t.outside}/secret.txt:/etc/secret`);
    assert.match(n!.why, OUTSIDE);
    assert.is(n!.where, 'lab.clab.yml: topology.nodes.pc.binds.0');
    assert.ok(r.files.every((f) => !f.from.startsWith(t.outside)), 'nothing is read from outside');
    // With allowHostFiles the outside file IS copied, into the pack.
    const a = importLab(join(t.lab, 'lab.clab.yml'), { allowHostFiles: true });
    assert.is(a.lesson.hosts.pc!.files!['/etc/secret'], 'files/external/secret.txt');
    assert.is(nc(a, `bind ${t.outside}/secret.txt:/etc/secret`), undefined);
    const out = join(t.lab, '..', `${t.lab.split('/').pop()}-pack`);
    try {
      writePack(a, out);
      assert.is(readFileSync(join(out, 'files/external/secret.txt'), 'utf8'), 'not for the lab');
    } finally { rmSync(out, { recursive: true, force: true }); }
  } finally { t.remove(); }
});

test('binds: ~ sources, relative paths out (..), links out and folders through links are not converted', () => {
  const t = bindLab(['~/notes.txt:/etc/notes', '../x/secret.txt:/etc/dotdot', 'files/link-out.txt:/etc/link', 'conf:/etc/conf', 'files/link-in.txt:/etc/link-in']);
  const home = process.env.HOME;
  try {
    process.env.HOME = t.outside; // os.homedir() reads HOME: ~ is a folder outside the lab
    writeFileSync(join(t.outside, 'notes.txt'), 'home');
    mkdirSync(join(t.lab, '..', 'x'), { recursive: true });
    writeFileSync(join(t.lab, '..', 'x', 'secret.txt'), 'beside the lab');
    symlinkSync(join(t.outside, 'secret.txt'), join(t.lab, 'files/link-out.txt'));
    symlinkSync(t.outside, join(t.lab, 'conf'));
    symlinkSync('inside.txt', join(t.lab, 'files/link-in.txt'));
    const r = importLab(join(t.lab, 'lab.clab.yml'));
    for (const b of ['~/notes.txt:/etc/notes', '../x/secret.txt:/etc/dotdot', 'files/link-out.txt:/etc/link', 'conf:/etc/conf']) assert.match(nc(r, `bind ${b}`)?.why ?? `${b} converted`, OUTSIDE);
    assert.equal(r.lesson.hosts.pc!.files, { '/etc/link-in': 'files/files/inside.txt' }, 'positive control: a link inside the lab is copied as its target');
    const a = importLab(join(t.lab, 'lab.clab.yml'), { allowHostFiles: true });
    assert.equal(Object.keys(a.lesson.hosts.pc!.files!).sort(), ['/etc/conf/notes.txt', '/etc/conf/secret.txt', '/etc/dotdot', '/etc/link', '/etc/link-in', '/etc/notes']);
  } finally {
    if (home === undefined) delete process.env.HOME; else process.env.HOME = home;
    rmSync(join(t.lab, '..', 'x'), { recursive: true, force: true });
    t.remove();
  }
});

test('binds: a folder inside the lab is walked without following its links out', () => {
  const t = bindLab(['conf:/etc/conf']);
  try {
    mkdirSync(join(t.lab, 'conf'));
    writeFileSync(join(t.lab, 'conf/a.conf'), 'a');
    symlinkSync(join(t.outside, 'secret.txt'), join(t.lab, 'conf/leak.conf'));
    const r = importLab(join(t.lab, 'lab.clab.yml'));
    assert.equal(r.lesson.hosts.pc!.files, { '/etc/conf/a.conf': 'files/conf/a.conf' });
    assert.match(nc(r, 'conf/leak.conf')!.why, /symbolic link \(not copied/);
  } finally { t.remove(); }
});

test('binds: bad paths inside the host are not converted (the lesson would refuse them)', () => {
  const t = bindLab(['files/inside.txt:/proc/sys/net/ipv4/ip_forward', 'files/inside.txt:/etc/../x', 'files/inside.txt:/etc/ok']);
  try {
    const r = importLab(join(t.lab, 'lab.clab.yml'));
    validates(r);
    assert.equal(r.lesson.hosts.pc!.files, { '/etc/ok': 'files/files/inside.txt' });
    assert.match(nc(r, 'bind files/inside.txt:/proc/sys/net/ipv4/ip_forward')!.why, /is under \/proc/);
    assert.match(nc(r, 'bind files/inside.txt:/etc/../x')!.why, /"\.\." segment/);
  } finally { t.remove(); }
});

test('binds obey the pack limits: a file too big is left out with the reason; too many bytes or files is an error naming the file', () => {
  const t = bindLab(['files/inside.txt:/etc/inside', 'files/big.bin:/etc/big', 'files/c.txt:/etc/c']);
  try {
    writeFileSync(join(t.lab, 'files/big.bin'), Buffer.alloc(2000));
    writeFileSync(join(t.lab, 'files/c.txt'), 'c'.repeat(600));
    const file = join(t.lab, 'lab.clab.yml');
    const r = importLab(file, { limits: { maxFileBytes: 1000 } });
    assert.equal(Object.keys(r.lesson.hosts.pc!.files!), ['/etc/inside', '/etc/c'], 'positive control: the small files are copied');
    assert.match(nc(r, 'bind files/big.bin:/etc/big')!.why, /^2.0 KiB, over the limit of 1000 bytes per file in a lesson pack: not copied$/);
    assert.throws(() => importLab(file, { limits: { maxFileBytes: 1000, maxBytes: 500 } }),
      (e: Error) => e instanceof ImportError && e.message.startsWith(`${t.lab}/files/c.txt: copying it brings the pack to 606 bytes, over the limit of 500 bytes in total`));
    assert.throws(() => importLab(file, { limits: { maxFiles: 3 } }),
      (e: Error) => e instanceof ImportError && /big\.bin: one file too many: a lesson pack may have at most 3 files/.test(e.message));
  } finally { t.remove(); }
});

test.run();

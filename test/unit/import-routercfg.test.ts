// Interface addresses read from the FRR / Quagga configs routers ship (import/routercfg.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressesFromRouterConfigs, configAddresses } from '../../agent/lesson/import/routercfg.js';
import { importLab } from '../../agent/lesson/import/index.js';

test('interface blocks: the first IPv4 address of each, as FRR 8 and Quagga write them', () => {
  const frr8 = [
    'frr version 8.4.1', 'hostname r1', '!', 'interface eth1', ' description to r2', ' ip address 198.51.100.1/30',
    ' ip ospf network point-to-point', 'exit', '!', 'interface eth2', ' ip address 198.51.100.5/30',
    ' ip address 198.51.100.9/30', 'exit', '!', 'interface lo', ' ip address 10.0.0.1/32', 'exit', '!',
    'router ospf', ' network 198.51.100.0/24 area 0', 'exit', '',
  ].join('\n');
  assert.equal(configAddresses(frr8), [
    { iface: 'eth1', cidr: '198.51.100.1/30' }, { iface: 'eth2', cidr: '198.51.100.5/30' }, { iface: 'lo', cidr: '10.0.0.1/32' },
  ]);
  const quagga = 'hostname zebra\r\ninterface eth0\r\n ip address 203.0.113.1/24\r\n!\r\ninterface eth1\r\n ipv6 address 2001:db8::1/64\r\n!\r\n';
  assert.equal(configAddresses(quagga), [{ iface: 'eth0', cidr: '203.0.113.1/24' }]);
});

test('what is not an interface address: secondary, bad prefixes, lines outside interface blocks', () => {
  assert.equal(configAddresses('interface eth0\n ip address 198.51.100.1/24 secondary\n'), []);
  assert.equal(configAddresses('interface eth0\n ip address 198.51.100.300/24\n ip address 198.51.100.1/33\n'), []);
  assert.equal(configAddresses('router rip\n ip address 198.51.100.1/24\n'), []);
  assert.equal(configAddresses('interface eth0\n!\n ip address 198.51.100.1/24\n'), [], 'the block ended at !');
  // Control: the same line inside the block counts.
  assert.equal(configAddresses('interface eth0\n ip address 198.51.100.1/24\n!\n'), [{ iface: 'eth0', cidr: '198.51.100.1/24' }]);
});

test('the host keeps what its startup set; only interfaces it has; frr.conf before zebra.conf', () => {
  const host = {
    interfaces: { eth0: { network: 'a', ip: '203.0.113.9/24' }, eth1: { network: 'b' }, eth2: { network: 'c' } },
    files: { '/etc/frr/frr.conf': 'files/r/frr.conf', '/etc/quagga/zebra.conf': 'files/r/zebra.conf' },
  };
  const texts: Record<string, string> = {
    '/etc/frr/frr.conf': 'interface eth0\n ip address 203.0.113.1/24\n!\ninterface eth1\n ip address 198.51.100.1/30\n!\ninterface eth7\n ip address 198.51.100.9/30\n',
    '/etc/quagga/zebra.conf': 'interface eth1\n ip address 198.51.100.77/30\n!\ninterface eth2\n ip address 198.51.100.5/30\n',
  };
  assert.equal(addressesFromRouterConfigs(host, (p) => texts[p]), ['eth1', 'eth2']);
  assert.equal(host.interfaces, { eth0: { network: 'a', ip: '203.0.113.9/24' }, eth1: { network: 'b', ip: '198.51.100.1/30' }, eth2: { network: 'c', ip: '198.51.100.5/30' } });
});

test('import: a Kathará router whose addresses are only in frr.conf gets them, and the neighbour task with them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-routercfg-'));
  try {
    writeFileSync(join(dir, 'lab.conf'), 'r1[0]="A"\nr1[image]="kathara/frr"\npc1[0]="A"\n');
    writeFileSync(join(dir, 'r1.startup'), 'systemctl start frr\n');
    writeFileSync(join(dir, 'pc1.startup'), 'ip address add 198.51.100.10/24 dev eth0\nip route add default via 198.51.100.1\n');
    mkdirSync(join(dir, 'r1/etc/frr'), { recursive: true });
    writeFileSync(join(dir, 'r1/etc/frr/daemons'), 'zebra=yes\nripd=yes\n');
    writeFileSync(join(dir, 'r1/etc/frr/frr.conf'), 'interface eth0\n ip address 198.51.100.1/24\n!\nrouter rip\n network eth0\n');
    const r = importLab(dir);
    assert.is(r.lesson.hosts.r1!.interfaces.eth0!.ip, '198.51.100.1/24');
    assert.is(r.lesson.hosts.pc1!.interfaces.eth0!.gateway, '198.51.100.1');
    assert.equal(r.lesson.tasks?.map((t) => t.id), ['reach-r1-pc1']);
    assert.ok(r.warnings.some((w) => /FRR\/Quagga configs give .*: r1 \(eth0\)$/.test(w)), r.warnings.join('\n'));
    // Control: without the address in frr.conf, r1 has none and there is no task.
    writeFileSync(join(dir, 'r1/etc/frr/frr.conf'), 'router rip\n network eth0\n');
    const bare = importLab(dir);
    assert.is(bare.lesson.hosts.r1!.interfaces.eth0!.ip, undefined);
    assert.is(bare.lesson.tasks, undefined);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();

// Router config lines FRR 8.4 does not know (agent/lesson/import/frrlines.ts), and the import
// report that names them once per kind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importLab } from '../../agent/lesson/import/index.js';
import { frrGapWarnings, isRouterConfig, unknownFrrLines } from '../../agent/lesson/import/frrlines.js';
import { scratchLab } from '../fixtures/import/helpers.js';

const BGPD = `hostname bgpd
password zebra
enable password zebra
bgp multiple-instance
!
router bgp 65001
 bgp router-id 198.51.100.81
 no synchronization
 neighbor 198.51.100.82 remote-as 65002
 neighbor 198.51.100.82 filter-list 1 in
!
ip as-path access-list 1 permit ^$
log file /var/log/quagga/bgpd.log
!
debug bgp
debug bgp events
debug bgp filters
debug bgp fsm
debug bgp keepalives
debug bgp updates
debug bgp events
`;

test('unknownFrrLines: the Quagga lines FRR 8.4 refuses, each once, in file order; the ones it takes are not named', () => {
  assert.equal(unknownFrrLines(BGPD).map((g) => `${g.kind} ${g.line}`), [
    'gone bgp multiple-instance',
    'changed ip as-path access-list 1 permit ^$',
    'debug debug bgp', 'debug debug bgp events', 'debug debug bgp filters', 'debug debug bgp fsm',
  ]);
  assert.is(unknownFrrLines(BGPD).find((g) => g.line.startsWith('ip as-path'))!.instead, 'bgp as-path access-list');
  // Control: FRR's own config (password, log file, debug keepalives, no synchronization) has nothing to say.
  assert.equal(unknownFrrLines('hostname r1\npassword zebra\nlog file /var/log/frr/frr.log\nrouter bgp 1\n no synchronization\n!\ndebug bgp keepalives\ndebug bgp neighbor-events\n'), []);
});

test('unknownFrrLines: router-id is named only inside router ospf6 (FRR: ospf6 router-id), not in router ospf', () => {
  const ospf6 = 'router ospf6\n router-id 1.1.1.1\n interface eth0 area 0.0.0.0\n!\nrouter ospf\n router-id 1.1.1.1\n!\n';
  assert.equal(unknownFrrLines(ospf6), [{ kind: 'changed', line: 'router-id 1.1.1.1', instead: 'ospf6 router-id (in router ospf6)' }]);
  assert.equal(unknownFrrLines('router ospf\n router-id 1.1.1.1\n'), [], 'control: ospfd takes router-id');
  assert.equal(unknownFrrLines('router ospf6\n ospf6 router-id 1.1.1.1\n'), [], 'control: FRR\'s way');
  assert.equal(unknownFrrLines('log trap debugging\nsmux peer .1.3.6.1.4.1.3317.1.2.1 quagga_zebra\ndebug rip packet recv detail\n').map((g) => g.kind), ['gone', 'gone', 'debug']);
});

test('isRouterConfig: FRR and Quagga daemon configs and frr.conf, not daemons nor vtysh.conf', () => {
  assert.equal(['/etc/quagga/bgpd.conf', '/etc/frr/frr.conf', '/etc/frr/zebra.conf', '/etc/frr/daemons', '/etc/frr/vtysh.conf', '/etc/bind/named.conf'].map(isRouterConfig),
    [true, true, true, false, false, false]);
});

test('frrGapWarnings: one line per kind, naming the lines once and where they are', () => {
  const w = frrGapWarnings({
    r1: { '/etc/quagga/bgpd.conf': BGPD, '/etc/quagga/zebra.conf': 'hostname zebra\nlog trap debugging\n' },
    r2: { '/etc/quagga/bgpd.conf': BGPD },
    r3: { '/etc/frr/frr.conf': 'router bgp 1\n!\n' },
  });
  assert.is(w.length, 3);
  assert.match(w[0]!, /^router config lines FRR 8\.4 \(dovelab\/router\) writes differently: .*`ip as-path access-list 1 permit \^\$` \(FRR: bgp as-path access-list\) \(r1, r2: \/etc\/quagga\/bgpd\.conf\)$/);
  assert.match(w[1]!, /^Quagga commands FRR 8\.4 \(dovelab\/router\) no longer has: .*`bgp multiple-instance`, `log trap debugging` \(FRR: log file FILE LEVEL\) \(r1, r2: \/etc\/quagga\/bgpd\.conf; r1: \/etc\/quagga\/zebra\.conf\)$/);
  assert.match(w[2]!, /^Quagga debug lines .*`debug bgp events` \(FRR: debug bgp neighbor-events\), `debug bgp filters`, `debug bgp fsm`/);
  assert.equal(frrGapWarnings({ r3: { '/etc/frr/frr.conf': 'router bgp 1\n!\n' } }), [], 'control: a clean config, no line');
});

test('import: a Quagga-layout router\'s unknown lines are in the report once per kind; a host not on dovelab/router is not judged', () => {
  const lab = scratchLab({
    'lab.conf': 'r1[0]="A"\nr1[image]="kathara/quagga"\nr2[0]="A"\nr2[image]="kathara/quagga"\npc[0]="A"\npc[image]="debian"\n',
    'r1/etc/quagga/bgpd.conf': BGPD, 'r2/etc/quagga/bgpd.conf': BGPD,
    'r1.startup': '/etc/init.d/quagga start\n', 'r2.startup': '/etc/init.d/quagga start\n',
    // Not a router: a file with the same name on a plain host is not FRR's business.
    'pc/etc/quagga/bgpd.conf': BGPD, 'pc.startup': 'ip link set eth0 up\n',
  });
  try {
    const r = importLab(lab.dir);
    const lines = r.warnings.filter((w) => /FRR 8\.4/.test(w));
    assert.is(lines.length, 3, lines.join('\n'));
    for (const l of lines) assert.match(l, /\(r1, r2: \/etc\/quagga\/bgpd\.conf\)$/);
  } finally { lab.remove(); }
});

test.run();

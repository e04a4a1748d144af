// dovelab/router and dovelab/services on the real stack, as lab startups use them
// (test/fixtures/images-lab): FRR and a Quagga-layout router converge over OSPF, a host pings
// across both; apache (page + CGI), BIND and radvd on a server answer a client.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labUp } from '../../agent/lab/service.js';
import { inHost, pingLoss, stack, waitFor } from './_stack.js';
import { unknownFrrLines } from '../../agent/lesson/import/frrlines.js';
import { loud } from '../loud-hook.js';

const LESSON = fileURLToPath(new URL('../../../test/fixtures/images-lab', import.meta.url));
const out = async (container: string, argv: string[]) => {
  const r = await inHost(container, argv);
  return `${r.stdout}${r.stderr}`;
};
/** An OSPF route to `prefix` is installed (`O>*` in vtysh's `show ip route`). */
const ospfRoute = async (container: string, prefix: string) =>
  new RegExp(`^O>\\* ${prefix.replace(/\./g, '\\.')}`, 'm').test(await out(container, ['vtysh', '-c', 'show ip route']));

test.before(loud(async () => {
  const ctx = await stack();
  await labUp(ctx, LESSON, 1);
}));

test('FRR (systemctl start frr) and Quagga layout (/etc/init.d/zebra, ospfd) converge over OSPF', async () => {
  // Control: each router knows its own networks as connected routes at once.
  assert.match(await out('dovelab-g1-r1', ['vtysh', '-c', 'show ip route']), /C>\* 198\.51\.100\.0\/26/);
  await waitFor('r1 to learn lanb (198.51.100.128/26) over OSPF', () => ospfRoute('dovelab-g1-r1', '198.51.100.128/26'), 60_000, 500);
  await waitFor('r2 to learn lana (198.51.100.0/26) over OSPF', () => ospfRoute('dovelab-g1-r2', '198.51.100.0/26'), 60_000, 500);
  assert.match(await out('dovelab-g1-r2', ['vtysh', '-c', 'show ip ospf neighbor']), /1\.1\.1\.1\s+\d+\s+Full/);
  // The Quagga daemons read /etc/quagga (hostname from ospfd.conf) and ran Kathará's fix-ups.
  assert.match(await out('dovelab-g1-r2', ['stat', '-c', '%U:%G %a', '/etc/quagga/ospfd.conf']), /^quagga:quagga 640/);
  assert.match(await out('dovelab-g1-r2', ['/etc/init.d/quagga', 'status']), /ospfd: running/);
  assert.match(await out('dovelab-g1-r1', ['systemctl', 'status', 'frr']), /Status of ospfd: running/);
});

test('end to end across both routers: a pings srv', async () => {
  await waitFor('a to reach srv across r1 and r2', async () => (await pingLoss('dovelab-g1-a', '198.51.100.130', 2)) < 100, 30_000, 500);
  assert.match(await out('dovelab-g1-a', ['traceroute', '-n', '-w', '1', '-q', '1', '198.51.100.130']), /198\.51\.100\.1 [\s\S]*198\.51\.100\.66 [\s\S]*198\.51\.100\.130 /);
});

test('apache2 (systemctl start apache2) serves a page and a CGI through the routers', async () => {
  const page = await waitFor('apache on srv to answer', async () => {
    const r = await inHost('dovelab-g1-a', ['curl', '-sS', '--max-time', '3', 'http://198.51.100.130/']);
    return r.code === 0 ? r.stdout : undefined;
  }, 30_000, 500);
  assert.match(page, 'dovelab services: it works');
  const cgi = await inHost('dovelab-g1-a', ['curl', '-sS', '--max-time', '3', 'http://198.51.100.130/cgi-bin/hello']);
  assert.is(cgi.stdout.trim(), 'hello from CGI on g1-srv', cgi.stderr);
  // Control: a path that is not there is a 404, not a page.
  const missing = await inHost('dovelab-g1-a', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', 'http://198.51.100.130/nothing']);
  assert.is(missing.stdout, '404');
});

test('BIND (service bind9 start) answers for its zone', async () => {
  const answer = await waitFor('named on srv to answer www.lab.test', async () =>
    (await out('dovelab-g1-a', ['dig', '+short', '+time=2', '+tries=1', '@198.51.100.130', 'www.lab.test', 'A'])).trim() === '198.51.100.130', 30_000, 500);
  assert.ok(answer);
  // Control: a name the zone does not have is NXDOMAIN.
  assert.match(await out('dovelab-g1-a', ['dig', '+time=2', '+tries=1', '@198.51.100.130', 'nope.lab.test', 'A']), /status: NXDOMAIN/);
});

test('radvd (/etc/init.d/radvd start): c autoconfigures an IPv6 address and pings srv', async () => {
  const addr = await waitFor('c to autoconfigure 2001:db8:1::/64 from radvd', async () =>
    /inet6 2001:db8:1:[0-9a-f:]+\/64 scope global/.exec(await out('dovelab-g1-c', ['ip', '-6', 'addr', 'show', 'eth0']))?.[0], 30_000, 500);
  assert.ok(addr);
  const r = await inHost('dovelab-g1-c', ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '2001:db8:1::1']);
  assert.match(r.stdout, / 0% packet loss/, r.stdout + r.stderr);
});

test('stopping FRR withdraws the route: systemctl stop frr on r1', async () => {
  // The route is there first (control), then r2 loses it when r1's OSPF is gone.
  await waitFor('r2 to have lana', () => ospfRoute('dovelab-g1-r2', '198.51.100.0/26'), 30_000, 500);
  assert.match(await out('dovelab-g1-r1', ['systemctl', 'stop', 'frr']), /Stopped ospfd/);
  await waitFor('r2 to drop lana after r1 stopped', async () => !(await ospfRoute('dovelab-g1-r2', '198.51.100.0/26')), 60_000, 500);
  assert.match(await out('dovelab-g1-r1', ['service', 'frr', 'start']), /Started watchfrr/);
  await waitFor('r2 to learn lana again', () => ospfRoute('dovelab-g1-r2', '198.51.100.0/26'), 60_000, 500);
});

test('Quagga layout: systemctl restart quagga restarts what /etc/quagga/daemons enables; daemons are on PATH', async () => {
  const r = await out('dovelab-g1-r2', ['systemctl', 'restart', 'quagga']);
  assert.match(r, /ospfd: stopped[\s\S]*zebra: stopped[\s\S]*zebra: started[\s\S]*ospfd: started/);
  assert.not.match(r, /bgpd|ripd/, 'daemons set to no are left alone');
  await waitFor('r1 to learn lanb again after the restart', () => ospfRoute('dovelab-g1-r1', '198.51.100.128/26'), 60_000, 500);
  assert.is((await out('dovelab-g1-r2', ['sh', '-c', 'command -v zebra'])).trim(), '/usr/local/sbin/zebra');
});

test('service frr reload and /etc/init.d/frr reload apply an edited frr.conf (by restarting the daemons); a log file in a folder the image lacks is made', async () => {
  const r1 = 'dovelab-g1-r1';
  const cost = async () => /Cost: (\d+)/.exec(await out(r1, ['vtysh', '-c', 'show ip ospf interface eth1']))?.[1];
  // Control: the running OSPF cost of eth1 is not the one the edit gives.
  const before = await cost();
  assert.ok(before !== undefined && before !== '77', `cost before: ${before}`);
  // A student edits frr.conf: another cost on eth1, and a log file where Netkit-era labs put it.
  assert.is((await inHost(r1, ['sh', '-c', "printf 'interface eth1\\n ip ospf cost 77\\n!\\nlog file /var/log/zebra/frr.log\\n' >> /etc/frr/frr.conf"])).code, 0);
  const reload = await inHost(r1, ['service', 'frr', 'reload']);
  assert.is(reload.code, 0, `${reload.stdout}${reload.stderr}`);
  assert.match(reload.stdout, /reload restarts the daemons/);
  await waitFor('eth1\'s OSPF cost to be 77 after the reload', async () => (await cost()) === '77', 20_000, 200);
  await waitFor('zebra to log into /var/log/zebra/frr.log', async () => (await inHost(r1, ['test', '-s', '/var/log/zebra/frr.log'])).code === 0, 10_000, 200);
  await waitFor('r2 to learn lana again after the reload', () => ospfRoute('dovelab-g1-r2', '198.51.100.0/26'), 60_000, 500);
  // The init script's own reload, with the edit taken out again.
  assert.is((await inHost(r1, ['sed', '-i', '/^ ip ospf cost 77$/d', '/etc/frr/frr.conf'])).code, 0);
  const again = await inHost(r1, ['/etc/init.d/frr', 'reload']);
  assert.is(again.code, 0, `${again.stdout}${again.stderr}`);
  await waitFor('eth1\'s OSPF cost to be back after the second reload', async () => (await cost()) === before, 20_000, 200);
  await waitFor('r2 to learn lana after the second reload', () => ospfRoute('dovelab-g1-r2', '198.51.100.0/26'), 60_000, 500);
});

test('the import report\'s table of Quagga lines FRR 8.4 refuses (lesson/import/frrlines.ts) is what the daemons refuse: no more, no less', async () => {
  const r2 = 'dovelab-g1-r2';
  // Each daemon reads a config with the table's lines and FRR's own (the controls), logs the lines
  // it refuses ("No such command on config line N: …"); the table must name exactly those.
  const configs: Record<string, string> = {
    bgpd: `log file /var/log/quagga/probe-bgpd.log
hostname probe
password zebra
enable password zebra
bgp multiple-instance
bgp config-type cisco
log trap debugging
smux peer .1.3.6.1.4.1.3317.1.2.1 quagga_bgpd
router bgp 65099
 bgp router-id 198.51.100.99
 no synchronization
 no auto-summary
 neighbor 198.51.100.98 remote-as 65098
 neighbor 198.51.100.98 filter-list 1 in
!
ip as-path access-list 1 permit ^$
bgp as-path access-list 2 permit ^$
debug bgp
debug bgp events
debug bgp filters
debug bgp fsm
debug bgp keepalives
debug bgp updates
debug bgp neighbor-events
debug bgp zebra
`,
    ripd: `log file /var/log/quagga/probe-ripd.log
router rip
 version 2
 network 198.51.100.128/26
!
debug rip events
debug rip packet
debug rip packet recv detail
debug rip packet send detail
debug rip zebra
`,
    ospf6d: `log file /var/log/quagga/probe-ospf6d.log
router ospf6
 router-id 198.51.100.99
 ospf6 router-id 198.51.100.99
 redistribute connected
!
debug ospf6 message all
`,
  };
  try {
    for (const [d, text] of Object.entries(configs)) {
      const wrote = await inHost(r2, ['sh', '-c', `rm -f /var/log/quagga/probe-${d}.log && printf '%s' "$1" > /etc/quagga/${d}.conf`, 'sh', text]);
      assert.is(wrote.code, 0, wrote.stderr);
      const started = await inHost(r2, [`/etc/init.d/${d}`, 'start']);
      assert.match(`${started.stdout}${started.stderr}`, new RegExp(`${d}: started`), `${d} starts`);
      const log = await waitFor(`${d} to log its config`, async () => {
        const l = await out(r2, ['cat', `/var/log/quagga/probe-${d}.log`]);
        return /No such command/.test(l) ? l : undefined;
      }, 10_000, 200);
      const refused = [...log.matchAll(/No such command on config line \d+: (.*)$/gm)].map((m) => m[1]!.trim()).sort();
      const named = unknownFrrLines(text).map((g) => g.line).sort();
      assert.equal(named, refused, `${d}: the table names what FRR refuses`);
    }
  } finally {
    for (const d of Object.keys(configs)) await inHost(r2, ['sh', '-c', `/etc/init.d/${d} stop; rm -f /etc/quagga/${d}.conf`]);
  }
});

test.after(async () => { await labDown(await stack()); });

test.run();

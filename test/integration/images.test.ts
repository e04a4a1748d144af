// dovelab/router and dovelab/services on the real stack, as lab startups use them
// (test/fixtures/images-lab): FRR and a Quagga-layout router converge over OSPF, a host pings
// across both; apache (page + CGI), BIND and radvd on a server answer a client.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labUp } from '../../agent/lab/service.js';
import { inHost, pingLoss, stack, waitFor } from './_stack.js';
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

test.after(async () => { await labDown(await stack()); });

test.run();

// Issue 11: labs in the shapes real courses use, kept in their original Kathará form
// (test/fixtures/kathara/<lab>: lab.conf, device folders, *.startup), go through what a teacher
// does: `dovelab lesson import`, `dovelab up` (1 group), `dovelab check`, `dovelab down`. Each lab
// must import without unexpected report lines, come up without startup warnings, pass its
// generated tasks and show on the data plane what it is about (routes learned by RIP, OSPF and
// BGP carry traffic end to end; a name resolves from the root down; a page crosses a router).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { dovelab } from './_cli.js';
import { inHost, pingLoss, stack, waitFor } from './_stack.js';
import { loud } from '../loud-hook.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/kathara', import.meta.url));
const CLAB = fileURLToPath(new URL('../../../test/fixtures/containerlab', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dovelab-real-labs-'));
const c = (host: string) => `dovelab-g1-${host}`;

/** Report lines every Kathará import of these labs may print: what changed meaning, not what was dropped. */
const EXPECTED_WARNINGS = [
  /^Kathará's per-device defaults are the lesson's defaults\.sysctl/,
  /^every host forwards IPv4 \(defaults\.sysctl net\.ipv4\.ip_forward: 1\), as containerlab nodes do/,
  /^image "(kathara\/(base|frr|quagga)|quay\.io\/frrouting\/frr:8\.4\.1|wbitt\/network-multitool:latest)" is not available here: .* uses? dovelab\/(labhost|router|services), the closest of ours/,
  /^(collision domains|nodes) renamed to fit lesson names/,
  /^addresses set by the startup scripts are the interfaces' ip: in the lesson/,
  /^addresses the routers' FRR\/Quagga configs give \(interface … ip address\) are the interfaces' ip: in the lesson/,
  /^startups that stop at the first error \(set -e\): their `ip address add` and `ip route add default` became `replace`/,
  /^startups that set the addresses or default route the lesson sets too begin by clearing them/,
  /^binds are copied into the hosts when the lab starts, not mounted/,
  /^[\w, -]+ ha(s|ve) no image in lab\.conf \(Kathará's default is kathara\/base\)/,
];

interface Lab { pack: string; lesson: { networks: Record<string, { kind?: string }>; hosts: Record<string, { image?: string }>; tasks?: { id: string }[] }; warnings: string[] }

/** `dovelab lesson import` of a fixture; the report must hold no "not converted" line and only expected warnings (and the lab's own `allowed`). */
async function importLab(name: string, allowed: RegExp[] = []): Promise<Lab> {
  const pack = join(work, name);
  const r = await dovelab(['lesson', 'import', name.startsWith('clab:') ? join(CLAB, name.slice(5)) : join(FIXTURES, name), '-o', pack]);
  assert.is(r.code, 0, `import ${name}: ${r.stdout}${r.stderr}`);
  const lines = r.stdout.split('\n').map((l) => l.trim());
  assert.equal(lines.filter((l) => l.startsWith('not converted:')), [], `${name}: nothing dropped`);
  const warnings = lines.filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
  const unexpected = warnings.filter((w) => ![...EXPECTED_WARNINGS, ...allowed].some((re) => re.test(w)));
  for (const re of allowed) assert.ok(warnings.some((w) => re.test(w)), `${name}: the report names ${re}`);
  assert.equal(unexpected, [], `${name}: unexpected report lines`);
  return { pack, lesson: parse(readFileSync(join(pack, 'lesson.yaml'), 'utf8')), warnings };
}

/** `dovelab up` (1 group): exits 0 and warns of nothing (a startup that failed or hung is a warning). */
async function up(lab: Lab): Promise<void> {
  const t0 = Date.now();
  const r = await dovelab(['up', lab.pack, '--groups', '1']);
  assert.is(r.code, 0, `up: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('warning:')), [], `up warned: ${r.stdout}`);
  console.log(`    ${Object.keys(lab.lesson.hosts).length} hosts up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const down = async () => {
  const r = await dovelab(['down']);
  if (r.code !== 0) console.log(`    down: ${r.stdout}${r.stderr}`);
};

/** `dovelab check --json`: every generated task ran and passed. */
async function tasksPass(lab: Lab): Promise<void> {
  const r = await dovelab(['check', '--json']);
  assert.is(r.code, 0, `check: ${r.stdout}${r.stderr}`);
  const results = (JSON.parse(r.stdout) as { results: { task: string; status: string; reason: string }[] }).results;
  const ids = (lab.lesson.tasks ?? []).map((t) => t.id);
  assert.ok(ids.length > 0, 'the import generated tasks');
  assert.equal(results.map((x) => x.task).sort(), [...ids].sort(), 'one result per task');
  assert.equal(results.filter((x) => x.status !== 'pass'), [], 'every task passes');
}

const out = async (host: string, argv: string[]) => {
  const r = await inHost(c(host), argv);
  return `${r.stdout}${r.stderr}`;
};
const vtysh = (host: string, ...cmds: string[]) => out(host, ['vtysh', ...cmds.flatMap((x) => ['-c', x])]);
/** The route to `prefix` in the router's table is of `type` (R, O, B) and selected (`R>*`). */
const learned = async (host: string, type: string, prefix: string) =>
  new RegExp(`^${type}>\\* ${prefix.replace(/\./g, '\\.')}`, 'm').test(await vtysh(host, 'show ip route'));
/** Hops of `traceroute -n` (the first address that answered at each TTL, '*' where none did). */
const hops = async (host: string, to: string) =>
  (await out(host, ['traceroute', '-n', '-w', '1', '-q', '2', to])).split('\n').slice(1)
    .map((l) => /^\s*\d+\s+(.*)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined)
    .map((rest) => /\d+\.\d+\.\d+\.\d+/.exec(rest)?.[0] ?? '*');
/** Waits until the path from `host` to `to` is `expected` (routing may still settle after the routes are in). */
async function pathIs(host: string, to: string, expected: string[]): Promise<void> {
  let last: string[] = [];
  await waitFor(`the path ${host} -> ${to} to be ${expected.join(' ')}`, async () => {
    last = await hops(host, to);
    return last.join(' ') === expected.join(' ');
  }, 30_000, 500).catch((e: Error) => { throw new Error(`${e.message}; last: ${last.join(' ')}`); });
}
/** A lab's own test: up, then `body`, always down. */
async function withLab(name: string, body: (lab: Lab) => Promise<void>, allowed: RegExp[] = []): Promise<void> {
  const t0 = Date.now();
  const lab = await importLab(name, allowed);
  try { await up(lab); await body(lab); } finally {
    await down();
    console.log(`    ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s from import to down`);
  }
}

test.before(loud(async () => { await stack(); await down(); }));
test.after(() => { rmSync(work, { recursive: true, force: true }); });

test('RIP across five FRR routers (kathara/frr, /etc/frr/frr.conf + daemons): routes converge, pc1 pings pc2 over five hops', async () => {
  await withLab('rip5', async (lab) => {
    for (const r of ['r1', 'r2', 'r3', 'r4', 'r5']) assert.is(lab.lesson.hosts[r]!.image, 'dovelab/router');
    // Control: connected routes are there at once; then the far LANs arrive over RIP.
    assert.match(await vtysh('r1', 'show ip route'), /C>\* 198\.51\.100\.0\/28/);
    await waitFor('r1 to learn lan2 over RIP', () => learned('r1', 'R', '198.51.100.32/28'), 90_000, 500);
    await waitFor('r5 to learn lan1 over RIP', () => learned('r5', 'R', '198.51.100.0/28'), 90_000, 500);
    await tasksPass(lab);
    // RIP's metric is the hop count: lan2 is connected to r5 (1), so r1 sees it at 5.
    assert.match(await vtysh('r1', 'show ip rip'), /R\(n\)\s+198\.51\.100\.32\/28\s+198\.51\.100\.18\s+5 /);
    assert.is(await pingLoss(c('pc1'), '198.51.100.42', 3), 0);
    await pathIs('pc1', '198.51.100.42', ['198.51.100.1', '198.51.100.18', '198.51.100.22', '198.51.100.26', '198.51.100.30', '198.51.100.42']);
  });
});

test('OSPF across five FRR routers in a ring: converges, takes the short way, and reroutes when a link goes down', async () => {
  await withLab('ospf5', async (lab) => {
    for (const r of ['r1', 'r2', 'r3', 'r4', 'r5']) assert.is(lab.lesson.hosts[r]!.image, 'dovelab/router');
    await waitFor('r1 to learn lan2 over OSPF', () => learned('r1', 'O', '203.0.113.48/28'), 120_000, 500);
    await waitFor('r4 to learn lan1 over OSPF', () => learned('r4', 'O', '203.0.113.0/28'), 120_000, 500);
    await tasksPass(lab);
    assert.is(await pingLoss(c('pc1'), '203.0.113.58', 3), 0);
    // The shortest path, r1 -> r5 -> r4 (two links; the other way round the ring is three).
    await pathIs('pc1', '203.0.113.58', ['203.0.113.1', '203.0.113.33', '203.0.113.29', '203.0.113.58']);
    // r1's link to r5 goes down: OSPF moves the traffic round the ring, r1 -> r2 -> r3 -> r4.
    assert.is((await inHost(c('r1'), ['ip', 'link', 'set', 'eth2', 'down'])).code, 0);
    await waitFor('r1 to route lan2 via r2', async () => /O>\* 203\.0\.113\.48\/28 \[110\/\d+\] via 203\.0\.113\.18/.test(await vtysh('r1', 'show ip route')), 60_000, 500);
    await waitFor('pc1 to reach pc2 round the ring', async () => (await pingLoss(c('pc1'), '203.0.113.58', 2)) === 0, 60_000, 500);
    await pathIs('pc1', '203.0.113.58', ['203.0.113.1', '203.0.113.18', '203.0.113.22', '203.0.113.26', '203.0.113.58']);
  });
});

test('BGP in Quagga\'s layout (kathara/quagga, /etc/quagga/bgpd.conf + zebra.conf + daemons): two ASes exchange their LANs, pc1 pings pc2', async () => {
  await withLab('bgp-quagga', async (lab) => {
    assert.is(lab.lesson.hosts.as1r1!.image, 'dovelab/router');
    await waitFor('as1r1 to learn AS 65002\'s LAN over BGP', () => learned('as1r1', 'B', '198.51.100.96/28'), 90_000, 500);
    await waitFor('as2r1 to learn AS 65001\'s LAN over BGP', () => learned('as2r1', 'B', '198.51.100.64/28'), 90_000, 500);
    await tasksPass(lab);
    // The route came from AS 65002 (its AS path) through the eBGP session.
    assert.match(await vtysh('as1r1', 'show ip bgp'), /\*> 198\.51\.100\.96\/28\s+198\.51\.100\.82\s[\s\S]*?65002 i/);
    assert.match(await out('as1r1', ['/etc/init.d/quagga', 'status']), /zebra: running[\s\S]*bgpd: running/);
    assert.is(await pingLoss(c('pc1'), '198.51.100.106', 3), 0, 'pc1 reaches pc2 across the two ASes');
    // The traffic depends on BGP: the session shut down withdraws the route and the same ping fails;
    // back up, it passes again (the ping above is the control).
    await vtysh('as1r1', 'configure terminal', 'router bgp 65001', 'neighbor 198.51.100.82 shutdown');
    await waitFor('as1r1 to lose AS 65002\'s LAN', async () => !(await learned('as1r1', 'B', '198.51.100.96/28')), 30_000, 200);
    assert.is(await pingLoss(c('pc1'), '198.51.100.106', 2), 100);
    await vtysh('as1r1', 'configure terminal', 'router bgp 65001', 'no neighbor 198.51.100.82 shutdown');
    await waitFor('as1r1 to learn AS 65002\'s LAN again', () => learned('as1r1', 'B', '198.51.100.96/28'), 90_000, 500);
    assert.is(await pingLoss(c('pc1'), '198.51.100.106', 3), 0);
  }, [/^Quagga debug lines FRR 8\.4 \(dovelab\/router\) does not have: .*`debug bgp events` \(FRR: debug bgp neighbor-events\).* \(as1r1, as2r1: \/etc\/quagga\/bgpd\.conf\)$/]);
});

test('DNS hierarchy with BIND: pc1 resolves www.school.test through the root (resolv.conf from its device folder, set -euo pipefail startups)', async () => {
  await withLab('dns-bind', async (lab) => {
    for (const h of ['dnsroot', 'dnstld', 'dnsschool', 'resolver']) assert.is(lab.lesson.hosts[h]!.image, 'dovelab/services');
    // /etc/resolv.conf from pc1's device folder is pc1's, and its bash startup (set -euo pipefail) ran to its end.
    assert.is(await out('pc1', ['cat', '/etc/resolv.conf']), readFileSync(join(FIXTURES, 'dns-bind/pc1/etc/resolv.conf'), 'utf8'));
    assert.is((await out('pc1', ['cat', '/tmp/resolver'])).trim(), 'pc1 resolves through 203.0.113.68');
    for (const h of ['dnsroot', 'dnstld', 'dnsschool', 'resolver', 'pc1']) assert.match(await out(h, ['cat', '/var/log/dovelab-startup.log']), /dovelab: startup exited 0/, h);
    // pc1 asks the resolver in its resolv.conf (no @server); the short name goes through its search domain.
    const answer = await waitFor('pc1 to resolve www.school.test', async () => {
      const a = (await out('pc1', ['dig', '+short', '+time=2', '+tries=1', 'www.school.test', 'A'])).trim();
      return a === '203.0.113.100' ? a : undefined;
    }, 60_000, 500);
    assert.is(answer, '203.0.113.100');
    assert.match(await out('pc1', ['host', 'www']), /www\.school\.test has address 203\.0\.113\.100/);
    await tasksPass(lab);
    // Each level refers to the next: the root knows only test., the TLD only school.test.
    assert.match(await out('pc1', ['dig', '+norec', '+time=2', '+tries=1', '@203.0.113.65', 'www.school.test', 'A']), /AUTHORITY SECTION:\s*\ntest\.\s+\d+\s+IN\s+NS\s+dnstld\.test\./);
    assert.match(await out('pc1', ['dig', '+norec', '+time=2', '+tries=1', '@203.0.113.66', 'www.school.test', 'A']), /AUTHORITY SECTION:\s*\nschool\.test\.\s+\d+\s+IN\s+NS\s+dns\.school\.test\./);
    // The walk as a resolver does it, from the root (the resolver's hints) down to the answer.
    const trace = await out('pc1', ['dig', '+trace', '+time=2', '+tries=1', 'www.school.test', 'A']);
    assert.match(trace, /from 203\.0\.113\.65#53[\s\S]*from 203\.0\.113\.66#53[\s\S]*www\.school\.test\.\s+\d+\s+IN\s+A\s+203\.0\.113\.100[\s\S]*from 203\.0\.113\.67#53/);
    // A name the zone lacks is NXDOMAIN through the same path (www above is the control).
    assert.match(await out('pc1', ['dig', '+time=2', '+tries=1', 'nope.school.test', 'A']), /status: NXDOMAIN/);
  });
});

test('Apache behind a router: pc1 fetches the page from server across r1 (ifconfig/route startups, systemctl start apache2)', async () => {
  await withLab('web-router', async (lab) => {
    assert.is(lab.lesson.hosts.server!.image, 'dovelab/services');
    const url = 'http://203.0.113.170/';
    const page = await waitFor('apache on server to answer pc1', async () => {
      const r = await inHost(c('pc1'), ['curl', '-sS', '--max-time', '3', url]);
      return r.code === 0 ? r.stdout : undefined;
    }, 30_000, 500);
    assert.is(page, readFileSync(join(FIXTURES, 'web-router/server/var/www/html/index.html'), 'utf8'));
    await tasksPass(lab);
    // The request arrived from pc1's own address: routed by r1, not translated.
    assert.match(await out('server', ['tail', '-n', '5', '/var/log/apache2/access.log']), /^203\.0\.113\.140 .*"GET \/ HTTP\/1\.1" 200/m);
    await pathIs('pc1', '203.0.113.170', ['203.0.113.129', '203.0.113.170']);
  });
});

test('containerlab: three FRR routers (quay.io/frrouting/frr, binds of daemons + frr.conf with the addresses) and two PCs: OSPF end to end', async () => {
  await withLab('clab:frr3', async (lab) => {
    for (const r of ['router1', 'router2', 'router3']) assert.is(lab.lesson.hosts[r]!.image, 'dovelab/router');
    assert.ok(lab.warnings.some((w) => /FRR\/Quagga configs give .*router1 \(eth1, eth2, eth3\)/.test(w)), 'addresses read from frr.conf');
    // Point-to-point OSPF links: no DR election to wait for.
    await waitFor('router1 to learn pc2\'s LAN over OSPF', () => learned('router1', 'O', '198.51.100.160/29'), 90_000, 500);
    await waitFor('router3 to learn pc1\'s LAN over OSPF', () => learned('router3', 'O', '198.51.100.128/29'), 90_000, 500);
    await tasksPass(lab);
    assert.match(await vtysh('router2', 'show ip ospf neighbor'), /10\.0\.0\.1\s+\d+\s+Full[\s\S]*10\.0\.0\.3\s+\d+\s+Full/);
    // The direct link router1 -> router3, not round by router2.
    await pathIs('pc1', '198.51.100.162', ['198.51.100.129', '198.51.100.142', '198.51.100.162']);
  });
});

test('two routers with static routes (ifconfig + route add -net on r1, ip route add on r2): pc1 pings pc2 and traceroute shows both routers', async () => {
  await withLab('static2', async (lab) => {
    await tasksPass(lab);
    assert.is(await pingLoss(c('pc1'), '203.0.113.130', 3), 0);
    await pathIs('pc1', '203.0.113.130', ['203.0.113.1', '203.0.113.66', '203.0.113.130']);
    // No routing daemon: pc2's LAN is reachable because of r1's static route. Without it the same
    // ping fails (the ping above is the control); put back, it passes again.
    assert.match(await out('r1', ['ip', 'route', 'show', '203.0.113.128/26']), /via 203\.0\.113\.66 dev eth1/);
    assert.is((await inHost(c('r1'), ['route', 'del', '-net', '203.0.113.128', 'netmask', '255.255.255.192'])).code, 0);
    assert.is(await pingLoss(c('pc1'), '203.0.113.130', 2), 100);
    assert.is((await inHost(c('r1'), ['route', 'add', '-net', '203.0.113.128', 'netmask', '255.255.255.192', 'gw', '203.0.113.66', 'dev', 'eth1'])).code, 0);
    assert.is(await pingLoss(c('pc1'), '203.0.113.130', 3), 0);
  });
});

test('IPv6 with radvd (r1 ipv6=true, /etc/init.d/radvd start): pc1 and pc2 autoconfigure from their LAN\'s prefix and pc1 pings r1 and pc2', async () => {
  const slaac = async (h: string, prefix: string) =>
    [...(await out(h, ['ip', '-6', 'address', 'show', 'dev', 'eth0', 'scope', 'global'])).matchAll(/inet6 ([0-9a-f:]+)\/64 scope global dynamic/g)]
      .map((m) => m[1]!).find((a) => a.startsWith(prefix));
  await withLab('ipv6-radvd', async (lab) => {
    assert.is(lab.lesson.hosts.r1!.image, 'dovelab/services');
    // Addresses the kernel made from r1's advertisements ("dynamic"), each in its own LAN's prefix;
    // pc2's needs accept_ra=2, which its startup's `sysctl -w` line asked for (lifted into sysctl:).
    const a1 = await waitFor('pc1 to autoconfigure in 2001:db8:a::/64', () => slaac('pc1', '2001:db8:a:'), 30_000, 500);
    const a2 = await waitFor('pc2 to autoconfigure in 2001:db8:b::/64', () => slaac('pc2', '2001:db8:b:'), 30_000, 500);
    assert.is(await slaac('pc1', '2001:db8:b:'), undefined, 'pc1 has no address from the other LAN\'s prefix');
    assert.is((await out('pc2', ['sysctl', '-n', 'net.ipv6.conf.eth0.accept_ra'])).trim(), '2');
    // The interface identifier is the EUI-64 of pc1's MAC (the kernel's SLAAC, not a static address).
    const mac = /link\/ether ([0-9a-f:]+)/.exec(await out('pc1', ['ip', 'link', 'show', 'eth0']))![1]!.split(':').map((x) => parseInt(x, 16));
    const eui = [mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!];
    const iid = [0, 2, 4, 6].map((k) => ((eui[k]! << 8) | eui[k + 1]!).toString(16)).join(':');
    assert.is(a1, `2001:db8:a:0:${iid}`);
    assert.match(await out('pc1', ['ip', '-6', 'route', 'show', 'default']), /via fe80::\S+ dev eth0 proto ra/);
    await tasksPass(lab);
    assert.is(await pingLoss(c('pc1'), '2001:db8:a::1', 3), 0, 'pc1 pings r1 on its LAN');
    assert.is(await pingLoss(c('pc1'), a2, 3), 0, 'pc1 pings pc2 across r1 (IPv6 forwarding on r1)');
  }, [
    /^startup lines that set sysctls became the hosts' sysctl: .*pc2 \(net\.ipv6\.conf\.eth0\.accept_ra\)/,
    /^IPv6 addresses set by startups \(lesson addresses are IPv4 only.*r1 \(eth0 2001:db8:a::1\/64, eth1 2001:db8:b::1\/64\)/,
  ]);
});

test('a sniffer on a hub (collision domain with pc1, pc2 and a tcpdump startup): the capture holds the unicast between pc1 and pc2', async () => {
  const macOf = async (h: string) => /link\/ether ([0-9a-f:]+)/.exec(await out(h, ['ip', 'link', 'show', 'eth0']))![1]!;
  await withLab('sniffer-hub', async (lab) => {
    assert.is(lab.lesson.networks.a!.kind, 'hub');
    await tasksPass(lab);
    // The startup's tcpdump writes /shared/capture.pcap (Kathará's /shared; here the host's own).
    await waitFor('the sniffer\'s capture to start', async () => (await inHost(c('sniffer'), ['test', '-e', '/shared/capture.pcap'])).code === 0, 20_000, 200);
    const [m1, m2] = [await macOf('pc1'), await macOf('pc2')];
    // Pings of a size of their own (ICMP length 329), so the capture's lines are these.
    const ping = await inHost(c('pc1'), ['ping', '-c', '4', '-i', '0.2', '-W', '1', '-s', '321', '198.51.100.2']);
    assert.match(ping.stdout, / 0% packet loss/, `${ping.stdout}${ping.stderr}`);
    const pid = (await out('sniffer', ['pidof', 'tcpdump'])).trim();
    assert.match(pid, /^\d+$/, 'the startup\'s tcpdump runs');
    // Frames between the two others, addressed to each other's MAC: unicast, which a learning switch
    // would not send the sniffer. tcpdump writes its file when told to (SIGUSR2) what it has read.
    let cap = '';
    const seen = (from: string, to: string, ip: string, kind: string) => cap.split('\n')
      .filter((l) => l.includes(`${from} > ${to}`) && l.includes(`${ip}: ICMP echo ${kind}`) && / length 329$/.test(l)).length;
    await waitFor('the capture to hold pc1\'s 4 echo requests to pc2 and pc2\'s 4 replies', async () => {
      await inHost(c('sniffer'), ['kill', '-USR2', pid]);
      cap = await out('sniffer', ['tcpdump', '-r', '/shared/capture.pcap', '-n', '-e', 'icmp']);
      return seen(m1, m2, '198.51.100.1 > 198.51.100.2', 'request') === 4 && seen(m2, m1, '198.51.100.2 > 198.51.100.1', 'reply') === 4;
    }, 15_000, 300).catch((e: Error) => { throw new Error(`${e.message}:\n${cap}`); });
  }, [
    /^collision domain a is a hub \(kind: hub, as in Kathará\): sniffer sniffs its neighbours/,
    /^startups of sniffer use \/shared, which Kathará mounts from the lab folder on every device/,
  ]);
});

test.run();

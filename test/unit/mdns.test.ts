// mDNS: the avahi service file (pure), then real mDNS between this process's network namespace
// and one the test makes (veth pair, 198.51.100.1 here, .2 there; needs root, like the other
// netns tests). Queries come from inside that namespace (dig, multicast-dns in a node child),
// so they cross a real link. The namespace and the veths are deleted in the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../../agent/config.js';
import {
  advertise, answerQuestions, applianceId, avahiRunning, avahiServiceFile, browseAppliances, inSubnet, isManagementInterface,
  removeAvahiService, startResponder, writeAvahiService, type Responder,
} from '../../agent/hardware/mdns.js';
import { commandExists, run } from '../../agent/sys/run.js';

const ID = '0123456789abcdef';

test('avahi service file: both service types, TXT records, names escaped, well-formed', async () => {
  const xml = avahiServiceFile('lab <&> "x"', 8080, { version: '0.1.0', id: ID });
  assert.match(xml, /^<\?xml version="1.0" standalone="no"\?>\n<!DOCTYPE service-group SYSTEM "avahi-service.dtd">/);
  assert.match(xml, /<name>lab &lt;&amp;&gt; &quot;x&quot;<\/name>/);
  const services = [...xml.matchAll(/<service>([\s\S]*?)<\/service>/g)].map((m) => m[1]!);
  assert.equal(services.length, 2);
  assert.match(services[0]!, /<type>_http._tcp<\/type>\s*<port>8080<\/port>\s*<txt-record>path=\/<\/txt-record>/);
  assert.match(services[1]!, /<type>_dovelab._tcp<\/type>\s*<port>8080<\/port>\s*<txt-record>version=0.1.0<\/txt-record>\s*<txt-record>id=0123456789abcdef<\/txt-record>/);
  // Well-formed: every element closes in order (a tiny stack check; xmllint when installed).
  const stack: string[] = [];
  for (const m of xml.replace(/<\?[^>]*\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([a-z-]+)[^>]*>/g)) {
    if (m[1]) assert.is(stack.pop(), m[2]); else stack.push(m[2]!);
  }
  assert.equal(stack, []);
  assert.not.match(xml.replace(/&(amp|lt|gt|quot|apos);/g, ''), /&/);
  if (await commandExists('xmllint')) await run(['xmllint', '--noout', '-'], { input: xml });
  assert.throws(() => avahiServiceFile('x', 0, { version: '1', id: ID }), /bad port/);
});

test('avahi service file is written atomically, only when it differs, and removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdns-avahi-'));
  try {
    const xml = avahiServiceFile('dovelab', 80, { version: '0.1.0', id: ID });
    assert.is(writeAvahiService(dir, xml), true);
    const ino = statSync(join(dir, 'dovelab.service')).ino;
    assert.is(writeAvahiService(dir, xml), false);
    assert.is(statSync(join(dir, 'dovelab.service')).ino, ino, 'not rewritten');
    assert.is(writeAvahiService(dir, xml.replace('80', '8080')), true);
    assert.is(readFileSync(join(dir, 'dovelab.service'), 'utf8'), xml.replace('80', '8080'));
    assert.is(removeAvahiService(dir), true);
    assert.is(removeAvahiService(dir), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('avahiRunning: a pid file naming a live process, a dead one, none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdns-pid-'));
  try {
    const pid = join(dir, 'pid');
    await run(['sh', '-c', `echo ${process.pid} > ${pid}`]);
    assert.is(await avahiRunning(pid), true);
    await run(['sh', '-c', `echo 2147483 > ${pid}`]);
    assert.is(await avahiRunning(pid), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('advert: answers, interfaces allowed, subnets, the appliance id', () => {
  const a = { name: 'dovelab', port: 80, id: ID, version: '0.1.0' };
  const r = answerQuestions(a, '192.0.2.2', [{ name: 'DoveLab.local', type: 'A' }]);
  assert.equal(r.answers.map((x) => [x.type, (x as { data?: unknown }).data]), [['A', '192.0.2.2']]);
  const p = answerQuestions(a, '192.0.2.2', [{ name: '_dovelab._tcp.local', type: 'PTR' }]);
  assert.equal(p.answers.map((x) => (x as { data?: unknown }).data), ['dovelab._dovelab._tcp.local']);
  assert.equal(p.additionals.map((x) => x.type), ['SRV', 'TXT', 'A']);
  assert.equal(answerQuestions(a, '192.0.2.2', [{ name: 'nothere.local', type: 'A' }, { name: 'dovelab.local', type: 'AAAA' }]).answers, []);
  for (const n of ['eth0', 'wlan0', 'end0']) assert.ok(isManagementInterface(n), n);
  for (const n of ['lo', 'dl3', 'docker0', 'veth12', 'br-1a', 'ovs-netdev', 'up0', 'mir0', 'lab1', 'dovelab0', 'usb7']) {
    assert.not.ok(isManagementInterface(n, { dongles: ['usb7'], bridge: 'dovelab0' }), n);
  }
  assert.not.ok(isManagementInterface('eth0', { physical: false }));
  assert.ok(inSubnet('198.51.100.77', '198.51.100.1/24'));
  assert.not.ok(inSubnet('198.18.0.2', '198.51.100.1/24'));
  const dir = mkdtempSync(join(tmpdir(), 'mdns-id-'));
  try {
    const id = applianceId(dir);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.is(applianceId(dir), id, 'stable');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// ---- real mDNS across a veth into a namespace of our own ----

const NS = `mdnst-${process.pid}`;
const VR = `mdr${process.pid}`; const VN = `mdn${process.pid}`; // management-like link
// A "lab" link the responder must ignore. Not named dl*: the appliance's firewall (DOVELAB-LAB)
// drops INPUT from dl+ already, and this test checks the responder's own allow-list.
const LR = `mlr${process.pid}`; const LN = `mln${process.pid}`;
const NAME = `dlt${process.pid}`;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESPONDER_JS = fileURLToPath(new URL('../../agent/hardware/mdns-responder.js', import.meta.url));
const MULTICAST_DNS = join(ROOT, 'node_modules/multicast-dns/index.js');
const inNs = (argv: string[], timeoutMs = 15_000) => run(['ip', 'netns', 'exec', NS, ...argv], { allowFail: true, timeoutMs });

async function setUp(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the mDNS namespace test needs root');
  if (!(await commandExists('dig'))) await run(['apt-get', 'install', '-y', 'bind9-dnsutils'], { timeoutMs: 180_000 });
  const ip = (...a: string[]) => run(['ip', ...a]);
  await ip('netns', 'add', NS);
  await ip('-n', NS, 'link', 'set', 'lo', 'up');
  // Addresses in the appliance's own namespace come from 198.18.0.0/24 (RFC 2544), not 203.0.113.0/24:
  // package mirrors here answer on 203.0.113.80, and a route to that /24 on a test veth cuts them off.
  for (const [r, n, net] of [[VR, VN, '198.51.100'], [LR, LN, '198.18.0']] as const) {
    await ip('link', 'add', r, 'type', 'veth', 'peer', 'name', n);
    await ip('link', 'set', n, 'netns', NS);
    await ip('addr', 'add', `${net}.1/24`, 'dev', r);
    await ip('link', 'set', r, 'up');
    await ip('-n', NS, 'addr', 'add', `${net}.2/24`, 'dev', n);
    await ip('-n', NS, 'link', 'set', n, 'up');
  }
  // The namespace has no default route: multicast leaves by the management-like link. In this
  // namespace the sockets choose their interface (IP_MULTICAST_IF), so no route is added here.
  await ip('-n', NS, 'route', 'add', '224.0.0.0/4', 'dev', VN);
}

async function tearDown(): Promise<void> {
  await run(['ip', 'netns', 'del', NS], { allowFail: true });
  for (const l of [VR, LR]) await run(['ip', 'link', 'del', l], { allowFail: true });
}

/** A node child in the namespace: multicast-dns from 5353 (the multicast path), JSON out. */
function probeScript(iface: string, questions: object[], ms = 1_500): string {
  return `import makeMdns from ${JSON.stringify(MULTICAST_DNS)};
const m = makeMdns({ interface: ${JSON.stringify(iface)}, bind: '0.0.0.0', loopback: false });
const got = [];
m.on('response', (r, rinfo) => { for (const a of [...r.answers, ...r.additionals]) got.push({ from: rinfo.address, port: rinfo.port, name: a.name, type: a.type, data: Buffer.isBuffer(a.data) ? a.data.toString() : Array.isArray(a.data) ? a.data.map(String) : a.data }); });
m.on('ready', () => m.query({ questions: ${JSON.stringify(questions)} }));
setTimeout(() => { m.destroy(); console.log(JSON.stringify(got)); }, ${ms});`;
}
async function probe(iface: string, questions: object[]): Promise<{ from: string; port: number; name: string; type: string; data: unknown }[]> {
  const r = await run(['ip', 'netns', 'exec', NS, process.execPath, '--input-type=module', '-e', probeScript(iface, questions)], { timeoutMs: 15_000 });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]');
}

function waitLine(child: ChildProcess, re: RegExp, what: string, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${what}: not seen in ${ms} ms; got: ${buf.slice(-400)}`)), ms);
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = buf.split('\n').find((l) => re.test(l));
      if (m) { clearTimeout(t); resolve(m); }
    });
  });
}

test('real mDNS from another namespace: dig and multicast-dns get A, SRV, TXT; nothing for other names or on a lab link; browse finds the other appliance, not itself', async () => {
  let responder: Responder | undefined;
  let other: ChildProcess | undefined;
  let tcpdump: ChildProcess | undefined;
  const labListener = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await setUp();
    responder = await startResponder({
      name: NAME, port: 8080, id: ID, version: '0.1.0',
      addresses: () => ({ [VR]: ['198.51.100.1/24'], [LR]: ['198.18.0.1/24'], eth0: ['192.0.2.2/24'] }),
      allow: (ifname) => ifname === VR,
    });
    assert.equal(responder.bound(), [`${VR} 198.51.100.1/24`]);

    // dig, a one-shot (legacy unicast) query sent to the responder's address.
    // The first query may go before the new veth carries (link and ARP settle): ask until answered, 10 s at most.
    let a = await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@198.51.100.1', `${NAME}.local`]);
    for (const t0 = Date.now(); a.stdout.trim() !== '198.51.100.1' && Date.now() - t0 < 10_000;) {
      a = await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@198.51.100.1', `${NAME}.local`]);
    }
    console.log(`  dig ${NAME}.local A -> ${a.stdout.trim()}`);
    assert.is(a.stdout.trim(), '198.51.100.1');
    const srv = await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@198.51.100.1', `${NAME}._dovelab._tcp.local`, 'SRV']);
    const txt = await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@198.51.100.1', `${NAME}._dovelab._tcp.local`, 'TXT']);
    const ptr = await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@198.51.100.1', '_http._tcp.local', 'PTR']);
    console.log(`  dig SRV -> ${srv.stdout.trim()} | TXT -> ${txt.stdout.trim()} | _http._tcp PTR -> ${ptr.stdout.trim()}`);
    assert.is(srv.stdout.trim(), `0 0 8080 ${NAME}.local.`);
    assert.is(txt.stdout.trim(), `"id=${ID}" "version=0.1.0"`);
    assert.is(ptr.stdout.trim(), `${NAME}._http._tcp.local.`);
    // Negative with its positive control: the same probe for another name gets nothing.
    const none = await inNs(['dig', '+short', '+time=1', '+tries=1', '-p', '5353', '@198.51.100.1', 'nothere.local']);
    console.log(`  dig nothere.local -> ${none.stdout.trim().replace(/\n/g, ' | ')}`);
    assert.not.match(none.stdout, /^\d+\.\d+\.\d+\.\d+$/m);
    assert.match(none.stdout, /timed out|no servers/);

    // dig to 224.0.0.251: the answer comes unicast from 198.51.100.1, which dig's connected
    // socket drops (as for the sim world's printer), so it is read off the wire.
    tcpdump = spawn('ip', ['netns', 'exec', NS, 'tcpdump', '-l', '-n', '-i', VN, 'udp and src port 5353 and src host 198.51.100.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => tcpdump!.stderr!.on('data', (b: Buffer) => { if (/listening on/.test(b.toString())) resolve(); }));
    const heard = waitLine(tcpdump, new RegExp(`198\\.51\\.100\\.1\\.5353 > 198\\.51\\.100\\.2\\.\\d+: .* A 198\\.51\\.100\\.1`), 'the answer to dig @224.0.0.251');
    await inNs(['dig', '+short', '+time=2', '+tries=1', '-p', '5353', '@224.0.0.251', `${NAME}.local`]);
    console.log(`  on the wire: ${(await heard).trim()}`);

    // The multicast path: a multicast-dns client on 5353 in the namespace.
    const got = await probe('198.51.100.2', [{ name: `${NAME}.local`, type: 'A' }, { name: '_dovelab._tcp.local', type: 'PTR' }]);
    const ours = got.filter((g) => g.from === '198.51.100.1');
    assert.ok(ours.some((g) => g.type === 'A' && g.name === `${NAME}.local` && g.data === '198.51.100.1'), JSON.stringify(got));
    assert.ok(ours.some((g) => g.type === 'PTR' && g.data === `${NAME}._dovelab._tcp.local`));
    assert.ok(ours.some((g) => g.type === 'SRV' && (g.data as { port: number }).port === 8080));
    assert.ok(ours.some((g) => g.type === 'TXT' && (g.data as string[]).includes(`id=${ID}`)));
    assert.ok(ours.every((g) => g.port === 5353));
    const none2 = await probe('198.51.100.2', [{ name: 'nothere.local', type: 'A' }]);
    assert.equal(none2.filter((g) => g.from === '198.51.100.1'), []);

    // A lab link: the query reaches this namespace (a listener joined there hears it: the
    // control) but the responder, allowed only on the management link, stays silent.
    const heardOnLab = new Promise<void>((resolve) => labListener.on('message', (msg, rinfo) => { if (rinfo.address === '198.18.0.2' && msg.includes(Buffer.from(NAME))) resolve(); }));
    await new Promise<void>((resolve) => labListener.bind(5353, '0.0.0.0', () => { labListener.addMembership('224.0.0.251', '198.18.0.1'); resolve(); }));
    const onLab = await probe('198.18.0.2', [{ name: `${NAME}.local`, type: 'A' }]);
    await Promise.race([heardOnLab, new Promise((_, reject) => setTimeout(() => reject(new Error('the lab-link query never reached this namespace')), 1_000))]);
    assert.equal(onLab, [], 'no answer on a lab link');

    // browseAppliances: a second appliance inside the namespace; ours is excluded by its id.
    const otherId = 'fedcba9876543210';
    other = spawn('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e',
      `import { startResponder } from ${JSON.stringify(RESPONDER_JS)};
       const r = await startResponder({ name: 'other${process.pid}', port: 80, id: '${otherId}', version: '9.9.9', allow: (n) => n === '${VN}' });
       console.log('ready ' + r.bound().join(','));
       process.on('SIGTERM', () => r.stop().then(() => process.exit(0)));`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await waitLine(other, /^ready .*198\.51\.100\.2/, 'the second appliance');
    const found = await browseAppliances({ timeoutMs: 1_500, selfId: ID, addresses: () => ({ [VR]: ['198.51.100.1/24'] }), allow: () => true });
    console.log(`  browse -> ${JSON.stringify(found)}`);
    assert.equal(found, [{ name: `other${process.pid}`, host: `other${process.pid}.local`, addresses: ['198.51.100.2'], port: 80, id: otherId, version: '9.9.9' }]);
    const all = await browseAppliances({ timeoutMs: 1_500, addresses: () => ({ [VR]: ['198.51.100.1/24'] }), allow: () => true });
    assert.equal(all.map((f) => f.id).sort(), [ID, otherId].sort(), 'itself too when selfId is not given (the control)');

    // Goodbye: stopping sends TTL 0 for our records, heard in the namespace.
    const bye = spawn('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e',
      `import makeMdns from ${JSON.stringify(MULTICAST_DNS)};
       const m = makeMdns({ interface: '198.51.100.2', bind: '0.0.0.0', loopback: false });
       m.on('ready', () => console.log('ready'));
       m.on('response', (r, rinfo) => { for (const a of r.answers) console.log(JSON.stringify({ from: rinfo.address, name: a.name, type: a.type, ttl: a.ttl })); });
       process.on('SIGTERM', () => { m.destroy(); process.exit(0); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await waitLine(bye, /^ready/, 'the goodbye listener');
      const byeLine = waitLine(bye, new RegExp(`"from":"198\\.51\\.100\\.1","name":"${NAME}\\.local","type":"A","ttl":0`), 'the goodbye (A with TTL 0)', 5_000);
      await responder.stop(); responder = undefined;
      console.log(`  goodbye: ${await byeLine}`);
    } finally { bye.kill(); }
  } finally {
    await responder?.stop();
    other?.kill();
    tcpdump?.kill();
    try { labListener.close(); } catch { /* not bound */ }
    await tearDown();
  }
  const left = (await run(['ip', 'netns', 'list'])).stdout;
  assert.not.match(left, new RegExp(`^${NS}\\b`, 'm'));
});

test('advertise: avahi present writes the service file and stop removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdns-adv-'));
  try {
    const cfg = ConfigSchema.parse({ dataDir: dir, web: { name: 'classroom', port: 8080 } });
    const lines: string[] = [];
    const stop = await advertise(cfg, (s) => lines.push(s), { avahi: true, servicesDir: join(dir, 'services') });
    const xml = readFileSync(join(dir, 'services', 'dovelab.service'), 'utf8');
    assert.is(xml, avahiServiceFile('classroom', 8080, { version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, id: applianceId(dir) }));
    assert.match(lines.join('\n'), /avahi-daemon runs; wrote/);
    await stop();
    assert.is(removeAvahiService(join(dir, 'services')), false, 'already removed');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();

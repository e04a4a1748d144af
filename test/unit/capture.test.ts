// Captures, the pure part (agent/lab/capture.ts and the capture ports of agent/lab/desired.ts) and
// the switch side (syncCaptures in agent/lab/service.ts) against the recording fake world:
// a capture port per group, what it mirrors and until when, the tcpdump filter, who may capture
// which port, pcap framing, and the overrides.captures round trip through a warm Faucet change.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { paths } from '../../agent/config.js';
import {
  CAPTURE_LIMITS, CaptureRefused, captureFilter, captureSeconds, captureTarget, PcapFramer, printableText, type CaptureAsker, type PcapRecord,
} from '../../agent/lab/capture.js';
import { CAPTURE_NETNS, captureOfport, planDesired, PlanError, type DesiredState, type PlanSettings } from '../../agent/lab/desired.js';
import { LabError, labUp, syncCaptures } from '../../agent/lab/service.js';
import { readLabState, type LabState } from '../../agent/lab/state.js';
import { TopologySchema, type Topology } from '../../agent/lesson/schema.js';
import { onlyListsSwapped } from '../../agent/net/faucet/compare.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';
import { rng } from './_rng.js';

const topo = (doc: string | object): Topology => TopologySchema.parse(typeof doc === 'string' ? parse(doc) : doc);
const settings = (groups = 1, extra: Partial<PlanSettings> = {}): PlanSettings => ({ lab: 'cap', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost', ...extra });
const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A faucet.yaml's interfaces, by port number. */
type YamlIface = { name: string; description?: string; output_only?: boolean; mirror?: number[]; native_vlan?: string };
const ifacesOf = (text: string) => (parse(text) as { dps: { dovelab0: { interfaces: Record<number, YamlIface> } } }).dps.dovelab0.interfaces;
const yamlOf = (d: DesiredState) => emitFaucetYaml(d.faucet);

const PLAIN = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`);

const WITH_SHARED = topo(`
dovelab: 1
networks: {lab: {}, office: {shared: true, vlan: 50}}
hosts:
  srv: {interfaces: {eth0: {network: office, ip: 203.0.113.1/24}}}
  h1: {interfaces: {eth0: {network: lab}, eth1: {network: office, ip: dhcp}}}
`);

// ---- capture ports in the plan

test('plan: one capture port per group at N*100+99 (dl<ofport>, cap<ofport>), output_only, copying nothing yet', () => {
  const d = planDesired(PLAIN, settings(3));
  assert.equal(d.captures, [
    { group: 1, ofport: 199, hostEnd: 'dl199', peer: 'cap199', faucetName: 'dovelab-capture-1', mirrors: [] },
    { group: 2, ofport: 299, hostEnd: 'dl299', peer: 'cap299', faucetName: 'dovelab-capture-2', mirrors: [] },
    { group: 3, ofport: 399, hostEnd: 'dl399', peer: 'cap399', faucetName: 'dovelab-capture-3', mirrors: [] },
  ]);
  assert.equal([captureOfport(0), captureOfport(1), captureOfport(30)], [99, 199, 3099]);
  assert.is(CAPTURE_NETNS, 'dovelab-cap');
  const y = ifacesOf(yamlOf(d));
  for (const g of [1, 2, 3]) {
    assert.equal(y[g * 100 + 99], { name: `dovelab-capture-${g}`, description: `capture (group ${g})`, output_only: true }, `group ${g}: no mirror key`);
  }
  assert.not.ok(99 in y, 'no shared hosts: no group-0 capture port');
});

test('plan: a lesson with shared hosts also gets group 0\'s capture port (ofport 99); only groups with hosts get one', () => {
  const d = planDesired(WITH_SHARED, settings(2));
  assert.equal(d.captures!.map((c) => [c.group, c.ofport, c.hostEnd, c.peer, c.faucetName]), [
    [0, 99, 'dl99', 'cap99', 'dovelab-capture-0'], [1, 199, 'dl199', 'cap199', 'dovelab-capture-1'], [2, 299, 'dl299', 'cap299', 'dovelab-capture-2'],
  ]);
  assert.equal(ifacesOf(yamlOf(d))[99], { name: 'dovelab-capture-0', description: 'capture (shared hosts)', output_only: true });
  // Only shared hosts: the groups have no ports, so no group capture port either.
  const onlyShared = planDesired(topo('{dovelab: 1, networks: {office: {shared: true, vlan: 50}}, hosts: {srv: {interfaces: {eth0: {network: office}}}}}'), settings(3));
  assert.equal(onlyShared.captures!.map((c) => c.ofport), [99]);
});

test('plan: a capture override mirrors its port into its own group\'s capture port only, while unexpired', () => {
  const until = iso(NOW + 60_000);
  const plan = (now: number | undefined, captures: Record<string, string>) =>
    planDesired(WITH_SHARED, settings(2, { now, overrides: { captures } }));
  const mirrorsOf = (d: DesiredState) => Object.fromEntries(d.captures!.map((c) => [c.group, c.mirrors]));

  assert.equal(mirrorsOf(plan(NOW, {})), { 0: [], 1: [], 2: [] }, 'nothing captured: nothing mirrored');
  assert.equal(mirrorsOf(plan(NOW, { 'g2-h1-eth1': until })), { 0: [], 1: [], 2: [202] });
  assert.equal(mirrorsOf(plan(NOW, { 'g1-h1-eth0': until, 'g1-h1-eth1': until, 'srv-eth0': until })), { 0: [50], 1: [101, 102], 2: [] });
  // The `now` boundary: until is exclusive.
  assert.equal(mirrorsOf(plan(Date.parse(until) - 1, { 'g1-h1-eth0': until })), { 0: [], 1: [101], 2: [] }, '1 ms before the end');
  assert.equal(mirrorsOf(plan(Date.parse(until), { 'g1-h1-eth0': until })), { 0: [], 1: [], 2: [] }, 'at the end');
  assert.equal(mirrorsOf(plan(Date.parse(until) + 1, { 'g1-h1-eth0': until })), { 0: [], 1: [], 2: [] }, 'after the end');
  // Only the unexpired one of two.
  assert.equal(mirrorsOf(plan(NOW, { 'g1-h1-eth0': iso(NOW - 1), 'g1-h1-eth1': until })), { 0: [], 1: [102], 2: [] });
  // No `now` given: nothing copies (documented default); a port name not in the lab is ignored.
  assert.equal(mirrorsOf(plan(undefined, { 'g1-h1-eth0': until })), { 0: [], 1: [], 2: [] });
  assert.equal(mirrorsOf(plan(NOW, { 'g9-h1-eth0': until, 'g1-nope-eth0': until })), { 0: [], 1: [], 2: [] });
  // In faucet.yaml: the capture port lists the mirrored port; the lab port itself is unchanged.
  const y = ifacesOf(yamlOf(plan(NOW, { 'g1-h1-eth0': until })));
  assert.equal(y[199], { name: 'dovelab-capture-1', description: 'capture (group 1)', output_only: true, mirror: [101] });
  assert.equal(y[299]!.mirror, undefined);
});

test('plan: starting and ending a capture only swaps mirror lists (a warm change, no Faucet pre-check)', () => {
  const none = yamlOf(planDesired(WITH_SHARED, settings(2, { now: NOW })));
  const one = yamlOf(planDesired(WITH_SHARED, settings(2, { now: NOW, overrides: { captures: { 'g1-h1-eth0': iso(NOW + 1000) } } })));
  const three = yamlOf(planDesired(WITH_SHARED, settings(2, { now: NOW, overrides: { captures: { 'g1-h1-eth0': iso(NOW + 1000), 'g2-h1-eth1': iso(NOW + 1000), 'srv-eth0': iso(NOW + 1000) } } })));
  assert.is.not(none, one, 'the configs differ');
  assert.ok(onlyListsSwapped(none, one), 'start');
  assert.ok(onlyListsSwapped(one, none), 'end');
  assert.ok(onlyListsSwapped(one, three));
  // Positive control: a change of the lab itself is not a list swap.
  assert.not.ok(onlyListsSwapped(none, yamlOf(planDesired(WITH_SHARED, settings(3, { now: NOW })))), 'another group is no warm change');
});

test('plan: at most 98 interfaces per group and 49 for shared hosts (the last number is the capture port)', () => {
  const many = (n: number, shared: boolean) => topo({
    dovelab: 1,
    networks: shared ? { office: { shared: true, vlan: 50 } } : { lab: {} },
    hosts: { big: { interfaces: Object.fromEntries(Array.from({ length: n }, (_, i) => [`eth${i}`, { network: shared ? 'office' : 'lab' }])) } },
  });
  const d98 = planDesired(many(98, false), settings(2));
  assert.equal([Math.min(...d98.ports.map((p) => p.ofport)), Math.max(...d98.ports.filter((p) => p.group === 1).map((p) => p.ofport))], [101, 198]);
  assert.ok(yamlOf(d98), 'emits: 198 and 199 do not clash');
  assert.throws(() => planDesired(many(99, false), settings(2)), (e: unknown) => e instanceof PlanError && (e as Error).message === 'group 1: more than 98 interfaces');
  const d49 = planDesired(many(49, true), settings(1));
  assert.equal(Math.max(...d49.ports.map((p) => p.ofport)), 98);
  assert.ok(yamlOf(d49));
  assert.throws(() => planDesired(many(50, true), settings(1)), (e: unknown) => e instanceof PlanError && (e as Error).message === 'group 0: more than 49 interfaces');
});

// ---- the filter

const TWO_VLANS = topo(`
dovelab: 1
networks: {lab: {}, dmz: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  h2: {interfaces: {eth0: {network: lab}}}
  r1: {interfaces: {eth0: {network: lab}, eth1: {network: dmz}}}
  web: {interfaces: {eth0: {network: dmz}}}
`);

test('captureFilter: the port\'s MAC, and multicast except from the group\'s hosts on its other VLANs', () => {
  const d = planDesired(TWO_VLANS, settings(2));
  const port = (g: number, name: string) => d.ports.find((p) => p.group === g && p.faucetName === `g${g}-${name}`)!;
  const h1 = port(1, 'h1-eth0');
  const f = captureFilter(d, h1);
  const otherVlan = [port(1, 'r1-eth1').mac, port(1, 'web-eth0').mac].sort();
  assert.is(f, `ether host ${h1.mac} or (ether multicast and not (${otherVlan.map((m) => `ether src ${m}`).join(' or ')}))`);
  // Same VLAN (h2, r1.eth0) is not excluded; nor is the other group (its own capture port).
  for (const same of [port(1, 'h2-eth0'), port(1, 'r1-eth0'), port(2, 'web-eth0')]) assert.not.ok(f.includes(same.mac), same.faucetName);
  // From the dmz side the lab's hosts are the excluded ones.
  const fw = captureFilter(d, port(1, 'web-eth0'));
  assert.match(fw, `ether host ${port(1, 'web-eth0').mac} or (ether multicast and not (`);
  for (const m of [port(1, 'h1-eth0'), port(1, 'h2-eth0'), port(1, 'r1-eth0')]) assert.ok(fw.includes(`ether src ${m.mac}`), m.faucetName);
  assert.not.ok(fw.includes(port(1, 'r1-eth1').mac));
  // One VLAN in the group: all multicast.
  const plain = planDesired(PLAIN, settings(1));
  assert.is(captureFilter(plain, plain.ports[0]!), `ether host ${plain.ports[0]!.mac} or ether multicast`);
});

// Regression (was a bug; agent/lab/capture.ts captureFilter): only the capture's *own group's* ports on other VLANs are
// excluded from multicast. A group port on a shared network (h1.eth1 on office, VLAN 50) also
// carries the broadcasts of the shared host srv (group 0) and of the other groups' h1.eth1. When
// h1.eth1 is captured too, the capture port copies those, and h1.eth0's capture shows them
// although h1.eth0 (VLAN 101) never saw them.
test('captureFilter: broadcasts of shared-VLAN hosts of other groups (and group 0) leak into a capture of a group-VLAN port', () => {
  const d = planDesired(WITH_SHARED, settings(2));
  const by = (n: string) => d.ports.find((p) => p.faucetName === n)!;
  const f = captureFilter(d, by('g1-h1-eth0'));
  assert.ok(f.includes(`ether src ${by('g1-h1-eth1').mac}`), 'control: the own group\'s office port is excluded');
  assert.ok(f.includes(`ether src ${by('srv-eth0').mac}`), `srv (VLAN 50, reaches g1-h1-eth1) is not excluded: ${f}`);
  assert.ok(f.includes(`ether src ${by('g2-h1-eth1').mac}`), `g2-h1-eth1 (VLAN 50, reaches g1-h1-eth1) is not excluded: ${f}`);
});

// ---- who may capture what

const CTRL = topo(`
dovelab: 1
networks: {lab: {}, office: {shared: true, vlan: 50}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  h2: {interfaces: {eth0: {network: lab}, eth1: {network: lab}}}
  srv: {interfaces: {eth0: {network: office}}}
controls: {capture: [h1.eth0]}
`);
const ctrlState = (): LabState => ({ lab: 'cap', source: '/x', groups: 2, topology: CTRL, startedAt: iso(NOW), overrides: {} });
const refusal = (fn: () => unknown): CaptureRefused => {
  try { fn(); } catch (e) { if (e instanceof CaptureRefused) return e; throw e; }
  assert.unreachable('should have been refused');
  throw new Error('unreachable');
};

test('captureTarget: a student gets only what controls.capture lists, on its own group\'s port', () => {
  const st = ctrlState();
  const d = planDesired(CTRL, settings(2, { now: NOW }));
  const g2 = captureTarget(st, d, { group: 2 }, 'h1.eth0');
  assert.equal([g2.port.faucetName, g2.port.ofport, g2.capture.ofport, g2.capture.peer, g2.netns], ['g2-h1-eth0', 201, 299, 'cap299', CAPTURE_NETNS]);
  assert.is(g2.filter, captureFilter(d, g2.port));
  assert.ok(g2.filter.includes(g2.port.mac));
  assert.is(captureTarget(st, d, { group: 1 }, 'h1.eth0').port.faucetName, 'g1-h1-eth0');
  for (const target of ['h2.eth0', 'h2.eth1', 'srv.eth0', 'nope.eth0', 'h1.eth9', '__proto__.eth0']) {
    const e = refusal(() => captureTarget(st, d, { group: 1 }, target));
    assert.is(e.status, 403, target);
    assert.match(e.message, 'does not let groups capture');
  }
  // A shared host listed anyway (the loader refuses that; the gate refuses it too).
  const sharedListed = { ...st, topology: { ...CTRL, controls: { acls: {}, capture: ['srv.eth0'] } } };
  assert.is(refusal(() => captureTarget(sharedListed, d, { group: 1 }, 'srv.eth0')).status, 403);
  assert.is(refusal(() => captureTarget(st, d, { group: 1 }, 'h1')).status, 400, 'malformed before allowed');
});

test('captureTarget: the instructor may capture any port; group needed for per-group hosts, ignored for shared ones', () => {
  const st = ctrlState();
  const d = planDesired(CTRL, settings(2, { now: NOW }));
  const teacher = (group?: number): CaptureAsker => ({ instructor: true, group });
  assert.is(captureTarget(st, d, teacher(2), 'h2.eth1').port.faucetName, 'g2-h2-eth1');
  assert.is(captureTarget(st, d, teacher(1), 'h2.eth1').capture.ofport, 199);
  const srv = captureTarget(st, d, teacher(), 'srv.eth0');
  assert.equal([srv.port.faucetName, srv.port.group, srv.capture.ofport, srv.capture.peer], ['srv-eth0', 0, 99, 'cap99']);
  assert.is(captureTarget(st, d, teacher(2), 'srv.eth0').port.group, 0, 'shared host: group 0 whatever was asked');
  const cases: [CaptureAsker, string, number, string][] = [
    [teacher(), 'h1.eth0', 400, 'which group?'],
    [teacher(0), 'h1.eth0', 400, 'the lab has groups 1..2'],
    [teacher(3), 'h1.eth0', 400, 'the lab has groups 1..2'],
    [teacher(-1), 'h1.eth0', 400, 'the lab has groups 1..2'],
    [teacher(1), 'nope.eth0', 404, 'unknown host "nope"'],
    [teacher(1), 'constructor.eth0', 404, 'unknown host'],
    [teacher(1), 'h1.eth7', 404, 'host h1 has no interface eth7'],
    [teacher(1), 'h1.toString', 404, 'no interface'],
    [teacher(1), 'h1', 400, 'expected host.interface'],
    [teacher(1), 'h1.eth0.x', 400, 'expected host.interface'],
    [teacher(1), '.eth0', 400, 'expected host.interface'],
    [teacher(1), '', 400, 'expected host.interface'],
  ];
  for (const [asker, target, status, msg] of cases) {
    const e = refusal(() => captureTarget(st, d, asker, target));
    assert.is(e.status, status, `${target} (group ${'group' in asker ? asker.group : '-'}): ${e.message}`);
    assert.match(e.message, msg);
  }
});

test('captureSeconds: default 30, whole seconds 1..300, anything else 400', () => {
  assert.is(captureSeconds(undefined), CAPTURE_LIMITS.defaultSeconds);
  assert.is(captureSeconds(null), 30);
  assert.is(captureSeconds(1), 1);
  assert.is(captureSeconds(300), 300);
  for (const bad of [0, -5, 301, 1.5, Number.NaN, Infinity, '30', true, {}]) {
    const e = refusal(() => captureSeconds(bad));
    assert.is(e.status, 400, String(bad));
    assert.match(e.message, 'seconds: expected a whole number 1..300');
  }
});

// ---- pcap framing


interface Rec { tsSec: number; tsUsec: number; origLen: number; data: Buffer }
function pcapBytes(recs: Rec[], le = true, magic = 0xa1b2c3d4): Buffer {
  const u32 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u16 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const h = Buffer.alloc(24);
  u32(h, magic, 0); u16(h, 2, 4); u16(h, 4, 6); u32(h, 0, 8); u32(h, 0, 12); u32(h, 65535, 16); u32(h, 1, 20);
  return Buffer.concat([h, ...recs.map((r) => {
    const rh = Buffer.alloc(16);
    u32(rh, r.tsSec, 0); u32(rh, r.tsUsec, 4); u32(rh, r.data.length, 8); u32(rh, r.origLen, 12);
    return Buffer.concat([rh, r.data]);
  })]);
}
function randomRecords(rand: () => number, n: number): Rec[] {
  return Array.from({ length: n }, (_, i) => {
    const data = Buffer.alloc(Math.floor(rand() * 1600));
    for (let k = 0; k < data.length; k++) data[k] = Math.floor(rand() * 256);
    return { tsSec: 1_790_000_000 + i, tsUsec: Math.floor(rand() * 1e6), origLen: data.length + Math.floor(rand() * 3) * 100, data };
  });
}
const plainRecs = (rs: PcapRecord[]) => rs.map((r) => ({ tsSec: r.tsSec, tsUsec: r.tsUsec, origLen: r.origLen, data: r.data.toString('hex') }));
const expected = (rs: Rec[]) => rs.map((r) => ({ tsSec: r.tsSec, tsUsec: r.tsUsec, origLen: r.origLen, data: r.data.toString('hex') }));

test('PcapFramer: the same pcap fed in random-size chunks (several seeds) gives the same whole records', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    const rand = rng(seed);
    const recs = randomRecords(rand, 40);
    const bytes = pcapBytes(recs);
    const f = new PcapFramer();
    const got: PcapRecord[] = [];
    for (let at = 0; at < bytes.length;) {
      // Mostly small chunks (down to empty and single bytes), sometimes big ones.
      const size = rand() < 0.1 ? Math.floor(rand() * 5000) : Math.floor(rand() * 40);
      const chunk = bytes.subarray(at, at + size);
      at += chunk.length;
      got.push(...f.push(chunk));
    }
    assert.equal(plainRecs(got), expected(recs), `seed ${seed}`);
    assert.equal(f.header, bytes.subarray(0, 24), `seed ${seed}: header`);
    assert.equal(Buffer.concat(got.map((r) => r.raw)), bytes.subarray(24), `seed ${seed}: raw records are the stream`);
    // One push of the whole stream: the same.
    assert.equal(plainRecs(new PcapFramer().push(bytes)), expected(recs));
  }
});

test('PcapFramer: nothing before a record is whole; a record returned once is not returned again', () => {
  const recs = randomRecords(rng(7), 2);
  const bytes = pcapBytes(recs);
  const f = new PcapFramer();
  assert.equal(f.push(bytes.subarray(0, 23)), []);
  assert.is(f.header, undefined, 'no header from 23 bytes');
  const first = 24 + 16 + recs[0]!.data.length;
  assert.equal(f.push(bytes.subarray(23, first - 1)), []);
  assert.equal(plainRecs(f.push(bytes.subarray(first - 1, first))), expected(recs.slice(0, 1)));
  assert.equal(plainRecs(f.push(bytes.subarray(first))), expected(recs.slice(1)));
  assert.equal(f.push(Buffer.alloc(0)), []);
});

test('PcapFramer: big-endian and nanosecond magics are read; a stream that is not pcap throws', () => {
  const recs = randomRecords(rng(9), 5);
  assert.equal(plainRecs(new PcapFramer().push(pcapBytes(recs, false))), expected(recs), 'big-endian');
  assert.equal(plainRecs(new PcapFramer().push(pcapBytes(recs, true, 0xa1b23c4d))), expected(recs), 'nanosecond, little-endian');
  assert.equal(plainRecs(new PcapFramer().push(pcapBytes(recs, false, 0xa1b23c4d))), expected(recs), 'nanosecond, big-endian');
  assert.throws(() => new PcapFramer().push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), /not a pcap stream \(magic/);
  const pcapng = Buffer.alloc(28); pcapng.writeUInt32LE(0x0a0d0d0a, 0);
  assert.throws(() => new PcapFramer().push(pcapng), /not a pcap stream/);
});

test('PcapFramer: a record length over 256 KiB throws (at its header, before its bytes); 256 KiB exactly is a record', () => {
  const head = pcapBytes([]);
  const rh = Buffer.alloc(16); rh.writeUInt32LE(262_145, 8); rh.writeUInt32LE(262_145, 12);
  assert.throws(() => new PcapFramer().push(Buffer.concat([head, rh])), /pcap record of 262145 bytes/);
  const ok = pcapBytes([{ tsSec: 1, tsUsec: 2, origLen: 262_144, data: Buffer.alloc(262_144, 0x61) }]);
  const got = new PcapFramer().push(ok);
  assert.is(got.length, 1);
  assert.is(got[0]!.data.length, 262_144);
});

test('printableText: printable runs of 4+ characters joined with ·, cut at max with …; none -> undefined', () => {
  const frame = Buffer.concat([Buffer.from([0x0e, 0, 1, 2, 3, 4, 0x45, 0]), Buffer.from('secret: tulip'), Buffer.from([0, 0xff, 0x10]), Buffer.from('abc'), Buffer.from([1]), Buffer.from('GET /x')]);
  assert.is(printableText(frame), 'secret: tulip · GET /x');
  assert.is(printableText(Buffer.from([0, 1, 2, 0x41, 0x42, 0x43, 0, 0xfe])), undefined, 'a run of 3');
  assert.is(printableText(Buffer.from('   ab   ')), undefined, 'spaces around 2 characters');
  assert.is(printableText(Buffer.from('  word  ')), 'word', 'trimmed');
  assert.is(printableText(Buffer.alloc(0)), undefined);
  assert.is(printableText(Buffer.from([0xe9, 0x61, 0x62, 0xfc, 0x63, 0x64, 0x65, 0x7f, 0x66, 0x67, 0x68, 0xa0])), undefined, 'bytes from 0x7f up are not text');
  assert.is(printableText(Buffer.from('café crème')), undefined, 'UTF-8 bytes split the runs: caf, " cr", me');
  assert.is(printableText(Buffer.from('résumé: tulips')), ': tulips', 'only the run after é is 4+');
  const long = printableText(Buffer.from('x'.repeat(500)))!;
  assert.is(long.length, 120);
  assert.ok(long.endsWith('…'));
  assert.is(printableText(Buffer.from('abcdefghij'), 6), 'abcde…');
  assert.is(printableText(Buffer.from('abcdef'), 6), 'abcdef', 'exactly max: not cut');
});

// ---- syncCaptures: the switch side, over the fake world

const LESSON = `
dovelab: 1
id: capsvc
networks: {lab: {}, office: {shared: true, vlan: 50}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
  srv: {interfaces: {eth0: {network: office, ip: 203.0.113.1/24}}}
`;

type Ctx = ReturnType<FakeWorld['context']>;
async function withLab(fn: (s: { w: FakeWorld; ctx: Ctx; labJson: string }) => Promise<void>, up = true): Promise<void> {
  const t = tempConfig();
  const w = new FakeWorld();
  const ctx = w.context(t.cfg);
  try {
    if (up) {
      const dir = join(t.dir, 'lesson');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'lesson.yaml'), LESSON);
      await labUp(ctx, dir, 2);
    }
    await fn({ w, ctx, labJson: paths(t.cfg).labState });
  } finally { t.done(); }
}
async function rejects(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  assert.unreachable('should have failed');
  throw new Error('unreachable');
}

test('syncCaptures: writes overrides.captures and mirrors the port into its group\'s capture port, warm (no check, nothing else touched)', () => withLab(async ({ w, ctx, labJson }) => {
  const now = Date.now();
  assert.equal(ifacesOf(w.faucetLive!)[199]!.mirror, undefined, 'control: nothing copied after up');
  const mark = w.calls.length;
  const until = iso(now + 60_000);
  const r = await syncCaptures(ctx, { 'g1-h1-eth0': until }, now);
  assert.ok(r, 'a reconcile report');
  assert.equal(readLabState(labJson)!.overrides?.captures, { 'g1-h1-eth0': until });
  const y = ifacesOf(w.faucetLive!);
  assert.equal(y[199]!.mirror, [101]);
  assert.equal([y[99]!.mirror, y[299]!.mirror], [undefined, undefined], 'other capture ports unchanged');
  assert.ok(w.has('faucet.apply', mark));
  assert.not.ok(w.has('faucet.check', mark), 'a mirror-list swap skips Faucet\'s pre-check');
  assert.equal(w.changes(mark).filter((c) => !c.startsWith('firewall.')), ['faucet.apply'], `only Faucet changed: ${w.changes(mark)}`);

  // Two ports of group 1 and the shared host's: each into its own capture port.
  await syncCaptures(ctx, { 'g1-h1-eth0': until, 'g1-h2-eth0': until, 'srv-eth0': until }, now);
  const y2 = ifacesOf(w.faucetLive!);
  assert.equal([y2[99]!.mirror, y2[199]!.mirror, y2[299]!.mirror], [[50], [101, 102], undefined]);
  assert.equal(Object.keys(readLabState(labJson)!.overrides!.captures!), ['g1-h1-eth0', 'g1-h2-eth0', 'srv-eth0']);
}));

test('syncCaptures: the same set again returns undefined and applies nothing; a changed set applies', () => withLab(async ({ w, ctx, labJson }) => {
  const now = Date.now();
  const until = iso(now + 60_000);
  assert.ok(await syncCaptures(ctx, { 'g2-h2-eth0': until }, now));
  const before = readFileSync(labJson, 'utf8');
  const mark = w.calls.length;
  assert.is(await syncCaptures(ctx, { 'g2-h2-eth0': until }, now), undefined);
  assert.not.ok(w.has('faucet.apply', mark), 'no apply');
  assert.equal(w.changes(mark), [], 'no change at all');
  assert.is(readFileSync(labJson, 'utf8'), before, 'lab.json untouched');
  // Positive control: a later end is a change (lab.json and an apply).
  const later = iso(now + 120_000);
  assert.ok(await syncCaptures(ctx, { 'g2-h2-eth0': later }, now));
  assert.equal(readLabState(labJson)!.overrides?.captures, { 'g2-h2-eth0': later });
  assert.ok(w.has('faucet.apply', mark));
}));

test('syncCaptures: expired entries are dropped; an empty set removes overrides.captures and the copy', () => withLab(async ({ w, ctx, labJson }) => {
  const now = Date.now();
  const until = iso(now + 60_000);
  await syncCaptures(ctx, { 'g1-h1-eth0': iso(now - 1), 'g1-h2-eth0': until, 'g2-h1-eth0': iso(now) }, now);
  assert.equal(readLabState(labJson)!.overrides?.captures, { 'g1-h2-eth0': until }, 'past and "ends now" dropped');
  assert.equal(ifacesOf(w.faucetLive!)[199]!.mirror, [102]);
  assert.equal(ifacesOf(w.faucetLive!)[299]!.mirror, undefined);
  await syncCaptures(ctx, {}, now);
  const st = readLabState(labJson)!;
  assert.not.ok(st.overrides && 'captures' in st.overrides, 'overrides.captures removed');
  assert.equal(ifacesOf(w.faucetLive!)[199]!.mirror, undefined, 'the capture port copies nothing again');
  const mark = w.calls.length;
  assert.is(await syncCaptures(ctx, { 'g1-h1-eth0': iso(now - 5) }, now), undefined, 'only an expired one: nothing to do');
  assert.not.ok(w.has('faucet.apply', mark));
}));

test('syncCaptures: an unknown port is refused (nothing written); with no lab it throws', async () => {
  await withLab(async ({ w, ctx, labJson }) => {
    const now = Date.now();
    const before = readFileSync(labJson, 'utf8');
    const mark = w.calls.length;
    const e = await rejects(syncCaptures(ctx, { 'g1-h1-eth0': iso(now + 60_000), 'g3-h1-eth0': iso(now + 60_000) }, now));
    assert.instance(e, LabError);
    assert.is(e.message, 'not a port of the lab: g3-h1-eth0');
    assert.is(readFileSync(labJson, 'utf8'), before);
    assert.equal(w.changes(mark), []);
    // Control: the known one alone goes through.
    assert.ok(await syncCaptures(ctx, { 'g1-h1-eth0': iso(now + 60_000) }, now));
  });
  await withLab(async ({ ctx }) => {
    const e = await rejects(syncCaptures(ctx, {}, Date.now()));
    assert.instance(e, LabError);
    assert.match(e.message, 'no lab is running');
  }, false);
});

// Regression (was a bug; agent/lab/service.ts, syncCaptures -> change -> desiredOf(ctx.cfg, next) without `now`):
// syncCaptures keeps the entries that are unexpired at the `now` it is given, but the state it
// reconciles is planned at Date.now(). Given a `now` other than the wall clock (a test clock, or a
// caller that computed `now` before waiting up to two minutes for the lab lock), lab.json says the
// port is captured while the applied faucet.yaml does not copy it (or the other way round).
test('syncCaptures: the applied config honours the `now` it is given (not the wall clock)', () => withLab(async ({ w, ctx, labJson }) => {
  const now = Date.now() - 3_600_000;
  const until = iso(now + 60_000);
  await syncCaptures(ctx, { 'g1-h1-eth0': until }, now);
  assert.equal(readLabState(labJson)!.overrides?.captures, { 'g1-h1-eth0': until }, 'control: kept as unexpired at `now`');
  assert.equal(ifacesOf(w.faucetLive!)[199]!.mirror, [101], 'lab.json says captured, so the switch should copy it');
}));

test.run();

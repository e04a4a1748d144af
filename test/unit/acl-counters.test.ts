// ACL hit counters: cookies per (ACL, rule) in faucet.yaml, dump-flows parsing (a real dump of
// the acl-firewall lesson with web-only on g1's web.eth0 and no-ping on g2's), the mapping to
// lesson ACLs / host.interface / group, and the acl_hits check.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ACL_SLOTS, aclSlots, cookieTable, ruleCookie, RULES_PER_ACL } from '../../agent/net/faucet/cookies.js';
import { aclCookieMap, aclHits, FlowParseError, parseDumpFlows } from '../../agent/net/faucet/acl-hits.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { ALLOW_ALL, allowAll, type FaucetModel } from '../../agent/net/faucet/model.js';
import { planDesired } from '../../agent/lab/desired.js';
import { judgeCounter, planChecks, type CounterProbe } from '../../agent/lab/checks.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { crossCheck } from '../../agent/lesson/load.js';
import { aclCounterRows, groupCounterRows } from '../../agent/web/acl-counters.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/acl-counters/', import.meta.url));
const dump = readFileSync(`${FIX}dump-flows.txt`, 'utf8');
const liveYaml = readFileSync(`${FIX}faucet.yaml`, 'utf8');
const LESSON = fileURLToPath(new URL('../../../lessons/acl-firewall/lesson.yaml', import.meta.url));
const topology = TopologySchema.parse(parse(readFileSync(LESSON, 'utf8')));

const model = (acls: Record<string, number>): FaucetModel => ({
  dp: { name: 'dovelab0', dpId: 1, interfaces: [{ number: 101, name: 'g1-h1-eth0', native_vlan: 'g1-lab', acls_in: Object.keys(acls) }] },
  vlans: [{ name: 'g1-lab', vid: 101 }],
  acls: Object.fromEntries(Object.entries(acls).map(([n, k]) => [n, Array.from({ length: k }, () => allowAll()[0]!)])),
});

test('every rule in faucet.yaml gets a cookie in 1..2**16; the table maps each back to its ACL and rule', () => {
  const m = model({ [ALLOW_ALL]: 1, 'lesson-no-ping': 2, 'lesson-web-only': 3 });
  const doc = parse(emitFaucetYaml(m)) as { acls: Record<string, { rule: { cookie: number } }[]> };
  const table = cookieTable({ [ALLOW_ALL]: 1, 'lesson-no-ping': 2, 'lesson-web-only': 3 });
  const seen = new Set<number>();
  for (const [acl, rules] of Object.entries(doc.acls)) {
    rules.forEach((r, rule) => {
      const c = r.rule.cookie;
      assert.ok(Number.isInteger(c) && c >= 1 && c <= 2 ** 16, `${acl} ${rule}: ${c}`);
      assert.not.ok(seen.has(c), `cookie ${c} used twice`);
      seen.add(c);
      assert.equal(table.get(c), { acl, rule });
    });
  }
  assert.is(seen.size, 6);
});

test('an ACL keeps its cookies when other ACLs come and go (slots hash the name)', () => {
  const a = aclSlots(['lesson-no-ping', ALLOW_ALL]);
  const b = aclSlots(['lesson-no-ping', ALLOW_ALL, 'lesson-web-only', 'lesson-x', 'appliance-up0']);
  assert.is(a.get('lesson-no-ping'), b.get('lesson-no-ping'));
  assert.is(a.get(ALLOW_ALL), b.get(ALLOW_ALL));
});

test('slot clashes move to a free slot: 1000 ACLs, all distinct, never slot 0; rules past the limit get none', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `acl-${i}`);
  const slots = [...aclSlots(names).values()];
  assert.is(new Set(slots).size, 1000);
  assert.ok(slots.every((s) => s >= 1 && s < ACL_SLOTS));
  assert.is(ruleCookie(5, RULES_PER_ACL - 1), 5 * RULES_PER_ACL + RULES_PER_ACL - 1);
  assert.is(ruleCookie(5, RULES_PER_ACL), undefined);
  assert.ok(ruleCookie(ACL_SLOTS - 1, RULES_PER_ACL - 1)! <= 2 ** 16, "within Faucet's range");
});

test('dump-flows: every flow line with its cookie, table, in_port and counters; the header is skipped', () => {
  const flows = parseDumpFlows(dump);
  assert.is(flows.length, dump.split('\n').filter((l) => l.trim().startsWith('cookie=')).length);
  assert.ok(flows.length > 20);
  const drop = flows.find((f) => f.cookie === 0xff02)!;
  assert.equal(drop, { cookie: 0xff02, table: 0, inPort: 102, priority: 20478, packets: 3, bytes: 294 });
  const faucetOwn = flows.filter((f) => f.cookie === 0x5adc15c0);
  assert.ok(faucetOwn.length > 10, "Faucet's own flows are parsed too");
});

test('dump-flows: a flow line without counters is an error, not zero hits', () => {
  assert.throws(() => parseDumpFlows(' cookie=0x1, duration=1s, table=0, priority=1 actions=drop'), (e: Error) => e instanceof FlowParseError && /n_packets/.test(e.message));
  assert.throws(() => parseDumpFlows(' cookie=0x1, table=0, n_packets=x, n_bytes=0, priority=1 actions=drop'), /n_packets=x/);
  assert.equal(parseDumpFlows('OFPST_FLOW reply (OF1.3) (xid=0x2):\n\n'), []);
});

test('hits of the real dump: web-only on g1-web-eth0 dropped the ping replies, no-ping on g2-web-eth0 too', () => {
  const hits = aclHits(parseDumpFlows(dump), aclCookieMap(liveYaml));
  const of = (acl: string, port: string) => hits.filter((h) => h.acl === acl && h.port === port).map((h) => [h.rule, h.packets, h.bytes]);
  assert.equal(of('lesson-web-only', 'g1-web-eth0'), [[0, 0, 0], [1, 1, 42], [2, 3, 294]]);
  assert.equal(of('lesson-no-ping', 'g2-web-eth0'), [[0, 2, 196], [1, 1, 42]]);
  assert.equal(of('lesson-web-only', 'g2-web-eth0'), []);
  assert.ok(hits.some((h) => h.acl === ALLOW_ALL && h.port === 'g1-client-eth0' && h.packets > 0), 'the final allow counts too');
  assert.not.ok(hits.some((h) => h.acl === 'lesson-no-ping' && h.port === 'g1-web-eth0'));
});

const desired = planDesired(topology, { lab: 'acl', groups: 2, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost',
  overrides: { acls: { 'g1-web-eth0': ['web-only'], 'g2-web-eth0': ['no-ping'] } } } as Parameters<typeof planDesired>[1]);
const hits = aclHits(parseDumpFlows(dump), aclCookieMap(liveYaml));

test('rows for the pages: lesson ACL names, host.interface, group, the rule\'s action and match', () => {
  const rows = aclCounterRows(topology, desired, hits);
  assert.equal(rows.filter((r) => r.group === 1).map((r) => `${r.target} ${r.acl} ${r.rule} ${r.action} ${r.match} ${r.packets}`), [
    'web.eth0 web-only 0 allow ip_proto=tcp tcp_src=80 0',
    'web.eth0 web-only 1 allow eth_type=arp 1',
    'web.eth0 web-only 2 drop any 3',
  ]);
  assert.equal(rows.filter((r) => r.group === 2).map((r) => `${r.acl} ${r.rule} ${r.packets}`), ['no-ping 0 2', 'no-ping 1 1']);
  assert.not.ok(rows.some((r) => r.acl === ALLOW_ALL || r.acl === 'dovelab-allow'), 'only lesson ACLs');
  assert.equal(groupCounterRows(topology, rows, 2).map((r) => r.group), [2, 2]);
  assert.equal(groupCounterRows({ ...topology, controls: { acls: {}, capture: [] } }, rows, 2), [], 'no switches, no rows');
});

test('acl_hits check: pass when the rule counted enough on the group\'s port; fail when not switched on or too few', () => {
  const probe = (g: number) => planChecks(topology, desired, g).find((p) => 'kind' in p && p.kind === 'acl_hits') as CounterProbe;
  assert.equal(probe(1).ports, ['g1-web-eth0']);
  assert.is(probe(1).acl, 'lesson-web-only');
  assert.is(judgeCounter(probe(1), hits, 1).status, 'pass');
  const g2 = judgeCounter(probe(2), hits, 1);
  assert.is(g2.status, 'fail');
  assert.match(g2.reason, /web-only is not switched on there/);
  assert.is(judgeCounter({ ...probe(1), min: 4 }, hits, 1).status, 'fail', '3 counted, 4 asked');
  assert.match(judgeCounter({ ...probe(1), min: 4 }, hits, 1).reason, /3 counted/);
});

test('lesson check acl_hits: unknown ACL, rule out of range and unknown port are named; the bundled lesson is clean', () => {
  assert.equal(crossCheck(topology), []);
  const bad = TopologySchema.parse({ ...parse(readFileSync(LESSON, 'utf8')), tasks: [
    { id: 'a', check: { acl_hits: { acl: 'nope', rule: 0 } } },
    { id: 'b', check: { acl_hits: { acl: 'web-only', rule: 3 } } },
    { id: 'c', check: { acl_hits: { acl: 'web-only', rule: 0, on: 'web.eth9' } } },
  ] });
  assert.equal(crossCheck(bad).map((p) => p.path), ['tasks.0.check.acl_hits.acl', 'tasks.1.check.acl_hits.rule', 'tasks.2.check.acl_hits.on']);
  assert.match(crossCheck(bad)[1]!.message, /rules 0\.\.2/);
  assert.throws(() => TopologySchema.parse({ ...parse(readFileSync(LESSON, 'utf8')), tasks: [{ id: 'x', check: { acl_hits: { acl: 'web-only', rule: 0 }, command: { on: 'client', run: 'true' } } }] }), /exactly one kind/);
});

test.run();

// ACL rule hit counters on the real switch: each rule's flows carry their own cookie, so a drop
// moves the drop rule's counter and not the allow rule's (and allowed traffic moves the allow
// rule's: the positive control). Also: switching the ACL on with cookies is still a warm change,
// and the lesson's acl_hits task passes only in the group that did the work.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChecks } from '../../agent/lab/check-run.js';
import { checkIo, desiredOf, labDown, labUp, setAcls } from '../../agent/lab/service.js';
import type { LabState } from '../../agent/lab/state.js';
import { parseDumpFlows, type AclHit, type FlowStat } from '../../agent/net/faucet/acl-hits.js';
import { dumpFlows } from '../../agent/net/openflow/client.js';
import { ofctlVia } from '../../agent/net/ovs-exec.js';
import { paths } from '../../agent/config.js';
import { cfg, docker, inHost, pingLoss, stack, waitFor } from './_stack.js';
import { loud } from '../loud-hook.js';

const LESSON = fileURLToPath(new URL('../../../lessons/acl-firewall', import.meta.url));
let state: LabState;

const hitsOf = async () => {
  const ctx = await stack();
  assert.ok(ctx.aclHits, 'the lab context reads ACL counters');
  return ctx.aclHits!();
};
/** Packets counted by web-only's rule `rule` on group `g`'s web.eth0. */
const count = (hits: AclHit[], rule: number, g = 1) =>
  hits.filter((h) => h.acl === 'lesson-web-only' && h.rule === rule && h.port === `g${g}-web-eth0`).reduce((a, h) => a + h.packets, 0);

test.before(loud(async () => {
  state = (await labUp(await stack(), LESSON, 2)).state;
}));

test.after(async () => { await labDown(await stack()).catch(() => {}); });

test('switching web-only on (rules with cookies) is a warm change; its flows carry one cookie per rule', async () => {
  const r = await setAcls(await stack(), 'web.eth0', ['web-only'], 1);
  assert.ok(r.faucet?.changed, 'Faucet reloaded');
  assert.is(r.faucet!.after.coldStarts - (r.faucet!.before?.coldStarts ?? 0), 0, 'no cold start');
  assert.ok(r.faucet!.after.warmStarts - (r.faucet!.before?.warmStarts ?? 0) >= 1, 'a warm start');
  const hits = await hitsOf();
  const mine = hits.filter((h) => h.acl === 'lesson-web-only' && h.port === 'g1-web-eth0').map((h) => h.rule);
  assert.equal(mine, [0, 1, 2], JSON.stringify(hits));
  assert.not.ok(hits.some((h) => h.acl === 'lesson-web-only' && h.port === 'g2-web-eth0'), 'group 2 has no web-only');
});

test('the management socket reads the flows ovs-ofctl dump-flows shows, with their counters', async () => {
  const key = (f: FlowStat) => `${f.table}/${f.cookie}/${f.priority}/${f.inPort ?? '-'}`;
  const ofctl = async () => parseDumpFlows((await ofctlVia(docker)(['dump-flows', cfg.bridge])).stdout);
  const before = await ofctl();
  const mine = await dumpFlows({ path: `${paths(cfg).ovsRunDir}/${cfg.bridge}.mgmt`, timeoutMs: 5000 });
  const after = await ofctl();
  // Flows may come and go between reads (learned hosts): what both ofctl reads show, the socket shows; nothing neither shows.
  const a = new Set(before.map(key)), b = new Set(after.map(key)), m = new Set(mine.map(key));
  assert.ok(before.length > 20 && mine.length > 20, `${before.length} / ${mine.length} flows`);
  for (const k of a) if (b.has(k)) assert.ok(m.has(k), `the socket misses ${k}`);
  for (const k of m) assert.ok(a.has(k) || b.has(k), `the socket shows ${k}, which ofctl never did`);
  // Counters read in between lie in between (they only grow).
  const at = (list: FlowStat[]) => new Map(list.map((f) => [key(f), f.packets]));
  const pa = at(before), pb = at(after);
  let compared = 0;
  for (const f of mine) {
    const lo = pa.get(key(f)), hi = pb.get(key(f));
    if (lo === undefined || hi === undefined) continue;
    assert.ok(f.packets >= lo && f.packets <= hi, `${key(f)}: ${lo} <= ${f.packets} <= ${hi}`);
    compared++;
  }
  assert.ok(compared > 20, `${compared} counters compared`);
});

test('a dropped ping moves the drop rule only; allowed web traffic moves the allow rule only', async () => {
  // The ping first: the client's requests pass (its port has no ACL), web's 4 replies are dropped by
  // rule 2. (After a page load, the tail of its TCP connection may still move the allow rule.)
  const h0 = await hitsOf();
  assert.is(await pingLoss('dovelab-g1-client', '198.51.100.80', 4), 100);
  // The switch adds flow statistics up in passes: wait until the drop rule shows the replies
  // (then the same pass has counted whatever hit the allow rule).
  let h1 = await hitsOf();
  await waitFor('the drop rule to count the 4 replies', async () => { h1 = await hitsOf(); return count(h1, 2) - count(h0, 2) >= 4 || undefined; }, 10_000, 200)
    .catch((e: Error) => { throw new Error(`${e.message}: ${count(h0, 2)} -> ${count(h1, 2)}`); });
  assert.is(count(h1, 0) - count(h0, 0), 0, 'the allow rule did not move on the ping');
  // Positive control: the web page loads, its replies (TCP from port 80) hit rule 0 (allow), not the drop rule.
  const page = await inHost('dovelab-g1-client', ['curl', '-s', '-m', '5', 'http://198.51.100.80/']);
  assert.match(page.stdout, /Dovelab/, `the web page loads: ${page.stdout}${page.stderr}`);
  let h2 = await hitsOf();
  await waitFor('the allow rule to count the page', async () => { h2 = await hitsOf(); return count(h2, 0) - count(h1, 0) >= 2 || undefined; }, 10_000, 200)
    .catch((e: Error) => { throw new Error(`${e.message}: ${count(h1, 0)} -> ${count(h2, 0)}`); });
  assert.is(count(h2, 2) - count(h1, 2), 0, 'the drop rule did not move on the page');
  console.log(`    web-only on g1-web-eth0: allow ${count(h0, 0)} -> ${count(h1, 0)} -> ${count(h2, 0)}, drop ${count(h0, 2)} -> ${count(h1, 2)} -> ${count(h2, 2)} packets`);
});

test('the acl_hits task passes in the group whose drop rule counted, fails in the other', async () => {
  const results = (await runChecks(checkIo(await stack()), state, desiredOf(cfg, state))).results.filter((r) => r.task === 'drop-counted');
  const by = Object.fromEntries(results.map((r) => [r.group, r]));
  assert.is(by[1]?.status, 'pass', JSON.stringify(by[1]));
  assert.is(by[2]?.status, 'fail', JSON.stringify(by[2]));
  assert.match(by[2]!.reason, /not switched on/);
});

test.run();

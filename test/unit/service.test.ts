// The lab's verbs (agent/lab/service.ts) against the recording fake world: a change the switch
// refuses puts lab.json and the running lab back, a failed first `up` leaves no lab.json, reset
// touches one group and checks before it removes, `up` refuses the appliance's own interfaces.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import { parse } from 'yaml';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { desiredOf, labReset, labUp, setAcls, setMirror } from '../../agent/lab/service.js';
import { readLabState } from '../../agent/lab/state.js';
import { LessonError } from '../../agent/lesson/load.js';
import { FaucetNotConfirmed, FaucetRejected } from '../../agent/net/faucet/apply.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

const LESSON = `
dovelab: 1
id: svc
networks: {lab: {}}
mirrors:
  tap: {interface: mir0, from: [h1.eth0]}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}, startup: echo hi}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
acls:
  no-ping:
    - {match: {ip_proto: icmp}, action: drop}
`;

type Ctx = ReturnType<FakeWorld['context']>;

/** A port's entry in a faucet.yaml text. */
const faucetPort = (text: string, ofport: number) =>
  (parse(text) as { dps: { dovelab0: { interfaces: Record<number, { acls_in?: string[]; mirror?: number[] }> } } }).dps.dovelab0.interfaces[ofport]!;

/** A fake world, a temp config, and a lesson dir per lesson text. */
async function withService(fn: (s: { w: FakeWorld; ctx: Ctx; lesson: (text: string, name?: string) => string; labJson: string }) => Promise<void>,
  cfgExtra: Record<string, unknown> = {}): Promise<void> {
  const t = tempConfig(cfgExtra);
  const w = new FakeWorld();
  w.interfaces.add('mir0');
  const lesson = (text: string, name = 'lesson') => {
    const dir = join(t.dir, 'lessons', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lesson.yaml'), text);
    return dir;
  };
  try { await fn({ w, ctx: w.context(t.cfg), lesson, labJson: paths(t.cfg).labState }); } finally { t.done(); }
}

async function fails(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  assert.unreachable('should have failed');
  throw new Error('unreachable');
}

test('setAcls: a Faucet apply that fails puts lab.json back and reconciles the previous state', async () => {
  await withService(async ({ w, ctx, lesson, labJson }) => {
    const { state } = await labUp(ctx, lesson(LESSON), 1);
    const before = readFileSync(labJson, 'utf8');
    const prevText = emitFaucetYaml(desiredOf(ctx.cfg, state).faucet);
    assert.is(w.faucetLive, prevText);
    w.fail('faucet.apply', new FaucetNotConfirmed('Faucet did not confirm config'), 1);
    const mark = w.calls.length;
    const err = await fails(setAcls(ctx, 'h1.eth0', ['no-ping']));
    assert.instance(err, FaucetNotConfirmed);
    assert.is(readFileSync(labJson, 'utf8'), before, 'lab.json is the previous one, byte for byte');
    // Two applies: the new config (failed), then the previous one again (the restore reconcile).
    const applies = w.faucetApplied.slice(-2);
    assert.equal(applies.map((a) => a.ok), [false, true]);
    assert.equal(faucetPort(applies[0]!.text, 101).acls_in, ['lesson-no-ping', 'dovelab-allow']);
    assert.equal(faucetPort(prevText, 101).acls_in, ['dovelab-allow']);
    assert.is(applies[1]!.text, prevText);
    assert.is(w.faucetLive, prevText);
    assert.equal(w.changes(mark).filter((c) => !c.startsWith('firewall.') && c !== 'faucet.apply'), [], 'nothing else changed');
    assert.is(w.calls.slice(mark).filter((c) => c === 'hosts.list').length, 2, 'observed twice: the change, then the restore');

    // Positive control: the same change, Faucet confirming, sticks in lab.json and in the live config.
    await setAcls(ctx, 'h1.eth0', ['no-ping']);
    assert.equal(readLabState(labJson)?.overrides?.acls, { 'g1-h1-eth0': ['no-ping'] });
    assert.equal(faucetPort(w.faucetLive!, 101).acls_in, ['lesson-no-ping', 'dovelab-allow']);
  });
});

test('setMirror: a Faucet apply that fails puts lab.json back and reconciles the previous state', async () => {
  await withService(async ({ w, ctx, lesson, labJson }) => {
    const { state } = await labUp(ctx, lesson(LESSON), 1);
    const before = readFileSync(labJson, 'utf8');
    const prevText = emitFaucetYaml(desiredOf(ctx.cfg, state).faucet);
    assert.equal(faucetPort(prevText, 1).mirror, [101]);
    w.fail('faucet.apply', 'reload failed', 1);
    await fails(setMirror(ctx, true, 'h2.eth0'));
    assert.is(readFileSync(labJson, 'utf8'), before);
    assert.equal(w.faucetApplied.slice(-2).map((a) => [a.ok, a.text === prevText]), [[false, false], [true, true]]);
    assert.is(w.faucetLive, prevText);
    // Positive control: without the failure the mirror gains h2 in lab.json and in the live config.
    await setMirror(ctx, true, 'h2.eth0');
    assert.equal(readLabState(labJson)?.overrides?.mirrors, { tap: ['g1-h1-eth0', 'g1-h2-eth0'] });
    assert.equal(faucetPort(w.faucetLive!, 1).mirror, [101, 102]);
  });
});

test('labUp that fails with no previous lab leaves no lab.json (and no pack copy)', async () => {
  await withService(async ({ w, ctx, lesson, labJson }) => {
    const dir = lesson(LESSON);
    w.fail('faucet.check', new FaucetRejected('bad config'), 1);
    const err = await fails(labUp(ctx, dir, 1));
    assert.instance(err, FaucetRejected);
    assert.not.ok(existsSync(labJson), 'no lab.json');
    assert.equal(readdirSync(paths(ctx.cfg).labPack), []);
    assert.not.ok(w.calls.some((c) => c.startsWith('hosts.create')));
    // Positive control: the same lesson comes up, and then lab.json is there.
    await labUp(ctx, dir, 1);
    assert.ok(existsSync(labJson));
    assert.is(readLabState(labJson)?.lab, 'svc');
    assert.is(readdirSync(paths(ctx.cfg).labPack).length, 1);
  });
});

test('labUp that fails after making hosts, with no lab before: the partial lab is taken down; the next up runs startups', async () => {
  await withService(async ({ w, ctx, lesson, labJson }) => {
    const dir = lesson(LESSON);
    w.fail('faucet.apply', new FaucetNotConfirmed('Faucet did not confirm'), 1);
    await fails(labUp(ctx, dir, 1));
    assert.not.ok(existsSync(labJson));
    assert.ok(w.has('hosts.create dovelab-g1-h1') && w.has('dongles.harden mir0'), 'the first try got as far as making hosts and taking mir0');
    assert.not.ok(w.calls.some((c) => c.startsWith('hosts.startup')), 'and stopped before startup');
    // "No lab" is put back: no hosts, no lab ports, the dongle released.
    assert.equal([...w.hosts.keys()], []);
    assert.equal([...w.ports.keys()], []);
    assert.not.ok(w.held.has('mir0'));
    const mark = w.calls.length;
    await labUp(ctx, dir, 1);
    assert.ok(existsSync(labJson));
    assert.ok(w.has('hosts.startup dovelab-g1-h1', mark), 'h1\'s startup script ran once the lab came up');
  });
});

const GROUPS = `
dovelab: 1
id: reset
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}, startup: echo hi}
  h2: {interfaces: {eth0: {network: lab}}}
`;

test('labReset: the group\'s hosts are removed and made again, other groups untouched, Faucet checked before any removal', async () => {
  await withService(async ({ w, ctx, lesson }) => {
    await labUp(ctx, lesson(GROUPS), 2);
    // faucet.yaml lost: the config differs from the live one, so Faucet's check must run.
    w.faucetLive = undefined;
    const mark = w.calls.length;
    await labReset(ctx, 1);
    const c = w.calls.slice(mark);
    const check = c.indexOf('faucet.check');
    const firstRemove = c.findIndex((x) => x.startsWith('hosts.remove'));
    assert.ok(check >= 0 && firstRemove > check, `check (${check}) before the first removal (${firstRemove})`);
    assert.equal(c.filter((x) => /^hosts\.(remove|create|startup)/.test(x)).sort(), [
      'hosts.create dovelab-g1-h1', 'hosts.create dovelab-g1-h2',
      'hosts.remove dovelab-g1-h1', 'hosts.remove dovelab-g1-h1', 'hosts.remove dovelab-g1-h2', 'hosts.remove dovelab-g1-h2',
      'hosts.startup dovelab-g1-h1',
    ]);
    assert.not.ok(c.some((x) => /g2-|dl20\d/.test(x) && !/^(hosts\.pid|links\.linksInNetns)/.test(x)), `group 2 untouched: ${c.filter((x) => /g2-|dl20/.test(x))}`);
    assert.ok(w.hosts.has('dovelab-g2-h1') && w.hosts.has('dovelab-g2-h2'));
  });
});

test('labReset: when Faucet\'s check fails nothing is removed and lab.json stays', async () => {
  await withService(async ({ w, ctx, lesson, labJson }) => {
    await labUp(ctx, lesson(GROUPS), 2);
    await setAcls(ctx, 'h1.eth0', [], 1);
    const before = readFileSync(labJson, 'utf8');
    const pids = [...w.hosts.values()].map((h) => h.pid);
    w.faucetLive = undefined;
    w.fail('faucet.check', new FaucetRejected('bad'));
    const mark = w.calls.length;
    const err = await fails(labReset(ctx, 1));
    assert.instance(err, FaucetRejected);
    assert.ok(w.has('faucet.check', mark));
    assert.not.ok(w.calls.slice(mark).some((x) => x.startsWith('hosts.remove') || x.startsWith('ovs.deletePort')), 'nothing removed');
    assert.equal([...w.hosts.values()].map((h) => h.pid), pids, 'the same containers run');
    assert.is(readFileSync(labJson, 'utf8'), before);
    assert.match(w.log.join('\n'), 'could not restore the previous lab');
    // Positive control: with Faucet accepting, the same reset removes group 1's hosts.
    w.heal();
    const mark2 = w.calls.length;
    await labReset(ctx, 1);
    assert.ok(w.has('hosts.remove dovelab-g1-h1', mark2) && w.has('hosts.create dovelab-g1-h1', mark2));
    assert.not.ok(w.has('hosts.remove dovelab-g2-h1', mark2));
  });
});

test('labUp refuses an uplink on an interface the appliance uses, before any change (reads only)', async () => {
  const bad = `
dovelab: 1
networks: {office: {vlan: 110, shared: true}}
uplinks:
  school: {interface: eth0, network: office}
hosts:
  pc: {interfaces: {eth0: {network: office, ip: dhcp}}}
`;
  // Even configured as an uplink dongle, eth0 carries the appliance's address and default route.
  await withService(async ({ w, ctx, lesson, labJson }) => {
    w.facts = { eth0: { addresses: ['192.168.1.20/24'], defaultRoute: false }, up0: { addresses: [], defaultRoute: false } };
    w.interfaces.add('eth0').add('up0');
    const err = await fails(labUp(ctx, lesson(bad), 1));
    assert.instance(err, LessonError);
    assert.match(err.message, 'uplinks.school.interface: eth0 has an address (192.168.1.20/24)');
    assert.match(err.message, 'lists it as uplink, which is wrong');
    assert.equal(w.changes(), [], `only reads: ${w.calls}`);
    assert.ok(w.has('dongles.facts'));
    assert.not.ok(existsSync(labJson));
    // Positive control: the same lesson on up0 comes up and changes things.
    await labUp(ctx, lesson(bad.replace('interface: eth0', 'interface: up0'), 'good'), 1);
    assert.ok(w.has('dongles.harden up0') && w.has('hosts.create dovelab-pc'));
    assert.ok(existsSync(labJson));
  }, { dongles: { eth0: 'uplink', up0: 'uplink', mir0: 'mirror' } });
});

test.run();

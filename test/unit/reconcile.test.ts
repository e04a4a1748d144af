// The lab engine's reconcile against a recording fake world (test/unit/_fake-adapters.ts), with
// the real planner: the order of effects, what a refused Faucet config stops, the diff's uplink
// branches, startup outcomes, partial failures in a parallel phase, and "unobserved is not absent".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired, type DesiredState } from '../../agent/lab/desired.js';
import { PhaseError, reconcile, STARTUP_BUDGET_MS } from '../../agent/lab/engine.js';
import { TopologySchema, type Topology } from '../../agent/lesson/schema.js';
import { FaucetRejected } from '../../agent/net/faucet/apply.js';
import { emitFaucetYaml } from '../../agent/net/faucet/emit.js';
import { FakeWorld, isRead, tempConfig } from './_fake-adapters.js';

const topo = (doc: string): Topology => TopologySchema.parse(parse(doc));
const plan = (t: Topology, groups = 1): DesiredState =>
  planDesired(t, { lab: 'demo', groups, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' });

/** A world and a context over temp dirs; cleaned up after fn. */
async function withWorld(fn: (w: FakeWorld, ctx: ReturnType<FakeWorld['context']>) => Promise<void>): Promise<void> {
  const t = tempConfig();
  const w = new FakeWorld();
  try { await fn(w, w.context(t.cfg)); } finally { t.done(); }
}

const TWO = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}, startup: echo one}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`);

const WITH_UPLINK = topo(`
dovelab: 1
networks: {lab: {}}
uplinks:
  wan: {interface: up0, networks: [lab]}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`);

const FOUR = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}}
  h2: {interfaces: {eth0: {network: lab}}}
  h3: {interfaces: {eth0: {network: lab}}}
  h4: {interfaces: {eth0: {network: lab}}}
`);

test('fresh lab: check before any change, create before attach, Faucet applied beside the wiring, startup once every port is programmed', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(TWO);
    const r = await reconcile(ctx, d);
    const c = w.calls;
    const check = c.indexOf('faucet.check');
    const apply = c.indexOf('faucet.apply');
    assert.ok(check >= 0, 'Faucet check ran');
    const firstChange = c.findIndex((x) => !isRead(x));
    assert.ok(check < firstChange, `check (${check}) before the first change (${firstChange}: ${c[firstChange]})`);
    for (const [host, port] of [['dovelab-g1-h1', 'dl101'], ['dovelab-g1-h2', 'dl102']] as const) {
      const create = c.indexOf(`hosts.create ${host}`);
      assert.ok(create >= 0, `${host} created`);
      assert.ok(create < c.indexOf(`links.attachVeth ${port}`), `${host} created before its veth`);
      assert.ok(c.indexOf(`links.attachVeth ${port}`) < c.indexOf(`ovs.addPort ${port} ${port.slice(2)}`));
    }
    // The reload does not wait for the hosts: it starts with the first stage that makes something.
    assert.ok(apply < c.indexOf('ovs.addPort dl101 101'), 'Faucet applied beside the wiring, not after it');
    const startup = c.indexOf('hosts.startup dovelab-g1-h1');
    assert.ok(startup > apply, 'startup after the Faucet apply');
    // ... and after a read of the switch's flows that shows both ports programmed.
    const lastFlows = c.lastIndexOf('flows');
    assert.ok(lastFlows > c.indexOf('ovs.addPort dl102 102') && lastFlows < startup, 'the flows read after the last port and before startup');
    assert.not.ok(c.some((x) => x.startsWith('hosts.startup dovelab-g1-h2')), 'h2 has no startup script');
    assert.is(w.faucetLive, emitFaucetYaml(d.faucet));
    assert.is(r.faucet?.changed, true);
    assert.equal(r.warnings, []);

    // The same desired state again: nothing recreated, no port re-added, no check; the apply is a no-op.
    const mark = w.calls.length;
    const r2 = await reconcile(ctx, d);
    assert.equal(w.changes(mark), ['firewall.ensure dl+', 'faucet.apply']);
    assert.equal(r2.actions.map((a) => a.kind), ['faucet']);
    assert.is(r2.faucet?.changed, false);
    assert.not.ok(w.has('faucet.check', mark), 'an unchanged config is not checked again');
    // Positive control: the first run did make hosts and ports (the same call names are recorded).
    assert.equal(w.changes().filter((x) => x.startsWith('hosts.create') || x.startsWith('ovs.addPort')).sort(),
      ['hosts.create dovelab-g1-h1', 'hosts.create dovelab-g1-h2', 'ovs.addPort dl101 101', 'ovs.addPort dl102 102', 'ovs.addPort dl199 199']);
    // The group's capture port: a veth into the agent's capture netns, on the bridge before the apply.
    assert.ok(w.has('links.attachCapture dl199 dovelab-cap:cap199'));
  });
});

test('a port Faucet never programs: the lab is made, a warning names the port; the others are waited for', async () => {
  await withWorld(async (w, ctx) => {
    w.neverProgrammed.add('dl102');
    const r = await reconcile(ctx, plan(TWO), { programBudgetMs: 150 });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /Faucet has not programmed dl102 \(ofport 102\)/);
    assert.not.match(r.warnings[0]!, 'dl101');
    assert.ok(w.calls.filter((x) => x === 'flows').length > 1, 'the flows were read again while waiting');
    assert.ok(w.has('hosts.startup dovelab-g1-h1'), 'startup still runs');
  });
  // Positive control: every port programmed, no warning and a single read.
  await withWorld(async (w, ctx) => {
    const r = await reconcile(ctx, plan(TWO), { programBudgetMs: 150 });
    assert.equal(r.warnings, []);
    assert.is(w.calls.filter((x) => x === 'flows').length, 1);
  });
});

test('a port Faucet programmed in the reload, before the port was there, counts (flows younger than the reload)', async () => {
  const THREE = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
  h3: {interfaces: {eth0: {network: lab, ip: 198.51.100.13/24}}}
`);
  await withWorld(async (w, ctx) => {
    await reconcile(ctx, plan(TWO));
    w.programmedAtApply.add('dl103');
    w.createMs = 20;
    const r = await reconcile(ctx, plan(THREE), { programBudgetMs: 150 });
    assert.ok(w.calls.lastIndexOf('faucet.apply') < w.calls.lastIndexOf('ovs.addPort dl103 103'), 'the reload came before the port');
    assert.equal(r.warnings, []);
    assert.is(w.calls.filter((x) => x === 'flows').length, 2, 'one read after each pass');
  });
});

test('a port re-added with its old ofport counts only once flows younger than the add are there', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(TWO);
    await reconcile(ctx, d);
    // h2's veth goes (its port with it): the repair re-adds dl102 with the same ofport and an unchanged config.
    // Faucet has not handled it yet: the switch still shows the old port's flows, older than the add.
    w.ports.delete('dl102');
    w.keepOldFlows('dl102');
    await new Promise((r) => setTimeout(r, 5));
    const r = await reconcile(ctx, d, { programBudgetMs: 150 });
    assert.ok(r.actions.some((a) => a.kind === 'attach' && a.port.hostEnd === 'dl102'));
    assert.match(r.warnings.join('\n'), 'Faucet has not programmed dl102', 'old flows are not the new port programmed');
  });
  // Positive control: Faucet re-makes the flows at the re-add: no warning.
  await withWorld(async (w, ctx) => {
    const d = plan(TWO);
    await reconcile(ctx, d);
    w.ports.delete('dl102');
    const r = await reconcile(ctx, d, { programBudgetMs: 150 });
    assert.ok(r.actions.some((a) => a.kind === 'attach' && a.port.hostEnd === 'dl102'));
    assert.equal(r.warnings, []);
  });
});

test('Faucet refuses the config: no host, port, link, dongle or firewall change at all (reads only)', async () => {
  await withWorld(async (w, ctx) => {
    w.interfaces.add('up0');
    w.held.add('up1');
    w.fail('faucet.check', new FaucetRejected('dps: unknown VLAN'), 1);
    try { await reconcile(ctx, plan(WITH_UPLINK)); assert.unreachable('reconcile should fail'); } catch (e) {
      assert.instance(e, FaucetRejected);
    }
    assert.ok(w.has('faucet.check'), 'the check ran');
    // The check runs beside the reads of what runs now (hosts, ports, dongles), never before a change.
    assert.equal(w.changes(), []);
    assert.ok(w.has('hosts.list') && w.has('ovs.ports'), 'the reads ran beside the check');
    assert.not.ok(w.has('faucet.apply'));
    // Positive control: the same world and desired state, Faucet accepting, does all of those.
    const mark = w.calls.length;
    await reconcile(ctx, plan(WITH_UPLINK));
    for (const c of ['hosts.create dovelab-g1-h1', 'ovs.addPort dl101 101', 'links.attachVeth dl101', 'dongles.harden up0', 'dongles.release up1', 'firewall.ensure dl+,up0', 'faucet.apply']) {
      assert.ok(w.has(c, mark), `${c} after Faucet accepts`);
    }
  });
});

test('uplink present: hardened before it is added, then set up; an absent one is a warning, not an action', async () => {
  await withWorld(async (w, ctx) => {
    w.interfaces.add('up0');
    const r = await reconcile(ctx, plan(WITH_UPLINK));
    const c = w.calls;
    const harden = c.indexOf('dongles.harden up0');
    assert.ok(harden >= 0 && harden < c.indexOf('ovs.addPort up0 1'), 'harden before addPort');
    assert.ok(c.indexOf('ovs.addPort up0 1') < c.indexOf('links.setLinkUp up0'), 'set up after it is on the bridge');
    assert.equal(w.ports.get('up0')?.externalIds, { 'dovelab-lab': 'demo', 'dovelab-role': 'uplink', 'dovelab-uplink': 'wan' });
    assert.ok(r.actions.some((a) => a.kind === 'add-uplink'));
    assert.equal(r.warnings, []);
  });
  await withWorld(async (w, ctx) => {
    // up0 unplugged: a warning; the rest of the lab still comes up (positive control).
    const r = await reconcile(ctx, plan(WITH_UPLINK));
    assert.equal(r.warnings.filter((x) => x.includes('up0')).length, 1);
    assert.match(r.warnings[0]!, /uplink wan: interface up0 is not present/);
    assert.not.ok(r.actions.some((a) => a.kind === 'add-uplink'));
    assert.not.ok(w.calls.some((x) => / up0( |$)/.test(x) && !x.startsWith('firewall.')), `no call on up0: ${w.calls.filter((x) => x.includes('up0'))}`);
    assert.ok(w.has('ovs.addPort dl101 101') && w.has('ovs.addPort dl102 102') && w.has('faucet.apply'));
    // The firewall still drops it: it is named in the lesson and may be plugged in any time.
    assert.equal(w.firewall, [['dl+', 'up0']]);
  });
});

test('a held dongle that is not in the lab is released; the lab\'s own is not', async () => {
  await withWorld(async (w, ctx) => {
    w.interfaces.add('up0').add('up1');
    w.held.add('up1');
    await reconcile(ctx, plan(WITH_UPLINK));
    assert.ok(w.has('dongles.release up1'));
    assert.not.ok(w.held.has('up1'));
    assert.not.ok(w.has('dongles.release up0'), 'the lab\'s uplink stays hardened');
    assert.ok(w.held.has('up0'));
  });
});

test('an uplink leaving the lab: its port deleted, the dongle released (not deleted); firewall rule kept until after', async () => {
  await withWorld(async (w, ctx) => {
    w.interfaces.add('up0');
    await reconcile(ctx, plan(WITH_UPLINK));
    assert.ok(w.ports.has('up0') && w.held.has('up0'));
    // Next desired state: no uplink, and h2 gone too (its veth port is the positive control for deleteLink).
    const next = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
`);
    const mark = w.calls.length;
    await reconcile(ctx, plan(next));
    const c = w.calls;
    const keep = c.indexOf('firewall.ensure dl+,up0', mark);
    const del = c.indexOf('ovs.deletePort up0', mark);
    const rel = c.indexOf('dongles.release up0', mark);
    const drop = c.indexOf('firewall.ensure dl+', mark);
    assert.ok(keep >= 0 && del > keep && rel > del && drop > rel, `order: ${c.slice(mark).filter((x) => /up0|firewall/.test(x))}`);
    assert.equal(w.firewall.slice(-2), [['dl+', 'up0'], ['dl+']]);
    assert.not.ok(w.has('links.deleteLink up0', mark), 'a dongle is not a veth: never deleted');
    assert.ok(w.has('links.deleteLink dl102', mark), 'positive control: a leaving veth port is deleted');
    assert.not.ok(w.ports.has('up0') || w.held.has('up0'));
    assert.ok(w.interfaces.has('up0'));
  });
});

test('startup outcomes: still running -> warning with host and budget; exit code -> warning; 0 -> none; repair runs none', async () => {
  const t3 = topo(`
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}}, startup: "python3 -m http.server"}
  h2: {interfaces: {eth0: {network: lab}}, startup: "false"}
  h3: {interfaces: {eth0: {network: lab}}, startup: "true"}
`);
  await withWorld(async (w, ctx) => {
    w.startupOutcome = (c, budgetMs) => (c === 'dovelab-g1-h1' ? { state: 'running', afterMs: budgetMs, log: '/var/log/dovelab-startup.log' }
      : c === 'dovelab-g1-h2' ? { state: 'exited', code: 3, tail: 'boom' } : { state: 'exited', code: 0, tail: '' });
    const d = plan(t3);
    const r = await reconcile(ctx, d);
    assert.is(r.warnings.length, 2, r.warnings.join('\n'));
    const running = r.warnings.find((x) => x.includes('g1-h1'));
    assert.ok(running, 'a warning names g1-h1');
    assert.match(running!, `still runs after ${STARTUP_BUDGET_MS / 1000} s`);
    assert.match(running!, '/var/log/dovelab-startup.log');
    const failed = r.warnings.find((x) => x.includes('g1-h2'));
    assert.match(failed!, 'exited 3: boom');
    assert.not.ok(r.warnings.some((x) => x.includes('g1-h3')));
    // Positive control: h3's startup did run (and exited 0).
    assert.ok(w.has('hosts.startup dovelab-g1-h3'));

    // Repair of running hosts: no startup at all.
    const mark = w.calls.length;
    const r2 = await reconcile(ctx, d);
    assert.not.ok(w.calls.slice(mark).some((x) => x.startsWith('hosts.startup')));
    assert.equal(r2.warnings, []);
    // Positive control: a host that stopped is recreated, and only its startup runs again.
    w.hosts.get('dovelab-g1-h3')!.running = false;
    const mark2 = w.calls.length;
    await reconcile(ctx, d);
    assert.equal(w.calls.slice(mark2).filter((x) => x.startsWith('hosts.startup') || x.startsWith('hosts.create')),
      ['hosts.create dovelab-g1-h3', 'hosts.startup dovelab-g1-h3']);
  });
});

test('two of four attaches fail: PhaseError lists both, the other two still ran, the Faucet apply beside them finished', async () => {
  await withWorld(async (w, ctx) => {
    w.fail('ovs.addPort dl101 101', 'ovs-vsctl: dl101 exploded', 1);
    w.fail('links.attachVeth dl103', 'ip: RTNETLINK answers: File exists', 1);
    let err: unknown;
    try { await reconcile(ctx, plan(FOUR)); } catch (e) { err = e; }
    assert.instance(err, PhaseError);
    const pe = err as PhaseError;
    assert.is(pe.errors.length, 2);
    assert.match(pe.message, 'attach dovelab-g1-h1:eth0: ovs-vsctl: dl101 exploded');
    assert.match(pe.message, 'attach dovelab-g1-h3:eth0: ip: RTNETLINK answers: File exists');
    assert.ok(w.ports.has('dl102') && w.ports.has('dl104'), 'the other attaches ran');
    assert.not.ok(w.ports.has('dl101') || w.ports.has('dl103'));
    assert.ok(w.has('links.deleteLink dl101'), 'a veth whose port failed is deleted again');
    // Faucet's reload ran beside the wiring (its ports absent are harmless), and ended before the error came out.
    assert.equal(w.faucetApplied.map((a) => a.ok), [true]);
    // The capture port needs no host: it came up beside the chains, failures or not.
    assert.ok(w.has('ovs.addPort dl199 199'), 'the capture port was added beside the hosts');
    // Positive control: the same world, nothing failing now: repairs just those two, then applies.
    const mark = w.calls.length;
    await reconcile(ctx, plan(FOUR));
    assert.equal(w.changes(mark).filter((x) => x.startsWith('ovs.addPort')), ['ovs.addPort dl101 101', 'ovs.addPort dl103 103']);
    assert.ok(w.has('faucet.apply', mark));
  });
  // More attaches than run at once (4): the ones queued behind two failures still run.
  const six = topo(`
dovelab: 1
networks: {lab: {}}
hosts: {${[1, 2, 3, 4, 5, 6].map((i) => `h${i}: {interfaces: {eth0: {network: lab}}}`).join(', ')}}
`);
  await withWorld(async (w, ctx) => {
    // Their first call fails, while the other two running attaches are still busy.
    w.fail('hosts.pid dovelab-g1-h1', 'boom 1').fail('hosts.pid dovelab-g1-h2', 'boom 2');
    const err = await reconcile(ctx, plan(six)).then(() => undefined, (e: unknown) => e);
    assert.instance(err, PhaseError);
    assert.equal((err as PhaseError).errors.map((e) => e.message).sort(), ['attach dovelab-g1-h1:eth0: boom 1', 'attach dovelab-g1-h2:eth0: boom 2']);
    // (dl199: the group's capture port, made beside the hosts)
    assert.equal([...w.ports.keys()].sort(), ['dl103', 'dl104', 'dl105', 'dl106', 'dl199']);
  });
});

test('could not observe is not absent: no attach for an unreadable host, a warning names it; an observable one is repaired', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(TWO);
    await reconcile(ctx, d);
    // Both hosts lose eth0; only h2's netns can be read.
    for (const c of ['dovelab-g1-h1', 'dovelab-g1-h2']) w.hosts.get(c)!.links = ['lo'];
    w.unobservable.add('dovelab-g1-h1');
    const mark = w.calls.length;
    const r = await reconcile(ctx, d);
    assert.ok(w.has('links.linksInNetns dovelab-g1-h1', mark), 'it was tried');
    assert.equal(w.changes(mark).filter((x) => / (dl101|dovelab-g1-h1)( |$)/.test(x)), [], 'no change on h1');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /could not read the interfaces of dovelab-g1-h1 \(cannot enter the netns/);
    // Positive control: h2, really missing eth0 and observable, is re-attached.
    assert.ok(w.has('links.attachVeth dl102', mark) && w.has('ovs.addPort dl102 102', mark));
    // And once h1 can be read again, its missing eth0 is repaired too.
    w.unobservable.clear();
    const mark2 = w.calls.length;
    await reconcile(ctx, d);
    assert.ok(w.has('links.attachVeth dl101', mark2));
    assert.not.ok(w.has('hosts.remove dovelab-g1-h1', mark), 'never removed or recreated');
  });
});

test.run();

test('a reconcile that fails after making hosts removes those whose startup never ran, so the next one runs it', async () => {
  await withWorld(async (w, ctx) => {
    const d = plan(TWO);
    w.fail('faucet.apply', new Error('Faucet did not confirm'), 1);
    try { await reconcile(ctx, d); assert.unreachable('the failed apply passed'); } catch (e) { assert.match((e as Error).message, 'did not confirm'); }
    // h1 has a startup that never ran: it is gone again; h2 has none and may stay.
    assert.not.ok(w.hosts.has('dovelab-g1-h1'), 'h1 removed');
    assert.ok(w.hosts.has('dovelab-g1-h2'), 'positive control: h2 (no startup) kept');
    const mark = w.calls.length;
    await reconcile(ctx, d);
    assert.ok(w.has('hosts.create dovelab-g1-h1', mark), 'h1 made again');
    assert.ok(w.has('hosts.startup dovelab-g1-h1', mark), "h1's startup ran this time");
  });
});

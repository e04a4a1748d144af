// The engine's stages (agent/lab/stages.ts): per-host chains for create-host + attach, barrier
// phases for the rest, in the diff's order; and inChains, which runs them: a host's attach starts
// as soon as its own create is done (not after every create), a failure ends only its own chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { planDesired } from '../../agent/lab/desired.js';
import { diff, type Action } from '../../agent/lab/diff.js';
import { inChains, PhaseError } from '../../agent/lab/engine.js';
import { stages, type Stage } from '../../agent/lab/stages.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const host = (c: string) => ({ container: c }) as unknown as Extract<Action, { kind: 'create-host' }>['host'];
const port = (c: string, ifname: string) => ({ container: c, ifname, hostEnd: `${c}-${ifname}` }) as unknown as Extract<Action, { kind: 'attach' }>['port'];
const create = (c: string): Action => ({ kind: 'create-host', host: host(c), why: 'missing' });
const attach = (c: string, i = 'eth0'): Action => ({ kind: 'attach', port: port(c, i), why: 'host (re)created' });
const rmHost = (c: string): Action => ({ kind: 'remove-host', container: c, why: 'reset' });
const rmPort = (p: string): Action => ({ kind: 'remove-port', port: p, veth: true, why: 'not in the lab' });
const warn = (m: string): Action => ({ kind: 'warn', message: m });
const faucet: Action = { kind: 'faucet', model: {} as Extract<Action, { kind: 'faucet' }>['model'] };
const startup = (c: string): Action => ({ kind: 'startup', host: host(c) });
const capture = (p: string): Action => ({ kind: 'add-capture', capture: { hostEnd: p } as unknown as Extract<Action, { kind: 'add-capture' }>['capture'], why: 'port missing' });

/** A stage written short: `phase kind: a, b` or `chains: h1[create|eth0+eth1] h2[eth0]`. */
const name = (a: Action): string =>
  a.kind === 'create-host' || a.kind === 'startup' ? a.host.container
    : a.kind === 'attach' ? `${a.port.container}:${a.port.ifname}`
    : a.kind === 'remove-host' ? a.container
    : a.kind === 'remove-port' ? a.port
    : a.kind === 'warn' ? a.message
    : a.kind === 'add-capture' ? a.capture.hostEnd
    : '';
const show = (s: Stage): string => s.kind === 'phase'
  ? `phase ${s.actions[0]!.kind}: ${s.actions.map(name).join(', ')}`
  : `chains: ${s.chains.map((c) => `${c.container}[${c.steps.map((st) => st.map((a) => (a.kind === 'create-host' ? 'create' : a.kind === 'attach' ? a.port.ifname : name(a))).join('+')).join('|')}]`).join(' ')}`;

const TABLE: [string, Action[], string[]][] = [
  ['nothing', [], []],
  ['only the Faucet apply', [faucet], ['phase faucet: ']],
  ['fresh hosts: one chain each, create then its attaches together; Faucet and startups after', [
    create('h1'), create('h2'), attach('h1'), attach('h1', 'eth1'), attach('h2'), faucet, startup('h1'),
  ], ['chains: h1[create|eth0+eth1] h2[create|eth0]', 'phase faucet: ', 'phase startup: h1']],
  ['removals stay phases before the chains', [
    rmHost('h1'), rmHost('h2'), rmPort('dl9'), create('h1'), attach('h1'), faucet,
  ], ['phase remove-host: h1, h2', 'phase remove-port: dl9', 'chains: h1[create|eth0]', 'phase faucet: ']],
  ['a repair: attaches of running hosts are one-step chains', [
    attach('h1'), attach('h2'), faucet,
  ], ['chains: h1[eth0] h2[eth0]', 'phase faucet: ']],
  ['a host made now with no interface: a one-step chain', [create('h1'), faucet], ['chains: h1[create]', 'phase faucet: ']],
  ['warnings among the host actions go first, in their order', [
    create('h1'), warn('w1'), warn('w2'), attach('h1'), attach('h2'), faucet,
  ], ['phase warn: w1, w2', 'chains: h1[create|eth0] h2[eth0]', 'phase faucet: ']],
  ['capture ports stay a phase after every chain, before the Faucet apply', [
    create('h1'), attach('h1'), capture('dl199'), capture('dl198'), faucet,
  ], ['chains: h1[create|eth0]', 'phase add-capture: dl199, dl198', 'phase faucet: ']],
  ['warnings alone (no host action) stay a plain phase', [
    rmHost('h1'), warn('w1'), capture('dl199'), faucet,
  ], ['phase remove-host: h1', 'phase warn: w1', 'phase add-capture: dl199', 'phase faucet: ']],
  ['an attach before its own create (not the diff\'s shape): plain phases, the list\'s order kept', [
    attach('h1'), create('h1'), faucet,
  ], ['phase attach: h1:eth0', 'phase create-host: h1', 'phase faucet: ']],
  ['a host created twice (not the diff\'s shape): plain phases', [
    create('h1'), create('h1'), attach('h1'),
  ], ['phase create-host: h1, h1', 'phase attach: h1:eth0']],
];

for (const [what, actions, want] of TABLE) {
  test(`stages: ${what}`, () => {
    assert.equal(stages(actions).map(show), want);
  });
}

test('stages: every action is in exactly one stage, for the diff of a real lesson', () => {
  const topo = TopologySchema.parse(parse(`
dovelab: 1
networks: {lab: {}, b: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab}, eth1: {network: b}}, startup: echo hi}
  h2: {interfaces: {eth0: {network: lab}}}
`));
  const d = planDesired(topo, { lab: 'demo', groups: 2, bridge: 'dovelab0', dpId: 1, defaultImage: 'dovelab/labhost' });
  const actions = diff(d, { hosts: [], ports: [], interfaces: [] });
  const st = stages(actions);
  const flat = st.flatMap((s) => (s.kind === 'phase' ? s.actions : s.chains.flatMap((c) => c.steps.flat())));
  assert.is(flat.length, actions.length);
  assert.ok(actions.every((a) => flat.includes(a)));
  assert.equal(st.map((s) => (s.kind === 'phase' ? s.actions[0]!.kind : 'chains')), ['chains', 'add-capture', 'faucet', 'startup']);
  const chains = st.find((s) => s.kind === 'chains')!;
  assert.equal(chains.kind === 'chains' && chains.chains.map((c) => `${c.container}:${c.steps.map((x) => x.length).join('+')}`).sort(),
    ['dovelab-g1-h1:1+2', 'dovelab-g1-h2:1+1', 'dovelab-g2-h1:1+2', 'dovelab-g2-h2:1+1']);
});

/** A run of inChains where each action waits until the test lets it finish: the order is then exact. */
function gated() {
  const started: string[] = [];
  const open = new Map<string, () => void>();
  const fail = new Set<string>();
  const fn = (a: Action) => new Promise<void>((resolve, reject) => {
    const n = `${a.kind === 'create-host' ? 'create' : a.kind} ${name(a)}`;
    started.push(n);
    open.set(n, () => (fail.has(n) ? reject(new Error(`${n} failed`)) : resolve()));
  });
  /** Lets `n` finish, then waits until everything that could start has started. */
  const finish = async (n: string) => {
    const f = open.get(n);
    if (!f) throw new Error(`${n} is not running (running: ${[...open.keys()]})`);
    open.delete(n);
    f();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { started, open, fail, fn, finish };
}

test('inChains: a host\'s attach starts when its own create is done, while other creates still wait', async () => {
  const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
  const st = stages([...hosts.map(create), ...hosts.map((h) => attach(h))]);
  assert.is(st.length, 1);
  const g = gated();
  const done = inChains(st[0]!.kind === 'chains' ? st[0]!.chains : [], g.fn);
  await new Promise((r) => setImmediate(r));
  assert.equal(g.started, ['create h1', 'create h2', 'create h3', 'create h4'], 'four creates at once');
  await g.finish('create h2');
  // h2's attach starts now, beside the next create (its own slots), before h3..h6 are all made.
  assert.equal(g.started.slice(4).sort(), ['attach h2:eth0', 'create h5'].sort());
  assert.not.ok(g.started.includes('create h6'));
  for (const n of ['attach h2:eth0', 'create h1', 'attach h1:eth0', 'create h3', 'create h4', 'create h5', 'create h6', 'attach h3:eth0', 'attach h4:eth0', 'attach h5:eth0', 'attach h6:eth0']) await g.finish(n);
  await done;
  assert.is(g.started.length, 12);
});

test('inChains: no more than four attaches at once, even when every create is done', async () => {
  const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
  const st = stages(hosts.map((h) => attach(h)));
  const g = gated();
  const done = inChains(st[0]!.kind === 'chains' ? st[0]!.chains : [], g.fn);
  await new Promise((r) => setImmediate(r));
  assert.is(g.open.size, 4);
  await g.finish('attach h1:eth0');
  assert.is(g.open.size, 4, 'the fifth takes the freed slot');
  for (const n of ['attach h2:eth0', 'attach h3:eth0', 'attach h4:eth0', 'attach h5:eth0', 'attach h6:eth0']) await g.finish(n);
  await done;
  assert.is(g.started.length, 6);
});

test('inChains: a failed create ends its own chain only; every other chain runs; all failures reported', async () => {
  const hosts = ['h1', 'h2', 'h3'];
  const st = stages([...hosts.map(create), ...hosts.map((h) => attach(h))]);
  const g = gated();
  g.fail.add('create h1').add('attach h3:eth0');
  const done = inChains(st[0]!.kind === 'chains' ? st[0]!.chains : [], g.fn).then(() => undefined, (e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  for (const n of ['create h1', 'create h2', 'create h3', 'attach h2:eth0', 'attach h3:eth0']) await g.finish(n);
  const err = await done;
  assert.instance(err, PhaseError);
  assert.equal((err as PhaseError).errors.map((e) => e.message), ['create h1 failed', 'attach h3:eth0 failed']);
  assert.not.ok(g.started.includes('attach h1:eth0'), 'no attach on a host that was not made');
  // Positive control: the same chains with nothing failing run every action.
  const ok = gated();
  const done2 = inChains(st[0]!.kind === 'chains' ? st[0]!.chains : [], ok.fn);
  await new Promise((r) => setImmediate(r));
  for (const n of ['create h1', 'create h2', 'create h3', 'attach h1:eth0', 'attach h2:eth0', 'attach h3:eth0']) await ok.finish(n);
  await done2;
  assert.is(ok.started.length, 6);
});

test.run();

// Every bundled lesson comes up for 4 groups; its checks fail before and pass after the reference
// solution (which lives here, not in the pack students see), per group.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importLab, writePack } from '../../agent/lesson/import/index.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChecks } from '../../agent/lab/check-run.js';
import { checkIo, desiredOf, labReset, labUp, setAcls } from '../../agent/lab/service.js';
import type { LabState } from '../../agent/lab/state.js';
import { cfg, docker, inHost, pingLoss, pingOk, run, stack, waitFor } from './_stack.js';

const LESSONS = fileURLToPath(new URL('../../../lessons', import.meta.url));
const GROUPS = 4;
const timings: Record<string, { up_ms: number; reset_ms?: number }> = {};

const must = async (container: string, argv: string[]) => {
  const r = await inHost(container, argv);
  if (r.code !== 0) throw new Error(`${container}: ${argv.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

/** Reference solutions, one per lesson, for one group. */
const solutions: Record<string, (g: number) => Promise<void>> = {
  'first-switch': async (g) => {
    await must(`dovelab-g${g}-h1`, ['ping', '-c', '2', '-i', '0.2', '198.51.100.12']);
    await must(`dovelab-g${g}-h1`, ['sh', '-c', 'ip neigh show 198.51.100.12 | grep -o "lladdr [0-9a-f:]*" | cut -d" " -f2 > /root/h2-mac.txt']);
    await must(`dovelab-g${g}-h3`, ['ip', 'addr', 'add', '198.51.100.13/24', 'dev', 'eth0']);
  },
  vlans: async (g) => {
    await must(`dovelab-g${g}-r2`, ['ip', 'addr', 'add', '198.51.100.12/24', 'dev', 'eth0']);
    await must(`dovelab-g${g}-b2`, ['ip', 'addr', 'add', '198.51.100.22/24', 'dev', 'eth0']);
  },
  'mirror-capture': async (g) => {
    await must(`dovelab-g${g}-h2`, ['sh', '-c', 'timeout 3 tcpdump -i eth0 -w /root/h2.pcap 2>/dev/null; true']);
    // What the laptop on the mirror dongle sees: in the sim world, the capture netns.
    const cap = await run(['ip', 'netns', 'exec', 'capture', 'timeout', '6', 'tcpdump', '-nn', '-e', '-A', '-l', '-c', '2', '-i', 'eth0', 'udp port 9999'], { allowFail: true });
    const word = /secret: (\w+)/.exec(cap.stdout)?.[1];
    const mac = /([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > /.exec(cap.stdout)?.[1];
    assert.ok(word && mac, `the mirror port shows h1's traffic:\n${cap.stdout}${cap.stderr}`);
    await must(`dovelab-g${g}-h2`, ['sh', '-c', `echo ${word} > /root/secret.txt; echo ${mac} > /root/h1-mac.txt`]);
  },
  'acl-firewall': async (g) => {
    await setAcls(await stack(), 'web.eth0', ['web-only'], g);
    // What the drop-counted task asks for: a ping whose replies web-only drops (the client sees none).
    assert.is(await pingLoss(`dovelab-g${g}-client`, '198.51.100.80', 2), 100);
  },
  'school-network': async (g) => {
    await must(`dovelab-g${g}-pc`, ['udhcpc', '-i', 'eth0', '-x', `hostname:g${g}-pc`, '-n', '-q', '-t', '5']);
    await must(`dovelab-g${g}-pc`, ['sh', '-c', 'echo 100.64.0.10 > /root/printer.txt']);
  },
  'routed-lab': async (g) => {
    await must(`dovelab-g${g}-a`, ['ip', 'route', 'add', 'default', 'via', '198.51.100.1']);
    await must(`dovelab-g${g}-b`, ['ip', 'route', 'add', 'default', 'via', '198.51.100.129']);
  },
};

const statusBy = (results: { task: string; group: number; status: string; reason: string }[], group: number) =>
  Object.fromEntries(results.filter((r) => r.group === group).map((r) => [r.task, `${r.status}${r.status === 'pass' ? '' : `: ${r.reason}`}`]));

let state: LabState;
const checks = async (groups?: number[]) => (await runChecks(checkIo(await stack()), state, desiredOf(cfg, state), groups)).results;

for (const id of Object.keys(solutions)) {
  test(`lesson ${id}: checks fail before and pass after the solution, per group`, async () => {
    const ctx = await stack();
    const t0 = Date.now();
    state = (await labUp(ctx, `${LESSONS}/${id}`, GROUPS)).state;
    timings[id] = { up_ms: Date.now() - t0 };
    const tasks = state.topology.tasks.map((t) => t.id);
    assert.ok(tasks.length >= 2, 'a lesson has tasks');
    const before = await checks();
    for (let g = 1; g <= GROUPS; g++) {
      const st = statusBy(before, g);
      assert.equal(Object.keys(st), tasks);
      assert.ok(Object.values(st).every((s) => s.startsWith('fail')), `group ${g} before: ${JSON.stringify(st)}`);
    }
    await solutions[id]!(2);
    const after = await checks();
    assert.equal(Object.values(statusBy(after, 2)), tasks.map(() => 'pass'), `group 2 after: ${JSON.stringify(statusBy(after, 2))}`);
    for (const g of [1, 3]) {
      assert.ok(Object.values(statusBy(after, g)).every((s) => s.startsWith('fail')), `group ${g} untouched: ${JSON.stringify(statusBy(after, g))}`);
    }
  });
}

test('reset of one group: recreated from the lesson, the other groups untouched and pinging', async () => {
  const ctx = await stack();
  state = (await labUp(ctx, `${LESSONS}/first-switch`, GROUPS)).state;
  await solutions['first-switch']!(2);
  await solutions['first-switch']!(3);
  const ids = async (g: number) => Object.fromEntries((await docker.listContainers({ all: true, filters: { label: ['dovelab.lab'] } }))
    .filter((c) => c.Names[0]!.startsWith(`/dovelab-g${g}-`)).map((c) => [c.Names[0], c.Id]));
  const [before2, before3] = [await ids(2), await ids(3)];
  const t0 = Date.now();
  await labReset(ctx, 2);
  timings['first-switch']!.reset_ms = Date.now() - t0;
  // Packets lost by other groups during a reset: bench/engine.ts (reset_other_group_ping).
  assert.equal(await ids(3), before3, 'group 3 keeps its containers');
  for (const [name, id] of Object.entries(await ids(2))) assert.is.not(id, before2[name], `${name} recreated`);
  assert.is(await pingLoss('dovelab-g3-h1', '198.51.100.12', 3), 0, 'group 3 pings');
  const after = await checks([2, 3]);
  assert.ok(Object.values(statusBy(after, 2)).every((s) => s.startsWith('fail')), `group 2 is fresh: ${JSON.stringify(statusBy(after, 2))}`);
  assert.ok(Object.values(statusBy(after, 3)).every((s) => s === 'pass'), `group 3 kept its work: ${JSON.stringify(statusBy(after, 3))}`);
  const motd = await inHost('dovelab-g2-h1', ['cat', '/etc/motd']);
  assert.match(motd.stdout, /your first switch/, 'files copied again');
  // After the checks (a ping is what the fresh group's first task asks for): group 2 works again.
  await waitFor('g2-h1 to ping g2-h2 after the reset', () => pingOk('dovelab-g2-h1', '198.51.100.12'), 30_000, 0);
  console.log(`    lesson timings: ${JSON.stringify(timings)}`);
});

const IMPORTS = fileURLToPath(new URL('../../../test/fixtures/import', import.meta.url));
for (const lab of ['kathara-two-hosts', 'kathara-hub', 'kathara-routers', 'clab-triangle/triangle.clab.yml', 'clab-bridge/lan.clab.yml']) {
  test(`imported lab ${lab} comes up and passes its reachability checks`, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dovelab-import-')), 'pack');
    try {
      writePack(importLab(`${IMPORTS}/${lab}`), out);
      state = (await labUp(await stack(), out, 1)).state;
      const results = await checks();
      assert.ok(results.length > 0, 'the import made reachability tasks');
      assert.ok(results.every((r) => r.status === 'pass'), JSON.stringify(results, null, 1));
    } finally { rmSync(dirname(out), { recursive: true, force: true }); }
  });
}

test.run();

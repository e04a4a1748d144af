// The OVSDB client (agent/net/ovsdb/) against the real ovsdb-server of the OVS container, over the
// db.sock its run directory shares with the host: what it writes shows in `ovs-vsctl`, what
// ovs-vsctl writes shows in its monitor mirror, and a server that does not answer gives an error
// naming the operation, within the deadline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFRA, paths } from '../../agent/config.js';
import { groupCommit } from '../../agent/lab/batch.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { parseVsctlJson } from '../../agent/net/ovs.js';
import { OvsdbClient } from '../../agent/net/ovsdb/client.js';
import { JsonStream } from '../../agent/net/ovsdb/framing.js';
import { OvsdbSwitch } from '../../agent/net/ovsdb/switch.js';
import { loud } from '../loud-hook.js';
import { cfg, docker, run, stack } from './_stack.js';

const vsctl = vsctlVia(docker);
const SOCK = `${paths(cfg).ovsRunDir}/db.sock`;
// Test ports: veths in the root netns, OpenFlow numbers far from the lab's (1-49, 50-99, N*100+k).
const A = 'ovt0'; const B = 'ovt1';
let db: OvsdbClient;
let sw: OvsdbSwitch;

async function veth(name: string) {
  await run(['ip', 'link', 'del', name], { allowFail: true });
  await run(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  for (const n of [name, `${name}p`]) await run(['sysctl', '-qw', `net.ipv6.conf.${n}.disable_ipv6=1`]);
  for (const n of [name, `${name}p`]) await run(['ip', 'link', 'set', n, 'up']);
}

async function cleanup() {
  for (const n of [A, B]) {
    await vsctl(['--if-exists', 'del-port', cfg.bridge, n]).catch(() => {});
    await run(['ip', 'link', 'del', n], { allowFail: true });
  }
}

/** ovs-vsctl's view of one interface (undefined: none of that name). */
async function vsctlInterface(name: string) {
  const r = await vsctl(['--format=json', '--columns=name,ofport,ofport_request,external_ids,options', 'find', 'Interface', `name=${name}`]);
  return parseVsctlJson(r.stdout)[0];
}
const ports = async () => (await vsctl(['list-ports', cfg.bridge])).stdout.split('\n').filter(Boolean);

test.before(loud(async () => {
  await stack();
  await cleanup();
  db = new OvsdbClient({ path: SOCK }).start();
  sw = new OvsdbSwitch(db, groupCommit);
  await db.ready('test set-up');
}));

test.after(async () => { db?.close(); await cleanup(); });

test('a port added by transaction (ofport_request, external_ids) shows in ovs-vsctl; updated; deleted', async () => {
  await veth(A);
  assert.not.ok(await vsctlInterface(A), 'no such interface before');
  await sw.addPort(cfg.bridge, A, 3900, { 'dovelab-test': 'ovsdb', note: 'with space "and quotes"' });
  assert.ok((await ports()).includes(A), 'on the bridge (list-ports)');
  const row = await vsctlInterface(A);
  assert.is(row?.ofport_request, 3900);
  assert.is(row?.ofport, 3900, 'ovs-vswitchd gave it the requested OpenFlow port');
  assert.equal(row?.external_ids, ['map', [['dovelab-test', 'ovsdb'], ['note', 'with space "and quotes"']]]);
  // The mirror saw it too, by the time the call returned (it waited for ovs-vswitchd).
  const mine = (await sw.ports(cfg.bridge)).find((p) => p.name === A);
  assert.equal(mine && { ofport: mine.ofport, ids: mine.externalIds }, { ofport: 3900, ids: { 'dovelab-test': 'ovsdb', note: 'with space "and quotes"' } });
  // Adding it again updates in place (like --may-exist add-port + set): one key changed, the other kept.
  await sw.addPort(cfg.bridge, A, 3902, { note: 'changed' });
  const again = await vsctlInterface(A);
  assert.is(again?.ofport_request, 3902);
  assert.equal(again?.external_ids, ['map', [['dovelab-test', 'ovsdb'], ['note', 'changed']]]);
  await sw.setInterfaceOptions(A, { 'dovelab-opt': '1' });
  assert.equal((await vsctlInterface(A))?.options, ['map', [['dovelab-opt', '1']]]);
  await sw.deletePort(cfg.bridge, A);
  assert.not.ok((await ports()).includes(A), 'off the bridge');
  assert.not.ok(await vsctlInterface(A), 'its Interface row went with it');
  assert.not.ok((await sw.ports(cfg.bridge)).some((p) => p.name === A));
  await sw.deletePort(cfg.bridge, A); // absent: fine, like --if-exists
});

test('changes made together go in one transaction and all land; a bridge that does not exist is an error', async () => {
  await veth(A); await veth(B);
  await Promise.all([sw.addPort(cfg.bridge, A, 3900, { t: 'a' }), sw.addPort(cfg.bridge, B, 3901, { t: 'b' })]);
  assert.equal([(await vsctlInterface(A))?.ofport, (await vsctlInterface(B))?.ofport], [3900, 3901]);
  await Promise.all([sw.deletePort(cfg.bridge, A), sw.deletePort(cfg.bridge, B)]);
  assert.not.ok((await ports()).some((p) => p === A || p === B));
  const e = await sw.addPort('dovelab-nope', A, 3900, {}).then(() => undefined, (x: Error) => x);
  assert.match(String(e), /OVSDB add port ovt0 \(ofport 3900\) to dovelab-nope: no bridge dovelab-nope/);
  assert.not.ok(await vsctlInterface(A), 'nothing left behind');
});

test('the monitor sees a port that ovs-vsctl adds and removes (no polling: it waits on updates)', async () => {
  await veth(B);
  await vsctl(['add-port', cfg.bridge, B, '--', 'set', 'Interface', B, 'ofport_request=3901', 'external_ids:from=vsctl']);
  await db.waitFor((m) => m.bridgePorts(cfg.bridge)?.some((p) => p.name === B && p.ofport === 3901 && p.linkState === 'up') ?? false, `monitor to show ${B}`, 5000);
  assert.equal((await sw.ports(cfg.bridge)).find((p) => p.name === B)?.externalIds, { from: 'vsctl' });
  await vsctl(['del-port', cfg.bridge, B]);
  await db.waitFor((m) => !m.bridgePorts(cfg.bridge)?.some((p) => p.name === B), `monitor to drop ${B}`, 5000);
});

test('a server that does not answer: the call fails within its deadline, naming the operation', async () => {
  // Positive control: the same calls against the real server answer.
  assert.ok(await sw.bridgeExists(cfg.bridge));
  // 1. A server that takes the connection and answers the monitor, then never a transaction.
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-ovsdb-'));
  const path = join(dir, 'silent.sock');
  const conns: Socket[] = [];
  const server: Server = createServer((s) => {
    conns.push(s);
    const f = new JsonStream();
    s.on('data', (c: Buffer) => {
      for (const m of f.push(c) as { id: number; method: string }[]) {
        if (m.method === 'monitor') s.write(JSON.stringify({ id: m.id, error: null, result: { Bridge: { b: { new: { name: cfg.bridge, ports: ['set', []] } } } } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  // The call's own deadline well above a loaded machine's connect-and-monitor time (300 ms failed once in CI), the outer one far above it.
  const silent = new OvsdbClient({ path, callMs: 1500 });
  try {
    const t0 = Date.now();
    const e = await new OvsdbSwitch(silent, groupCommit, { callMs: 8000 }).addPort(cfg.bridge, A, 3900, {}).then(() => undefined, (x: Error) => x);
    assert.match(String(e), /OVSDB add port ovt0 \(ofport 3900\) to dovelab0: no answer within 1\.5 s/, String(e));
    assert.ok(Date.now() - t0 < 8000, 'it did not wait for the outer deadline');
    // 2. Nothing listening on the path at all: at once, naming the socket.
    server.close(); for (const s of conns) s.destroy();
    await new Promise((r) => setImmediate(r));
    rmSync(path, { force: true });
    const e2 = await new OvsdbClient({ path }).ready('OVSDB read of bridge dovelab0').then(() => undefined, (x: Error) => x);
    assert.match(String(e2), /OVS is not running \(no ovsdb-server on .*silent\.sock: .*ENOENT.*\): run `dovelab infra up`/);
  } finally { silent.close(); server.close(); rmSync(dir, { recursive: true, force: true }); }
  // 3. The real ovsdb-server frozen (docker pause): a transaction hangs, the deadline names it; it answers again after.
  await veth(A);
  const paused = new OvsdbSwitch(db, groupCommit, { callMs: 1500 });
  await docker.getContainer(INFRA.ovs).pause();
  let e3: unknown;
  try { e3 = await paused.addPort(cfg.bridge, A, 3900, {}).then(() => undefined, (x: Error) => x); } finally { await docker.getContainer(INFRA.ovs).unpause(); }
  assert.match(String(e3), /OVSDB add port ovt0 \(ofport 3900\) to dovelab0: no answer within 1\.5 s/);
  // After the pause the queued transaction may still land; either way the switch answers and the port can go.
  await sw.deletePort(cfg.bridge, A);
  assert.not.ok((await ports()).includes(A));
});

test.run();

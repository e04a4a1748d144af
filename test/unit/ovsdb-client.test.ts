// The OVSDB client's protocol side (agent/net/ovsdb/rpc.ts, client.ts, switch.ts) against a scripted
// peer over an in-memory stream: request ids, echo, deadlines that name what hung, reconnect with
// the mirror rebuilt, group commit of port changes. The real ovsdb-server: test/integration/ovsdb.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Duplex } from 'node:stream';
import { groupCommit } from '../../agent/lab/batch.js';
import { OvsdbClient } from '../../agent/net/ovsdb/client.js';
import { JsonStream } from '../../agent/net/ovsdb/framing.js';
import { RpcSession } from '../../agent/net/ovsdb/rpc.js';
import { OvsdbSwitch } from '../../agent/net/ovsdb/switch.js';

/** Awaits p, which must reject with a message matching re. */
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  const r = await p.then(() => undefined, (e: Error) => e);
  assert.ok(r instanceof Error, `expected a rejection matching ${re}`);
  assert.match(r.message, re);
}

type Msg = Record<string, unknown> & { id?: unknown; method?: string; params?: unknown[] };

/** Two connected in-memory stream ends; destroying one ends the other. */
function pair(): [Duplex, Duplex] {
  const mk = (peer: () => Duplex) => new Duplex({
    read() {},
    write(chunk, _enc, cb) { peer().push(chunk); cb(); },
    destroy(err, cb) { if (!peer().destroyed) peer().push(null); cb(err); },
  });
  const a: Duplex = mk(() => b);
  const b: Duplex = mk(() => a);
  return [a, b];
}

/** A scripted server end: records what it gets, answers with `answer` (undefined: stays silent). */
function peer(end: Duplex, answer: (m: Msg, p: ReturnType<typeof peer>) => unknown) {
  const got: Msg[] = [];
  const framing = new JsonStream();
  const p = {
    got,
    send: (m: unknown) => end.write(JSON.stringify(m)),
    waitFor: async (pred: (m: Msg) => boolean) => { while (!got.some(pred)) await new Promise((r) => setImmediate(r)); return got.find(pred)!; },
  };
  end.on('data', (c: Buffer) => {
    for (const m of framing.push(c) as Msg[]) {
      got.push(m);
      const r = answer(m, p);
      if (r !== undefined) p.send({ id: m.id, result: r, error: null });
    }
  });
  return p;
}

test('requests get increasing ids, answers match by id in any order; echo is answered with its params', async () => {
  const [c, s] = pair();
  const rpc = new RpcSession(c, { notification: () => {}, closed: () => {} });
  const srv = peer(s, () => undefined);
  const a = rpc.request('list_dbs', [], 'list a', 1000);
  const b = rpc.request('list_dbs', [], 'list b', 1000);
  await srv.waitFor((m) => m.id === 2);
  assert.equal(srv.got.map((m) => [m.id, m.method]), [[1, 'list_dbs'], [2, 'list_dbs']]);
  srv.send({ id: 2, result: ['B'], error: null });
  srv.send({ id: 1, result: ['A'], error: null });
  assert.equal(await Promise.all([a, b]), [['A'], ['B']]);
  srv.send({ method: 'echo', params: ['ping', 7], id: 'echo-1' });
  const reply = await srv.waitFor((m) => m.id === 'echo-1');
  assert.equal(reply, { result: ['ping', 7], error: null, id: 'echo-1' });
  rpc.close();
});

test('no answer: the deadline names what hung; an error answer names it too; a late answer is dropped', async () => {
  const [c, s] = pair();
  const rpc = new RpcSession(c, { notification: () => {}, closed: () => {} });
  const srv = peer(s, () => undefined);
  const silent = rpc.request('transact', ['Open_vSwitch'], 'OVSDB add port dl101', 30);
  await rejects(silent, /OVSDB add port dl101: no answer within 30 ms/);
  assert.is(rpc.inFlight(), 0);
  srv.send({ id: 1, result: [], error: null }); // late: ignored, no crash
  const bad = rpc.request('transact', ['Nope'], 'OVSDB select', 1000);
  await srv.waitFor((m) => m.id === 2);
  srv.send({ id: 2, result: null, error: { error: 'unknown database', details: 'Nope' } });
  await rejects(bad, /OVSDB select: unknown database: Nope/);
  // Positive control: the same session still answers.
  const ok = rpc.request('list_dbs', [], 'list', 1000);
  await srv.waitFor((m) => m.id === 3);
  srv.send({ id: 3, result: ['Open_vSwitch'], error: null });
  assert.equal(await ok, ['Open_vSwitch']);
  rpc.close();
});

const INITIAL = (cur: number, ports: string[] = []) => ({
  Open_vSwitch: { root: { new: { cur_cfg: cur, next_cfg: cur, external_ids: ['map', [['dovelab-datapath', 'netdev']]] } } },
  Bridge: { br: { new: { name: 'dovelab0', ports: ['set', ports.map((p) => ['uuid', `P-${p}`])] } } },
  Port: Object.fromEntries(ports.map((p) => [`P-${p}`, { new: { name: p, interfaces: ['uuid', `I-${p}`], external_ids: ['map', []] } }])),
  Interface: Object.fromEntries(ports.map((p) => [`I-${p}`, { new: { name: p, ofport: 7, ofport_request: ['set', []], external_ids: ['map', []], link_state: 'up', error: ['set', []], type: '', options: ['map', []] } }])),
});

/** A fake ovsdb-server holding only next_cfg: answers monitor and transact, reports cur_cfg. */
function fakeServer(initialPorts: string[] = []) {
  const conns: ReturnType<typeof peer>[] = [];
  const ends: Duplex[] = [];
  let cfg = 1;
  const transacts: unknown[][] = [];
  const connect = () => {
    const [c, s] = pair();
    ends.push(s);
    conns.push(peer(s, (m, p) => {
      if (m.method === 'monitor') return INITIAL(cfg, conns.length > 1 ? ['dl101'] : initialPorts);
      if (m.method === 'transact') {
        const ops = (m.params as Record<string, unknown>[]).slice(1);
        transacts.push(ops);
        if (ops[0]?.comment === 'hang') return undefined;
        const results = ops.map((o) => (o.op === 'select' && o.table === 'Open_vSwitch' ? { rows: [{ next_cfg: cfg + 1 }] } : o.op === 'mutate' ? { count: 1 } : o.op === 'insert' ? { uuid: ['uuid', 'x'] } : {}));
        if (ops.some((o) => o.op === 'mutate' && o.table === 'Open_vSwitch')) {
          cfg++;
          // vswitchd reports the applied config a little later, as a monitor update.
          setImmediate(() => p.send({ method: 'update', params: ['dovelab', { Open_vSwitch: { root: { new: { cur_cfg: cfg, next_cfg: cfg, external_ids: ['map', []] } } } }], id: null }));
        }
        return results;
      }
      return undefined;
    }));
    return c;
  };
  return { connect, conns, ends, transacts };
}

test('reads come from the mirror; a lost connection fails what was in flight, then reconnects and resyncs', async () => {
  const srv = fakeServer();
  const db = new OvsdbClient({ path: '/fake/db.sock', connect: srv.connect, backoff: { firstMs: 5, maxMs: 20 } }).start();
  const sw = new OvsdbSwitch(db, groupCommit);
  assert.ok(await sw.bridgeExists('dovelab0'));
  assert.not.ok(await sw.bridgeExists('br-nope'));
  assert.is(await sw.datapathOfSwitch(), 'netdev');
  assert.equal(await sw.ports('dovelab0'), []);
  assert.is(srv.conns.length, 1);
  // A request in flight when the socket goes: rejected, naming it.
  const hung = db.transact([{ op: 'comment', comment: 'hang' }], 'a hanging transaction', 5000).catch((e: Error) => e);
  await srv.conns[0]!.waitFor((m) => m.method === 'transact');
  srv.transacts.length = 0;
  srv.ends[0]!.destroy();
  const e = await hung;
  assert.match(String(e), /a hanging transaction: connection to ovsdb-server lost/);
  // Back by itself after the backoff, with the new server's state in the mirror.
  await db.waitFor(() => db.status().synced, 'resync', 2000);
  assert.is(srv.conns.length, 2);
  assert.equal((await sw.ports('dovelab0')).map((p) => p.name), ['dl101']);
  db.close();
});

test('port changes that arrive while a transaction runs go together in the next one; each waits for vswitchd', async () => {
  const srv = fakeServer();
  const db = new OvsdbClient({ path: '/fake/db.sock', connect: srv.connect }).start();
  const sw = new OvsdbSwitch(db, groupCommit);
  await db.ready('test');
  await Promise.all([1, 2, 3, 4, 5].map((i) => sw.addPort('dovelab0', `dl10${i}`, 100 + i, { 'dovelab-lab': 'l' })));
  // The first goes alone (nothing else waited); the four that came meanwhile share one transaction.
  assert.equal(srv.transacts.map((ops) => (ops as { op: string; table?: string }[]).filter((o) => o.op === 'insert' && o.table === 'Port').length), [1, 4]);
  const second = srv.transacts[1] as { 'uuid-name'?: string }[];
  assert.equal(second.filter((o) => o['uuid-name']).map((o) => o['uuid-name']), ['c0_iface', 'c0_port', 'c1_iface', 'c1_port', 'c2_iface', 'c2_port', 'c3_iface', 'c3_port']);
  assert.is(db.mirror.curCfg(), 3, 'each transaction waited for its cur_cfg');
  db.close();
});

test('ovs-vswitchd that never applies: the call fails naming the port and what it waited for', async () => {
  const srv = fakeServer();
  const db = new OvsdbClient({ path: '/fake/db.sock', connect: srv.connect }).start();
  await db.ready('test');
  const sw = new OvsdbSwitch(db, groupCommit, { callMs: 200 });
  const never = db.waitFor(() => false, 'ovs-vswitchd applying add port dl101', 30, () => 'next_cfg 9, cur_cfg 1');
  await rejects(never, /ovs-vswitchd applying add port dl101 \(next_cfg 9, cur_cfg 1\): no answer within 30 ms/);
  // Positive control: with the server reporting, the same kind of call completes.
  await sw.addPort('dovelab0', 'dl101', 101, {});
  db.close();
});

test('no server at the path: the call fails at once naming the socket', async () => {
  const db = new OvsdbClient({ path: '/nonexistent/dovelab-test/db.sock', backoff: { firstMs: 1000, maxMs: 1000 } });
  await rejects(db.ready('OVSDB read of bridge dovelab0'), /OVS is not running \(no ovsdb-server on \/nonexistent\/dovelab-test\/db.sock: .*ENOENT.*\): run `dovelab infra up`/);
  db.close();
});

test.run();

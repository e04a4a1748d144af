// The OpenFlow 1.3 flow-statistics reader (agent/net/openflow) against a scripted switch on a unix
// socket: the request as the spec lays it out, a reply in two parts cut at odd places, in_port read
// from the OXM match, an ERROR, a silent switch (deadline names the socket), no socket at all, and
// records that do not fit. The real ovs-vswitchd: test/integration/acl-counters.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { header, OFPT, OpenFlowError, parseFlowStatsReply, splitMessages } from '../../agent/net/openflow/codec.js';
import { dumpFlows } from '../../agent/net/openflow/client.js';

interface F { table: number; priority: number; cookie: bigint; packets: bigint; bytes: bigint; inPort?: number; vlan?: number; sec?: number; nsec?: number }

/** One ofp_flow_stats record as a switch writes it (match: in_port and/or vlan_vid; one instruction of 8 bytes). */
function record(f: F): Buffer {
  const oxm: Buffer[] = [];
  if (f.vlan !== undefined) { const b = Buffer.alloc(6); b.writeUInt16BE(0x8000, 0); b.writeUInt8(6 << 1, 2); b.writeUInt8(2, 3); b.writeUInt16BE(0x1000 | f.vlan, 4); oxm.push(b); }
  if (f.inPort !== undefined) { const b = Buffer.alloc(8); b.writeUInt16BE(0x8000, 0); b.writeUInt8(0, 2); b.writeUInt8(4, 3); b.writeUInt32BE(f.inPort, 4); oxm.push(b); }
  const fields = Buffer.concat(oxm);
  const matchLen = 4 + fields.length;
  const match = Buffer.alloc(Math.ceil(matchLen / 8) * 8);
  match.writeUInt16BE(1, 0); match.writeUInt16BE(matchLen, 2); fields.copy(match, 4);
  const instr = Buffer.alloc(8); instr.writeUInt16BE(4, 0); instr.writeUInt16BE(8, 2); // a CLEAR_ACTIONS
  const head = Buffer.alloc(48);
  head.writeUInt16BE(48 + match.length + instr.length, 0);
  head.writeUInt8(f.table, 2); head.writeUInt16BE(f.priority, 12);
  head.writeUInt32BE(f.sec ?? 0, 4); head.writeUInt32BE(f.nsec ?? 0, 8);
  head.writeBigUInt64BE(f.cookie, 24); head.writeBigUInt64BE(f.packets, 32); head.writeBigUInt64BE(f.bytes, 40);
  return Buffer.concat([head, match, instr]);
}

function reply(xid: number, flows: F[], more: boolean): Buffer {
  const mp = Buffer.alloc(8); mp.writeUInt16BE(1, 0); mp.writeUInt16BE(more ? 1 : 0, 2);
  const body = Buffer.concat([mp, ...flows.map(record)]);
  return Buffer.concat([header(OFPT.MULTIPART_REPLY, xid, body.length), body]);
}

const FLOWS: F[] = [
  { table: 0, priority: 20480, cookie: 0x1c42n, packets: 4n, bytes: 392n, inPort: 3, sec: 12, nsec: 345_000_000 },
  { table: 0, priority: 20479, cookie: 0x1c43n, packets: 0n, bytes: 0n, inPort: 3, vlan: 101, nsec: 7_500_000 },
  { table: 1, priority: 9099, cookie: 0x5adc15c0n, packets: 2n ** 40n, bytes: 2n ** 45n, sec: 4_000_000 },
];

let dir: string;
const servers: Server[] = [];
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'dovelab-of-')); });
test.after(() => { for (const s of servers) s.close(); rmSync(dir, { recursive: true, force: true }); });

/** A switch on a fresh socket path: `script` gets each whole message it receives. */
function fakeSwitch(name: string, script: (sock: Socket, m: { type: number; xid: number; body: Buffer }) => void): Promise<string> {
  const path = join(dir, `${name}.mgmt`);
  const srv = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      const cut = splitMessages(Buffer.concat([buf, c]));
      buf = Buffer.from(cut.rest);
      for (const m of cut.messages) script(sock, m);
    });
    sock.on('error', () => {});
  });
  servers.push(srv);
  return new Promise((resolve) => srv.listen(path, () => resolve(path)));
}

test('the request is a flow-stats multipart of every table, port and group; a reply in two parts cut mid-record is read whole', async () => {
  const got: { type: number; body: Buffer }[] = [];
  const path = await fakeSwitch('two-parts', (sock, m) => {
    got.push(m);
    if (m.type === OFPT.HELLO) sock.write(header(OFPT.HELLO, m.xid, 0));
    if (m.type === OFPT.MULTIPART_REQUEST) {
      const bytes = Buffer.concat([reply(m.xid, FLOWS.slice(0, 2), true), reply(m.xid, FLOWS.slice(2), false)]);
      // Cut at odd places: inside a header, inside a record.
      sock.write(bytes.subarray(0, 5)); setTimeout(() => { sock.write(bytes.subarray(5, 77)); setTimeout(() => sock.write(bytes.subarray(77)), 5); }, 5);
    }
  });
  const flows = await dumpFlows({ path, timeoutMs: 2000 });
  const req = got.find((m) => m.type === OFPT.MULTIPART_REQUEST);
  assert.ok(req, 'a multipart request was sent');
  assert.is(req!.body.readUInt16BE(0), 1, 'OFPMP_FLOW');
  assert.is(req!.body.readUInt8(8), 0xff, 'table_id OFPTT_ALL');
  assert.is(req!.body.readUInt32BE(12), 0xffffffff, 'out_port OFPP_ANY');
  assert.is(req!.body.readUInt32BE(16), 0xffffffff, 'out_group OFPG_ANY');
  assert.is(req!.body.readBigUInt64BE(32), 0n, 'cookie_mask 0: every cookie');
  assert.equal(flows, [
    { table: 0, priority: 20480, cookie: 0x1c42, packets: 4, bytes: 392, inPort: 3, ageMs: 12_345 },
    { table: 0, priority: 20479, cookie: 0x1c43, packets: 0, bytes: 0, inPort: 3, ageMs: 7.5 },
    { table: 1, priority: 9099, cookie: 0x5adc15c0, packets: 2 ** 40, bytes: 2 ** 45, ageMs: 4_000_000_000 },
  ]);
});

test('an echo request from the switch is answered and the read goes on', async () => {
  let echoed = false;
  const path = await fakeSwitch('echo', (sock, m) => {
    if (m.type === OFPT.MULTIPART_REQUEST) sock.write(header(OFPT.ECHO_REQUEST, 77, 0));
    if (m.type === OFPT.ECHO_REPLY && m.xid === 77) { echoed = true; sock.write(reply(0x646c0001, FLOWS.slice(0, 1), false)); }
  });
  const flows = await dumpFlows({ path, timeoutMs: 2000 });
  assert.ok(echoed);
  assert.is(flows.length, 1);
});

test('an ERROR from the switch, a silent switch and a missing socket each fail with what went wrong', async () => {
  const refusing = await fakeSwitch('refusing', (sock, m) => {
    if (m.type === OFPT.MULTIPART_REQUEST) { const b = Buffer.alloc(4); b.writeUInt16BE(1, 0); b.writeUInt16BE(2, 2); sock.write(Buffer.concat([header(OFPT.ERROR, m.xid, 4), b])); }
  });
  const e1 = await dumpFlows({ path: refusing, timeoutMs: 2000 }).then(() => undefined, (e: Error) => e);
  assert.match(e1?.message ?? '', /refused the request \(error type 1 code 2\)/);
  const silent = await fakeSwitch('silent', () => {});
  const e2 = await dumpFlows({ path: silent, timeoutMs: 300 }).then(() => undefined, (e: Error) => e);
  assert.match(e2?.message ?? '', /reading flow counters from .*silent\.mgmt: no answer within 300 ms/);
  const e3 = await dumpFlows({ path: join(dir, 'nothing.mgmt'), timeoutMs: 2000 }).then(() => undefined, (e: Error) => e);
  assert.match(e3?.message ?? '', /management socket .*nothing\.mgmt is not there \(ENOENT\)/);
  // Positive control: the same kind of switch that answers is read.
  const answering = await fakeSwitch('answering', (sock, m) => { if (m.type === OFPT.MULTIPART_REQUEST) sock.write(reply(m.xid, FLOWS, false)); });
  assert.is((await dumpFlows({ path: answering, timeoutMs: 2000 })).length, 3);
});

test('a record that does not fit the reply, or a reply of another kind, is an error, never zero hits', () => {
  const whole = reply(1, FLOWS.slice(0, 1), false).subarray(8);
  assert.is(parseFlowStatsReply(whole).flows.length, 1, 'control: the whole reply parses');
  assert.throws(() => parseFlowStatsReply(whole.subarray(0, whole.length - 8)), (e: Error) => e instanceof OpenFlowError && /does not fit|cut short/.test(e.message));
  const lying = Buffer.from(whole); lying.writeUInt16BE(4000, 8);
  assert.throws(() => parseFlowStatsReply(lying), /does not fit the reply/);
  const port = Buffer.from(whole); port.writeUInt16BE(4, 0);
  assert.throws(() => parseFlowStatsReply(port), /type 4, not flow statistics/);
  assert.throws(() => splitMessages(Buffer.from([4, 19, 0, 3, 0, 0, 0, 1])), /less than its header/);
});

test.run();

// OpenFlow 1.3 (spec 1.3.5), only what reading flow counters needs: HELLO, ECHO, ERROR and the
// flow-statistics multipart request and reply. Pure: bytes in, records out.
import type { FlowStat } from '../faucet/acl-hits.js';

export const OFP_VERSION = 0x04;
export const OFPT = { HELLO: 0, ERROR: 1, ECHO_REQUEST: 2, ECHO_REPLY: 3, MULTIPART_REQUEST: 18, MULTIPART_REPLY: 19 } as const;
const OFPMP_FLOW = 1;
const OFPMPF_REPLY_MORE = 1;
const OFPTT_ALL = 0xff;
const OFPP_ANY = 0xffffffff;
const OFPG_ANY = 0xffffffff;
const OFPXMC_OPENFLOW_BASIC = 0x8000;
const OFPXMT_OFB_IN_PORT = 0;
const HEADER = 8;

export class OpenFlowError extends Error {}

export interface OfMessage { version: number; type: number; xid: number; body: Buffer }

export function header(type: number, xid: number, bodyLength: number): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt8(OFP_VERSION, 0); b.writeUInt8(type, 1); b.writeUInt16BE(HEADER + bodyLength, 2); b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

export const hello = (xid: number) => header(OFPT.HELLO, xid, 0);

export const echoReply = (m: OfMessage) => Buffer.concat([header(OFPT.ECHO_REPLY, m.xid, m.body.length), m.body]);

/** Flow statistics of every table, port and cookie (filtering is ours: one request, one pass). */
export function flowStatsRequest(xid: number): Buffer {
  const body = Buffer.alloc(8 + 40);
  body.writeUInt16BE(OFPMP_FLOW, 0); // flags and pad stay zero
  const r = 8;
  body.writeUInt8(OFPTT_ALL, r);
  body.writeUInt32BE(OFPP_ANY, r + 4);
  body.writeUInt32BE(OFPG_ANY, r + 8);
  // cookie and cookie_mask zero: any cookie. An empty OXM match: type 1, length 4, padded to 8.
  body.writeUInt16BE(1, r + 32); body.writeUInt16BE(4, r + 34);
  return Buffer.concat([header(OFPT.MULTIPART_REQUEST, xid, body.length), body]);
}

/** Cuts whole messages off the front of a byte stream; returns them and what is left. */
export function splitMessages(buf: Buffer): { messages: OfMessage[]; rest: Buffer } {
  const messages: OfMessage[] = [];
  let at = 0;
  while (buf.length - at >= HEADER) {
    const len = buf.readUInt16BE(at + 2);
    if (len < HEADER) throw new OpenFlowError(`OpenFlow: a message claims ${len} bytes, less than its header`);
    if (buf.length - at < len) break;
    messages.push({ version: buf.readUInt8(at), type: buf.readUInt8(at + 1), xid: buf.readUInt32BE(at + 4), body: buf.subarray(at + HEADER, at + len) });
    at += len;
  }
  return { messages, rest: buf.subarray(at) };
}

/** An OFPT_ERROR body in words (type and code numbers, as the spec lists them). */
export function describeError(body: Buffer): string {
  if (body.length < 4) return 'an error message too short to read';
  return `error type ${body.readUInt16BE(0)} code ${body.readUInt16BE(2)}`;
}

/** 64-bit counters and cookies as numbers (exact below 2^53, which counters of a classroom stay under). */
const u64 = (b: Buffer, at: number) => Number(b.readBigUInt64BE(at));

/**
 * One OFPMP_FLOW reply body (after the 8-byte multipart header) -> flow stats; `more` when the
 * switch sends further parts. A record that does not fit its own length is an error: a misread
 * must never look like zero hits.
 */
export function parseFlowStatsReply(body: Buffer): { flows: FlowStat[]; more: boolean } {
  if (body.length < 8) throw new OpenFlowError('OpenFlow: a multipart reply without its header');
  const mpType = body.readUInt16BE(0);
  if (mpType !== OFPMP_FLOW) throw new OpenFlowError(`OpenFlow: a multipart reply of type ${mpType}, not flow statistics`);
  const more = (body.readUInt16BE(2) & OFPMPF_REPLY_MORE) !== 0;
  const flows: FlowStat[] = [];
  let at = 8;
  while (at < body.length) {
    if (body.length - at < 56) throw new OpenFlowError(`OpenFlow: a flow record cut short (${body.length - at} bytes left)`);
    const len = body.readUInt16BE(at);
    if (len < 56 || at + len > body.length) throw new OpenFlowError(`OpenFlow: a flow record of ${len} bytes does not fit the reply`);
    const matchType = body.readUInt16BE(at + 48);
    const matchLen = body.readUInt16BE(at + 50);
    if (matchType !== 1 || matchLen < 4 || 48 + matchLen > len) throw new OpenFlowError(`OpenFlow: a flow record whose match (type ${matchType}, ${matchLen} bytes) cannot be read`);
    const flow: FlowStat = {
      table: body.readUInt8(at + 2), priority: body.readUInt16BE(at + 12),
      cookie: u64(body, at + 24), packets: u64(body, at + 32), bytes: u64(body, at + 40),
      ageMs: body.readUInt32BE(at + 4) * 1000 + body.readUInt32BE(at + 8) / 1e6,
    };
    const inPort = oxmInPort(body.subarray(at + 52, at + 48 + matchLen));
    if (inPort !== undefined) flow.inPort = inPort;
    flows.push(flow);
    at += len;
  }
  return { flows, more };
}

/** The in_port of an OXM field list, if the match has one. */
function oxmInPort(oxm: Buffer): number | undefined {
  let at = 0;
  while (oxm.length - at >= 4) {
    const cls = oxm.readUInt16BE(at);
    const fieldAndMask = oxm.readUInt8(at + 2);
    const len = oxm.readUInt8(at + 3);
    if (at + 4 + len > oxm.length) throw new OpenFlowError('OpenFlow: an OXM field runs past its match');
    if (cls === OFPXMC_OPENFLOW_BASIC && fieldAndMask >> 1 === OFPXMT_OFB_IN_PORT && len === 4) return oxm.readUInt32BE(at + 4);
    at += 4 + len;
  }
  return undefined;
}

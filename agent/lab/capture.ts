// Captures, the pure part: which port a capture request means (and whether the asker may have
// it), the tcpdump filter that keeps that interface's frames out of the group's capture port, and
// pcap framing (whole packets only, so a size-capped file still opens in Wireshark).
import { CAPTURE_NETNS, isSharedHost, type DesiredCapture, type DesiredPort, type DesiredState } from './desired.js';
import type { LabState } from './state.js';

export const CAPTURE_LIMITS = {
  defaultSeconds: 30,
  maxSeconds: 300,
  /** Bytes of pcap per capture (whole packets; the header counts). */
  maxBytes: 4 * 1024 * 1024,
  snaplen: 2048,
  /** Recording at once: per group, and on the appliance. */
  perGroup: 2,
  total: 8,
  /** Finished captures kept for download, per group, and for how long. */
  keptPerGroup: 3,
  keepMs: 15 * 60_000,
  /** Decoded packets kept for the live view. */
  livePackets: 200,
} as const;

export class CaptureRefused extends Error {
  constructor(readonly status: 400 | 403 | 404, message: string) { super(message); }
}

export interface CaptureTarget { port: DesiredPort; capture: DesiredCapture; netns: string; filter: string }

/** Who asks: a student group (only `controls.capture`, only its own hosts) or the instructor (any port). */
export type CaptureAsker = { group: number } | { instructor: true; group?: number };

/** Resolves `host.iface` for the asker, or throws CaptureRefused with the reason. */
export function captureTarget(st: LabState, desired: DesiredState, asker: CaptureAsker, target: string): CaptureTarget {
  const [host, ifname, ...rest] = target.split('.');
  const t = st.topology;
  if (!host || !ifname || rest.length) throw new CaptureRefused(400, `${target}: expected host.interface, e.g. h1.eth0`);
  if ('instructor' in asker) {
    if (!Object.hasOwn(t.hosts, host)) throw new CaptureRefused(404, `${target}: unknown host "${host}" (hosts: ${Object.keys(t.hosts).join(', ')})`);
    if (!Object.hasOwn(t.hosts[host]!.interfaces, ifname)) throw new CaptureRefused(404, `${target}: host ${host} has no interface ${ifname}`);
  } else if (!(t.controls?.capture ?? []).includes(target) || !Object.hasOwn(t.hosts, host) || isSharedHost(t, host)) {
    throw new CaptureRefused(403, `the lesson does not let groups capture ${target}`);
  }
  const shared = isSharedHost(t, host);
  const group = shared ? 0 : asker.group;
  if (group === undefined) throw new CaptureRefused(400, `${target}: which group? (${host} exists once per group)`);
  if (!shared && (group < 1 || group > st.groups)) throw new CaptureRefused(400, `group ${group}: the lab has groups 1..${st.groups}`);
  const port = desired.ports.find((p) => p.host === host && p.ifname === ifname && p.group === group);
  const capture = desired.captures?.find((c) => c.group === group && !c.owner);
  if (!port || !capture) throw new CaptureRefused(404, `${target}: no such port in group ${group}`);
  return { port, capture, netns: CAPTURE_NETNS, filter: captureFilter(desired, port) };
}

/**
 * The capture port copies every port of the group being captured, so tcpdump keeps this one's:
 * frames to or from its MAC, and broadcasts/multicasts except those sent by lab hosts on the
 * group's other VLANs (which never reach this interface). Senders behind an uplink on those other
 * VLANs have MACs we do not know: their broadcasts can show up while both are captured.
 */
export function captureFilter(desired: DesiredState, port: DesiredPort): string {
  // What reaches this group's capture port: traffic of the group's ports, so of their VLANs
  // (shared ones included, where other groups' and shared hosts also send).
  const vlans = new Set(desired.ports.filter((p) => p.group === port.group && p.vid !== port.vid).map((p) => p.vid));
  const elsewhere = [...new Set(desired.ports.filter((p) => vlans.has(p.vid) && p.mac !== port.mac).map((p) => p.mac))].sort();
  const multicast = elsewhere.length ? `(ether multicast and not (${elsewhere.map((m) => `ether src ${m}`).join(' or ')}))` : 'ether multicast';
  return `ether host ${port.mac} or ${multicast}`;
}

/** seconds asked -> seconds granted (default when absent), or why not. */
export function captureSeconds(asked: unknown): number {
  if (asked === undefined || asked === null) return CAPTURE_LIMITS.defaultSeconds;
  if (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1 || asked > CAPTURE_LIMITS.maxSeconds) {
    throw new CaptureRefused(400, `seconds: expected a whole number 1..${CAPTURE_LIMITS.maxSeconds}`);
  }
  return asked;
}

export interface PcapRecord { tsSec: number; tsUsec: number; origLen: number; data: Buffer; raw: Buffer }

/** Splits a pcap byte stream into the global header and whole records (classic pcap, either byte order). */
export class PcapFramer {
  private buf: Buffer = Buffer.alloc(0);
  header: Buffer | undefined;
  private le = true;

  /** Adds bytes; returns the records now complete. Throws on a stream that is not pcap. */
  push(chunk: Buffer): PcapRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: PcapRecord[] = [];
    if (!this.header) {
      if (this.buf.length < 24) return out;
      const magic = this.buf.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.le = true;
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.le = false;
      else throw new Error(`not a pcap stream (magic ${magic.toString(16)})`);
      this.header = Buffer.from(this.buf.subarray(0, 24));
      this.buf = this.buf.subarray(24);
    }
    let at = 0;
    const u32 = (o: number) => (this.le ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o));
    while (this.buf.length - at >= 16) {
      const incl = u32(at + 8);
      if (incl > 262_144) throw new Error(`pcap record of ${incl} bytes: not a capture stream`);
      if (this.buf.length - at < 16 + incl) break;
      const raw = Buffer.from(this.buf.subarray(at, at + 16 + incl));
      out.push({ tsSec: u32(at), tsUsec: u32(at + 4), origLen: u32(at + 12), data: raw.subarray(16), raw });
      at += 16 + incl;
    }
    this.buf = this.buf.subarray(at);
    return out;
  }
}

/** Where an IPv4 frame's payload starts (after Ethernet, IP and a UDP/TCP/ICMP header); 0 if not IPv4. */
function payloadOffset(f: Buffer): number {
  if (f.length < 34 || f.readUInt16BE(12) !== 0x0800) return 0;
  const ip = 14 + (f[14]! & 0x0f) * 4;
  const proto = f[23];
  const l4 = proto === 6 && f.length > ip + 12 ? ((f[ip + 12]! >> 4) * 4) : proto === 17 || proto === 1 ? 8 : 0;
  // An ICMP error quotes the packet it is about: skip its IP header and first 8 bytes too.
  const quoted = proto === 1 && (f[ip] === 3 || f[ip] === 11) && f.length > ip + 8 ? (f[ip + 8]! & 0x0f) * 4 + 8 : 0;
  return Math.min(f.length, ip + l4 + quoted);
}

/** Printable runs (4+ characters) in a frame's payload, for the live view: "secret: tulip" shows up. */
export function printableText(data: Buffer, max = 120): string | undefined {
  const runs = data.subarray(payloadOffset(data)).toString('latin1').match(/[\x20-\x7e]{4,}/g);
  if (!runs) return undefined;
  const text = runs.map((r) => r.trim()).filter((r) => r.length >= 4).join(' · ');
  return text ? (text.length > max ? `${text.slice(0, max - 1)}…` : text) : undefined;
}

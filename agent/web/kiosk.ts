// The kiosk's facts: join URLs (the .local name and the IP address: phones resolve .local
// unevenly), the QR code of the IP URL, and the alarms a teacher should see from across the room.
import { networkInterfaces } from 'node:os';
import { renderSVG } from 'uqr';
import type { FaucetStatus } from '../net/faucet/status.js';
import type { HostStatus } from '../lab/status.js';

const portPart = (port: number) => (port === 80 ? '' : `:${port}`);

export function joinUrls(name: string, port: number, ipv4: string | undefined): string[] {
  return [`http://${name}.local${portPart(port)}/`, ...(ipv4 ? [`http://${ipv4}${portPart(port)}/`] : [])];
}

/** QR code of the best URL for a phone's camera: the IP one when there is one. */
export const joinQrSvg = (urls: string[]): string => renderSVG(urls[1] ?? urls[0] ?? '', { border: 2 });

/** The first IPv4 address of the appliance that is not loopback (and not a lab veth or docker bridge). */
export function firstIpv4(ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string | undefined {
  const skip = /^(lo|docker\d*|br-|veth|dl\d|ovs-)/;
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (skip.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

export interface AlarmFacts {
  hosts: HostStatus[] | undefined;
  /** Faucet's metrics, or the error reading them. */
  faucet: { status: FaucetStatus; liveSha256: string | undefined; dpName: string } | { error: string } | undefined;
  /** Fraction of the data disk in use (0..1), if known. */
  diskUsed: number | undefined;
  /** Dongles the lab (or a Docker network) uses that are not plugged in. */
  missingDongles?: { role: string; iface: string }[];
}

/** Alarms, each a short sentence for the kiosk. Pure. */
export function alarms(f: AlarmFacts): string[] {
  const out: string[] = [];
  // First: a pulled dongle cuts a whole network off, and someone in the room can plug it back.
  for (const d of f.missingDongles ?? []) out.push(`${d.role} ${d.iface} unplugged`);
  for (const h of f.hosts ?? []) if (!h.running) out.push(`${h.key} is not running`);
  if (f.faucet && 'error' in f.faucet) out.push(`Faucet is not answering (${f.faucet.error.split('\n')[0]})`);
  else if (f.faucet) {
    const { status: s, liveSha256, dpName } = f.faucet;
    if (s.loadError) out.push('Faucet could not load its config');
    else if (s.dpUp[dpName] !== true) out.push(`Faucet does not see the switch ${dpName}`);
    else if (liveSha256 && !s.hashes.includes(liveSha256)) out.push('Faucet has not confirmed the current config');
  }
  if (f.diskUsed !== undefined && f.diskUsed > 0.9) out.push(`disk ${Math.round(f.diskUsed * 100)}% full`);
  return out;
}

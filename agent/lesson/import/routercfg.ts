// Addresses a lab gives its routers in their FRR or Quagga configuration (zebra sets them:
// `interface eth1` / ` ip address 198.51.100.1/30` in /etc/frr/frr.conf, /etc/frr/zebra.conf or
// /etc/quagga/zebra.conf) rather than in the startup. Read so the lesson states them (diagram,
// tasks between neighbours). Pure: the caller hands in the files' text.
import type { DraftHost } from './types.js';

/** Where zebra reads interface addresses from, in the order a daemon would. */
export const ROUTER_CONFIGS = ['/etc/frr/frr.conf', '/etc/frr/zebra.conf', '/etc/quagga/zebra.conf'];

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const validCidr = (s: string) => { const m = CIDR.exec(s); return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32; };

/** `interface X` blocks' first IPv4 `ip address A/P`, in file order. */
export function configAddresses(text: string): { iface: string; cidr: string }[] {
  const out: { iface: string; cidr: string }[] = [];
  let iface: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    const block = /^interface\s+(\S+)(\s+vrf\s+\S+)?$/.exec(line);
    if (block) { iface = block[1]; continue; }
    if (!/^\s/.test(line)) { iface = undefined; continue; }
    const m = /^\s+ip address\s+(\S+)(\s+secondary)?$/.exec(line);
    if (iface && m && !m[2] && validCidr(m[1]!) && !out.some((a) => a.iface === iface)) out.push({ iface, cidr: m[1]! });
  }
  return out;
}

/**
 * Sets `ip` of the host's interfaces that have none yet (the startup's address wins) from the
 * router configs it ships; `read` gives a shipped file's text by its path in the host. Returns
 * the interfaces set, e.g. ["eth1", "eth2"].
 */
export function addressesFromRouterConfigs(host: DraftHost, read: (inHost: string) => string | undefined): string[] {
  const set: string[] = [];
  for (const path of ROUTER_CONFIGS) {
    const text = host.files?.[path] !== undefined ? read(path) : undefined;
    if (text === undefined) continue;
    for (const { iface, cidr } of configAddresses(text)) {
      const i = host.interfaces[iface];
      if (!i || i.ip) continue;
      i.ip = cidr;
      set.push(iface);
    }
  }
  return set;
}

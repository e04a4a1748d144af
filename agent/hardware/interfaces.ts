// Interfaces present now in the appliance's own (root) network namespace: their addresses,
// whether they carry a default route, and their kind. Feeds lessonInterfaceProblems (pure).
import { existsSync, readdirSync } from 'node:fs';
import type { InterfaceFacts } from '../lab/interfaces.js';
import { run } from '../sys/run.js';

export type { InterfaceFacts } from '../lab/interfaces.js';

/** What the host commands said, as text: the input of the pure parser. */
export interface RawInterfaceInfo {
  /** Names in /sys/class/net. */
  names: string[];
  /** Names that are Wi-Fi (sysfs `wireless` or `phy80211`). */
  wireless: string[];
  /** `ip -j -d addr show`. */
  addrJson: string;
  /** `ip -j route show default`, `ip -j -6 route show default`. */
  routeJsons: string[];
}

interface IpAddrEntry {
  ifname?: unknown;
  link_type?: unknown;
  linkinfo?: { info_kind?: unknown };
  addr_info?: { local?: unknown; prefixlen?: unknown }[];
}
interface IpRouteEntry { dst?: unknown; dev?: unknown; nexthops?: { dev?: unknown }[] }

function parseJsonArray<T>(text: string, what: string): T[] {
  if (!text.trim()) return [];
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new Error(`${what}: not JSON (${(e as Error).message})`); }
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array`);
  return v as T[];
}

/** Pure: the facts from captured command output (tests feed captured samples). */
export function parseInterfaceFacts(raw: RawInterfaceInfo): InterfaceFacts {
  const facts: InterfaceFacts = {};
  const entry = (name: string) => (Object.hasOwn(facts, name) ? facts[name]! : (facts[name] = { addresses: [], defaultRoute: false }));
  for (const n of raw.names) entry(n);
  for (const l of parseJsonArray<IpAddrEntry>(raw.addrJson, 'ip -j -d addr show')) {
    if (typeof l?.ifname !== 'string') continue;
    const f = entry(l.ifname);
    // Entries without `local` are lifetime-only leftovers some iproute2 versions print.
    for (const a of l.addr_info ?? []) {
      if (typeof a?.local === 'string') f.addresses.push(typeof a.prefixlen === 'number' ? `${a.local}/${a.prefixlen}` : a.local);
    }
    const kind = l.linkinfo?.info_kind;
    if (typeof kind === 'string') f.kind = kind;
    else if (l.link_type === 'loopback') f.kind = 'loopback';
  }
  for (const n of raw.wireless) entry(n).kind = 'wlan';
  raw.routeJsons.forEach((text, k) => {
    for (const r of parseJsonArray<IpRouteEntry>(text, `ip -j route show default (#${k + 1})`)) {
      // A multipath default route names its devices per next hop.
      const devs = [r?.dev, ...(r?.nexthops ?? []).map((h) => h?.dev)].filter((d): d is string => typeof d === 'string');
      for (const d of devs) entry(d).defaultRoute = true;
    }
  });
  return facts;
}

const SYS_NET = '/sys/class/net';
const TIMEOUT_MS = 5_000;

/** Reads the facts from /sys/class/net and iproute2 (IPv4 and IPv6 default routes). */
export async function readInterfaceFacts(): Promise<InterfaceFacts> {
  const names = readdirSync(SYS_NET);
  const wireless = names.filter((n) => existsSync(`${SYS_NET}/${n}/wireless`) || existsSync(`${SYS_NET}/${n}/phy80211`));
  const ip = (args: string[]) => run(['ip', '-j', ...args], { timeoutMs: TIMEOUT_MS }).then((r) => r.stdout);
  // With IPv6 off in the kernel (ipv6.disable=1) there is no IPv6 routing table to ask.
  const ipv6 = existsSync('/proc/sys/net/ipv6');
  const [addrJson, route4, route6] = await Promise.all([
    ip(['-d', 'addr', 'show']), ip(['route', 'show', 'default']), ipv6 ? ip(['-6', 'route', 'show', 'default']) : Promise.resolve('[]'),
  ]);
  return parseInterfaceFacts({ names, wireless, addrJson, routeJsons: [route4, route6] });
}

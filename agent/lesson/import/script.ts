// Reads what a startup script (Kathará .startup, containerlab exec) does to the network, so the
// lesson can state it: static IPv4 addresses, default gateways, bridges built inside the host.
// A reading, not a shell: it understands the common one-line forms and ignores the rest.

export interface ScriptFacts {
  /** In script order: interface -> address with prefix (IPv4 only). */
  addresses: { iface: string; cidr: string }[];
  /** Default gateways, in script order. */
  gateways: string[];
  /** The script makes a Linux or OVS bridge (ip link add … type bridge, brctl addbr, ovs-vsctl add-br). */
  buildsBridge: boolean;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const isIpv4 = (s: string) => { const m = IPV4.exec(s); return !!m && m.slice(1).every((o) => Number(o) <= 255); };
const isPrefixOf = (word: string, tok: string | undefined) => !!tok && word.startsWith(tok);

/** 255.255.255.0 -> 24; undefined if not a contiguous mask. */
export function maskToPrefix(mask: string): number | undefined {
  if (!isIpv4(mask)) return undefined;
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** The classful prefix ifconfig assumes without a netmask. */
const classful = (ip: string) => { const a = Number(ip.split('.')[0]); return a < 128 ? 8 : a < 192 ? 16 : 24; };

/** ip/prefix if `tok` is an IPv4 address with an optional valid prefix. */
function cidrOf(tok: string, defaultPrefix: number): string | undefined {
  const [ip, p, extra] = tok.split('/');
  if (extra !== undefined || !ip || !isIpv4(ip)) return undefined;
  if (p === undefined) return `${ip}/${defaultPrefix}`;
  return /^\d{1,2}$/.test(p) && Number(p) <= 32 ? `${ip}/${Number(p)}` : undefined;
}

/** Simple commands of a script: comments dropped, split at ; && || | and newlines, quotes stripped from words. */
export function commands(script: string): string[][] {
  const out: string[][] = [];
  for (const line of script.split('\n')) {
    const code = line.replace(/(^|\s)#.*$/, '');
    for (const part of code.split(/;|&&|\|\||\|/)) {
      const words = part.trim().split(/\s+/).map((w) => w.replace(/^['"(]+|['")]+$/g, '')).filter(Boolean);
      if (words.length) out.push(words);
    }
  }
  return out;
}

const IP_ADDR_ARGS = new Set(['peer', 'broadcast', 'brd', 'anycast', 'label', 'scope', 'valid_lft', 'preferred_lft', 'metric', 'proto']);

/** `ip [-opts] address add ADDR dev IF …` in any abbreviation and order. */
function ipAddress(w: string[], facts: ScriptFacts): void {
  let dev: string | undefined; let addr: string | undefined;
  for (let k = 0; k < w.length; k++) {
    const t = w[k]!;
    if (t === 'dev') { dev = w[++k]; continue; }
    if (t === 'local') { addr ??= cidrOf(w[++k] ?? '', 32); continue; }
    if (IP_ADDR_ARGS.has(t)) { k++; continue; }
    addr ??= cidrOf(t, 32);
  }
  if (dev && addr) facts.addresses.push({ iface: dev, cidr: addr });
}

/** `ip route add default via GW …` (also 0.0.0.0/0). */
function ipRoute(w: string[], facts: ScriptFacts): void {
  if (w[0] !== 'default' && w[0] !== '0.0.0.0/0') return;
  const via = w.indexOf('via');
  const gw = via >= 0 ? w[via + 1] : undefined;
  if (gw && isIpv4(gw)) facts.gateways.push(gw);
}

/** `ifconfig IF [inet] ADDR[/P] [netmask M] [up]`. */
function ifconfig(w: string[], facts: ScriptFacts): void {
  const iface = w[0];
  const rest = w.slice(1).filter((t) => t !== 'inet');
  const ip = rest[0];
  if (!iface || !ip || !/^\d/.test(ip)) return;
  const m = rest.indexOf('netmask');
  const prefix = m >= 0 ? maskToPrefix(rest[m + 1] ?? '') : undefined;
  const bare = ip.split('/')[0]!;
  const cidr = ip.includes('/') ? cidrOf(ip, 32) : isIpv4(bare) ? `${bare}/${prefix ?? classful(bare)}` : undefined;
  if (cidr) facts.addresses.push({ iface, cidr });
}

export function scanScript(script: string): ScriptFacts {
  const facts: ScriptFacts = { addresses: [], gateways: [], buildsBridge: false };
  for (const words of commands(script)) {
    for (let k = 0; k < words.length; k++) {
      const cmd = words[k]!.split('/').pop();
      const rest = words.slice(k + 1);
      if (cmd === 'ip') {
        let j = 0;
        while (rest[j]?.startsWith('-')) j++;
        const [object, verb] = [rest[j], rest[j + 1]];
        const args = rest.slice(j + 2);
        if (isPrefixOf('address', object) && ['add', 'a', 'ad', 'replace'].includes(verb ?? '')) ipAddress(args, facts);
        else if (isPrefixOf('route', object) && ['add', 'a', 'ad', 'replace', 'append'].includes(verb ?? '')) ipRoute(args, facts);
        else if (isPrefixOf('link', object) && ['add', 'a', 'ad'].includes(verb ?? '') && hasPair(args, 'type', 'bridge')) facts.buildsBridge = true;
        break;
      }
      if (cmd === 'ifconfig') { ifconfig(rest, facts); break; }
      if (cmd === 'route') {
        if (rest[0] === 'add' && rest[1] === 'default' && rest[2] === 'gw' && rest[3] && isIpv4(rest[3])) facts.gateways.push(rest[3]);
        break;
      }
      if (cmd === 'brctl' && rest[0] === 'addbr') { facts.buildsBridge = true; break; }
      if (cmd === 'ovs-vsctl' && rest.includes('add-br')) { facts.buildsBridge = true; break; }
    }
  }
  return facts;
}

const hasPair = (w: string[], key: string, value: string) => w.some((t, k) => t === key && w[k + 1] === value);

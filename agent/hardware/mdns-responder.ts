// Dovelab's own mDNS responder and browser (multicast-dns), for machines without avahi-daemon:
// A for <name>.local, PTR/SRV/TXT for _http._tcp and _dovelab._tcp, legacy unicast (RFC 6762
// 6.7), an announcement at start and a goodbye at stop. It answers only on the appliance's
// management interfaces: one socket per allowed IPv4 address, multicast joined and sent on that
// interface only, and a query is answered only when its source lies in that interface's subnet
// (Node cannot tell the arrival interface; a socket on 0.0.0.0:5353 sees the group on all).
import type { RemoteInfo } from 'node:dgram';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Answer, Question } from 'dns-packet';
import type makeMdnsFn from 'multicast-dns';
import type { QueryOutgoingPacket, RemoteInfoOutgoing } from 'multicast-dns';

/** multicast-dns loads when a responder starts or a browse runs: where avahi answers (the Pi), never (issue 13). */
const loadMdns = async () => (await import('multicast-dns')).default;

export const HTTP_SERVICE = '_http._tcp.local';
export const DOVELAB_SERVICE = '_dovelab._tcp.local';
const SERVICES_META = '_services._dns-sd._udp.local';
const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
const TTL = 120;
/** RFC 6762 6.7: answers to legacy unicast queries carry TTLs of at most 10 s. */
const LEGACY_TTL = 10;

/** IPv4 addresses with prefix ("198.51.100.1/24") per interface name. */
export type AddressesByInterface = Record<string, string[]>;

/** The IPv4 addresses of this network namespace, per interface (os.networkInterfaces). */
export function currentAddresses(): AddressesByInterface {
  const out: AddressesByInterface = {};
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && a.cidr) (out[name] ??= []).push(a.cidr);
  }
  return out;
}

/**
 * Pure: whether an interface is a management one (mDNS may answer there). Never loopback, the
 * lab bridge, Docker's and OVS's interfaces, veths, lab-side names (dl*), or a dongle the
 * appliance owns; and (when known) only interfaces with a device behind them.
 */
export function isManagementInterface(name: string, o: { dongles?: string[]; bridge?: string; physical?: boolean } = {}): boolean {
  if (name === 'lo' || name === o.bridge || o.dongles?.includes(name)) return false;
  // dl*: lab-side ends; up*/mir*/lab*: the names the Pi's .link files give dongles (DESIGN §5).
  if (/^(dl|docker|veth|br-|ovs|virbr|tap|tun|ifb|mir|up[0-9]|lab[0-9])/.test(name)) return false;
  return o.physical ?? true;
}

/** The default allow-list: isManagementInterface with "physical" from /sys/class/net/<if>/device. */
export function managementAllow(o: { dongles?: string[]; bridge?: string } = {}): (ifname: string) => boolean {
  return (ifname) => isManagementInterface(ifname, { ...o, physical: existsSync(`/sys/class/net/${ifname}/device`) });
}

function ipv4ToInt(ip: string): number | undefined {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Pure: `ip` lies in the subnet of `cidr` ("198.51.100.1/24"). */
export function inSubnet(ip: string, cidr: string): boolean {
  const [addr = '', len = '32'] = cidr.split('/');
  const a = ipv4ToInt(addr); const b = ipv4ToInt(ip); const n = Number(len);
  if (a === undefined || b === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

export interface Advert { name: string; port: number; id: string; version?: string }

const lc = (s: string) => s.toLowerCase();

/** Pure: the records of the appliance as seen from one interface address. */
export function advertRecords(a: Advert, address: string, ttl = TTL) {
  const host = `${a.name}.local`;
  const http = `${a.name}.${HTTP_SERVICE}`;
  const dove = `${a.name}.${DOVELAB_SERVICE}`;
  const txt = [`id=${a.id}`, ...(a.version ? [`version=${a.version}`] : [])];
  const srv = (name: string): Answer => ({ name, type: 'SRV', ttl, flush: true, data: { port: a.port, target: host, priority: 0, weight: 0 } });
  return {
    host, http, dove,
    a: { name: host, type: 'A', ttl, flush: true, data: address } as Answer,
    ptrHttp: { name: HTTP_SERVICE, type: 'PTR', ttl, data: http } as Answer,
    ptrDove: { name: DOVELAB_SERVICE, type: 'PTR', ttl, data: dove } as Answer,
    srvHttp: srv(http), srvDove: srv(dove),
    txtHttp: { name: http, type: 'TXT', ttl, flush: true, data: ['path=/'] } as Answer,
    txtDove: { name: dove, type: 'TXT', ttl, flush: true, data: txt } as Answer,
    meta: [HTTP_SERVICE, DOVELAB_SERVICE].map((s) => ({ name: SERVICES_META, type: 'PTR', ttl, data: s }) as Answer),
  };
}

/** Pure: answers and additionals for the questions of one query (empty when none is ours). */
export function answerQuestions(a: Advert, address: string, questions: Question[], ttl = TTL): { answers: Answer[]; additionals: Answer[] } {
  const r = advertRecords(a, address, ttl);
  const answers: Answer[] = []; const additionals: Answer[] = [];
  const add = (list: Answer[], ...recs: Answer[]) => { for (const x of recs) if (!answers.includes(x) && !list.includes(x)) list.push(x); };
  for (const q of questions) {
    const name = lc(q.name); const type = String(q.type); const any = type === 'ANY';
    if (name === lc(r.host) && (type === 'A' || any)) add(answers, r.a);
    if (name === lc(HTTP_SERVICE) && (type === 'PTR' || any)) { add(answers, r.ptrHttp); add(additionals, r.srvHttp, r.txtHttp, r.a); }
    if (name === lc(DOVELAB_SERVICE) && (type === 'PTR' || any)) { add(answers, r.ptrDove); add(additionals, r.srvDove, r.txtDove, r.a); }
    if (name === lc(SERVICES_META) && (type === 'PTR' || any)) add(answers, ...r.meta);
    for (const [inst, srv, txt] of [[r.http, r.srvHttp, r.txtHttp], [r.dove, r.srvDove, r.txtDove]] as const) {
      if (name !== lc(inst)) continue;
      if (type === 'SRV' || any) { add(answers, srv); add(additionals, r.a); }
      if (type === 'TXT' || any) add(answers, txt);
    }
  }
  // A record also given as an answer is not repeated among the additionals.
  return { answers, additionals: additionals.filter((x) => !answers.includes(x)) };
}

export interface ResponderOptions extends Advert {
  /** IPv4 addresses with prefix per interface; default: this namespace's (os.networkInterfaces). */
  addresses?: () => AddressesByInterface;
  /** Interfaces the responder may answer on; default: managementAllow(). */
  allow?: (ifname: string) => boolean;
  log?: (s: string) => void;
  /** How often interfaces are looked at again (DHCP, Wi-Fi coming and going); default 10 s. */
  refreshMs?: number;
}

export interface Responder {
  /** The interface addresses it answers on now ("eth0 192.0.2.2/24"). */
  bound(): string[];
  /** Sends a goodbye (TTL 0) on every interface and closes the sockets. */
  stop(): Promise<void>;
}

type Mdns = ReturnType<typeof makeMdnsFn>;

function send(m: Mdns, packet: Parameters<Mdns['respond']>[0], rinfo?: RemoteInfo): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    if (rinfo) m.respond(packet, rinfo, done); else m.respond(packet, done);
  });
}

/** Starts the responder; resolves when every socket is bound and the first announcement is sent. */
export async function startResponder(o: ResponderOptions): Promise<Responder> {
  const log = o.log ?? (() => {});
  const addresses = o.addresses ?? currentAddresses;
  const allow = o.allow ?? managementAllow();
  const makeMdns = await loadMdns();
  const socks = new Map<string, { ifname: string; cidr: string; m: Mdns }>();
  let stopped = false;

  const announcement = (address: string, ttl: number) => {
    const r = advertRecords(o, address, ttl);
    return { answers: [r.ptrHttp, r.ptrDove, r.srvHttp, r.srvDove, r.txtHttp, r.txtDove, r.a, ...r.meta] };
  };

  async function open(ifname: string, cidr: string): Promise<void> {
    const address = cidr.split('/')[0]!;
    const m = makeMdns({ interface: address, bind: '0.0.0.0', port: MDNS_PORT, reuseAddr: true, loopback: false });
    await new Promise<void>((resolve, reject) => { m.once('ready', resolve); m.once('error', reject); });
    m.on('error', (e: Error) => log(`mdns ${ifname}: ${e.message}`));
    m.on('warning', () => {});
    m.on('query', (q, rinfo) => {
      // Only queries from this interface's own subnet (see the head comment).
      if (!inSubnet(rinfo.address, cidr)) return;
      const legacy = rinfo.port !== MDNS_PORT;
      const { answers, additionals } = answerQuestions(o, address, q.questions, legacy ? LEGACY_TTL : TTL);
      if (!answers.length) return;
      if (legacy) {
        // One-shot resolvers (dig, getaddrinfo without nss-mdns): unicast, same id and question, no cache-flush bit.
        const strip = (x: Answer) => ({ ...x, flush: false }) as Answer;
        void send(m, { id: q.id, questions: q.questions, answers: answers.map(strip), additionals: additionals.map(strip) }, rinfo);
      } else {
        void send(m, { answers, additionals });
      }
    });
    socks.set(`${ifname} ${cidr}`, { ifname, cidr, m });
    await send(m, announcement(address, TTL));
    log(`mdns: ${o.name}.local answers on ${ifname} (${address})`);
  }

  async function refresh(): Promise<void> {
    const want = new Map<string, [string, string]>();
    for (const [ifname, list] of Object.entries(addresses())) {
      if (!allow(ifname)) continue;
      for (const cidr of list) if (cidr.includes('.')) want.set(`${ifname} ${cidr}`, [ifname, cidr]);
    }
    for (const [key, s] of socks) {
      if (want.has(key)) continue;
      socks.delete(key);
      s.m.destroy();
      log(`mdns: ${s.ifname} ${s.cidr} gone`);
    }
    for (const [key, [ifname, cidr]] of want) {
      if (socks.has(key) || stopped) continue;
      await open(ifname, cidr).catch((e: Error) => log(`mdns: cannot answer on ${ifname} ${cidr}: ${e.message}`));
    }
  }

  await refresh();
  // RFC 6762 8.3: a second announcement one second after the first.
  const second = setTimeout(() => { for (const s of socks.values()) void send(s.m, announcement(s.cidr.split('/')[0]!, TTL)); }, 1_000);
  let refreshing = false;
  const timer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    void refresh().finally(() => { refreshing = false; });
  }, o.refreshMs ?? 10_000);
  second.unref(); timer.unref();

  return {
    bound: () => [...socks.keys()],
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(second); clearInterval(timer);
      await Promise.all([...socks.values()].map(async (s) => {
        await send(s.m, announcement(s.cidr.split('/')[0]!, 0));
        await new Promise<void>((resolve) => s.m.destroy(() => resolve()));
      }));
      socks.clear();
    },
  };
}

export interface FoundAppliance { name: string; host: string; addresses: string[]; port: number; id: string; version?: string }

export interface BrowseOptions {
  timeoutMs: number;
  /** Our own id: excluded from the result. */
  selfId?: string;
  addresses?: () => AddressesByInterface;
  allow?: (ifname: string) => boolean;
}

function txtMap(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const list = Array.isArray(data) ? data : [data];
  for (const item of list) {
    const s = Buffer.isBuffer(item) ? item.toString('utf8') : typeof item === 'string' ? item : '';
    const eq = s.indexOf('=');
    if (eq > 0) out[s.slice(0, eq).toLowerCase()] = s.slice(eq + 1);
  }
  return out;
}

/**
 * Other Dovelab appliances on the management networks: a one-shot (legacy unicast) PTR query for
 * _dovelab._tcp.local from an ephemeral port on each allowed interface, so it works beside
 * avahi-daemon owning 5353; follow-up SRV/TXT/A queries for what the answers left out.
 */
export async function browseAppliances(o: BrowseOptions): Promise<FoundAppliance[]> {
  const allow = o.allow ?? managementAllow();
  const makeMdns = await loadMdns();
  const ptr = new Set<string>();
  const srv = new Map<string, { port: number; target: string }>();
  const txt = new Map<string, Record<string, string>>();
  const a = new Map<string, Set<string>>();
  const asked = new Set<string>();
  const socks: Mdns[] = [];
  const dest: RemoteInfoOutgoing = { address: MDNS_GROUP, port: MDNS_PORT };
  const ask = (questions: Question[]) => {
    const fresh = questions.filter((q) => !asked.has(`${lc(q.name)} ${q.type}`));
    if (!fresh.length) return;
    for (const q of fresh) asked.add(`${lc(q.name)} ${q.type}`);
    const id = Math.floor(Math.random() * 0xffff) + 1;
    for (const m of socks) m.query({ id, questions: fresh } as QueryOutgoingPacket, dest);
  };
  const onResponse = (res: { answers?: Answer[]; additionals?: Answer[] }) => {
    for (const r of [...(res.answers ?? []), ...(res.additionals ?? [])]) {
      const name = lc(r.name);
      if (r.type === 'PTR' && name === DOVELAB_SERVICE && r.ttl !== 0) ptr.add(lc(String(r.data)));
      else if (r.type === 'SRV') srv.set(name, { port: r.data.port, target: lc(r.data.target) });
      else if (r.type === 'TXT') txt.set(name, txtMap(r.data));
      else if (r.type === 'A') (a.get(name) ?? a.set(name, new Set()).get(name)!).add(String(r.data));
    }
    for (const inst of ptr) {
      if (!srv.has(inst) || !txt.has(inst)) ask([{ name: inst, type: 'SRV' }, { name: inst, type: 'TXT' }]);
      const s = srv.get(inst);
      if (s && !a.has(s.target)) ask([{ name: s.target, type: 'A' }]);
    }
  };
  for (const [ifname, list] of Object.entries((o.addresses ?? currentAddresses)())) {
    if (!allow(ifname)) continue;
    for (const cidr of list) {
      if (!cidr.includes('.')) continue;
      // port 0: an ephemeral port, so the answers come back unicast to this socket only. The
      // query loops back to this host too: its own responder (or avahi) answers, selfId drops it.
      const m = makeMdns({ interface: cidr.split('/')[0]!, port: 0, reuseAddr: false, loopback: true });
      m.on('error', () => {}); m.on('warning', () => {});
      m.on('response', onResponse);
      socks.push(m);
    }
  }
  if (!socks.length) return [];
  ask([{ name: DOVELAB_SERVICE, type: 'PTR' }]);
  await new Promise((resolve) => setTimeout(resolve, o.timeoutMs));
  await Promise.all(socks.map((m) => new Promise<void>((resolve) => m.destroy(() => resolve()))));

  const found = new Map<string, FoundAppliance>();
  for (const inst of ptr) {
    const s = srv.get(inst); const t = txt.get(inst) ?? {};
    if (!s) continue;
    const id = t.id ?? '';
    if (o.selfId && id === o.selfId) continue;
    const suffix = `.${DOVELAB_SERVICE}`;
    const name = inst.endsWith(suffix) ? inst.slice(0, -suffix.length) : inst;
    found.set(id || inst, { name, host: s.target, addresses: [...(a.get(s.target) ?? [])].sort(), port: s.port, id, ...(t.version ? { version: t.version } : {}) });
  }
  return [...found.values()].sort((x, y) => x.name.localeCompare(y.name));
}

// A recording fake of the lab engine's adapter set (agent/lab/adapters.ts): a small world of lab
// hosts, OVS ports, appliance interfaces, held dongles, firewall rules and a Faucet live config.
// Every adapter call is recorded in order as one line, e.g. `hosts.create dovelab-g1-h1`,
// `ovs.addPort dl101 101`, `faucet.check`, `dongles.harden up0`. Any call can be told to fail.
// Not a test file itself (no .test suffix): the runner only picks up *.test.js.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, paths, type Config } from '../../agent/config.js';
import { hostEndJoined } from '../../agent/lab/network-state.js';
import type { HostCreate, LabAdapters, StartupOutcome } from '../../agent/lab/adapters.js';
import type { LabContext } from '../../agent/lab/engine.js';
import type { InterfaceFacts } from '../../agent/lab/interfaces.js';
import type { ApplyResult } from '../../agent/net/faucet/apply.js';
import type { FaucetStatus } from '../../agent/net/faucet/status.js';
import type { GatewayChain } from '../../agent/net/gateway-firewall.js';
import { sha256 } from '../../agent/net/faucet/apply.js';

export interface FakeHost { container: string; running: boolean; labels: Record<string, string>; pid: number; links: string[]; image: string }
export interface FakePort { name: string; ofport: number; externalIds: Record<string, string>; error?: string }

/** Calls that only read: everything else changes the world. */
const READS = new Set([
  'hosts.list', 'hosts.pid', 'ovs.bridgeExists', 'ovs.ports', 'links.linksInNetns', 'links.addressesIn',
  'dongles.present', 'dongles.facts', 'dongles.held', 'dongles.hardened', 'faucet.liveConfig', 'faucet.check', 'faucet.ping',
  'endpoints.containerOf', 'endpoints.networkName', 'endpoints.containersOn', 'flows',
]);
export const isRead = (call: string) => READS.has(call.split(' ')[0]!);

const STATUS: FaucetStatus = { hashes: [], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 0, coldStarts: 0 };

export class FakeWorld {
  /** Every adapter call, in order. */
  calls: string[] = [];
  hosts = new Map<string, FakeHost>();
  ports = new Map<string, FakePort>();
  /** Interfaces in the appliance's netns (dongles plugged in). */
  interfaces = new Set<string>();
  held = new Set<string>();
  /** Dongles whose hardened settings are in place now (harden adds; a test plugging one back removes it). */
  hardenedNow = new Set<string>();
  facts: InterfaceFacts = {};
  /** The firewall's interface list after each ensure. */
  firewall: string[][] = [];
  /** The gateways' iptables chains last installed. */
  gatewayChains: GatewayChain[] = [];
  /** IPv4 addresses (CIDR) of the appliance's interfaces (gateway ends). */
  addresses: Record<string, string[]> = {};
  /** Faucet's live config text (undefined: no faucet.yaml yet). */
  faucetLive: string | undefined;
  /** Texts handed to faucet.apply, with whether it succeeded. */
  faucetApplied: { text: string; ok: boolean }[] = [];
  /** Containers whose interfaces cannot be read (linksInNetns throws). */
  unobservable = new Set<string>();
  /** What a container's startup script does; default: exits 0 at once. */
  startupOutcome: (container: string, budgetMs: number) => StartupOutcome = () => ({ state: 'exited', code: 0, tail: '' });
  log: string[] = [];
  /** Docker's networks (id -> name) and containers as its lists show them (the driver asks at Join). */
  dockerNetworks = new Map<string, string>();
  dockerContainers: { name: string; network: string; state: string; endpoint: string; labels: Record<string, string>; createdMs: number }[] = [];
  /** Ports Faucet never programs (a port whose container end never comes up). */
  neverProgrammed = new Set<string>();
  /** Ports whose flows stay as they were when `keepOldFlows` was called (Faucet never re-made them). */
  private frozen = new Map<string, number>();
  /**
   * Ports Faucet believes up before they exist (it keeps a deleted port "up"): a reload naming them
   * programs them at once, and their add makes no new flow.
   */
  programmedAtApply = new Set<string>();
  /** How long a container takes to be made (0: at once). */
  createMs = 0;
  /** From now on the port's flows are the old ones: a re-add makes no new flow. */
  keepOldFlows(name: string): this { this.frozen.set(name, Math.max(this.addedAt.get(name) ?? 0, this.appliedAt)); return this; }
  /** When each port was last added, and when a config was last applied (the switch's flows model). */
  private addedAt = new Map<string, number>();
  private appliedAt = 0;
  private failures: { call: string; err: () => Error; left: number }[] = [];
  private nextPid = 1000;

  /** Makes the next `times` calls recorded exactly as `call` (e.g. `faucet.apply`, `ovs.addPort dl101 101`) throw. */
  fail(call: string, err: Error | string, times = Infinity): this {
    this.failures.push({ call, err: () => (typeof err === 'string' ? new Error(err) : err), left: times });
    return this;
  }

  /** Nothing fails any more. */
  heal(): this { this.failures = []; return this; }

  /** The calls that change something (reads left out). */
  changes(from = 0): string[] { return this.calls.slice(from).filter((c) => !isRead(c)); }

  /** Index of the first call starting with `prefix` (-1 when none). */
  first(prefix: string, from = 0): number { const i = this.calls.slice(from).findIndex((c) => c.startsWith(prefix)); return i < 0 ? -1 : i + from; }
  last(prefix: string): number { for (let i = this.calls.length - 1; i >= 0; i--) if (this.calls[i]!.startsWith(prefix)) return i; return -1; }
  has(call: string, from = 0): boolean { return this.calls.slice(from).includes(call); }

  private rec(call: string): void {
    this.calls.push(call);
    const f = this.failures.find((x) => x.call === call && x.left > 0);
    if (f) { f.left--; throw f.err(); }
  }

  private byPid(pid: number): FakeHost {
    const h = [...this.hosts.values()].find((x) => x.pid === pid && x.running);
    if (!h) throw new Error(`no running host with pid ${pid}`);
    return h;
  }

  adapters(): LabAdapters {
    return {
      hosts: {
        list: async () => { this.rec('hosts.list'); return [...this.hosts.values()].map((h) => ({ container: h.container, running: h.running, labels: { ...h.labels } })); },
        pid: async (c) => {
          this.rec(`hosts.pid ${c}`);
          const h = this.hosts.get(c);
          if (!h?.running) throw new Error(`${c} is not running`);
          return h.pid;
        },
        create: async (h: HostCreate) => {
          if (this.createMs) await new Promise((r) => setTimeout(r, this.createMs));
          this.rec(`hosts.create ${h.container}`);
          if (this.hosts.has(h.container)) throw new Error(`${h.container} exists`);
          this.hosts.set(h.container, { container: h.container, running: true, labels: { ...h.labels }, pid: this.nextPid++, links: ['lo'], image: h.image });
        },
        remove: async (c) => { this.rec(`hosts.remove ${c}`); this.hosts.delete(c); },
        copyFiles: async (c) => { this.rec(`hosts.copyFiles ${c}`); },
        exec: async (c, argv) => { this.rec(`hosts.exec ${c} ${argv.join(' ')}`); return { code: 0, stdout: '', stderr: '' }; },
        startup: async (c, _script, budgetMs) => { this.rec(`hosts.startup ${c}`); return this.startupOutcome(c, budgetMs); },
        startDhcp: async (c, ifname) => { this.rec(`hosts.startDhcp ${c} ${ifname}`); },
      },
      ovs: {
        bridgeExists: async (b) => { this.rec(`ovs.bridgeExists ${b}`); return true; },
        ports: async () => {
          this.rec('ovs.ports');
          return [...this.ports.values()].map((p) => ({ name: p.name, ofport: p.ofport, ofportRequest: p.ofport, externalIds: { ...p.externalIds }, error: p.error, type: '' }));
        },
        addPort: async (_b, name, ofport, externalIds) => {
          this.rec(`ovs.addPort ${name} ${ofport}`);
          this.ports.set(name, { name, ofport, externalIds: { ...externalIds } });
          this.addedAt.set(name, Date.now());
        },
        deletePort: async (_b, name) => { this.rec(`ovs.deletePort ${name}`); this.ports.delete(name); },
      },
      links: {
        attachVeth: async (a) => {
          this.rec(`links.attachVeth ${a.hostEnd}`);
          const h = this.byPid(a.pid);
          if (!h.links.includes(a.ifname)) h.links.push(a.ifname);
        },
        limitHostEnd: async (hostEnd, mbit) => { this.rec(`links.limitHostEnd ${hostEnd} ${mbit}`); },
        attachCapture: async (a) => { this.rec(`links.attachCapture ${a.hostEnd} ${a.netns}:${a.ifname}`); },
        removeNetns: async (name) => { this.rec(`links.removeNetns ${name}`); },
        createEndpointVeth: async (a) => {
          this.rec(`links.createEndpointVeth ${a.hostEnd} ${a.peer} ${a.mac}`);
          this.interfaces.add(a.hostEnd); this.interfaces.add(a.peer);
        },
        createGateway: async (a) => {
          this.rec(`links.createGateway ${a.portEnd} ${a.addrEnd} ${a.address}`);
          this.interfaces.add(a.portEnd); this.interfaces.add(a.addrEnd);
          this.addresses[a.addrEnd] = [a.address];
        },
        deleteLink: async (name) => {
          this.rec(`links.deleteLink ${name}`);
          // A gateway pair goes whole, like a real veth pair.
          const m = /^g[pw](\d+)$/.exec(name);
          if (m) for (const l of [`gp${m[1]}`, `gw${m[1]}`]) { this.interfaces.delete(l); delete this.addresses[l]; }
          // So does an endpoint's (dlN on the bridge, dpN for the container).
          const v = /^d[lp](\d+)$/.exec(name);
          if (v && this.interfaces.has(`dp${v[1]}`)) for (const l of [`dl${v[1]}`, `dp${v[1]}`]) this.interfaces.delete(l);
        },
        setLinkUp: async (name) => { this.rec(`links.setLinkUp ${name}`); },
        linksInNetns: async (pid) => {
          const h = this.byPid(pid);
          this.rec(`links.linksInNetns ${h.container}`);
          if (this.unobservable.has(h.container)) throw new Error(`cannot enter the netns of pid ${pid}`);
          return [...h.links];
        },
        addressesIn: async (pid) => { this.rec(`links.addressesIn ${this.byPid(pid).container}`); return {}; },
      },
      dongles: {
        present: async () => { this.rec('dongles.present'); return [...this.interfaces]; },
        facts: async () => {
          this.rec('dongles.facts');
          const f = structuredClone(this.facts);
          for (const [i, a] of Object.entries(this.addresses)) f[i] = { ...(f[i] ?? { defaultRoute: false }), addresses: [...a] };
          return f;
        },
        held: async () => { this.rec('dongles.held'); return [...this.held]; },
        harden: async (i) => {
          this.rec(`dongles.harden ${i}`);
          if (!this.interfaces.has(i)) throw new Error(`${i} is not present`);
          this.held.add(i);
          this.hardenedNow.add(i);
        },
        hardened: async (i) => { this.rec(`dongles.hardened ${i}`); return this.hardenedNow.has(i); },
        release: async (i) => { this.rec(`dongles.release ${i}`); return this.held.delete(i); },
      },
      firewall: {
        ensure: async (ifaces) => { this.rec(`firewall.ensure ${ifaces.join(',')}`); this.firewall.push([...ifaces]); },
        gateways: async (chains) => { this.rec(`firewall.gateways ${chains.length}`); this.gatewayChains = structuredClone(chains); },
      },
      faucet: {
        liveConfig: () => { this.rec('faucet.liveConfig'); return this.faucetLive; },
        check: async () => { this.rec('faucet.check'); },
        apply: async (text): Promise<ApplyResult> => {
          try { this.rec('faucet.apply'); } catch (e) { this.faucetApplied.push({ text, ok: false }); throw e; }
          this.faucetApplied.push({ text, ok: true });
          const changed = this.faucetLive !== text;
          this.faucetLive = text;
          if (changed) this.appliedAt = Date.now();
          const hash = sha256(text);
          return { changed, sha256: hash, ms: 0, after: { ...STATUS, hashes: [hash] } };
        },
        ping: async () => { this.rec('faucet.ping'); },
      },
      // As Faucet: a port on the bridge that the live config names has in_port flows, made when the
      // later of the two happened.
      flows: async () => {
        this.rec('flows');
        const now = Date.now();
        return [...this.ports.values()]
          .filter((p) => !this.neverProgrammed.has(p.name) && new RegExp(`^\\s+${p.ofport}:`, 'm').test(this.faucetLive ?? ''))
          .map((p) => ({ cookie: 0, table: 0, inPort: p.ofport, packets: 0, bytes: 0, ageMs: now - (this.frozen.get(p.name) ?? (this.programmedAtApply.has(p.name) ? this.appliedAt : Math.max(this.addedAt.get(p.name) ?? 0, this.appliedAt))) }));
      },
      endpoints: {
        containerOf: async (network, endpoint, waitMs) => {
          this.rec(`endpoints.containerOf ${endpoint.slice(0, 12)}`);
          // No Docker list modelled: every endpoint is a container of its own.
          if (!this.dockerContainers.length) return { name: `ctr-${endpoint.slice(0, 6)}`, labels: {} };
          // As Docker: the endpoint shows once the container's start is done.
          for (const until = Date.now() + waitMs; Date.now() < until; await new Promise((r) => setTimeout(r, 5))) {
            const c = this.dockerContainers.find((x) => x.endpoint === endpoint);
            if (c) return { name: c.name, labels: { ...c.labels } };
          }
          return undefined;
        },
        networkName: async (id) => { this.rec(`endpoints.networkName ${id.slice(0, 12)}`); return this.dockerNetworks.get(id); },
        containersOn: async (name) => {
          this.rec(`endpoints.containersOn ${name}`);
          return this.dockerContainers.filter((c) => c.network === name).map(({ network: _n, ...c }) => ({ ...c, labels: { ...c.labels } }));
        },
        startDhcp: async (a) => { this.rec(`endpoints.startDhcp ${a.mac} ${a.hostname}`); return { pid: 424242, ifname: 'eth0' }; },
        stopDhcp: async (pid) => { this.rec(`endpoints.stopDhcp ${pid}`); },
      },
    };
  }

  /** A LabContext over this world; cfg from `config()`. */
  context(cfg: Config): LabContext {
    const a = this.adapters();
    // What the agent has too: networks.json read at the call (agent/context.ts).
    a.endpoints.joinedHostEnd = (name) => hostEndJoined(paths(cfg).networks, name);
    return { ...a, cfg, datapath: 'system', log: (l) => { this.log.push(l); } };
  }
}

/** A Config whose dataDir/runDir/logDir are a fresh temp dir (remove it with `done()`). */
export function tempConfig(extra: Record<string, unknown> = {}): { cfg: Config; dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dovelab-fake-'));
  const cfg = ConfigSchema.parse({ dataDir: join(dir, 'data'), runDir: join(dir, 'run'), logDir: join(dir, 'log'), aclFile: join(dir, 'acls.yaml'), ...extra });
  return { cfg, dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

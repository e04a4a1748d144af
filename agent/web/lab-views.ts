// The lab as the pages see it: GroupView for one group, KioskView for everyone. Reads the lab on
// disk (lab.json, checks.json, the lab's pack copy) and asks lab/status.ts what runs; shapes only.
import { statfs } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from '../config.js';
import { desiredOf, restOf } from '../lab/service.js';
import { missingDongles } from '../lab/plan-hotplug.js';
import { sameRun } from '../lab/check-run.js';
import { labStatus, type HostStatus, type LabStatus } from '../lab/status.js';
import { readCheckReport, readLabState, type LabState } from '../lab/state.js';
import { sha256 } from '../net/faucet/apply.js';
import type { ClassView, ControlsView, GroupView, HostView, KioskView, TaskView } from './api-types.js';
import { classHosts, classRows, StuckTracker } from './class-view.js';
import { readHealth } from './health.js';
import { healthWarnings, readHardwareHealth, type HardwareHealth } from '../hardware/health.js';
import type { WebDeps } from './deps.js';
import { DiagramCache, groupDiagramDot } from './group-diagram.js';
import { diagramDot } from '../lab/diagram.js';
import { alarms, joinQrSvg, joinUrls, type AlarmFacts } from './kiosk.js';
import { renderMarkdown } from './markdown.js';

/** How long one status (an OVS and Docker round trip) serves every page asking for it. */
const STATUS_TTL_MS = 2_000;
/** How long one look at the board (vcgencmd, statfs, meminfo) serves every page asking for it. */
const HARDWARE_TTL_MS = 5_000;

const runKey = (st: LabState) => `${st.lab}\n${st.startedAt}`;

/**
 * One value per key, looked up again after a TTL. While a new look runs, the last good value of the
 * same key answers (a kiosk never waits on OVS and Docker); a failed look forgets it.
 */
export class Fresh<T> {
  private cur?: { key: string; at: number; value: Promise<T>; settled: boolean };
  private last?: { key: string; value: T };
  get(key: string, now: number, ttlMs: number, load: () => Promise<T>): Promise<T> {
    if (!this.cur || this.cur.key !== key || now - this.cur.at >= ttlMs) {
      const value = load();
      const cur = { key, at: now, value, settled: false };
      this.cur = cur;
      value.then((v) => { cur.settled = true; if (this.cur === cur) this.last = { key, value: v }; },
        () => { cur.settled = true; if (this.cur === cur) { this.cur = undefined; this.last = undefined; } });
    }
    if (!this.cur.settled && this.last?.key === key) return Promise.resolve(this.last.value);
    return this.cur.value;
  }
}

export class LabViews {
  private diagrams = new DiagramCache();
  private status = new Fresh<LabStatus>();
  private readme?: { key: string; html: string };
  /** Faucet's metrics and the disk (see factsNow). */
  private facts = new Fresh<[AlarmFacts['faucet'], number | undefined]>();
  private stuck = new StuckTracker();
  /** Docker's and the infra containers' states: one look per STATUS_TTL_MS too. */
  private infra = new Fresh<{ docker: boolean; containers: Record<string, string> }>();
  /** The board's health (vcgencmd, statfs, meminfo): one look per HARDWARE_TTL_MS. */
  private hardware = new Fresh<HardwareHealth>();

  constructor(private readonly deps: WebDeps) {}

  /** The lab on disk; a damaged lab.json reads as no lab (the CLI says what is wrong). */
  state(): LabState | undefined {
    try { return readLabState(paths(this.deps.cfg).labState); } catch { return undefined; }
  }

  private labStatus(st: LabState): Promise<LabStatus> {
    const key = runKey(st) + JSON.stringify(st.overrides ?? {}) + Object.keys(st.topology.hosts).join();
    return this.status.get(key, this.deps.now(), STATUS_TTL_MS, () => labStatus(this.deps.lab, st, desiredOf(this.deps.cfg, st)));
  }

  private hostsOrDown(st: LabState): Promise<HostStatus[] | undefined> {
    return this.labStatus(st).then((s) => s.hosts, () => undefined);
  }

  private checks(st: LabState) {
    const r = readCheckReport(paths(this.deps.cfg).checks);
    return r && sameRun(st, r) ? r : undefined;
  }

  private async readmeHtml(st: LabState): Promise<string> {
    const key = runKey(st);
    if (this.readme?.key !== key) {
      const file = st.packDir ? join(st.packDir, 'README.md') : undefined;
      const text = file && existsSync(file) ? readFileSync(file, 'utf8') : `# ${st.topology.title ?? st.lab}\n\nThis lesson has no README.`;
      this.readme = { key, html: await renderMarkdown(text) };
    }
    return this.readme.html;
  }

  /** Everything group `group` sees, and nothing of another group. */
  async group(st: LabState, group: number): Promise<GroupView> {
    const desired = desiredOf(this.deps.cfg, st);
    const title = st.topology.title ?? st.lab;
    const [svg, hosts] = await Promise.all([
      this.diagrams.svg(groupDiagramDot(desired, group, `${title} · group ${group}`)),
      this.hostsOrDown(st),
    ]);
    const mine = (g: number) => g === group || g === 0;
    const hostViews: HostView[] = hosts
      ? hosts.filter((h) => mine(h.group)).map((h) => ({
        name: h.name, running: h.running,
        interfaces: h.interfaces.map((i) => ({ name: i.name, ip: i.ip, addresses: i.addresses, network: i.network, vlan: i.vlan })),
      }))
      // Docker or OVS not answering: the plan, nothing known to run.
      : desired.hosts.filter((h) => mine(h.group)).map((h) => ({
        name: h.host, running: false,
        interfaces: desired.ports.filter((p) => p.container === h.container).map((p) => ({
          name: p.ifname, ip: p.address ?? (p.dhcp ? 'dhcp' : 'none'), addresses: [], network: p.vlan.replace(/^g\d+-/, ''), vlan: p.vid,
        })),
      }));
    const report = this.checks(st);
    const tasks: TaskView[] = st.topology.tasks.map((t) => {
      const r = report?.results.find((x) => x.group === group && x.task === t.id);
      return {
        id: t.id, title: t.title ?? t.id, ...(t.hint ? { hint: t.hint } : {}),
        status: r?.status ?? 'unknown', reason: r?.reason ?? 'not checked yet',
      };
    });
    const controls: ControlsView = {
      acls: Object.entries(st.topology.controls?.acls ?? {}).map(([target, options]) => {
        const [host, ifname] = target.split('.');
        const port = desired.ports.find((p) => p.host === host && p.ifname === ifname && p.group === group);
        return { target, options, applied: port?.acls ?? [] };
      }),
      capture: [...(st.topology.controls?.capture ?? [])],
    };
    return {
      lab: { id: st.lab, title, startedAt: st.startedAt }, group,
      readmeHtml: await this.readmeHtml(st), diagramSvg: svg, hosts: hostViews, tasks, controls,
      ...(report ? { checkedAt: report.updated_at } : {}),
    };
  }

  /** The whole lab's wiring diagram (every group), for the instructor. */
  async fullDiagram(st: LabState): Promise<string> {
    return this.diagrams.svg(diagramDot(desiredOf(this.deps.cfg, st), { title: st.topology.title ?? st.lab }));
  }

  /** Where students open the pages now (.local name, then the IP address). */
  joinUrlsNow(): string[] { return joinUrls(this.deps.cfg.web.name, this.deps.cfg.web.port, this.deps.ipv4()); }

  /** The instructor's view: the class grid (stuck longest first), hosts, switches, health. */
  async classView(): Promise<ClassView> {
    const { cfg } = this.deps;
    const st = this.state();
    const now = this.deps.now();
    const [kiosk, status] = await Promise.all([this.kiosk(), st ? this.labStatus(st).catch(() => undefined) : Promise.resolve(undefined)]);
    const [faucet] = await this.factsNow(now);
    const health = await readHealth({
      dataDir: cfg.dataDir, dongles: cfg.dongles, present: () => this.deps.lab.dongles.present(),
      infra: () => this.infra.get('', now, STATUS_TTL_MS, (this.deps.infra ?? (async () => ({ docker: false, containers: {} })))),
      faucet: async () => (faucet && 'error' in faucet ? { error: faucet.error } : faucet ? { dpUp: faucet.status.dpUp[faucet.dpName] === true } : undefined),
      thermalFile: this.deps.thermalFile,
      hardware: () => this.hardware.get('', now, HARDWARE_TTL_MS, this.deps.hardware ??
        (() => readHardwareHealth({ dataDir: cfg.dataDir, ...(this.deps.thermalFile ? { thermalFile: this.deps.thermalFile } : {}) }))),
    });
    const neighbours = this.deps.neighbours?.();
    if (neighbours) health.neighbours = neighbours;
    const base = { generatedAt: new Date(now).toISOString(), appliance: cfg.web.name, joinUrls: kiosk.joinUrls, alarms: kiosk.alarms, health };
    if (!st) return { ...base, lab: null, tasks: [], groups: [], hosts: [], acls: [], mirrors: [] };
    const report = this.checks(st);
    this.stuck.observe(st, report);
    return {
      ...base,
      lab: { id: st.lab, title: st.topology.title ?? st.lab, startedAt: st.startedAt, groups: st.groups, source: st.source },
      tasks: st.topology.tasks.map((t) => ({ id: t.id, title: t.title ?? t.id })),
      groups: classRows(st, report, this.stuck, now),
      hosts: classHosts(desiredOf(cfg, st), status),
      acls: Object.keys(st.topology.acls),
      mirrors: Object.keys(st.topology.mirrors),
      ...(report ? { checkedAt: report.updated_at } : {}),
    };
  }

  /** The kiosk: no codes, no addresses of lab hosts, nothing a passer-by should not read. */
  async kiosk(): Promise<KioskView> {
    const { cfg } = this.deps;
    const urls = joinUrls(cfg.web.name, cfg.web.port, this.deps.ipv4());
    const st = this.state();
    const now = this.deps.now();
    const [hosts, [faucet, diskUsed]] = await Promise.all([st ? this.hostsOrDown(st) : Promise.resolve([]), this.factsNow(now)]);
    const facts: AlarmFacts = { hosts, faucet, diskUsed, missingDongles: await this.missingDongles(st) };
    const list = alarms(facts);
    // The board's warnings (hot, throttled, under-voltage, memory; the disk unless said already).
    const { hardware } = this.deps;
    if (hardware) {
      const hw = await this.hardware.get('', now, HARDWARE_TTL_MS, hardware).catch(() => undefined);
      for (const w of hw ? healthWarnings(hw) : []) if (w.code !== 'disk' || !list.some((a) => a.startsWith('disk '))) list.push(w.message);
    }
    if (st && !hosts) list.unshift('cannot read the lab hosts (Docker or OVS not answering)');
    const report = st && this.checks(st);
    const total = st?.topology.tasks.length ?? 0;
    return {
      appliance: cfg.web.name,
      joinUrls: urls,
      qrSvg: joinQrSvg(urls),
      lesson: st ? { id: st.lab, title: st.topology.title ?? st.lab, groups: st.groups, tasks: total } : null,
      progress: st ? Array.from({ length: st.groups }, (_, i) => ({
        group: i + 1,
        done: report ? report.results.filter((r) => r.group === i + 1 && r.status === 'pass').length : 0,
        total,
      })) : [],
      alarms: list,
    };
  }

  /** The dongles the lab and the Docker networks use that are not plugged in now (a stat of the interfaces, no cache). */
  private async missingDongles(st: LabState | undefined): Promise<{ role: string; iface: string }[]> {
    try {
      const desired = st ? desiredOf(this.deps.cfg, st) : restOf(this.deps.cfg);
      if (!desired.uplinks.length) return [];
      return missingDongles(desired, await this.deps.lab.dongles.present()).map((u) => ({ role: u.role, iface: u.iface }));
    } catch { return []; }
  }

  /** Faucet's metrics and the disk: one look per STATUS_TTL_MS, however many pages ask. */
  private factsNow(now: number) {
    return this.facts.get('', now, STATUS_TTL_MS, () => Promise.all([this.faucetFacts(), this.deps.diskUsed().catch(() => undefined)]));
  }

  private async faucetFacts(): Promise<AlarmFacts['faucet']> {
    const live = this.deps.lab.faucet.liveConfig();
    try {
      return { status: await this.deps.faucetStatus(), liveSha256: live === undefined ? undefined : sha256(live), dpName: this.deps.cfg.bridge };
    } catch (e) { return { error: (e as Error).message }; }
  }
}

/** Fraction of the file system holding `dir` in use. */
export async function diskUsedOf(dir: string): Promise<number> {
  const s = await statfs(dir);
  // As df counts it: blocks reserved for root are neither used nor available.
  const used = s.blocks - s.bfree;
  return used + s.bavail > 0 ? used / (used + s.bavail) : 0;
}

// The agent's own Prometheus metrics (GET /metrics), with prom-client. One registry per agent:
// events (reconciles, Faucet reloads, checks) are recorded as they happen; lab facts, terminals
// and ACL hits are read at scrape time from sources the agent hands in, each with a deadline.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { withDeadline } from '../sys/deadline.js';

/** What the lab is now, for the gauges (the agent computes it from lab.json and checks.json). */
export interface LabFacts {
  lab: string;
  lesson: string;
  groups: number;
  /** Lab hosts (containers) the lesson asks for. */
  hosts: number;
  /** Groups that pass each task now. */
  taskPasses: Record<string, number>;
}

/** One ACL rule's switch counters on one port (lesson ACLs by their lesson name). */
export interface AclHitSample { acl: string; rule: number; port: string; group: number; packets: number; bytes: number }

export interface MetricSources {
  lab?: () => Promise<LabFacts | undefined>;
  terminals?: () => number;
  aclHits?: () => Promise<AclHitSample[]>;
  /** Bytes the traffic history store takes on disk (set by the history store when it runs). */
  historyStoreBytes?: () => number | Promise<number>;
}

/** How a Faucet reload went, from Faucet's own warm/cold start counters around it. */
export type ReloadKind = 'warm' | 'cold' | 'unconfirmed' | 'failed';

export interface AgentMetrics {
  readonly registry: Registry;
  /** Adds or replaces scrape-time sources. */
  setSources(s: MetricSources): void;
  reconciled(seconds: number, outcome: 'ok' | 'failed'): void;
  faucetReloaded(kind: ReloadKind): void;
  /** A Faucet apply's result (undefined: it failed and was rolled back): counts the reload by kind. */
  faucetApplied(r: { before?: { warmStarts: number; coldStarts: number }; after: { warmStarts: number; coldStarts: number } } | undefined): void;
  checked(kind: string, seconds: number, status: string): void;
  /** The text for GET /metrics and its content type. */
  render(): Promise<{ text: string; contentType: string }>;
}

/** A source's value within `ms`, or undefined (and the source marked down) when it fails. */
async function read<T>(what: string, ms: number, fn: () => T | Promise<T>, up: Gauge<'source'>): Promise<T | undefined> {
  try {
    const v = await withDeadline(what, ms, async () => fn());
    up.set({ source: what }, 1);
    return v;
  } catch {
    up.set({ source: what }, 0);
    return undefined;
  }
}

export function createAgentMetrics(opts: { sourceMs?: number; processMetrics?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  const ms = opts.sourceMs ?? 2000;
  const sources: MetricSources = {};
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dovelab_agent_' });
  const reg = [registry];

  const up = new Gauge({ name: 'dovelab_metrics_source_up', help: 'Whether a scrape-time source answered within its deadline (1) or not (0)', labelNames: ['source'], registers: reg });

  // Scrape-time values: render() reads every source first (in parallel, each with a deadline),
  // then the collect functions below only copy them.
  let lab: LabFacts | undefined;
  let hits: AclHitSample[] = [];
  let storeBytes = 0;
  const refresh = async () => {
    const [l, h, b] = await Promise.all([
      sources.lab ? read('lab', ms, sources.lab, up) : undefined,
      sources.aclHits ? read('acl_hits', ms, sources.aclHits, up) : undefined,
      sources.historyStoreBytes ? read('history_store', ms, sources.historyStoreBytes, up) : undefined,
    ]);
    lab = l; hits = h ?? []; storeBytes = b ?? 0;
  };

  new Gauge({
    name: 'dovelab_lab_info', help: 'The running lab (1), labelled with its id and lesson title; absent when no lab runs',
    labelNames: ['lab', 'lesson'], registers: reg,
    collect() { this.reset(); if (lab) this.set({ lab: lab.lab, lesson: lab.lesson }, 1); },
  });
  new Gauge({ name: 'dovelab_lab_groups', help: 'Student groups of the running lab (0: no lab)', registers: reg, collect() { this.set(lab?.groups ?? 0); } });
  new Gauge({ name: 'dovelab_lab_hosts', help: 'Lab hosts (containers) the running lesson asks for', registers: reg, collect() { this.set(lab?.hosts ?? 0); } });
  new Gauge({
    name: 'dovelab_task_passes', help: 'Groups that pass each task of the running lesson now', labelNames: ['task'], registers: reg,
    collect() { this.reset(); for (const [task, n] of Object.entries(lab?.taskPasses ?? {})) this.set({ task }, n); },
  });
  new Gauge({
    name: 'dovelab_terminals_open', help: 'Browser terminals open now', registers: reg,
    collect() { this.set(sources.terminals ? sources.terminals() : 0); },
  });
  // The switch's own counters: they restart at 0 when an ACL is switched on again (Prometheus' rate() handles that).
  const labelsOf = (h: AclHitSample) => ({ acl: h.acl, rule: String(h.rule), port: h.port, group: String(h.group) });
  new Counter({
    name: 'dovelab_acl_rule_packets_total', help: 'Packets an ACL rule matched on a port since it was applied (switch flow counters)',
    labelNames: ['acl', 'rule', 'port', 'group'], registers: reg,
    collect() { this.reset(); for (const h of hits) this.inc(labelsOf(h), h.packets); },
  });
  new Counter({
    name: 'dovelab_acl_rule_bytes_total', help: 'Bytes an ACL rule matched on a port since it was applied (switch flow counters)',
    labelNames: ['acl', 'rule', 'port', 'group'], registers: reg,
    collect() { this.reset(); for (const h of hits) this.inc(labelsOf(h), h.bytes); },
  });
  new Gauge({
    name: 'dovelab_history_store_bytes', help: 'Bytes the traffic history store takes on disk (0 until the store reports)', registers: reg,
    collect() { this.set(storeBytes); },
  });
  const reconciles = new Histogram({
    name: 'dovelab_reconcile_duration_seconds', help: 'How long a reconcile (bring the lab to its desired state) took',
    labelNames: ['outcome'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: reg,
  });
  const reloads = new Counter({ name: 'dovelab_faucet_reloads_total', help: "Faucet config reloads by the agent, by Faucet's own verdict (warm or cold start)", labelNames: ['kind'], registers: reg });
  const checks = new Histogram({
    name: 'dovelab_check_duration_seconds', help: 'How long one task check took, by check kind and result',
    labelNames: ['kind', 'status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30], registers: reg,
  });
  for (const kind of ['warm', 'cold']) reloads.inc({ kind }, 0);

  return {
    registry,
    setSources(s) { Object.assign(sources, s); },
    reconciled(seconds, outcome) { reconciles.observe({ outcome }, seconds); },
    faucetReloaded(kind) { reloads.inc({ kind }); },
    faucetApplied(r) { reloads.inc({ kind: r ? reloadKind(r.before, r.after) : 'failed' }); },
    checked(kind, seconds, status) { checks.observe({ kind, status }, seconds); },
    async render() { await refresh(); return { text: await registry.metrics(), contentType: registry.contentType }; },
  };
}

let shared: AgentMetrics | undefined;
/** The agent process's metrics (made on first use). */
export const agentMetrics = (): AgentMetrics => (shared ??= createAgentMetrics());

/** For the traffic history store: reports its size on disk as dovelab_history_store_bytes. */
export function registerHistoryStoreBytes(fn: () => number | Promise<number>, m: AgentMetrics = agentMetrics()): void {
  m.setSources({ historyStoreBytes: fn });
}

/** Warm or cold from Faucet's start counters before and after a reload (see net/faucet/status.ts). */
export function reloadKind(before: { warmStarts: number; coldStarts: number } | undefined, after: { warmStarts: number; coldStarts: number }): ReloadKind {
  if (!before) return 'unconfirmed';
  if (after.coldStarts > before.coldStarts) return 'cold';
  if (after.warmStarts > before.warmStarts) return 'warm';
  return 'unconfirmed';
}

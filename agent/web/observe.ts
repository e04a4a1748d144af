// What the switch counted and what the agent measures: the ACL hit counters next to the switches
// (instructor console, student page) and GET /metrics for Prometheus.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { paths } from '../config.js';
import { sameRun } from '../lab/check-run.js';
import { desiredOf } from '../lab/service.js';
import { readCheckReport, type LabState } from '../lab/state.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import type { AgentMetrics, LabFacts } from '../metrics/agent-metrics.js';
import { aclCounterRows, groupCounterRows, groupOfPort } from './acl-counters.js';
import type { AclCountersView, ApiError } from './api-types.js';
import type { WebDeps } from './deps.js';
import { Fresh } from './lab-views.js';

/** Counters are read at most this often, whoever asks (each read is a docker exec in the OVS container). */
const COUNTERS_TTL_MS = 2000;
/** Faucet's or Gauge's page through /metrics/faucet and /metrics/gauge: their answer within this. */
const PROXY_MS = 5000;

const isLoopback = (ip: string) => ip === '::1' || /^(::ffff:)?127\./.test(ip);

/**
 * Who may scrape /metrics: this machine (loopback) always; others only with
 * `Authorization: Bearer <web.metrics_token>` when a token is configured.
 */
export function metricsAllowed(clientIp: string, authorization: string | undefined, token: string | undefined): boolean {
  if (isLoopback(clientIp)) return true;
  if (!token) return false;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The running lab for the gauges: groups, hosts, and how many groups pass each task. */
export function labFacts(st: LabState, report: { results: { task: string; group: number; status: string }[] } | undefined, hosts: number): LabFacts {
  const taskPasses = Object.fromEntries(st.topology.tasks.map((t) => [t.id,
    (report?.results ?? []).filter((r) => r.task === t.id && r.status === 'pass').length]));
  return { lab: st.lab, lesson: st.topology.title ?? st.lab, groups: st.groups, hosts, taskPasses };
}

export interface ObserveDeps {
  deps: WebDeps;
  state: () => LabState | undefined;
  clientIp: (c: Context) => string;
  terminalsOpen: () => number;
  /** The student session's group and lab run, if the request has a valid one. */
  student: (c: Context) => { group: number; st: LabState } | undefined;
}

export function observeRoutes(app: Hono, o: ObserveDeps, metrics: AgentMetrics | undefined): void {
  const { deps } = o;
  const fresh = new Fresh<AclHit[]>();
  const hits = (): Promise<AclHit[]> => {
    const read = deps.lab.aclHits;
    if (!read) return Promise.reject(new Error("the switch's counters cannot be read here"));
    return fresh.get('hits', deps.now(), COUNTERS_TTL_MS, read);
  };
  const view = async (rows: (st: LabState, h: AclHit[]) => AclCountersView['counters']): Promise<AclCountersView> => {
    const readAt = new Date(deps.now()).toISOString();
    const st = o.state();
    if (!st) return { readAt, counters: [] };
    try { return { readAt, counters: rows(st, await hits()) }; } catch (e) {
      return { readAt, counters: [], error: (e as Error).message.split('\n')[0]! };
    }
  };
  const noStore = { 'Cache-Control': 'no-store' };

  // Behind the instructor guard (instructorRoutes registers it for /api/instructor/*).
  app.get('/api/instructor/acl-counters', async (c) => c.json<AclCountersView>(
    await view((st, h) => aclCounterRows(st.topology, desiredOf(deps.cfg, st), h)), 200, noStore));

  app.get('/api/controls/acl-counters', async (c) => {
    const s = o.student(c);
    if (!s) return c.json<ApiError>({ error: 'join a group first' }, 401);
    return c.json<AclCountersView>(await view((st, h) =>
      groupCounterRows(st.topology, aclCounterRows(st.topology, desiredOf(deps.cfg, st), h), s.group)), 200, noStore);
  });

  if (!metrics) return;
  metrics.setSources({
    terminals: o.terminalsOpen,
    lab: async () => {
      const st = o.state();
      if (!st) return undefined;
      const r = readCheckReport(paths(deps.cfg).checks);
      return labFacts(st, r && sameRun(st, r) ? r : undefined, desiredOf(deps.cfg, st).hosts.length);
    },
    aclHits: async () => {
      const st = o.state();
      const d = st ? desiredOf(deps.cfg, st) : undefined;
      return (await hits()).map((h) => ({
        acl: h.acl.replace(/^lesson-/, ''), rule: h.rule, port: h.port, group: d ? groupOfPort(d, h.port) : 0, packets: h.packets, bytes: h.bytes,
      }));
    },
  });
  const allowed = (c: Context) => metricsAllowed(o.clientIp(c), c.req.header('authorization'), deps.cfg.web.metrics_token);
  const refused = (c: Context) => c.text('metrics: only this machine, or with Authorization: Bearer <web.metrics_token>\n', 403);
  app.get('/metrics', async (c) => {
    if (!allowed(c)) return refused(c);
    const { text, contentType } = await metrics.render();
    return c.body(text, 200, { 'Content-Type': contentType, ...noStore });
  });
  // Faucet and Gauge listen on 127.0.0.1 only: a Prometheus elsewhere scrapes them through the agent.
  for (const [name, port] of [['faucet', deps.cfg.faucetPromPort], ['gauge', deps.cfg.gaugePromPort]] as const) {
    app.get(`/metrics/${name}`, async (c) => {
      if (!allowed(c)) return refused(c);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(PROXY_MS) });
        return c.body(await res.text(), res.ok ? 200 : 502, { 'Content-Type': res.headers.get('content-type') ?? 'text/plain; version=0.0.4', ...noStore });
      } catch (e) {
        return c.text(`${name} metrics (127.0.0.1:${port}) did not answer: ${(e as Error).message}\n`, 502);
      }
    });
  }
}

// The agent process: repairs the running lab whenever OVS, Docker or Faucet drift from the lab on
// disk (at start, on container events, after the Docker event stream comes back, and every
// interval). It keeps no state of its own, so a killed agent restarts and carries on.
// A pass of the timer alone reads no host's netns (what the last look saw is kept; HostLinksSeen):
// events bring what changes, and every HOST_RESCAN_MS a pass looks inside every host again.
// Repairs coalesce (one running, one pending); every finished repair logs one line:
//   repair done (<why>): <n> change(s)[, Faucet reloaded]     or     repair failed (<why>): <message>
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import type Docker from 'dockerode';
import type { Config } from '../config.js';
import { labContext } from '../context.js';
import { dockerCall, dockerClient } from '../docker/client.js';
import { checkIo, desiredOf, ensureJoinCodes, labDongleRepair, labRepair } from './service.js';
import { watchLinks } from '../hardware/link-monitor.js';
import { renameLink } from '../hardware/link-rename.js';
import { capLogs } from '../sys/log-cap.js';
import { adoptNewDongles } from '../hardware/new-dongles.js';
import { agentConfigFile, realSysfs } from '../web/wiring.js';
import { heldDongles, isHardened } from '../net/dongle.js';
import { serveWeb, type WebServer } from '../web/server.js';
import { servePlugin, type PluginServer } from '../web/plugin.js';
import { jsonLine } from '../web/request-log.js';
import { advertise } from '../hardware/mdns.js';
import { agentWebDeps } from '../web/wiring.js';
import { agentMetrics, registerHistoryStoreBytes } from '../metrics/agent-metrics.js';
import { startHistory, type HistoryCollector } from '../metrics/history-collect.js';
import { reloadGauge } from '../net/faucet/docker-io.js';
import { runChecks } from './check-run.js';
import { pruneEndpoints, refillNetworks, refillWaiting } from './networks.js';
import { readNetworkState } from './network-state.js';
import { sparesMissing } from './plan-networks.js';
import { readLabState } from './state.js';
import { INFRA, paths } from '../config.js';
import { coalescer, describeReasons } from './coalesce.js';
import { startAgentLeds } from './agent-leds.js';
import type { HostLinksSeen } from './engine.js';
import { containersToRestore } from './plan-restore.js';
import { driverNetworkIds, startContainer, stoppedOnNetworks } from '../docker/restore.js';

/** The initial /events call gets this long to answer before it counts as failed. */
const EVENTS_DEADLINE_MS = 5_000;
/** Reconnect backoff: 250 ms doubling up to 4 s. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 4_000;
/** Container events within this window make one repair. */
const EVENT_SETTLE_MS = 500;
/** Timer passes reuse what they saw inside the hosts; every this often they look again (safety rescan). */
export const HOST_RESCAN_MS = 300_000;

/** Faucet's and Gauge's logs under <logDir>/faucet, and how often their size is looked at. */
const FAUCET_LOGS = ['faucet.log', 'faucet_exception.log', 'gauge.log', 'gauge_exception.log'];
const LOG_CAP_EVERY_MS = 30_000;

/** Links the agent and Docker make (lab veths, Docker's, OVS's): never a dongle, no discovery for them. */
const LAB_LINK = /^(dl|dp|veth|docker|br-|ovs-|dovelab)/;

export async function runAgent(c: Config, log: (s: string) => void, intervalMs: number): Promise<void> {
  const docker = dockerClient();
  // The LEDs first: booting until infra and the web answer (kernel triggers blink on if we die).
  const leds = await startAgentLeds(c, docker, (s) => log(`${new Date().toISOString()} ${s}`));
  const ctx = await labContext(c, (s) => log(`${new Date().toISOString()} ${s}`), docker)
    .catch(async (e: Error) => { await leds?.failed(e.message); throw e; });
  ctx.metrics = agentMetrics(); // reconciles, Faucet reloads and checks, for GET /metrics
  const pidFile = `${c.runDir}/agent.pid`;
  mkdirSync(c.runDir, { recursive: true }); // a fresh boot has no /run/dovelab yet
  writeFileSync(pidFile, String(process.pid));
  let stopping = false;
  ctx.log(`agent ${process.pid} started; checking every ${intervalMs / 1000} s`);
  // The network driver first: dockerd may be waiting on it to restore containers.
  let plugin: PluginServer | undefined;
  try {
    plugin = await servePlugin(ctx, paths(c).pluginSockets, (f) => log(jsonLine(f, new Date())));
    ctx.log(`network driver on ${plugin.sockets.join(', ')}`);
  } catch (e) { ctx.log((e as Error).message); }
  // A lab started before join codes existed gets them (students need one to join).
  await ensureJoinCodes(c).catch((e: Error) => ctx.log(`join codes: ${e.message}`));
  // Dongles pulled and plugged: the repair of that dongle alone (hardening, its port on the same
  // ofport, link up; Faucet untouched), and the pages told at once (a count the event stream watches).
  let dongleChanges = 0;
  const dongleRepairs = coalescer(async (reasons) => {
    const ifaces = [...new Set(reasons.map((r) => r.split(' ')[0]!))];
    // Seen arriving: a new device (OVS must open it again), however it looks now.
    const plugged = new Set(reasons.filter((r) => r.endsWith(' plugged in')).map((r) => r.split(' ')[0]!));
    try {
      await labDongleRepair(ctx, ifaces, plugged);
    } catch (e) { ctx.log(`dongle repair failed (${describeReasons(reasons)}): ${(e as Error).message.split('\n')[0]}`); }
  });
  // The appliance's dongles, and any interface a lab took (a Docker network's add_ports): it is held.
  const isDongle = (name: string) => Object.hasOwn(c.dongles, name) || heldDongles(paths(c).dongleState).includes(name);
  // A dongle plugged in that the map does not have (a new one, or one not yet renamed): discovery
  // again, so lessons may use it without a restart; once under its stable name it is repaired as above.
  const adopt = coalescer(async (reasons) => {
    try {
      const appeared = reasons.map((r) => r.split(' ')[0]!);
      const found = await adoptNewDongles({ configFile: agentConfigFile(), running: [c, ctx.cfg], appeared, ...(realSysfs(c) ? { rename: renameLink } : {}) });
      for (const d of found) ctx.log(`new dongle ${d.ifname} in ${d.where}: ${d.role}, as ${d.name}${d.note ? `; ${d.note}` : ''}`);
      if (found.length) {
        dongleChanges++;
        const here = new Set(links.present());
        const ready = found.filter((d) => here.has(d.name)).map((d) => `${d.name} plugged in`);
        if (ready.length) dongleRepairs.trigger(...ready);
      }
    } catch (e) { ctx.log(`new dongles (${describeReasons(reasons)}): ${(e as Error).message.split('\n')[0]}`); }
  });
  const links = watchLinks({
    log: ctx.log,
    onChange: (s) => {
      if (!isDongle(s.name)) {
        if (s.present && c.hardware && !LAB_LINK.test(s.name)) adopt.trigger(`${s.name} appeared`);
        return;
      }
      dongleChanges++;
      const what = `${s.name} ${s.present ? 'plugged in' : 'unplugged'}`;
      ctx.log(`dongle ${what}`);
      dongleRepairs.trigger(what);
    },
  });
  // One plugged in while no agent ran came back with the kernel's settings: repair what is here.
  const here = links.present().filter(isDongle);
  if (here.length) dongleRepairs.trigger(...here.map((n) => `${n} present at start`));
  // Every interval: a dongle the lab holds that is here without its hardening (a repair that failed,
  // a change nobody told us of) is a new device too.
  const recheckDongles = () => {
    const present = new Set(links.present());
    const lost = heldDongles(paths(c).dongleState).filter((n) => present.has(n) && !isHardened(n));
    if (lost.length) dongleRepairs.trigger(...lost.map((n) => `${n} found without its hardening`));
  };

  // Traffic history: Gauge's port counters every few seconds, kept after hosts, groups and labs go.
  let history: HistoryCollector | undefined;
  if (c.history.enabled) {
    try { history = startHistory(c, { log: ctx.log, ...(ctx.aclHits ? { aclHits: ctx.aclHits } : {}), reloadGauge: async () => { if (!(await reloadGauge(docker))) throw new Error('Gauge is not running'); } }); } catch (e) { ctx.log(`history: not kept: ${(e as Error).message}`); }
    const store = history?.store;
    if (store) registerHistoryStoreBytes(() => store.facts.bytes);
  }

  // The web UI; the agent repairs the lab even when it cannot serve it (port taken).
  let web: WebServer | undefined;
  try {
    web = await serveWeb({ ...agentWebDeps(c, ctx, docker, log), dongleChanges: () => dongleChanges, ...(history ? { history: history.store } : {}) });
    ctx.log(`web UI on ${web.urls.join('  ')}  (kiosk: ${web.urls[web.urls.length - 1]}kiosk)`);
  } catch (e) { ctx.log(`web UI not served: ${(e as Error).message}`); }
  // <name>.local for phones and Chromebooks; other appliances find this one (_dovelab._tcp).
  let unadvertise: (() => Promise<void>) | undefined;
  if (web && c.web.mdns) unadvertise = await advertise(c, ctx.log).catch((e: Error) => { ctx.log(`mdns: ${e.message}`); return undefined; });

  // Interfaces inside the hosts, as last seen: a timer pass alone does no per-host work (HostLinksSeen).
  const hostsSeen: HostLinksSeen = { links: new Map(), reuse: false };
  let hostsReadAt = 0;
  const repairs = coalescer(async (reasons) => {
    const why = describeReasons(reasons);
    try {
      const stale = await pruneEndpoints(ctx);
      if (stale) ctx.log(`network driver: ${stale} endpoint(s) whose container is gone forgotten`);
      hostsSeen.reuse = reasons.every((x) => x === 'interval') && Date.now() - hostsReadAt < HOST_RESCAN_MS;
      if (!hostsSeen.reuse) hostsReadAt = Date.now();
      const r = await labRepair(ctx, { seen: hostsSeen });
      const changes = r?.actions.filter((a) => a.kind !== 'faucet' && a.kind !== 'warn') ?? [];
      ctx.log(`repair done (${why}): ${changes.length} change(s)${r?.faucet?.changed ? ', Faucet reloaded' : ''}`);
      // dockerd (re)started without the driver: its containers are ours to start (not awaited: a
      // start calls our own Join).
      if (reasons.some((x) => x === 'start' || x === 'docker events reconnected')) void restoreDriverContainers();
      // Spare ports a refill never made (the agent stopped first): from networks.json, one reload
      // (giving way to a `docker run` in progress, like the refill after quiet; none while that
      // refill waits for quiet: a burst of `docker run` goes without a reload from here).
      if (sparesMissing(readNetworkState(paths(c).networks)).size && !refillWaiting()) {
        await refillNetworks(ctx, { yieldToVerbs: true }).catch((e: Error) => ctx.log(`network driver: spare ports not made again: ${e.message}`));
      }
    } catch (e) {
      ctx.log(`repair failed (${why}): ${(e as Error).message.split('\n')[0]}`);
    }
    void leds?.update(web !== undefined);
  });

  const restoreDriverContainers = async () => {
    try {
      const nets = await driverNetworkIds(docker);
      const names = containersToRestore(await stoppedOnNetworks(docker, nets), nets);
      for (const name of names) {
        await startContainer(docker, name).then(
          () => ctx.log(`network driver: started ${name} (dockerd could not restore it without the driver)`),
          (e: Error) => ctx.log(`network driver: ${name} did not start: ${e.message.split('\n')[0]}`));
      }
    } catch (e) { ctx.log(`network driver: restoring containers failed: ${(e as Error).message.split('\n')[0]}`); }
  };

  // Our containers coming and going (an OVS or Faucet restart, a lab host that died): the events of
  // one short window make one trigger.
  let settling: NodeJS.Timeout | undefined;
  const seen = new Set<string>();
  const onEvent = (why: string) => {
    seen.add(why);
    settling ??= setTimeout(() => { settling = undefined; const w = [...seen]; seen.clear(); repairs.trigger(...w); }, EVENT_SETTLE_MS);
  };
  const events = watchDockerEvents(docker, {
    onEvent,
    // Events may have been missed while the stream was down: look at everything.
    onReconnect: () => { void startStoppedInfra(docker, ctx.log).finally(() => repairs.trigger('docker events reconnected')); },
    log: ctx.log,
  });
  await events.firstAttempt;

  // Task checks run on their own schedule, outside the lab lock: they never hold up a change.
  let checking = false;
  const check = async () => {
    if (checking || stopping) return;
    checking = true;
    try {
      const st = readLabState(paths(c).labState);
      if (st?.topology.tasks.length) await runChecks(checkIo(ctx), st, desiredOf(c, st));
    } catch (e) { ctx.log(`checks failed: ${(e as Error).message}`); } finally { checking = false; }
  };
  repairs.trigger('start');
  const timer = setInterval(() => { repairs.trigger('interval'); recheckDongles(); void check(); }, intervalMs);
  // Faucet's and Gauge's own logs, which nothing rotates (a loop makes Faucet log ~10 MB a minute).
  const capFaucetLogs = () => {
    const max = c.faucetLogMaxMB * 1024 * 1024;
    try {
      for (const r of capLogs(FAUCET_LOGS.map((f) => `${c.logDir}/faucet/${f}`), max, Math.floor(max / 4))) {
        ctx.log(`${r.file}: ${Math.round(r.bytes / 1048576)} MB, over its ${c.faucetLogMaxMB} MB cap: the last ${Math.round(r.kept / 1024)} kB kept in ${r.file}.1`);
      }
    } catch (e) { ctx.log(`capping Faucet's logs: ${(e as Error).message}`); }
  };
  capFaucetLogs();
  const logCaps = setInterval(capFaucetLogs, LOG_CAP_EVERY_MS);

  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(settling); clearInterval(timer); clearInterval(logCaps);
    events.close();
    // Graceful: the running repair finishes (it holds the lab lock and may be halfway through).
    // The web side closes its streams and terminals; the lab keeps running.
    void Promise.all([repairs.stop(), dongleRepairs.stop(), links.close(), plugin?.close().catch((e: Error) => ctx.log(`network driver: ${e.message}`)), web?.close().catch((e: Error) => ctx.log(`web: ${e.message}`)),
      unadvertise?.().catch((e: Error) => ctx.log(`mdns: ${e.message}`)), history?.stop(), leds?.stop().catch((e: Error) => ctx.log(`leds: ${e.message}`))]).then(() => {
      rmSync(pidFile, { force: true });
      ctx.log(`agent ${process.pid} stopped`);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise<never>(() => {});
}

/**
 * After a dockerd restart: starts the infra containers that exist with an unless-stopped (or always)
 * policy but are not running. Docker 20.10 counts any signal sent through its API as a manual stop
 * and then leaves the container stopped when the daemon comes back (Faucet's reload no longer
 * signals through the API; this covers containers flagged before, or by someone else's `docker kill`).
 */
async function startStoppedInfra(docker: Docker, log: (s: string) => void): Promise<void> {
  for (const name of Object.values(INFRA)) {
    try {
      const st = await dockerCall(`inspect ${name}`, (signal) => docker.getContainer(name).inspect({ abortSignal: signal } as object));
      const policy = st.HostConfig.RestartPolicy?.Name ?? '';
      if (st.State.Running || !['unless-stopped', 'always'].includes(policy)) continue;
      await dockerCall(`start ${name}`, (signal) => docker.getContainer(name).start({ abortSignal: signal } as object));
      log(`started ${name}: dockerd came back without it (restart policy ${policy})`);
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      if (code !== 404 && code !== 304) log(`could not start ${name}: ${(e as Error).message}`);
    }
  }
}

export interface EventWatch { firstAttempt: Promise<void>; close(): void }

/**
 * Follows dockerd's container events for `dovelab-*` containers, and reconnects (backoff up to a
 * few seconds) whenever the stream errors or ends, e.g. after a dockerd restart. Logs
 * `docker events: reconnected` once it is back, then calls onReconnect.
 */
export function watchDockerEvents(docker: Docker, h: { onEvent: (why: string) => void; onReconnect: () => void; log: (s: string) => void }): EventWatch {
  let closed = false;
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;
  let resolveFirst!: () => void;
  const firstAttempt = new Promise<void>((r) => { resolveFirst = r; });

  const connect = async (): Promise<NodeJS.ReadableStream> => {
    const ac = new AbortController();
    current = ac;
    const deadline = setTimeout(() => ac.abort(new Error(`no answer within ${EVENTS_DEADLINE_MS / 1000} s`)), EVENTS_DEADLINE_MS);
    try {
      return await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die'] }, abortSignal: ac.signal } as Parameters<Docker['getEvents']>[0]);
    } finally { clearTimeout(deadline); }
  };
  /** Resolves with why the stream stopped (end, close or error, whichever comes first). */
  const follow = (stream: NodeJS.ReadableStream) => new Promise<string>((resolve) => {
    let rest = '';
    stream.on('data', (buf: Buffer) => {
      const lines = (rest + buf.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        try {
          const e = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
          const name = e.Actor?.Attributes?.name ?? '';
          if (name.startsWith('dovelab-')) h.onEvent(`${name} ${e.Action}`);
        } catch { /* not an event */ }
      }
    });
    stream.once('end', () => resolve('ended'));
    stream.once('close', () => resolve('closed'));
    stream.once('error', (e: Error) => resolve(`error: ${e.message}`));
  });
  const pause = (ms: number) => new Promise<void>((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });

  void (async () => {
    let lost = false;
    let failures = 0;
    while (!closed) {
      let stream: NodeJS.ReadableStream;
      try {
        stream = await connect();
      } catch (e) {
        if (closed) break;
        // One line when the trouble starts, not one per retry.
        if (failures === 0) h.log(`docker events: cannot connect (${(e as Error).message}); retrying`);
        failures++;
        lost = true;
        resolveFirst();
        await pause(Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1)));
        continue;
      }
      resolveFirst();
      if (closed) { (stream as unknown as { destroy?: () => void }).destroy?.(); break; }
      if (lost) { h.log('docker events: reconnected'); h.onReconnect(); }
      failures = 0;
      const why = await follow(stream);
      if (closed) break;
      h.log(`docker events: stream ${why}; reconnecting`);
      lost = true;
      await pause(BACKOFF_MIN_MS);
    }
  })();

  return {
    firstAttempt,
    close() { closed = true; current?.abort(); wake?.(); },
  };
}

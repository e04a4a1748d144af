// Traffic history, part 5 (adapter): the collector the agent runs. Every intervalS it reads
// Gauge's port counters (:9303, with a deadline), checks Gauge's port labels against the live
// faucet.yaml (re-read only when it changed), maps each port to its owner through the desired
// state (re-planned only when lab.json or networks.json changed), and hands them to the store;
// every flushS the store appends a batch. Gauge down: one log line, the loop goes on. Gauge still
// on an older faucet.yaml: one log line, nothing recorded until it has reloaded (and when that
// lasts, Gauge is asked to reload). ACL rule hits (the switch's flow counters) are read beside
// Gauge and recorded with the same scrape, as series of their own.
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { paths, type Config } from '../config.js';
import { readNetworkState } from '../lab/network-state.js';
import { applianceDesired } from '../lab/service.js';
import { readLabState } from '../lab/state.js';
import { withDeadline } from '../sys/deadline.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import { aclOwned, faucetPortNames, GAUGE_POLL_S, GAUGE_PORT_METRICS, portDirectory, readGauge, type FaucetPortNames, type OwnedCounters, type PortDirectory } from './history-keys.js';
import { HistoryStore } from './history-store.js';
import { scrape, type Sample } from './prometheus.js';

export interface HistoryCollector {
  store: HistoryStore;
  /** One scrape now (the loop calls it; tests and the bench too). */
  scrapeOnce(): Promise<number>;
  /** Writes what is pending, then stops the loops. */
  stop(): Promise<void>;
  /** CPU time this collector's scrapes and batches took (µs, user + system). */
  cpuMicros(): number;
}

export const historyStore = (c: Config, now?: () => number) => new HistoryStore({
  dir: paths(c).history, maxBytes: c.history.maxMB * 1024 * 1024, segmentBytes: c.history.segmentKB * 1024, ...(now ? { now } : {}),
});

/** The port directory of what runs now, re-planned only when the lab or the Docker networks changed on disk. */
export function directoryOf(c: Config): () => PortDirectory {
  let stamp = '';
  let dir: PortDirectory | undefined;
  const mtime = (f: string) => { try { return statSync(f).mtimeMs; } catch { return 0; } };
  return () => {
    const p = paths(c);
    const now = `${mtime(p.labState)}/${mtime(p.networks)}`;
    if (dir && now === stamp) return dir;
    const st = readLabState(p.labState);
    dir = portDirectory({ desired: applianceDesired(c), ...(st ? { labRun: st.startedAt } : {}), networks: readNetworkState(p.networks) });
    stamp = now;
    return dir;
  };
}

/** The ports the live faucet.yaml names, re-read only when the file changed (throws when it cannot be read). */
export function livePortsOf(c: Config): () => FaucetPortNames {
  let stamp = '';
  let names: FaucetPortNames | undefined;
  return () => {
    const file = paths(c).faucetYaml;
    const st = statSync(file);
    const now = `${st.mtimeMs}/${st.size}/${st.ino}`;
    if (names && now === stamp) return names;
    names = faucetPortNames(parse(readFileSync(file, 'utf8')), c.bridge);
    stamp = now;
    return names;
  };
}

/** Gauge lagging this long (and this many scrapes) is asked to reload; at most once per GAUGE_NUDGE_EVERY_MS. */
export const GAUGE_LAG_NUDGE_MS = 15_000;
export const GAUGE_NUDGE_EVERY_MS = 60_000;

export interface CollectorDeps {
  log: (s: string) => void;
  directory?: () => PortDirectory;
  /** The ports the live faucet.yaml names (default: the file, re-read when it changed). */
  livePorts?: () => FaucetPortNames;
  /** Asks Gauge to reload its config (SIGHUP); without it a lagging Gauge is only waited for. */
  reloadGauge?: () => Promise<void>;
  /** ACL rule hits from the switch (none: ACL series are not kept). */
  aclHits?: () => Promise<AclHit[]>;
  /** Gauge's samples (default: its Prometheus page, with the config's deadline). */
  samples?: () => Promise<Sample[]>;
  store?: HistoryStore;
  now?: () => number;
}

/** What Gauge's counters of a scrape add up to, port by port (changes whenever Gauge polled and anything moved). */
const signature = (owned: readonly OwnedCounters[]) =>
  owned.map((o) => `${o.entry.faucetName}:${o.counters.rxPackets}/${o.counters.txPackets}/${o.counters.rxBytes}/${o.counters.txBytes}`).join(' ');

export function startHistory(c: Config, deps: CollectorDeps): HistoryCollector {
  const now = deps.now ?? Date.now;
  const store = deps.store ?? historyStore(c, now);
  const loaded = store.load();
  deps.log(`history: ${loaded.series.size} series on disk in ${paths(c).history}${loaded.droppedLines ? ` (${loaded.droppedLines} line(s) of a torn last batch dropped)` : ''}; reading Gauge every ${c.history.intervalS} s`);
  const directory = deps.directory ?? directoryOf(c);
  const livePorts = deps.livePorts ?? livePortsOf(c);
  const url = `http://127.0.0.1:${c.gaugePromPort}/metrics`;
  const ms = c.history.scrapeTimeoutMs;
  const samples = deps.samples ?? (() => withDeadline(`reading Gauge's port counters (${url})`, ms, () => scrape(url, ms, GAUGE_PORT_METRICS)));
  let cpu = 0;
  const measured = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    const u0 = process.cpuUsage();
    try { return await fn(); } finally { const u = process.cpuUsage(u0); cpu += u.user + u.system; }
  };
  let failing = false;
  let aclFailing = false;
  let lastSig: string | undefined;
  let lastRecorded: number | undefined;
  let busy = false;
  let lagSince: number | undefined;
  let lagScrapes = 0;
  let nudged = -Infinity;
  const lagging = (why: string) => {
    const t = now();
    if (lagSince === undefined) {
      lagSince = t; lagScrapes = 0;
      deps.log(`history: not recording: ${why}; waiting for Gauge to reload faucet.yaml`);
    }
    lagScrapes++;
    if (deps.reloadGauge && lagScrapes >= 3 && t - lagSince >= GAUGE_LAG_NUDGE_MS && t - nudged >= GAUGE_NUDGE_EVERY_MS) {
      nudged = t;
      deps.log(`history: Gauge has lagged faucet.yaml for ${Math.round((t - lagSince) / 1000)} s: asking it to reload`);
      deps.reloadGauge().catch((e: Error) => deps.log(`history: could not ask Gauge to reload: ${e.message}`));
    }
  };
  const scrapeOnce = async (): Promise<number> => {
    if (busy) return 0;
    busy = true;
    try {
      // Read beside Gauge; a failing read costs the ACL series this scrape, never the ports'.
      const acl = deps.aclHits?.().then((h) => {
        if (aclFailing) deps.log('history: reading ACL counters again');
        aclFailing = false;
        return h;
      }, (e: Error) => {
        if (!aclFailing) deps.log(`history: ACL counters: ${e.message.split('\n')[0]}`);
        aclFailing = true;
        return [] as AclHit[];
      });
      const s = await samples();
      const hits = (await acl) ?? [];
      return await measured(() => {
        if (failing) deps.log('history: reading Gauge again');
        failing = false;
        let live: FaucetPortNames;
        try { live = livePorts(); } catch (e) { lagging(`faucet.yaml not readable (${(e as Error).message.split('\n')[0]})`); return 0; }
        const r = readGauge(s, directory(), c.bridge, live);
        if (r.lag) { lagging(r.lag); return 0; }
        if (lagSince !== undefined) deps.log(`history: Gauge's port names match faucet.yaml again (after ${Math.round((now() - lagSince) / 1000)} s): recording`);
        lagSince = undefined;
        // No port on Gauge's page: it has just (re)loaded and not polled yet; the last scrape stands.
        if (!r.ports) return 0;
        // Gauge's page changes only when Gauge polls (every GAUGE_POLL_S s), not when we read it.
        // Counters all as they were: Gauge has not polled since (or all is idle). Recording that as
        // an idle interval would draw a steady rate as zero, then double; it is no news, unless
        // nothing moved for two of Gauge's polls (then the ports are idle: a zero point is true).
        const sig = signature(r.owned);
        const t = now();
        if (sig === lastSig && lastRecorded !== undefined && t - lastRecorded < 2 * GAUGE_POLL_S * 1000) return 0;
        lastSig = sig;
        lastRecorded = t;
        const owned = hits.length ? [...r.owned, ...aclOwned(hits, directory(), live)] : r.owned;
        store.record(owned, t);
        return owned.length;
      });
    } catch (e) {
      if (!failing) deps.log(`history: ${(e as Error).message.split('\n')[0]} (retrying every ${c.history.intervalS} s)`);
      failing = true;
      return 0;
    } finally { busy = false; }
  };
  const flush = () => measured(() => {
    try { store.flush(now()); } catch (e) { deps.log(`history: writing a batch failed: ${(e as Error).message}`); }
  });
  const scrapes = setInterval(() => { void scrapeOnce(); }, c.history.intervalS * 1000);
  const flushes = setInterval(() => { void flush(); }, c.history.flushS * 1000);
  void scrapeOnce();
  return {
    store,
    scrapeOnce,
    cpuMicros: () => cpu,
    async stop() {
      clearInterval(scrapes); clearInterval(flushes);
      await flush();
    },
  };
}

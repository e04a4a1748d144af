// The web app over the fake world with a two-group lab up and a real history store in a temp dir,
// fed by the test (history-web.test.ts, history-routes.test.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labUp, desiredOf } from '../../agent/lab/service.js';
import type { LabState } from '../../agent/lab/state.js';
import { portDirectory, type PortEntry } from '../../agent/metrics/history-keys.js';
import { HistoryStore, type HistoryReader } from '../../agent/metrics/history-store.js';
import { createApp, type WebApp } from '../../agent/web/app.js';
import { hashPassword } from '../../agent/web/instructor-auth.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

export const PASSWORD = 'correct horse battery';
export const HOST = 'dovelab.local';
const passwordHash = hashPassword(PASSWORD);

/** Two hosts h1, h2 on one per-group network. */
export const historyLesson = (id: string, title: string) => `
dovelab: 1
id: ${id}
title: ${title}
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
`;

export interface HistoryWorld { web: WebApp; st: LabState; store: HistoryStore; entries: Map<string, PortEntry>; now: number }

export interface HistoryWorldOptions {
  lesson: string;
  now: number;
  /** Records the test's counters (entries by Faucet port name, e.g. g1-h1-eth0). */
  fill: (store: HistoryStore, entries: Map<string, PortEntry>, now: number) => void;
  /** What the app gets as its history (undefined: none, the routes without a store). */
  reader?: (store: HistoryStore) => HistoryReader | undefined;
}

export async function withHistoryWeb(o: HistoryWorldOptions, fn: (w: HistoryWorld) => Promise<void>): Promise<void> {
  const t = tempConfig();
  let web: WebApp | undefined;
  try {
    t.cfg.web.instructor_password_hash = await passwordHash;
    const ctx = new FakeWorld().context(t.cfg);
    const lesson = join(t.dir, 'lesson');
    mkdirSync(lesson, { recursive: true });
    writeFileSync(join(lesson, 'lesson.yaml'), o.lesson);
    const { state } = await labUp(ctx, lesson, 2);
    const store = new HistoryStore({ dir: join(t.dir, 'history'), maxBytes: 1 << 20, segmentBytes: 1 << 16, now: () => o.now });
    const entries = portDirectory({ desired: desiredOf(t.cfg, state), labRun: state.startedAt }).byName;
    o.fill(store, entries, o.now);
    const history = o.reader ? o.reader(store) : store;
    web = createApp({
      cfg: t.cfg, lab: ctx, now: () => o.now, secret: Buffer.alloc(32, 5), log: () => {}, uiDir: join(t.dir, 'ui'),
      ipv4: () => '192.0.2.10', faucetStatus: async () => ({ hashes: [], loadError: false, applied: true, dpUp: {}, warmStarts: 0, coldStarts: 0 }),
      diskUsed: async () => 0.5, clientIp: () => '198.51.100.99',
      ...(history ? { history } : {}),
    });
    await fn({ web, st: state, store, entries, now: o.now });
  } finally {
    await web?.close();
    t.done();
  }
}

/** A past lab's run of g1's h1 (its own series: not this run's). */
export const pastEntry = (entries: Map<string, PortEntry>): PortEntry =>
  ({ ...entries.get('g1-h1-eth0')!, token: 'old@run0', owner: { kind: 'host', lab: 'old', group: 1, host: 'h1', iface: 'eth0' } });

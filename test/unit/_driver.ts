// Shared by the driver's unit tests: ids, readers of the live Faucet config, and the fake world
// with the verbs' usual set-up. Not a test file itself (no .test suffix).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { paths, type Config } from '../../agent/config.js';
import { PlanError } from '../../agent/lab/desired.js';
import { networkCreate, pendingRefills, type CreateNetworkRequest } from '../../agent/lab/networks.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

export const NET_A = 'a1'.repeat(32);
export const NET_B = 'b2'.repeat(32);
export const NET_C = 'c3'.repeat(32);
export const EP_1 = 'e1'.repeat(32);
export const EP_2 = 'e2'.repeat(32);
export const EP_3 = 'e3'.repeat(32);

interface FaucetDoc {
  vlans: Record<string, { vid: number; description?: string }>;
  dps: Record<string, { interfaces: Record<string, { name: string; native_vlan?: string; tagged_vlans?: string[]; acls_in?: string[]; mirror?: number[]; output_only?: boolean; description?: string }> }>;
}
export const doc = (text: string) => parse(text) as FaucetDoc;
export const vlanNamed = (text: string, vid: number) => Object.entries(doc(text).vlans).find(([, v]) => v.vid === vid)?.[0];
export const vids = (text: string) => Object.values(doc(text).vlans).map((v) => v.vid).sort((a, b) => a - b);
export const iface = (text: string, n: number) => doc(text).dps.dovelab0!.interfaces[n];

/** Runs p, which must reject; returns the error. */
export async function fails(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  assert.unreachable('should have failed');
  throw new Error('unreachable');
}

export type Ctx = ReturnType<FakeWorld['context']>;
export interface Driver {
  w: FakeWorld; ctx: Ctx; cfg: Config; netJson: string; labJson: string;
  /** networkCreate with Docker's usual request (internal, an IPAM pool). */
  create: (id: string, generic?: Record<string, unknown>, extra?: Partial<CreateNetworkRequest>) => ReturnType<typeof networkCreate>;
  lesson: (text: string, name?: string) => string;
}

/** A fake world with the interfaces odsaddport1/2 (plain, free), eth0 (the appliance's, with an address) and mir0. */
export async function withDriver(fn: (d: Driver) => Promise<void>, opts: { spares?: number } = {}): Promise<void> {
  // Networks without spare ports unless a test asks: the reload path (driver-spares.test.ts has the spares).
  const t = tempConfig({ driverSparePorts: opts.spares ?? 0 });
  const w = new FakeWorld();
  for (const i of ['odsaddport1', 'odsaddport2', 'eth0', 'mir0']) w.interfaces.add(i);
  w.facts = {
    eth0: { addresses: ['192.168.1.20/24', 'fe80::1/64'], defaultRoute: false },
    odsaddport1: { addresses: ['fe80::2/64'], defaultRoute: false },
    odsaddport2: { addresses: [], defaultRoute: false },
  };
  const ctx = w.context(t.cfg);
  const lesson = (text: string, name = 'lesson') => {
    const dir = join(t.dir, 'lessons', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lesson.yaml'), text);
    return dir;
  };
  const create = (id: string, generic: Record<string, unknown> = {}, extra: Partial<CreateNetworkRequest> = {}) =>
    networkCreate(ctx, { id, generic, internal: true, ipv4: [{ Pool: '198.51.100.0/24', Gateway: '198.51.100.1/24' }], ...extra });
  try {
    await fn({ w, ctx, cfg: t.cfg, netJson: paths(t.cfg).networks, labJson: paths(t.cfg).labState, create, lesson });
  } finally {
    // A refill waiting for quiet must not outlive the test's world.
    pendingRefills(true);
    t.done();
  }
}


/** Runs fn, which must throw a PlanError matching every pattern; returns its message. */
export function planError(fn: () => unknown, ...res: RegExp[]): string {
  try { fn(); } catch (e) {
    assert.instance(e, PlanError, String(e));
    for (const re of res) assert.match((e as Error).message, re);
    return (e as Error).message;
  }
  assert.unreachable(`no PlanError (wanted ${res.join(', ')})`);
  throw new Error('unreachable');
}

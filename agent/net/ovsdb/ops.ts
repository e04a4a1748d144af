// Building OVSDB transactions for the lab's port changes, and reading their results (pure).
// A change is planned against what is known of the rows it touches (`Found`: from the monitor's
// mirror, or from a fresh select); `wait` operations make the transaction fail if that knowledge
// was stale, so a stale mirror can cost a retry, never a wrong change.
import { map, namedUuid, set, uuid, type Value } from './encoding.js';

export const DB = 'Open_vSwitch';

export type Condition = [string, string, Value | string | number | boolean];
export interface Operation { op: string; table?: string; [k: string]: unknown }

/** What exists under one name: the Port row (and its interfaces) and the Interface row. */
export interface Found { port?: { uuid: string; interfaces: string[] }; iface?: string }

/** Operations plus the row counts some of them must report (else the change did not happen). */
export interface Plan { ops: Operation[]; expect: { at: number; atLeast: number; why: string }[] }

export interface PortSpec { bridge: string; name: string; ofport: number; externalIds: Record<string, string> }

const byName = (name: string): Condition[] => [['name', '==', name]];
const byUuid = (u: string): Condition[] => [['_uuid', '==', uuid(u)]];

/** Fails the transaction unless the Port and Interface named `name` are still what `f` says. */
export function guard(name: string, f: Found): Operation[] {
  const rows = (u: string | undefined) => (u ? [{ _uuid: uuid(u) }] : []);
  return [
    { op: 'wait', table: 'Port', where: byName(name), columns: ['_uuid'], until: '==', rows: rows(f.port?.uuid), timeout: 0 },
    { op: 'wait', table: 'Interface', where: byName(name), columns: ['_uuid'], until: '==', rows: rows(f.iface), timeout: 0 },
  ];
}

/** Sets keys of a map column (others kept), as `ovs-vsctl set T r col:k=v` does. */
const setKeys = (column: string, m: Record<string, string>): Condition[] => Object.keys(m).length
  ? [[column, 'delete', set(Object.keys(m))], [column, 'insert', map(m)]]
  : [];

/**
 * `ovs-vsctl --may-exist add-port B N -- set Interface N ofport_request=P external_ids:k=v…`:
 * a new Port with one Interface (named-uuids `tag`_iface/_port) put on the bridge, or, when N
 * exists, its Interface given the request and the ids.
 */
export function addPortPlan(s: PortSpec, f: Found, tag: string): Plan {
  if (f.port && f.iface) {
    const ops: Operation[] = [
      ...guard(s.name, f),
      { op: 'update', table: 'Interface', where: byUuid(f.iface), row: { ofport_request: s.ofport } },
    ];
    const muts = setKeys('external_ids', s.externalIds);
    if (muts.length) ops.push({ op: 'mutate', table: 'Interface', where: byUuid(f.iface), mutations: muts });
    return { ops, expect: [] };
  }
  if (f.port || f.iface) {
    // A Port without its Interface (or the reverse) under this name is not ours to patch.
    throw new Error(`OVSDB: ${s.name} exists only half (${f.port ? 'a Port, no Interface' : 'an Interface, no Port'} of that name)`);
  }
  const iface = `${tag}_iface`; const port = `${tag}_port`;
  return {
    ops: [
      { op: 'insert', table: 'Interface', 'uuid-name': iface, row: { name: s.name, ofport_request: s.ofport, external_ids: map(s.externalIds) } },
      { op: 'insert', table: 'Port', 'uuid-name': port, row: { name: s.name, interfaces: namedUuid(iface) } },
      { op: 'mutate', table: 'Bridge', where: byName(s.bridge), mutations: [['ports', 'insert', set([namedUuid(port)])]] },
    ],
    expect: [{ at: 2, atLeast: 1, why: `no bridge ${s.bridge}` }],
  };
}

/** `ovs-vsctl --if-exists del-port N`: the Port leaves every bridge (OVS then drops it and its Interface). */
export function deletePortPlan(name: string, f: Found): Plan {
  if (!f.port) return { ops: guard(name, f), expect: [] };
  return {
    ops: [
      ...guard(name, f),
      { op: 'mutate', table: 'Bridge', where: [['ports', 'includes', set([uuid(f.port.uuid)])]], mutations: [['ports', 'delete', set([uuid(f.port.uuid)])]] },
    ],
    expect: [],
  };
}

/** `ovs-vsctl set Interface N options:k=v…` (other keys kept). */
export function setInterfaceOptionsPlan(name: string, options: Record<string, string>, f: Found): Plan {
  if (!f.iface) throw new Error(`OVSDB: no interface ${name}`);
  const muts = setKeys('options', options);
  return { ops: [...guard(name, f), ...(muts.length ? [{ op: 'mutate', table: 'Interface', where: byUuid(f.iface), mutations: muts }] : [])], expect: [] };
}

/** Operations that change something (a transaction of waits and selects needs no ovs-vswitchd). */
export const changes = (ops: Operation[]) => ops.some((o) => o.op !== 'wait' && o.op !== 'select' && o.op !== 'comment');

/**
 * Asks ovs-vswitchd to report when it has applied this transaction (what `ovs-vsctl` waits for):
 * next_cfg + 1, then read back; done when Open_vSwitch.cur_cfg reaches it.
 */
export const bumpNextCfg = (): Operation[] => [
  { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
  { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
];

/** The select's answer from bumpNextCfg (its result is the last one). */
export function nextCfgOf(result: unknown): number {
  const rows = (result as { rows?: { next_cfg?: unknown }[] } | undefined)?.rows;
  const v = rows?.[0]?.next_cfg;
  if (typeof v !== 'number') throw new Error(`OVSDB: no next_cfg in ${JSON.stringify(result)}`);
  return v;
}

/** Selects what exists under `name` (a fresh lookup instead of the mirror's). */
export const lookupOps = (name: string): Operation[] => [
  { op: 'select', table: 'Port', where: byName(name), columns: ['_uuid', 'interfaces'] },
  { op: 'select', table: 'Interface', where: byName(name), columns: ['_uuid'] },
];

export function foundOf(results: unknown[]): Found {
  const port = (results[0] as { rows: { _uuid: [string, string]; interfaces: unknown }[] }).rows[0];
  const iface = (results[1] as { rows: { _uuid: [string, string] }[] }).rows[0];
  const ifaces = port ? (Array.isArray(port.interfaces) && port.interfaces[0] === 'set' ? (port.interfaces[1] as [string, string][]) : [port.interfaces as [string, string]]) : [];
  return {
    ...(port ? { port: { uuid: port._uuid[1], interfaces: ifaces.map((u) => u[1]) } } : {}),
    ...(iface ? { iface: iface._uuid[1] } : {}),
  };
}

/**
 * Why a transaction failed, from its results (RFC 7047 §4.1.3): an operation's own error, or one
 * more result than operations carrying the commit's error (e.g. a constraint violation). Undefined: it worked.
 */
export function transactionError(ops: Operation[], results: unknown[]): string | undefined {
  if (!Array.isArray(results)) return `not a list of results: ${JSON.stringify(results)}`;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as { error?: unknown; details?: unknown } | null;
    if (r && typeof r === 'object' && r.error) {
      const o = ops[i];
      const where = o ? `operation ${i + 1} (${o.op}${o.table ? ` ${o.table}` : ''})` : 'commit';
      return `${where}: ${String(r.error)}${r.details ? `: ${String(r.details)}` : ''}`;
    }
  }
  if (results.length < ops.length) return `only ${results.length} results for ${ops.length} operations`;
  return undefined;
}

/** The first expectation a result misses (a mutate that matched no row), as a reason. */
export function missedExpectation(plan: Plan, results: unknown[], offset: number): string | undefined {
  for (const e of plan.expect) {
    const count = (results[offset + e.at] as { count?: number } | undefined)?.count ?? 0;
    if (count < e.atLeast) return e.why;
  }
  return undefined;
}

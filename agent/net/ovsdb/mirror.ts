// An in-memory copy of the monitored OVSDB tables, kept by the server's `update` notifications
// (RFC 7047 §4.1.6), and the reads the lab needs from it (pure: no I/O).
import { decodeMap, decodeOptional, decodeUuidSet } from './encoding.js';
import type { Found } from './ops.js';

export type Row = Record<string, unknown>;
/** table -> uuid -> {old?, new?}: `new` holds every monitored column of the row as it is now. */
export type TableUpdates = Record<string, Record<string, { old?: Row; new?: Row }>>;

/** What the lab monitors: enough for ports, their OpenFlow numbers and ids, and vswitchd's progress. */
export const MONITORED: Record<string, string[]> = {
  Open_vSwitch: ['cur_cfg', 'next_cfg', 'external_ids'],
  Bridge: ['name', 'ports'],
  Port: ['name', 'interfaces', 'external_ids'],
  Interface: ['name', 'ofport', 'ofport_request', 'external_ids', 'link_state', 'error', 'type', 'options'],
};

/** The row shape the OVS adapter hands the engine (agent/net/ovs.ts's OvsPort). */
export interface PortRow {
  name: string; ofport: number; ofportRequest: number | undefined; externalIds: Record<string, string>;
  error: string | undefined; type: string; linkState: 'up' | 'down' | undefined;
}

export class Mirror {
  private tables = new Map<string, Map<string, Row>>();

  /** Applies a monitor reply or an update notification. */
  apply(u: TableUpdates): void {
    for (const [table, rows] of Object.entries(u)) {
      let t = this.tables.get(table);
      if (!t) { t = new Map(); this.tables.set(table, t); }
      for (const [id, ru] of Object.entries(rows)) {
        if (ru.new) t.set(id, ru.new); else t.delete(id);
      }
    }
  }

  /** Forgets everything (a new monitor starts from its full initial state). */
  clear(): void { this.tables.clear(); }

  rows(table: string): [string, Row][] { return [...(this.tables.get(table) ?? new Map<string, Row>()).entries()]; }
  row(table: string, id: string): Row | undefined { return this.tables.get(table)?.get(id); }

  /** The row named `name` (Bridge, Port, Interface names are unique). */
  named(table: string, name: string): [string, Row] | undefined { return this.rows(table).find(([, r]) => r.name === name); }

  /** The single Open_vSwitch row. */
  root(): Row | undefined { return this.rows('Open_vSwitch')[0]?.[1]; }

  /** ovs-vswitchd's applied configuration number (-1 before the first row is known). */
  curCfg(): number { const v = this.root()?.cur_cfg; return typeof v === 'number' ? v : -1; }

  /** What the mirror knows under a name (to plan a change; the transaction re-checks it). */
  found(name: string): Found {
    const p = this.named('Port', name); const i = this.named('Interface', name);
    return {
      ...(p ? { port: { uuid: p[0], interfaces: decodeUuidSet(p[1].interfaces, `Port ${name} interfaces`) } } : {}),
      ...(i ? { iface: i[0] } : {}),
    };
  }

  /**
   * The bridge's ports, one row per interface, like `list-ports` + `list Interface` (so without the
   * bridge's own local port, which carries its name); undefined: no such bridge.
   */
  bridgePorts(bridge: string): PortRow[] | undefined {
    const b = this.named('Bridge', bridge);
    if (!b) return undefined;
    const out: PortRow[] = [];
    for (const pid of decodeUuidSet(b[1].ports, `Bridge ${bridge} ports`)) {
      const p = this.row('Port', pid);
      if (!p || p.name === bridge) continue;
      for (const iid of decodeUuidSet(p.interfaces, `Port ${String(p.name)} interfaces`)) {
        const i = this.row('Interface', iid);
        if (i) out.push(interfaceRow(i));
      }
    }
    return out.sort((a, b2) => a.name.localeCompare(b2.name));
  }
}

export function interfaceRow(i: Row): PortRow {
  const name = String(i.name);
  const w = (c: string) => `Interface ${name} ${c}`;
  const link = decodeOptional<string>(i.link_state, w('link_state'));
  return {
    name,
    ofport: decodeOptional<number>(i.ofport, w('ofport')) ?? -1,
    ofportRequest: decodeOptional<number>(i.ofport_request, w('ofport_request')),
    externalIds: decodeMap(i.external_ids, w('external_ids')),
    error: decodeOptional<string>(i.error, w('error')),
    type: String(i.type ?? ''),
    linkState: link === 'up' || link === 'down' ? link : undefined,
  };
}

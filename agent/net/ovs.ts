// OVS adapter: ovs-vsctl run inside the dovelab/ovs container (the host needs no OVS packages).
import type { RunResult } from '../sys/run.js';

/** Runs `ovs-vsctl <args>`; given in, so tests can hand in the real one or a recorder. */
export type VsctlRunner = (args: string[]) => Promise<RunResult>;

export interface OvsPort {
  name: string;
  ofport: number;
  ofportRequest: number | undefined;
  externalIds: Record<string, string>;
  error: string | undefined;
  type: string;
}

export interface FaucetBridgeSpec {
  bridge: string;
  dpId: number;
  datapath: 'system' | 'netdev';
  controllers: string[];
}

export const datapathIdHex = (dpId: number) => dpId.toString(16).padStart(16, '0');

type OvsValue = string | number | boolean | [string, unknown];
const mapOf = (v: unknown): Record<string, string> =>
  Array.isArray(v) && v[0] === 'map' ? Object.fromEntries(v[1] as [string, string][]) : {};
const optional = <T>(v: unknown): T | undefined =>
  Array.isArray(v) && v[0] === 'set' && (v[1] as unknown[]).length === 0 ? undefined : (v as T);

/** Parses `ovs-vsctl --format=json list` output into rows keyed by heading. */
export function parseVsctlJson(text: string): Record<string, OvsValue>[] {
  const t = JSON.parse(text) as { headings: string[]; data: OvsValue[][] };
  return t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, row[i] as OvsValue])));
}

export class Ovs {
  constructor(private readonly vsctl: VsctlRunner) {}

  async datapathOfSwitch(): Promise<'system' | 'netdev' | undefined> {
    const r = await this.vsctl(['--if-exists', 'get', 'Open_vSwitch', '.', 'external_ids:dovelab-datapath']);
    const v = r.stdout.trim().replace(/"/g, '');
    return v === 'system' || v === 'netdev' ? v : undefined;
  }

  async bridgeExists(bridge: string): Promise<boolean> {
    try { await this.vsctl(['br-exists', bridge]); return true; } catch (e) {
      // br-exists answers "no" with exit 2; anything else (OVS down) is an error.
      if ((e as { result?: { code?: number } }).result?.code === 2) return false;
      throw e;
    }
  }

  /** Creates or corrects the Faucet-controlled bridge; idempotent, does not churn controllers. */
  async ensureFaucetBridge(s: FaucetBridgeSpec): Promise<void> {
    await this.vsctl([
      '--may-exist', 'add-br', s.bridge,
      '--', 'set', 'Bridge', s.bridge, `datapath_type=${s.datapath}`, 'fail_mode=secure', 'protocols=OpenFlow13',
      `other-config:datapath-id=${datapathIdHex(s.dpId)}`, 'other-config:disable-in-band=true',
    ]);
    const current = (await this.vsctl(['get-controller', s.bridge])).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if ([...current].sort().join() !== [...s.controllers].sort().join()) {
      await this.vsctl(['set-controller', s.bridge, ...s.controllers]);
    }
    // Reconnect within a second after a controller restart (OVS backs off up to 8 s by default).
    const ctl = parseVsctlJson((await this.vsctl(['--format=json', '--columns=_uuid,max_backoff', 'list', 'Controller'])).stdout);
    for (const row of ctl) {
      const uuid = (row._uuid as unknown as [string, string])[1];
      if (optional<number>(row.max_backoff) !== 1000) await this.vsctl(['set', 'Controller', uuid, 'max_backoff=1000']);
    }
  }

  async deleteBridge(bridge: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-br', bridge]);
  }

  async bridgeSettings(bridge: string): Promise<Record<string, OvsValue>> {
    const r = await this.vsctl(['--format=json', '--columns=datapath_type,fail_mode,protocols,other_config', 'list', 'Bridge', bridge]);
    const row = parseVsctlJson(r.stdout)[0];
    if (!row) throw new Error(`OVS: bridge ${bridge} not found`);
    return row;
  }

  async ports(bridge: string): Promise<OvsPort[]> {
    const names = (await this.vsctl(['list-ports', bridge])).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    if (names.length === 0) return [];
    const r = await this.vsctl(['--format=json', '--columns=name,ofport,ofport_request,external_ids,error,type', 'list', 'Interface', ...names]);
    return parseVsctlJson(r.stdout).map((row) => ({
      name: String(row.name),
      ofport: Number(optional<number>(row.ofport) ?? -1),
      ofportRequest: optional<number>(row.ofport_request),
      externalIds: mapOf(row.external_ids),
      error: optional<string>(row.error),
      type: String(row.type ?? ''),
    }));
  }

  /** Adds (or updates) a port with a pinned OpenFlow port number and our external_ids. */
  async addPort(bridge: string, name: string, ofport: number, externalIds: Record<string, string>): Promise<void> {
    const ids = Object.entries(externalIds).map(([k, v]) => `external_ids:${k}=${JSON.stringify(v)}`);
    await this.vsctl(['--may-exist', 'add-port', bridge, name, '--', 'set', 'Interface', name, `ofport_request=${ofport}`, ...ids]);
  }

  async deletePort(bridge: string, name: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-port', bridge, name]);
  }
}

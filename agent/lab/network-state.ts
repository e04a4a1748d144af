// The driver's networks and endpoints on disk (/var/lib/dovelab/networks.json): written durably,
// read back through a schema (a damaged file is a clear error, never a silent empty state).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeAtomic } from '../sys/files.js';
import { emptyPluginState, type PluginState } from './plan-networks.js';

export const NETWORK_STATE_VERSION = 1;

const Uplink = z.object({ iface: z.string(), ofport: z.number().int().optional(), acls: z.array(z.string()), vlan: z.number().int().optional() });
const Schema = z.object({
  version: z.literal(NETWORK_STATE_VERSION),
  networks: z.array(z.object({
    id: z.string().min(1), name: z.string().optional(), vid: z.number().int().min(1).max(4094),
    mode: z.enum(['flat', 'nat', 'routed']), dhcp: z.boolean(), mtu: z.number().int(), tagged: z.boolean(),
    uplinks: z.array(Uplink), defaultAcls: z.array(z.string()), gateway: z.string().optional(),
    natAcls: z.array(z.string()).optional(), gatewayMac: z.string().optional(), vlanOutAcls: z.array(z.string()).optional(),
    options: z.record(z.string(), z.string()), createdAt: z.string(),
    spares: z.array(z.number().int()).optional(), pool: z.number().int().min(0).optional(),
  })),
  endpoints: z.array(z.object({
    id: z.string().min(1), network: z.string(), ofport: z.number().int(), hostEnd: z.string(), peer: z.string(), mac: z.string(),
    address: z.string().optional(), acls: z.array(z.string()), mirror: z.union([z.literal(true), z.string()]).optional(),
    policy: z.enum(['labels', 'console']).optional(), joined: z.boolean(), slot: z.boolean().optional(), container: z.string().optional(),
    sandbox: z.string().optional(), ifname: z.string().optional(), dhcpPid: z.number().int().optional(),
    published: z.array(z.object({ proto: z.enum(['tcp', 'udp']), hostIp: z.string().optional(), hostPort: z.number().int(), port: z.number().int() })).optional(),
  })),
});

export class NetworkStateError extends Error {}

/** Whether any endpoint in `file` (joined or not) has the host end `name` (read now). */
export function hostEndHeld(file: string, name: string): boolean {
  return readNetworkState(file).endpoints.some((e) => e.hostEnd === name);
}

/** Whether a joined endpoint in `file` has the host end `name` (read now). */
export function hostEndJoined(file: string, name: string): boolean {
  return readNetworkState(file).endpoints.some((e) => e.joined && e.hostEnd === name);
}

export function readNetworkState(file: string): PluginState {
  if (!existsSync(file)) return emptyPluginState();
  let doc: unknown;
  try { doc = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new NetworkStateError(`${file}: the Docker networks' state is damaged (not JSON: ${(e as Error).message})`);
  }
  const r = Schema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new NetworkStateError(`${file}: the Docker networks' state is damaged (${i.path.join('.') || '(top)'}: ${i.message})`);
  }
  const { version: _v, ...st } = r.data;
  return st;
}

export const writeNetworkState = (file: string, st: PluginState) =>
  writeAtomic(file, JSON.stringify({ version: NETWORK_STATE_VERSION, ...st }, null, 2) + '\n');

// Adapter: reads per-rule ACL hit counters from the switch (flow statistics over ovs-vswitchd's
// management socket, see agent/net/openflow) and maps them with the live faucet.yaml. Every call
// has a deadline.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dumpFlows } from '../openflow/client.js';
import { aclCookieMap, aclHits, type AclCookieMap, type AclHit, type FlowStat } from './acl-hits.js';

/** Reads every flow of the bridge with its counters. */
export type FlowSource = (timeoutMs: number) => Promise<FlowStat[]>;

/** Flows from the bridge's management socket under the OVS run directory. */
export const flowsVia = (ovsRunDir: string, bridge: string): FlowSource =>
  (timeoutMs) => dumpFlows({ path: `${ovsRunDir}/${bridge}.mgmt`, timeoutMs });

/** The cookie map of the live faucet.yaml, parsed again only when the file changed (read every few seconds). */
let cached: { stamp: string; map: AclCookieMap } | undefined;
function cookieMapOf(file: string): AclCookieMap {
  const st = statSync(file);
  const stamp = `${file}/${st.ino}/${st.mtimeMs}/${st.size}`;
  if (cached?.stamp !== stamp) cached = { stamp, map: aclCookieMap(readFileSync(file, 'utf8')) };
  return cached.map;
}

/** Hits of every ACL rule that has a cookie, per port; [] when there is no live faucet.yaml or no ACL. */
export async function readAclCounters(flows: FlowSource, faucetFile: string, timeoutMs = 5000): Promise<AclHit[]> {
  if (!existsSync(faucetFile)) return [];
  const map = cookieMapOf(faucetFile);
  if (map.rules.size === 0) return [];
  return aclHits(await flows(timeoutMs), map);
}

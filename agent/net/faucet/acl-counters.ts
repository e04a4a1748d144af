// Adapter: reads per-rule ACL hit counters from the switch (ovs-ofctl dump-flows in the OVS
// container) and maps them with the live faucet.yaml. Every call has a deadline.
import { existsSync, readFileSync } from 'node:fs';
import { withDeadline } from '../../sys/deadline.js';
import type { RunResult } from '../../sys/run.js';
import { aclCookieMap, aclHits, parseDumpFlows, type AclHit } from './acl-hits.js';

/** Runs `ovs-ofctl -O OpenFlow13 <args>` (see ofctlVia). */
export type OfctlRunner = (args: string[]) => Promise<RunResult>;

/** Hits of every ACL rule that has a cookie, per port; [] when there is no live faucet.yaml. */
export async function readAclCounters(ofctl: OfctlRunner, bridge: string, faucetFile: string, timeoutMs = 5000): Promise<AclHit[]> {
  if (!existsSync(faucetFile)) return [];
  const map = aclCookieMap(readFileSync(faucetFile, 'utf8'));
  if (map.rules.size === 0) return [];
  const r = await withDeadline(`ovs-ofctl dump-flows ${bridge}`, timeoutMs, () => ofctl(['dump-flows', bridge]));
  return aclHits(parseDumpFlows(r.stdout), map);
}

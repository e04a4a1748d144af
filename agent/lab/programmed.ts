// Whether Faucet has programmed ports that were (re)added to the bridge: pure, from a flow dump.
//
// Faucet programs a port when it sees the port come up (its port-status event), or in the reload
// that names it if the port was up first. Either way it installs flows matching in_port=<ofport>
// (the port's ACL and VLAN entries) in the same batch as the flood rules that reach the port. A
// port deleted and added again keeps its ofport, and the old flows may still be there until Faucet
// has handled the delete: only a flow younger than `sinceMs` counts. The caller makes that the add,
// or the reload that named the port if earlier (Faucet 1.10 keeps a deleted port "up" and programs
// it as soon as a reload names it; the add then changes nothing in its view).
import type { FlowStat } from '../net/faucet/acl-hits.js';

export interface AddedPort { name: string; ofport: number; /** Date.now() just before the port was added (or the reload began). */ sinceMs: number }

/**
 * The ports of `added` that no flow installed since their add matches yet. `nowMs` is taken after
 * the dump came back: a flow made after the add is at most `nowMs - sinceMs` old (1 ms for rounding).
 */
export function unprogrammed(flows: FlowStat[], added: AddedPort[], nowMs: number): AddedPort[] {
  const youngest = new Map<number, number>();
  for (const f of flows) {
    if (f.inPort === undefined || f.ageMs === undefined) continue;
    const seen = youngest.get(f.inPort);
    if (seen === undefined || f.ageMs < seen) youngest.set(f.inPort, f.ageMs);
  }
  return added.filter((p) => {
    const age = youngest.get(p.ofport);
    return age === undefined || age > nowMs - p.sinceMs + 1;
  });
}

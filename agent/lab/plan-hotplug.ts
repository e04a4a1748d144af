// A dongle pulled or plugged while a lab (or a Docker network) uses it: what to repair for that
// dongle only. Pure.
//
// What happens without it (seen here, OVS netdev datapath, sim world, `dovelab sim unplug|plug up0`):
// OVS keeps the port record with its ofport and re-opens the device by name when it returns, so
// Faucet's config never changes (port_status goes 0, then 1: no reload, no cold start) and the
// DOVELAB-LAB firewall rule (by name) stays. But the new device arrives administratively down and
// with the kernel's sysctls (IPv6 on, ARP answered, forwarding as the host): the agent's repair saw
// nothing to do (same ofport, no error), so traffic never came back and hardening was lost. Worse,
// once set up the device sent but never received: the userspace datapath re-opened it for sending
// while its receive socket stayed on the old device ("error receiving data from up0: Network is
// down"); only deleting the port and adding it again, in two transactions, made it receive.
// So a dongle that comes back (a new device: plugged while we watched, or found without its
// hardening) is hardened (before it is set up: no IPv6 chatter into the lab), its port deleted and
// added again on the same ofport (Faucet sees the port go and come, its config stays the same), and
// set up. One found as it should be (an agent restart) keeps its port unless OVS lost it or holds
// it on another ofport. A dongle that goes needs nothing: its port record waits for it, and the
// kiosk shows it missing.
import type { ObservedPort } from './diff.js';
import { portDrift, uplinkExternalIds } from './diff.js';
import type { DesiredState, DesiredUplink } from './desired.js';

export type DongleStep =
  | { kind: 'harden'; iface: string }
  | { kind: 'port'; uplink: DesiredUplink; externalIds: Record<string, string>; why: string }
  | { kind: 'link-up'; iface: string };

export interface DonglePlan {
  iface: string;
  /** The lab's use of it; undefined when nothing uses it. */
  uplink?: DesiredUplink;
  steps: DongleStep[];
  /** One line for the log. */
  note: string;
}

/** How a lab's dongle is called in messages: `uplink up0`, `mirror mir0`. */
export const dongleLabel = (u: Pick<DesiredUplink, 'role' | 'iface'>) => `${u.role} ${u.iface}`;

/**
 * What to do for `iface` now that it is `present` (or not), given the OVS port of that name (if
 * any) and whether it is a new device (`fresh`: plugged in since OVS opened it). Nothing for an
 * interface no uplink or mirror uses; nothing for one that is absent.
 */
export function planDongleRepair(desired: DesiredState, iface: string, present: boolean, port: ObservedPort | undefined, fresh = false): DonglePlan {
  const uplink = desired.uplinks.find((u) => u.iface === iface);
  if (!uplink) return { iface, steps: [], note: `${iface}: not used by the lab` };
  const label = dongleLabel(uplink);
  if (!present) {
    return { iface, uplink, steps: [], note: `${label} unplugged; its OVS port ${port ? `(ofport ${port.ofport}) waits for it` : 'is gone'}` };
  }
  const externalIds = uplinkExternalIds(desired.lab, uplink);
  const drift = portDrift(port, uplink.ofport, externalIds) ?? (fresh ? 'a new device' : undefined);
  const steps: DongleStep[] = [
    { kind: 'harden', iface },
    ...(drift ? [{ kind: 'port' as const, uplink, externalIds, why: drift }] : []),
    { kind: 'link-up', iface },
  ];
  return { iface, uplink, steps, note: `${label} present: hardened, ${drift ? `port re-made on ofport ${uplink.ofport} (${drift})` : `port kept on ofport ${uplink.ofport}`}, set up` };
}

/** The lab's dongles (uplinks and mirrors) that are not present: what the kiosk shows as alarms. */
export function missingDongles(desired: Pick<DesiredState, 'uplinks'>, present: readonly string[]): DesiredUplink[] {
  const have = new Set(present);
  const seen = new Set<string>();
  return desired.uplinks.filter((u) => !have.has(u.iface) && !seen.has(u.iface) && seen.add(u.iface));
}

// Dongle hotplug: runs the plan of plan-hotplug.ts for the dongles that came or went, through the
// injected adapters (OVS, dongles, links). Faucet is not touched: the port keeps its ofport, so
// Faucet's config is the same. The caller holds the lab lock.
import type { DesiredState } from './desired.js';
import type { LabContext } from './engine.js';
import { planDongleRepair, type DonglePlan } from './plan-hotplug.js';

/**
 * Plans and repairs each of `ifaces` (present or not, as the appliance has them now); returns the
 * plans run. `plugged`: those seen arriving (new devices); one found without its hardening is new too.
 */
export async function repairDongles(ctx: LabContext, desired: DesiredState, ifaces: string[], plugged: ReadonlySet<string> = new Set()): Promise<DonglePlan[]> {
  const used = ifaces.filter((i) => desired.uplinks.some((u) => u.iface === i));
  if (!used.length) return [];
  const [present, ports] = await Promise.all([ctx.dongles.present(), ctx.ovs.ports(ctx.cfg.bridge)]);
  const plans: DonglePlan[] = [];
  for (const iface of used) {
    const here = present.includes(iface);
    const fresh = here && (plugged.has(iface) || (ctx.dongles.hardened ? !(await ctx.dongles.hardened(iface)) : false));
    const plan = planDongleRepair(desired, iface, here, ports.find((p) => p.name === iface), fresh);
    for (const s of plan.steps) {
      switch (s.kind) {
        case 'harden': await ctx.dongles.harden(s.iface); break;
        case 'port':
          await ctx.ovs.deletePort(ctx.cfg.bridge, s.uplink.iface);
          await ctx.ovs.addPort(ctx.cfg.bridge, s.uplink.iface, s.uplink.ofport, s.externalIds);
          break;
        case 'link-up': await ctx.links.setLinkUp(s.iface); break;
      }
    }
    ctx.log(`dongle ${plan.note}`);
    plans.push(plan);
  }
  return plans;
}

// One group's wiring diagram: the lab's desired state cut down to that group's hosts and ports plus
// the shared parts (shared hosts, uplinks, mirrors), drawn by lab/diagram.ts. Another group's
// hosts, ports, VLANs and mirrored ports never appear. SVGs are cached by their DOT text, so a live
// ACL or mirror change draws anew and an unchanged lab costs nothing.
import type { DesiredState } from '../lab/desired.js';
import { diagramDot, renderSvg } from '../lab/diagram.js';

const otherGroup = (name: string, group: number) => {
  const m = /^g(\d+)-/.exec(name);
  return !!m && Number(m[1]) !== group;
};

/** The part of `d` that group `group` may see. Pure. */
export function groupDesired(d: DesiredState, group: number): DesiredState {
  const hosts = d.hosts.filter((h) => h.group === group || h.group === 0);
  const containers = new Set(hosts.map((h) => h.container));
  const ports = d.ports.filter((p) => containers.has(p.container));
  const ofports = new Set(ports.map((p) => p.ofport));
  const uplinks = d.uplinks.map((u) => ({
    ...u,
    native: u.native !== undefined && otherGroup(u.native, group) ? undefined : u.native,
    tagged: u.tagged.filter((v) => !otherGroup(v, group)),
    // A mirror copying another group's port shows as copying nothing of theirs.
    mirrors: u.mirrors.filter((n) => ofports.has(n) || d.uplinks.some((x) => x.ofport === n)),
  }));
  return {
    lab: d.lab, hosts, ports, uplinks,
    faucet: {
      dp: { ...d.faucet.dp, interfaces: [] },
      vlans: d.faucet.vlans.filter((v) => !otherGroup(v.name, group)),
      acls: {},
    },
  };
}

export function groupDiagramDot(d: DesiredState, group: number, title: string): string {
  return diagramDot(groupDesired(d, group), { title });
}

/** SVG per DOT text, a few entries (one per group of the running lab, give or take a change). */
export class DiagramCache {
  private svgs = new Map<string, Promise<string>>();
  constructor(private readonly max = 64, private readonly render: (dot: string) => Promise<string> = renderSvg) {}

  svg(dot: string): Promise<string> {
    let p = this.svgs.get(dot);
    if (!p) {
      p = this.render(dot);
      p.catch(() => this.svgs.delete(dot));
      if (this.svgs.size >= this.max) this.svgs.delete(this.svgs.keys().next().value!);
      this.svgs.set(dot, p);
    }
    return p;
  }
}

// Which appliance interfaces a lesson may put on the lab bridge (pure; the facts come from
// agent/hardware/interfaces.ts). A lesson names interfaces; only the appliance decides which of
// its interfaces are dongles, and for what (DESIGN §5, Raspberry Pi, last bullet): an uplink must
// be a dongle with role uplink, a mirror one with role mirror. Management Ethernet, Wi-Fi, Docker's
// and our own interfaces are never a lesson's, whatever the lesson or the config says.
import type { Config } from '../config.js';
import type { Problem } from '../lesson/load.js';
import type { Topology } from '../lesson/schema.js';

/** What the host says about one interface present now (absent interfaces have no entry). */
export interface InterfaceFact {
  /** Addresses as CIDR (IPv4 and IPv6), e.g. 192.0.2.2/24, fe80::1/64. */
  addresses: string[];
  /** Carries an IPv4 or IPv6 default route. */
  defaultRoute: boolean;
  /** Link kind: veth, bridge, openvswitch, vlan, …; wlan for Wi-Fi, loopback for lo; absent for plain Ethernet. */
  kind?: string;
}
export type InterfaceFacts = Record<string, InterfaceFact>;

export type DongleRole = Config['dongles'][string];
type LessonRole = Extract<DongleRole, 'uplink' | 'mirror'>;

/** Names that are never a dongle: what each prefix is. Checked before the config. */
const RESERVED: [test: (n: string) => boolean, what: string][] = [
  [(n) => n === 'lo', 'the loopback interface'],
  [(n) => n.startsWith('docker'), "a Docker bridge"],
  [(n) => n.startsWith('br-'), 'a Docker network bridge'],
  [(n) => n.startsWith('veth'), "a Docker container's link"],
  [(n) => n.startsWith('dl'), "reserved for Dovelab's lab ports (dl*)"],
  [(n) => n.startsWith('ovs-'), "Open vSwitch's own interface"],
  [(n) => /^g[pw]\d+$/.test(n), "a Docker network's gateway (gp*/gw*)"],
];

/** Kinds that are never a dongle, whatever their name. */
const REFUSED_KINDS: Record<string, string> = {
  loopback: 'a loopback interface',
  bridge: 'a bridge',
  openvswitch: 'an Open vSwitch interface',
  bond: 'a bond',
  wlan: 'a Wi-Fi interface',
};

/**
 * IPv6 link-local addresses come by themselves on every interface that is up with IPv6 on, so
 * they say nothing about the appliance using it. Any other address does.
 */
export function meaningfulAddresses(addresses: readonly string[]): string[] {
  return addresses.filter((a) => !/^fe[89ab][0-9a-f]:/i.test(a));
}

/** Why `ifname` can never be a dongle (name, kind, or the appliance itself uses it), or undefined. */
export function notADongle(ifname: string, facts: InterfaceFacts, bridge: string): string | undefined {
  if (ifname === bridge) return `${ifname} is the lab bridge itself`;
  const reserved = RESERVED.find(([t]) => t(ifname));
  if (reserved) return `${ifname} is ${reserved[1]}`;
  const f = Object.hasOwn(facts, ifname) ? facts[ifname] : undefined;
  if (!f) return undefined;
  const kind = f.kind && REFUSED_KINDS[f.kind];
  if (kind) return `${ifname} is ${kind}`;
  if (f.defaultRoute) return `${ifname} carries the appliance's default route: using it would cut the appliance off its network`;
  const addrs = meaningfulAddresses(f.addresses);
  if (addrs.length) return `${ifname} has an address (${addrs.join(', ')}): the appliance uses it, and a lesson taking it would cut that off`;
  return undefined;
}

/** Configured dongles of a role that a lesson may use now (absent ones included: plugging in is the engine's business). */
export function usableDongles(role: LessonRole, dongles: Config['dongles'], facts: InterfaceFacts, bridge: string): string[] {
  return Object.entries(dongles).filter(([n, r]) => r === role && !notADongle(n, facts, bridge)).map(([n]) => n).sort();
}

/**
 * Problems with the interfaces a lesson's uplinks and mirrors name: each must be a configured
 * dongle of the right role, not one of the appliance's own interfaces. Paths are
 * `uplinks.<u>.interface` / `mirrors.<m>.interface`; messages end with the usable dongles.
 * A dongle that is absent (unplugged) is fine here.
 */
export function lessonInterfaceProblems(t: Topology, dongles: Config['dongles'], facts: InterfaceFacts, bridge: string): Problem[] {
  const out: Problem[] = [];
  const check = (path: string, ifname: string, role: LessonRole) => {
    const usable = usableDongles(role, dongles, facts, bridge);
    const list = `(${role} dongles: ${usable.length ? usable.join(', ') : 'none'})`;
    const configured = Object.hasOwn(dongles, ifname) ? dongles[ifname] : undefined;
    let why = notADongle(ifname, facts, bridge);
    if (why && configured) why += `; the appliance's dongle config lists it as ${configured}, which is wrong`;
    else if (!why && !configured) why = `${ifname} is not a dongle of this appliance`;
    else if (!why && configured !== role) why = `${ifname} is a${configured === 'uplink' ? 'n' : ''} ${configured} dongle, not a${role === 'uplink' ? 'n' : ''} ${role} dongle`;
    if (why) out.push({ path, message: `${why} ${list}` });
  };
  for (const [u, up] of Object.entries(t.uplinks)) check(`uplinks.${u}.interface`, up.interface, 'uplink');
  for (const [m, mirror] of Object.entries(t.mirrors)) check(`mirrors.${m}.interface`, mirror.interface, 'mirror');
  return out;
}

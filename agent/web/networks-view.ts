// The Docker networks of the driver as the instructor console shows them: networks.json read as it
// is (no lab lock: a reader must not wait behind a reconcile), the appliance's ACL names and mirror
// dongles, DHCP leases from their files. The diagram is lab/diagram.ts's networksDot.
import { paths, type Config } from '../config.js';
import { networksDot } from '../lab/diagram.js';
import { readNetworkState } from '../lab/network-state.js';
import { leaseFileOf } from '../lab/networks.js';
import { DOCKER_MIRROR, type PluginState } from '../lab/plan-networks.js';
import { networkEnv } from '../lab/service.js';
import { readLease } from '../net/endpoint-dhcp.js';
import type { DockerNetworksView } from './api-types.js';

type Leases = Record<string, { ip: string; hostname: string } | undefined>;

const leasesOf = (cfg: Config, st: PluginState): Leases =>
  Object.fromEntries(st.endpoints.map((e) => {
    const l = readLease(leaseFileOf(cfg, e.id));
    return [e.id, l && { ip: l.ip, hostname: l.hostname }];
  }));

/** Throws NetworkStateError (damaged networks.json) or ApplianceAclError (damaged ACL file). */
export function dockerNetworksView(cfg: Config): DockerNetworksView {
  const st = readNetworkState(paths(cfg).networks);
  const env = networkEnv(cfg);
  const leases = leasesOf(cfg, st);
  const mirrorOf = (m: string | true | undefined) => (m === true ? env.mirrorDongles[0] ?? DOCKER_MIRROR : m ?? null);
  return {
    acls: Object.keys(env.acls).sort(),
    // With no mirror dongle, copies go to the networks' mirror port (tcpdump in its netns).
    mirrors: env.mirrorDongles.length ? env.mirrorDongles : [DOCKER_MIRROR],
    networks: st.networks.map((n) => ({
      id: n.id, name: n.name ?? n.id.slice(0, 12), vid: n.vid, mode: n.mode, dhcp: n.dhcp, tagged: n.tagged,
      uplinks: n.uplinks.map((u) => ({ iface: u.iface, ...(u.vlan !== undefined ? { vlan: u.vlan } : {}) })),
      ...(n.mode !== 'flat' && n.gateway ? { gateway: n.gateway } : {}),
      containers: st.endpoints.filter((e) => e.network === n.id).map((e) => {
        const lease = leases[e.id];
        return {
          endpoint: e.id, ...(e.container ? { container: e.container } : {}), ...(e.ifname ? { ifname: e.ifname } : {}), mac: e.mac,
          ...(e.address ? { address: e.address } : {}), ...(lease ? { lease } : {}),
          acls: e.acls, mirror: mirrorOf(e.mirror),
          published: (e.published ?? []).map((p) => ({ proto: p.proto, hostPort: p.hostPort, port: p.port })),
          joined: e.joined,
        };
      }),
    })),
  };
}

/** The networks' wiring diagram as DOT (pure part in lab/diagram.ts). */
export function dockerNetworksDot(cfg: Config): string {
  const st = readNetworkState(paths(cfg).networks);
  const mirrorDongle = Object.entries(cfg.dongles).find(([, role]) => role === 'mirror')?.[0];
  return networksDot(st, { leases: leasesOf(cfg, st), mirrorDongle: mirrorDongle ?? DOCKER_MIRROR });
}

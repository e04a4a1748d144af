// Which sysctls of a lesson host belong to one of its interfaces. Those cannot be given to Docker
// when the container is made (the interface is moved in later, and the container would not
// start): they are set from the appliance in the host's netns once the interface is wired.

/** Namespace-wide entries of net.ipv{4,6}.conf / neigh: there at creation. */
const NAMESPACE_WIDE = new Set(['all', 'default', 'lo']);
const PER_INTERFACE = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\.[a-z0-9_]+$/;

/** The interface a sysctl key belongs to (net.ipv6.conf.eth0.accept_ra -> eth0), or undefined for namespace-wide keys. */
export function sysctlInterface(key: string): string | undefined {
  const m = PER_INTERFACE.exec(key);
  return m && !NAMESPACE_WIDE.has(m[1]!) ? m[1] : undefined;
}

/** Splits a host's sysctls: set at creation, and per interface (set after wiring). */
export function splitSysctls<V>(sysctl: Record<string, V>): { atCreate: Record<string, V>; byInterface: Record<string, Record<string, V>> } {
  const atCreate: Record<string, V> = {};
  const byInterface: Record<string, Record<string, V>> = {};
  for (const [k, v] of Object.entries(sysctl)) {
    const i = sysctlInterface(k);
    if (i) (byInterface[i] ??= {})[k] = v; else atCreate[k] = v;
  }
  return { atCreate, byInterface };
}

/**
 * The sysctls a host runs with: what the lesson's `defaults.sysctl` and the host give, over
 * ip_forward 0. A new network namespace may copy the appliance's own ip_forward (Docker sets it
 * to 1): a host routes only when its lesson says so.
 */
export function effectiveSysctls(lessonDefaults: Record<string, number | string> | undefined, host: Record<string, number | string> | undefined): Record<string, string> {
  const merged: Record<string, number | string> = { 'net.ipv4.ip_forward': 0, ...lessonDefaults, ...host };
  // The host's `all` value reaches its interfaces, as it would on a box whose interfaces were there.
  for (const k of FOLLOWS_ALL) {
    const all = k.replace('%', 'all'); const dflt = k.replace('%', 'default');
    if (host?.[all] !== undefined && host[dflt] === undefined && lessonDefaults?.[dflt] !== undefined) merged[dflt] = host[all]!;
  }
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, String(v)]));
}

/**
 * Keys where Linux's write of `all` also sets `default` (and every interface there). A host's
 * interfaces are moved in after creation and copy `default`; Docker sets a container's sysctls in
 * no fixed order, so a host's `all` over the lesson's `default` (Kathará's ipv6=true:
 * all.forwarding 1 over default.forwarding 0) would reach the interfaces only sometimes. The
 * host's `all` wins over the lesson's `default`, as it does where interfaces exist first.
 */
const FOLLOWS_ALL = ['net.ipv6.conf.%.forwarding', 'net.ipv6.conf.%.disable_ipv6', 'net.ipv4.conf.%.forwarding'];

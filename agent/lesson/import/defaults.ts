// The sysctls a Kathará device gets without asking (Kathará's DockerMachine.create), so an
// imported lab routes, answers ICMP and filters paths as it did there.

/** Every Kathará device: forwarding on, no reverse-path filter, no ICMP rate limit, IPv6 off. */
export const KATHARA_SYSCTL: Record<string, number> = {
  'net.ipv4.ip_forward': 1,
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.default.rp_filter': 0,
  'net.ipv4.conf.lo.rp_filter': 0,
  'net.ipv4.icmp_ratelimit': 0,
  'net.ipv6.conf.all.disable_ipv6': 1,
  'net.ipv6.conf.default.disable_ipv6': 1,
  'net.ipv6.conf.all.forwarding': 0,
  'net.ipv6.conf.default.forwarding': 0,
};

/** A device with ipv6=true (or one whose startup sets IPv6 addresses): IPv6 on and forwarding, as Kathará does. */
export const KATHARA_IPV6_ON: Record<string, number> = {
  'net.ipv6.conf.all.disable_ipv6': 0,
  'net.ipv6.conf.default.disable_ipv6': 0,
  'net.ipv6.conf.all.forwarding': 1,
  'net.ipv6.conf.all.accept_ra': 0,
  'net.ipv6.icmp.ratelimit': 0,
};

/** A containerlab linux node on a Docker host: its namespace copies the host's ip_forward, which Docker sets to 1. */
export const CONTAINERLAB_SYSCTL: Record<string, number> = { 'net.ipv4.ip_forward': 1 };

export const DEFAULTS_WARNING = {
  kathara: "Kathará's per-device defaults are the lesson's defaults.sysctl: IPv4 forwarding on, rp_filter 0, no ICMP rate limit, IPv6 off unless a device has ipv6=true",
  containerlab: 'every host forwards IPv4 (defaults.sysctl net.ipv4.ip_forward: 1), as containerlab nodes do on a Docker host; set it to 0 on hosts that must not route',
};

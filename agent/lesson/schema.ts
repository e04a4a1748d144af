// lesson.yaml, format version 1: the topology. One module that validates and documents it
// (`dovelab lesson schema` prints it as JSON Schema).
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9-]{0,14}$/;
const NAME_MSG = 'lowercase letters, digits and dashes, starting with a letter, at most 15';
/** Linux interface names: ≤ 15 bytes, no '/', ':' or whitespace (we also keep them ASCII). */
const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IP4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d{1,2}))?$/;

const octetsOk = (m: RegExpExecArray) => m.slice(1, 5).every((o) => Number(o) <= 255) && (m[5] === undefined || Number(m[6] ?? m[5]) <= 32);
const cidr = z.string().refine((s) => { const m = CIDR4.exec(s); return !!m && octetsOk(m); },
  'expected an IPv4 address with prefix, e.g. 198.51.100.11/24');
const ipOrNet = z.string().refine((s) => { const m = IP4.exec(s); return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && (m[6] === undefined || Number(m[6]) <= 32); },
  'expected an IPv4 address or network, e.g. 198.51.100.12 or 198.51.100.0/24');
const name = (what: string) => z.string().regex(NAME, `${what} names: ${NAME_MSG}`);
const ifname = z.string().regex(IFNAME, 'not a valid Linux interface name (letters, digits, _ . -; at most 15)');
const port = z.number().int().min(0).max(65535);

/** Kernel filesystems: a copy there writes to the kernel (or the host's devices), not to a file. */
const KERNEL_DIRS = ['/proc', '/sys', '/dev'];

/** Why `p` is not a usable path for a file inside a host, or undefined. Segments are checked as written: no normalizing. */
export function badHostPath(p: string): string | undefined {
  if (p.includes('\0')) return 'has a NUL character';
  if (!p.startsWith('/')) return 'expected an absolute path inside the host, e.g. /etc/motd';
  const segs = p.slice(1).split('/');
  if (segs.includes('..')) return 'has a ".." segment: give the path without it, e.g. /etc/motd';
  if (segs.includes('.')) return 'has a "." segment: give the path without it, e.g. /etc/motd';
  if (segs.includes('')) return p === '/' || p.endsWith('/') ? 'names a folder: give the path of a file, e.g. /etc/motd' : 'has an empty segment (//)';
  const dir = KERNEL_DIRS.find((d) => p === d || p.startsWith(`${d}/`));
  if (dir) return `is under ${dir}, a kernel filesystem: files are copied to ordinary paths only`;
  return undefined;
}

const hostFilePath = z.string().regex(/^\//, 'expected an absolute path inside the host, e.g. /etc/motd')
  .superRefine((p, ctx) => {
    const why = p.startsWith('/') ? badHostPath(p) : undefined;
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

export const NetworkSchema = z.strictObject({
  vlan: z.number().int().min(1).max(4093).optional()
    .describe('VLAN id of a shared network (1..4093; 4094 is reserved). Per-group networks get N*100+k.'),
  shared: z.boolean().default(false).describe('one network for all groups instead of one per group'),
  description: z.string().optional(),
  kind: z.enum(['switch', 'hub']).optional()
    .describe('switch (default): a learning switch. hub: every frame to every other port, 802.1Q tags and STP BPDUs passed (sniffing, bridges and STP in hosts)'),
});

export const InterfaceSchema = z.strictObject({
  network: z.string().describe('name of a network in `networks`'),
  ip: z.union([z.literal('dhcp'), z.literal('none'), cidr]).default('none')
    .describe('dhcp (the host asks, sending its name), none, or an address with prefix'),
  mac: z.string().regex(MAC, 'expected a MAC like 0e:00:00:00:01:02').optional()
    .describe('default: stable, derived from lesson, group, host and interface'),
  gateway: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'expected an IPv4 address').optional()
    .describe('default route via this address (static addresses only)'),
});

const sysctlMap = z.record(z.string().regex(/^net\.[a-z0-9_.-]+$/, 'only net.* sysctls (they are per network namespace)')
  // The kernel has neigh/default only in its first namespace: in a host's, the container would not start.
  .refine((k) => !/^net\.ipv[46]\.neigh\.default\./.test(k), 'net.ipv4/ipv6.neigh.default.* exists only in the appliance\'s own namespace, not in a host\'s: set it per interface (e.g. net.ipv4.neigh.eth0.retrans_time_ms)'),
  z.union([z.number(), z.string()]));

export const HostSchema = z.strictObject({
  image: z.string().optional().describe('container image; default dovelab/labhost'),
  interfaces: z.record(ifname, InterfaceSchema).describe('interface name -> its network'),
  sysctl: sysctlMap.optional().describe('network sysctls inside the host (over defaults.sysctl; net.ipv4.ip_forward is 0 unless set); interface ones (net.ipv6.conf.eth0.*) are set once it is wired'),
  startup: z.string().optional().describe('shell run once after the interfaces are wired (like Kathará .startup)'),
  per_group: z.boolean().optional()
    .describe('one copy per group even when all its networks are shared (default: only hosts on a per-group network are copied)'),
  resources: z.strictObject({
    pids: z.number().int().min(16).max(32768).optional(),
    memory_mb: z.number().int().min(16).max(65536).optional(),
    cpus: z.number().min(0.05).max(64).optional(),
  }).optional().describe("more than the appliance's default limits for this host (up to the appliance's maximum)"),
  files: z.record(hostFilePath, z.string().min(1)).optional().describe('path inside the host -> file in the pack (e.g. files/motd.txt), copied before startup'),
});

export const UplinkSchema = z.strictObject({
  interface: ifname.describe('the dongle on the appliance, e.g. up0'),
  network: z.string().optional().describe('untagged access uplink: the one network it carries'),
  networks: z.array(z.string()).min(1).optional().describe('802.1Q trunk: the networks it carries, tagged'),
  native: z.string().optional().describe('trunk only: a network carried untagged on it'),
}).refine((u) => (u.network === undefined) !== (u.networks === undefined),
  'give either network (untagged) or networks (tagged trunk)');

export const MirrorSchema = z.strictObject({
  interface: ifname.describe('the dongle or port that receives the copies, e.g. mir0'),
  from: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,14}(\.[a-zA-Z][a-zA-Z0-9_.-]{0,14})?$/, 'expected host or host.interface'))
    .default([]).describe('host.interface, or host for all its interfaces; both directions are copied'),
});

export const AclMatchSchema = z.strictObject({
  eth_type: z.union([z.enum(['ipv4', 'arp', 'ipv6']), z.number().int().min(0).max(0xffff)]).optional(),
  ip_proto: z.union([z.enum(['icmp', 'tcp', 'udp', 'icmpv6']), z.number().int().min(0).max(255)]).optional(),
  ip_src: ipOrNet.optional(),
  ip_dst: ipOrNet.optional(),
  tcp_src: port.optional(), tcp_dst: port.optional(),
  udp_src: port.optional(), udp_dst: port.optional(),
  eth_src: z.string().regex(MAC, 'expected a MAC').optional(),
  eth_dst: z.string().regex(MAC, 'expected a MAC').optional(),
}).describe('fields to match; OpenFlow prerequisites (eth_type, ip_proto) are added for you');

export const AclRuleSchema = z.strictObject({
  match: AclMatchSchema.default({}),
  action: z.enum(['allow', 'drop']),
});

const hostRef = z.string().regex(NAME, `a host name (${NAME_MSG})`);

export const ReachSchema = z.strictObject({
  from: hostRef.describe('host that sends (in the group being checked)'),
  to: z.string().min(1).describe("a host of the lesson (its address in that group) or an IPv4 address"),
  tcp: port.optional().describe('TCP port: a connection instead of ICMP'),
  timeout: z.number().positive().max(30).default(3).describe('seconds'),
});

export const CheckSchema = z.strictObject({
  reach: ReachSchema.optional().describe('passes when from reaches to (ICMP echo, or TCP connect with tcp:)'),
  no_reach: ReachSchema.optional().describe('passes when from can NOT reach to'),
  command: z.strictObject({
    on: hostRef, run: z.string().min(1).describe('shell; exit 0 = done'),
    timeout: z.number().positive().max(60).default(5).describe('seconds'),
  }).optional().describe('passes when the command exits 0 inside the host'),
  acl_hits: z.strictObject({
    acl: z.string().min(1).describe('a lesson ACL'),
    rule: z.number().int().min(0).max(63).describe("the rule's index in that ACL (0 = the first)"),
    on: z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'host.interface').optional()
      .describe("host.interface the ACL is on (the group's own); all of the group's interfaces when absent"),
    min: z.number().int().min(1).default(1).describe('packets the rule must have matched'),
  }).optional().describe("passes when the switch counted at least min packets on that ACL rule since the ACL was switched on"),
}).refine((c) => [c.reach, c.no_reach, c.command, c.acl_hits].filter(Boolean).length === 1,
  'a check has exactly one kind: reach, no_reach, command or acl_hits');

export const TaskSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'task ids: lowercase letters, digits and dashes'),
  title: z.string().optional(),
  hint: z.string().optional(),
  check: CheckSchema,
});

export const TopologySchema = z.strictObject({
  dovelab: z.literal(1).describe('format version'),
  id: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes').optional(),
  title: z.string().optional(),
  summary: z.string().optional().describe('one line for the lesson list'),
  minutes: z.number().int().positive().max(600).optional(),
  level: z.enum(['beginner', 'intermediate', 'advanced']).optional(),
  authors: z.array(z.string()).optional(),
  version: z.string().optional().describe('the pack\'s own version, shown in the lesson list'),
  groups: z.strictObject({
    default: z.number().int().min(1).max(30).default(1),
    max: z.number().int().min(1).max(30).default(30),
  }).optional(),
  tasks: z.array(TaskSchema).default([]),
  networks: z.record(name('network'), NetworkSchema),
  uplinks: z.record(name('uplink'), UplinkSchema).default({}),
  mirrors: z.record(name('mirror'), MirrorSchema).default({}),
  hosts: z.record(name('host'), HostSchema),
  defaults: z.strictObject({
    sysctl: sysctlMap.optional().describe('network sysctls of every host (a host\'s own sysctl wins)'),
  }).optional().describe('settings every host gets unless it sets its own'),
  acls: z.record(name('acl'), z.array(AclRuleSchema).min(1)).default({})
    .describe('ordered rules, first match wins; a packet no rule matches is allowed'),
  apply: z.record(z.string(), z.array(z.string())).default({})
    .describe('host.interface -> ACL names applied to what the host sends'),
  controls: z.strictObject({
    acls: z.record(z.string(), z.array(z.string()).min(1)).default({})
      .describe('host.interface -> the lesson ACLs a group may switch on that interface itself (from its page)'),
    capture: z.array(z.string()).default([])
      .describe('host.interface list: interfaces a group may capture (pcap in the browser) on its own hosts'),
  }).optional().describe('what students may switch themselves; anything not listed here is refused'),
});

export type Topology = z.infer<typeof TopologySchema>;
/** lesson.yaml: the topology plus metadata and tasks (one format). */
export const LessonSchema = TopologySchema;
export type Lesson = Topology;
export type Task = z.infer<typeof TaskSchema>;
export type Check = z.infer<typeof CheckSchema>;
export type AclRule = z.infer<typeof AclRuleSchema>;
export type AclMatch = z.infer<typeof AclMatchSchema>;
export type Uplink = z.infer<typeof UplinkSchema>;

/** The topology format as JSON Schema, for `dovelab lesson schema`. */
export const topologyJsonSchema = () => z.toJSONSchema(TopologySchema, { io: 'input' });

// Appliance settings: /etc/dovelab/dovelab.yaml, overridden by DOVELAB_* env, validated.
import { readFileSync, existsSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

export const HostLimitsSchema = z.strictObject({
  /** Processes and threads (a fork bomb stops here). */
  pids: z.number().int().min(16).max(32768).default(256),
  /** Memory (no swap on top). */
  memory_mb: z.number().int().min(16).max(65536).default(256),
  /** CPU time, in cores (a hard cap). */
  cpus: z.number().min(0.05).max(64).default(1),
});
export type HostLimits = z.infer<typeof HostLimitsSchema>;

/** Interface names a dongle may get: not the kernel's probe-order eth*, nothing another part of the system owns. */
const DONGLE_NAME_RESERVED: [RegExp, string][] = [
  [/^eth/, 'eth* names are the kernel\'s own (probe order): a dongle named so could swap with the onboard port'],
  [/^(wlan|lo$|veth|docker|br-|dl|ovs-|usb\d)/, 'reserved for Wi-Fi, loopback, Docker, Open vSwitch or Dovelab\'s lab ports'],
];
const DongleNameSchema = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/, 'an interface name: a letter, then up to 14 letters, digits, _ or -')
  .superRefine((n, ctx) => {
    const bad = DONGLE_NAME_RESERVED.find(([re]) => re.test(n));
    if (bad) ctx.addIssue({ code: 'custom', message: `${n}: ${bad[1]}` });
  });
/** One dongle the instructor gave a role: the one in a USB port, or the one with a MAC address (wherever it is plugged). */
export const DongleAssignmentSchema = z.strictObject({
  /** The USB device's sysfs name, e.g. 1-1.2 (`dovelab hardware scan` shows it): whatever dongle is in that port. */
  usb_path: z.string().regex(/^\d+-\d+(\.\d+)*$/, 'a USB port path like 1-1.2 (bus-port.port…)').optional(),
  /** This dongle, in any port. */
  mac: z.string().regex(/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/, 'a MAC address like 00:e0:4c:68:00:01')
    .transform((m) => m.toLowerCase().replace(/-/g, ':')).optional(),
  /** Its stable name (a .link file gives it); default by role: up0, mir0, lab1, spare1 … */
  name: DongleNameSchema.optional(),
  role: z.enum(['uplink', 'mirror', 'lab', 'unused']),
}).superRefine((d, ctx) => {
  if (!d.usb_path === !d.mac) ctx.addIssue({ code: 'custom', message: d.usb_path ? 'give usb_path or mac, not both' : 'needs usb_path or mac' });
});
export type DongleAssignmentConfig = z.infer<typeof DongleAssignmentSchema>;

/** No two entries with the same name, USB path or MAC: the error names both entries. */
function refuseDuplicates(list: DongleAssignmentConfig[], ctx: z.RefinementCtx): void {
  for (const key of ['name', 'usb_path', 'mac'] as const) {
    const seen = new Map<string, number>();
    list.forEach((d, i) => {
      const v = d[key];
      if (v === undefined) return;
      const first = seen.get(v);
      if (first === undefined) seen.set(v, i);
      else ctx.addIssue({ code: 'custom', path: [i, key], message: `${v} is already hardware.dongles.${first}.${key}` });
    });
  }
}

/**
 * The Pi's NIC discovery. With this section, the USB Ethernet dongles found in sysfs fill the
 * `dongles` map (entries here first, then defaults for the others); without it (a dev machine,
 * the sim world) the map is used as written. See agent/hardware/roles.ts.
 */
export const HardwareSchema = z.strictObject({
  /** The sysfs root to scan (a fixture tree in tests and the sim world). */
  sysfs: z.string().default('/sys'),
  /** Dongles given a role by USB port or MAC. */
  dongles: z.array(DongleAssignmentSchema).default([]).superRefine(refuseDuplicates),
  /**
   * Dongles found but not listed: auto = the first (by USB port) becomes the uplink up0, the second
   * the mirror mir0, the others lab ports lab1, lab2 … (roles already listed are skipped); unused =
   * leave them alone.
   */
  unconfigured: z.enum(['auto', 'unused']).default('auto'),
  /**
   * Where the instructor console rewrites the dongles' .link files after a role change (the image:
   * /etc/systemd/network); absent: the console writes none (`dovelab hardware links` does).
   */
  link_dir: z.string().optional(),
});
export type HardwareConfig = z.infer<typeof HardwareSchema>;

export const ConfigSchema = z.strictObject({
  /** Desired state on disk (lesson, parameters, faucet.yaml). */
  dataDir: z.string().default('/var/lib/dovelab'),
  /** Sockets shared with the infra containers (OVSDB). */
  runDir: z.string().default('/run/dovelab'),
  logDir: z.string().default('/var/log/dovelab'),
  bridge: z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/).default('dovelab0'),
  /** Faucet dp_id and the bridge's datapath-id (same number). */
  dpId: z.number().int().min(1).max(0xffffffffffff).default(1),
  /** OpenFlow listeners of Faucet and Gauge on loopback. */
  faucetOfPort: z.number().int().default(6653),
  gaugeOfPort: z.number().int().default(6654),
  faucetPromPort: z.number().int().default(9302),
  gaugePromPort: z.number().int().default(9303),
  /** auto: kernel datapath when the openvswitch module is loaded, else netdev. */
  datapath: z.enum(['auto', 'system', 'netdev']).default('auto'),
  /**
   * Spare Faucet ports a Docker network keeps when `docker network create` gives no
   * ovs.bridge.preallocate_ports: containers take them and join without a Faucet reload.
   */
  driverSparePorts: z.number().int().min(0).max(4096).default(24),
  /**
   * The appliance's dongles and their roles: the only interfaces a lesson may use (uplinks need
   * role uplink, mirrors role mirror). The sim world's three are the default on a dev machine;
   * on the Pi, NIC discovery fills this map.
   */
  dongles: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/, 'a Linux interface name'),
    z.enum(['uplink', 'mirror', 'lab'])).default({ up0: 'uplink', up1: 'uplink', mir0: 'mirror' }),
  /** NIC discovery on the Pi (absent: no discovery, `dongles` as written). */
  hardware: HardwareSchema.optional(),
  /** ACLs for Docker networks of the driver (lesson or Faucet rule syntax), beside the built-in ones. */
  aclFile: z.string().default('/etc/dovelab/acls.yaml'),
  /**
   * Storm limit of a lab host's interface, Mbit/s (0: none): a token bucket (tc tbf) on the
   * host-side veth end bounds what the switch sends into it, so a student's loop cycles at most
   * this fast (both datapaths send through the end's qdisc). See test/integration/loop.test.ts.
   * Measured with userspace OVS: 10 cut a loop from ~150 k to ~16 k frames/s, but ovs-vswitchd
   * stayed near a core and other groups lost more pings (85/100 against 100/100 without): keep 0.
   */
  stormLimitMbit: z.number().min(0).max(100_000).default(0),
  /** Faucet's and Gauge's logs (<logDir>/faucet) are cut past this size, their tail kept in <file>.1 (agent/sys/log-cap.ts). */
  faucetLogMaxMB: z.number().min(1).max(10_000).default(20),
  /** Per lab host: what it gets by default, and the most a lesson may ask for. */
  limits: z.strictObject({
    default: HostLimitsSchema.prefault({}),
    max: HostLimitsSchema.prefault({ pids: 2048, memory_mb: 2048, cpus: 2 }),
  }).prefault({}),
  images: z.strictObject({
    ovs: z.string().default('dovelab/ovs'),
    faucet: z.string().default('dovelab/faucet'),
    labhost: z.string().default('dovelab/labhost'),
  }).prefault({}),
  /** The web UI that `dovelab agent` serves (student page, kiosk, API). */
  web: z.strictObject({
    /** TCP port (80 on the Pi). */
    port: z.number().int().min(1).max(65535).default(8080),
    /** The appliance's name on the kiosk and in its join URL (<name>.local); on the Pi, its hostname. */
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'a host name (letters, digits, dashes)').default('dovelab'),
    /** Announce <name>.local and the services over mDNS (avahi where it runs, else our responder). */
    mdns: z.boolean().default(true),
    /**
     * The instructor console's password as a scrypt hash, `scrypt$N$r$p$saltB64$hashB64`
     * (`dovelab web password` makes the line). Without it the console refuses every login.
     */
    instructor_password_hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
      'scrypt$N$r$p$salt$hash, as `dovelab web password` prints it').optional(),
    /**
     * GET /metrics (Prometheus): this machine may always scrape it; another (a Prometheus on the
     * LAN) sends `Authorization: Bearer <metrics_token>`. Without a token, loopback only.
     */
    metrics_token: z.string().regex(/^[A-Za-z0-9._~+/=-]{16,200}$/, 'at least 16 characters: letters, digits, ._~+/=-').optional(),
  }).prefault({}),
  /**
   * Traffic history of the switch's ports (agent/metrics/history-*.ts): Gauge's port counters read
   * every intervalS, the last hour in memory, minute rollups appended to <dataDir>/history every
   * flushS (fsynced), segments of segmentKB, the oldest deleted past maxMB.
   */
  history: z.strictObject({
    enabled: z.boolean().default(true),
    intervalS: z.number().min(1).max(300).default(5),
    flushS: z.number().min(5).max(3600).default(60),
    maxMB: z.number().min(1).max(65536).default(64),
    segmentKB: z.number().min(16).max(65536).default(1024),
    scrapeTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
    /** Where the segments go (default <dataDir>/history). */
    dir: z.string().optional(),
  }).prefault({}),
  /**
   * The appliance's LEDs (agent/hardware/leds.ts). auto: the Linux LED class when the dovelab-* LEDs
   * exist under classDir (the image's dtoverlay=gpio-led lines), else none; GPIO pins are never
   * guessed: driver gpio needs `gpio` (BCM numbers). fake records each change to fakeFile.
   */
  leds: z.strictObject({
    driver: z.enum(['auto', 'class', 'gpio', 'none', 'fake']).default('auto'),
    classDir: z.string().default('/sys/class/leds'),
    gpioDir: z.string().default('/sys/class/gpio'),
    gpio: z.strictObject(Object.fromEntries(['status', 'lab', 'fault', 'traffic'].map((r) => [r, z.number().int().min(0).max(27).optional()])) as
      Record<'status' | 'lab' | 'fault' | 'traffic', z.ZodOptional<z.ZodNumber>>).optional(),
    /** The header GPIO chip's label when it is none of pinctrl-bcm2835/-bcm2711/-rp1. */
    chipLabel: z.string().optional(),
    activeLow: z.boolean().default(false),
    fakeFile: z.string().optional(),
  }).refine((l) => l.driver !== 'gpio' || Object.values(l.gpio ?? {}).some((n) => n !== undefined),
    { message: 'driver gpio needs leds.gpio (BCM numbers of the LEDs: status, lab, fault, traffic)', path: ['gpio'] }).prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;

const ENV: Record<string, keyof Config> = {
  DOVELAB_DATA_DIR: 'dataDir', DOVELAB_RUN_DIR: 'runDir', DOVELAB_LOG_DIR: 'logDir',
  DOVELAB_BRIDGE: 'bridge', DOVELAB_DATAPATH: 'datapath', DOVELAB_ACL_FILE: 'aclFile',
};
/** Settings of the web UI from the environment (DOVELAB_WEB_PORT=8081, DOVELAB_WEB_MDNS=0). */
const WEB_ENV: Record<string, 'port' | 'name' | 'mdns'> = { DOVELAB_WEB_PORT: 'port', DOVELAB_WEB_NAME: 'name', DOVELAB_WEB_MDNS: 'mdns' };

export class ConfigError extends Error {}

export function loadConfig(file = process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml',
  env: NodeJS.ProcessEnv = process.env): Config {
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    const doc = parse(readFileSync(file, 'utf8')) as unknown;
    if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) {
      throw new ConfigError(`${file}: expected a mapping of settings`);
    }
    raw = (doc ?? {}) as Record<string, unknown>;
  }
  for (const [name, key] of Object.entries(ENV)) if (env[name]) raw[key] = env[name];
  for (const [name, key] of Object.entries(WEB_ENV)) {
    const v = env[name];
    if (!v) continue;
    const web = (raw.web && typeof raw.web === 'object' ? { ...raw.web } : {}) as Record<string, unknown>;
    web[key] = key === 'port' && /^\d+$/.test(v) ? Number(v) : key === 'mdns' ? !/^(0|false|no|off)$/i.test(v) : v;
    raw.web = web;
  }
  // History settings from the environment (tests, the bench): DOVELAB_HISTORY_INTERVAL_S=1 …
  for (const [name, key] of Object.entries({ DOVELAB_HISTORY_INTERVAL_S: 'intervalS', DOVELAB_HISTORY_FLUSH_S: 'flushS', DOVELAB_HISTORY_DIR: 'dir' })) {
    const v = env[name];
    if (!v) continue;
    raw.history = { ...(raw.history && typeof raw.history === 'object' ? raw.history : {}), [key]: key === 'dir' ? v : Number(v) };
  }
  // With discovery on, the dongles map holds only what the file lists (not the sim world's default).
  if (raw.hardware === null) raw.hardware = {}; // a bare `hardware:` line: discovery with its defaults
  if (raw.hardware !== undefined && raw.dongles === undefined) raw.dongles = {};
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${file}: ${why}`);
  }
  return parsed.data;
}

export const paths = (c: Config) => ({
  faucetDir: `${c.dataDir}/faucet`,
  faucetYaml: `${c.dataDir}/faucet/faucet.yaml`,
  gaugeYaml: `${c.dataDir}/faucet/gauge.yaml`,
  ovsDbDir: `${c.dataDir}/ovs`,
  ovsRunDir: `${c.runDir}/ovs`,
  labState: `${c.dataDir}/lab.json`,
  /** The running lab's own copy of its lesson pack (files, README). */
  labPack: `${c.dataDir}/lab-pack`,
  checks: `${c.dataDir}/checks.json`,
  /** The class record of the last lab run (groups × tasks: first passes, states, resets); outlives `down`. */
  classRecord: `${c.dataDir}/class-record.json`,
  lessons: `${c.dataDir}/lessons`,
  lock: `${c.runDir}/agent.lock`,
  /** What hardening changed on each dongle in the lab (tmpfs: the settings reset at reboot too). */
  dongleState: `${c.runDir}/dongles`,
  /** Docker networks of the driver and their endpoints (survives reboots, like lab.json). */
  networks: `${c.dataDir}/networks.json`,
  /** Traffic history segments (agent/metrics/history-store.ts). */
  history: c.history?.dir ?? `${c.dataDir}/history`, // ?.: configs built by hand (tests) may lack the section
  /** The driver's sockets: Docker finds a network driver by the socket's name. */
  pluginSockets: ['/run/docker/plugins/dovelab.sock', '/run/docker/plugins/dovesnap.sock'],
});

/** Names of the infrastructure containers. */
export const INFRA = { ovs: 'dovelab-ovs', faucet: 'dovelab-faucet', gauge: 'dovelab-gauge' } as const;

/**
 * Node options the appliance's agent unit sets (NODE_OPTIONS in dovelab-agent.service; checked
 * against the unit by a test): a 1 MB young generation instead of Node's 16 MB semi-spaces
 * trades a few more scavenges (the agent allocates little) for RSS on a small Pi. `npm run
 * bench:memory` measures both.
 */
export const APPLIANCE_NODE_OPTIONS = '--max-semi-space-size=1';

/**
 * Node flags the appliance's `dovelab` wrapper (pi-gen-config's usr/local/bin/dovelab) gives every
 * verb but `agent`: a CLI call runs seconds, so V8's optimizing and baseline compilers (their
 * code and compile zones) cost memory that never pays back; with the 1 MB young generation a call
 * stays within 60 MB (issue 13; `npm run bench:cli` measures with and without). The interpreter
 * and WebAssembly stay (the diagram's viz-js and fetch's llhttp need it: not --jitless or
 * --lite-mode). Command-line flags: NODE_OPTIONS refuses most V8 flags.
 */
export const CLI_NODE_FLAGS = ['--max-semi-space-size=1', '--no-turbofan', '--no-maglev', '--no-sparkplug'];

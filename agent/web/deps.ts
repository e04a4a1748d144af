// What the web app is given (so tests can pass fakes): settings, the lab's adapters, a clock, the
// secret that signs sessions, where the pages are, and the few facts of the appliance it shows.
import type { Context } from 'hono';
import type { Config } from '../config.js';
import type { TerminalBackend } from '../docker/terminal.js';
import type { CaptureBackend } from '../net/capture.js';
import type { LabContext } from '../lab/engine.js';
import type { FaucetStatus } from '../net/faucet/status.js';
import type { HardwareHealth } from '../hardware/health.js';
import type { NicScan } from '../hardware/nics.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';

export interface WebDeps {
  cfg: Config;
  /** The lab's adapter set (status reads OVS and Docker through it). */
  lab: LabContext;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Signs session cookies (see session.ts loadWebSecret). */
  secret: Buffer;
  /** One structured log line (JSON). */
  log: (line: string) => void;
  /** The built pages (dist/kiosk-ui). */
  uiDir: string;
  /** The appliance's first non-loopback IPv4 address, for the join URL. */
  ipv4: () => string | undefined;
  /** Faucet's metrics (throws when Faucet does not answer). */
  faucetStatus: () => Promise<FaucetStatus>;
  /** Fraction (0..1) of the data disk in use. */
  diskUsed: () => Promise<number | undefined>;
  /** Terminals into lab hosts; without it the terminal route answers 503. */
  terminals?: TerminalBackend;
  /** Captures (tcpdump on the capture ports); without it capture routes answer 503. */
  captures?: CaptureBackend;
  /** The client's address (rate limits); default: the socket's remote address. */
  clientIp?: (c: Context) => string;
  /** Docker and the infra containers' states (instructor health); default: not known. */
  infra?: () => Promise<{ docker: boolean; containers: Record<string, string> }>;
  /** The bundled lesson packs (default: the repository's lessons/). */
  bundledLessonsDir?: string;
  /** The CPU temperature file (default /sys/class/thermal/thermal_zone0/temp). */
  thermalFile?: string;
  /**
   * The board's health (temperature, throttling, memory, disk, load). The console reads this
   * machine's when it is not given; the kiosk shows its warnings only when it is given.
   */
  hardware?: () => Promise<HardwareHealth>;
  /** Other appliances seen lately (mDNS browse, cached by the agent); undefined when mDNS is off. */
  neighbours?: () => { name: string; url: string; version?: string }[];
  /**
   * Dongle roles from the console (the config file they are written to, the NIC scan, live renames);
   * without it the Dongles section is read-only.
   */
  dongleRoles?: DongleRolesDeps;
  /** Counts dongles pulled or plugged (the agent's link monitor): live views are sent again when it moves. */
  dongleChanges?: () => number;
  /** The agent's Prometheus metrics (GET /metrics); without it there is no /metrics. */
  metrics?: AgentMetrics;
  /** Seconds between checks of lab.json / checks.json for live updates (default 1). */
  eventPollMs?: number;
}

/** What the console's Dongles routes need (web/dongles.ts); the agent's wiring gives it. */
export interface DongleRolesDeps {
  /** The appliance config file the roles are written to (the agent's DOVELAB_CONFIG). */
  configFile: string;
  /** NIC scan of a sysfs root (default scanNics). */
  scan?: (root: string) => NicScan;
  /** Renames a present dongle to its stable name; absent: none renamed (fixture trees, dev machines). */
  rename?: (from: string, to: string) => Promise<void>;
}

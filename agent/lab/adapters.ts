// The engine's imperative shell: every effect the lab engine has goes through one of these,
// handed in as one set (agent/context.ts wires the real ones; unit tests a recording fake).
// Planning never does I/O; these never decide.
import type { ApplyResult, FaucetPort } from '../net/faucet/apply.js';
import type { AclHit } from '../net/faucet/acl-hits.js';
import type { FlowSource } from '../net/faucet/acl-counters.js';
import type { OvsPort as OvsPortRow } from '../net/ovs.js';
import type { CaptureAttachment, EndpointVeth, GatewayVeth, VethAttachment } from '../net/links.js';
import type { GatewayChain } from '../net/gateway-firewall.js';
import type { RunResult } from '../sys/run.js';
import type { InterfaceFacts } from './interfaces.js';

export interface HostContainer { container: string; running: boolean; labels: Record<string, string> }

export interface HostLimits { pids: number; memory_mb: number; cpus: number }

export interface HostCreate {
  container: string; image: string; hostname: string; labels: Record<string, string>;
  sysctl?: Record<string, string>; limits: HostLimits;
}

/** How a startup script ended within its time budget. */
export type StartupOutcome =
  | { state: 'exited'; code: number; tail: string }
  | { state: 'running'; afterMs: number; /** its output so far, inside the host */ log: string };

/** Lab host containers (Docker). Every call has a deadline; a timeout names the host. */
export interface LabHosts {
  list(): Promise<HostContainer[]>;
  /** Pid whose netns is the host's; throws when it is not running. */
  pid(container: string): Promise<number>;
  /** Creates and starts the host (limits, no-new-privileges, few capabilities). */
  create(h: HostCreate): Promise<void>;
  remove(container: string): Promise<void>;
  /** Copies files (path inside -> file on the appliance) into the host. */
  copyFiles(container: string, files: Record<string, string>): Promise<void>;
  exec(container: string, argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Runs the startup script detached, its output kept in the host's log; waits at most budgetMs. */
  startup(container: string, script: string, budgetMs: number): Promise<StartupOutcome>;
  /** Starts the interface's DHCP client, stopping one that ran before: one client per interface. */
  startDhcp(container: string, ifname: string, hostname: string): Promise<void>;
}

/** The OVS bridge's ports. */
export interface LabOvs {
  bridgeExists(bridge: string): Promise<boolean>;
  ports(bridge: string): Promise<OvsPortRow[]>;
  addPort(bridge: string, name: string, ofport: number, externalIds: Record<string, string>): Promise<void>;
  deletePort(bridge: string, name: string): Promise<void>;
}

/** veth pairs and the netns view of a host. */
export interface LabLinks {
  attachVeth(a: VethAttachment): Promise<void>;
  /** Storm limit: a token bucket (Mbit/s) on what the switch sends into a host's end (after add-port). */
  limitHostEnd(hostEnd: string, mbit: number): Promise<void>;
  /** A veth from the root netns into the agent's own (named) netns, made if missing. */
  attachCapture(a: CaptureAttachment): Promise<void>;
  /** A veth pair in the root netns for a Docker endpoint: Docker moves `peer` into the container. */
  createEndpointVeth(a: EndpointVeth): Promise<void>;
  /** A nat/routed network's gateway veth pair (one end for OVS, the other with the address). */
  createGateway(a: GatewayVeth): Promise<void>;
  /** Removes a named netns of the agent (and what is left in it); fine when it is not there. */
  removeNetns(name: string): Promise<void>;
  deleteLink(name: string): Promise<void>;
  /** The MTU of an interface in the appliance's netns (undefined: no such interface). */
  mtuOf?(name: string): Promise<number | undefined>;
  setLinkUp(name: string): Promise<void>;
  linksInNetns(pid: number): Promise<string[]>;
  addressesIn(pid: number): Promise<Record<string, string[]>>;
}

/** Appliance interfaces (dongles) that join and leave the lab. */
export interface LabDongles {
  /** Interfaces present in the appliance's own netns. */
  present(): Promise<string[]>;
  /** Addresses, default routes and kinds of the appliance's interfaces (what a lesson may not take). */
  facts(): Promise<InterfaceFacts>;
  /** Interfaces hardened now (their original settings recorded). */
  held(): Promise<string[]>;
  /** Makes it invisible to the appliance's own stack, remembering what it was. */
  harden(ifname: string): Promise<void>;
  /** Whether it has the hardened settings now (a dongle plugged back in comes with the kernel's). */
  hardened?(ifname: string): Promise<boolean>;
  /** Puts back what harden changed; false when it had not been hardened. */
  release(ifname: string): Promise<boolean>;
}

export interface LabFirewall {
  /** Drops INPUT/FORWARD from exactly these interfaces (`+` wildcards allowed). */
  ensure(ifaces: string[]): Promise<void>;
  /** Makes the gateways' chains exactly these (none: ours removed); see lab/plan-gateways.ts. */
  gateways(chains: GatewayChain[]): Promise<void>;
}

/** Containers on Docker networks of the driver (net/endpoint-dhcp.ts, docker/endpoints.ts). */
export interface LabEndpoints {
  /** The container an endpoint belongs to and its labels, once Docker lists it (undefined after waitMs). */
  containerOf(network: string, endpoint: string, waitMs: number): Promise<{ name: string; labels: Record<string, string> } | undefined>;
  /** A network's name as Docker has it (undefined: no such network). */
  networkName(id: string, ms: number): Promise<string | undefined>;
  /** Containers Docker has on the network named, in any state, with their labels. */
  containersOn(name: string, ms: number): Promise<{ name: string; state: string; endpoint: string; labels: Record<string, string>; createdMs: number }[]>;
  /** Starts DHCP (detached) for the interface with `mac` in netns `netns`; its pid and interface. */
  startDhcp(a: { netns: string; mac: string; hostname: string; leaseFile: string; logFile: string; waitMs: number }): Promise<{ pid: number; ifname: string }>;
  stopDhcp(pid: number | undefined, leaseFile: string): Promise<void>;
  /** The interface with `mac` in netns `netns` (waited for until waitMs) gets `newMac`; its name. Absent: MACs are never changed after Join. */
  setMac?(a: { netns: string; mac: string; newMac: string; waitMs: number }): Promise<string>;
  /** The name of the interface with `mac` in netns `netns` (waited for until waitMs). Absent: not asked. */
  ifnameOf?(a: { netns: string; mac: string; waitMs: number }): Promise<string>;
  /**
   * Whether a joined endpoint has this host end now (networks.json read at the call). A Join
   * answered without the lab lock (dockerd restoring) may have taken a name since a repair read its
   * state. Absent: no driver networks here.
   */
  joinedHostEnd?(name: string): boolean;
  /** Whether any endpoint (joined or not) holds this host end now (networks.json read at the call). */
  heldHostEnd?(name: string): boolean;
}

export interface LabAdapters {
  hosts: LabHosts;
  ovs: LabOvs;
  links: LabLinks;
  dongles: LabDongles;
  firewall: LabFirewall;
  faucet: FaucetPort;
  endpoints: LabEndpoints;
  /** Per-rule ACL hit counters read from the switch (absent in tests that have no switch). */
  aclHits?: () => Promise<AclHit[]>;
  /**
   * The bridge's flows (OpenFlow flow statistics), to see that Faucet has programmed the ports a
   * reconcile added before it reports done. Absent (tests without a switch): not waited for.
   */
  flows?: FlowSource;
  /** Where reconciles, Faucet reloads and checks are counted (the agent's /metrics); absent: nowhere. */
  metrics?: LabMetrics;
}

/** What the lab reports to the agent's metrics (see metrics/agent-metrics.ts). */
export interface LabMetrics {
  reconciled(seconds: number, outcome: 'ok' | 'failed'): void;
  /** A Faucet config was applied (result) or failed to apply (undefined). */
  faucetApplied(r: ApplyResult | undefined): void;
  checked(kind: string, seconds: number, status: string): void;
}

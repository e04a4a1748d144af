// The web API's one typed description, shared by the agent (agent/web/) and the pages (kiosk-ui/).
// Types only: kiosk-ui may import this file and nothing else from agent/.

/** A task's state for one group; 'unknown' until the first check round. */
export type TaskStatus = 'pass' | 'fail' | 'error' | 'unknown';

export interface TaskView { id: string; title: string; hint?: string; status: TaskStatus; reason: string }

export interface InterfaceView { name: string; ip: string; addresses: string[]; network: string; vlan: number }

export interface HostView { name: string; running: boolean; interfaces: InterfaceView[] }

/** GET /api/group (student session): everything the student page shows for its group. */
export interface GroupView {
  lab: { id: string; title: string; startedAt: string };
  group: number;
  /** The lesson README rendered on the server (markdown-it, HTML off). */
  readmeHtml: string;
  /** The group's wiring diagram (SVG text, from the diagram code). */
  diagramSvg: string;
  hosts: HostView[];
  tasks: TaskView[];
  /** When the last check round ended (ISO), if any. */
  checkedAt?: string;
  /** What the lesson lets this group switch itself (lesson.yaml `controls:`). */
  controls: ControlsView;
}

/** An interface whose ACLs the group may switch: the lesson's choices and what is applied now. */
export interface AclControlView { target: string; options: string[]; applied: string[] }
/** `capture`: the interfaces (host.interface) the group may capture from its page. */
export interface ControlsView { acls: AclControlView[]; capture: string[] }

/**
 * One lesson ACL rule's hits on one interface, from the switch's flow counters (they start at 0
 * each time the ACL is switched on there). `target` is host.interface; group 0: a shared host.
 */
export interface AclCounterRow { target: string; group: number; acl: string; rule: number; action: 'allow' | 'drop'; match: string; packets: number; bytes: number }
/**
 * GET /api/instructor/acl-counters (every group) and GET /api/controls/acl-counters (a student
 * session: its own interfaces that have switches). `error`: the switch could not be read (rows empty).
 */
export interface AclCountersView { readAt: string; counters: AclCounterRow[]; error?: string }

/** POST /api/controls/acl (student session): the ACLs to apply to `target` (a subset of its options; [] clears). */
export interface AclControlRequest { target: string; acls: string[] }

/** POST /api/join body and answer; the answer also sets the session cookie. */
export interface JoinRequest { code: string }
export interface JoinResponse { group: number; lab: string }

/** GET /api/kiosk (no login, no secrets): what the kiosk screen shows. */
export interface KioskView {
  appliance: string;
  /** Join URLs, best first: http://<name>.local/ and http://<ip>/ (phones resolve .local unevenly). */
  joinUrls: string[];
  /** QR code of joinUrls[1] ?? joinUrls[0], as SVG text. */
  qrSvg: string;
  lesson: null | { id: string; title: string; groups: number; tasks: number };
  progress: { group: number; done: number; total: number }[];
  alarms: string[];
}

/** GET /api/session: who the browser is. */
export interface SessionView { group: number | null; lab: string | null }

/**
 * Live updates: GET /api/events is a Server-Sent Events stream; each event's `event:` is the type
 * and its `data:` the JSON below. A student session gets `group`; everyone gets `kiosk`; an
 * instructor session gets `instructor`.
 */
export type LiveEvent = { type: 'group'; data: GroupView } | { type: 'kiosk'; data: KioskView } | { type: 'instructor'; data: ClassView };

/**
 * Terminals: WebSocket GET /api/terminal?host=<lesson host name> (student session; only hosts of
 * its group). Client -> server: text frames are keystrokes, except a text frame that is JSON
 * `{"type":"resize","cols":N,"rows":N}`. Server -> client: binary frames are terminal output; the
 * socket closes with code 4403 (not your group), 4404 (no such host), 4429 (too many terminals).
 * Also: 4401 (no valid student session), 4408 (idle too long), 1000 (the shell ended or the page
 * closed it), 1001 (the appliance is stopping), 1011 (the terminal could not start or broke).
 */
export interface TerminalResize { type: 'resize'; cols: number; rows: number }

// ---- Captures: a pcap of one interface, recorded through Faucet's mirror into the group's capture
// port, bounded in time and size. Students may capture what their lesson's `controls.capture`
// lists (their own group); the instructor any interface.

/** POST /api/capture (student) body: an interface of the group's own host; seconds 1..300 (default 30). */
export interface CaptureRequest { target: string; seconds?: number }
/** POST /api/instructor/capture body: any interface; `group` for a per-group host. */
export interface InstructorCaptureRequest { target: string; group?: number; seconds?: number }

/**
 * A capture and where to get it: GET `pcapUrl` streams the pcap (as it records, to its end;
 * opens in Wireshark); GET `liveUrl` is Server-Sent Events: `packet` (CapturePacket) for the last
 * packets so far and each new one, then one `end` (CaptureView) when it stops.
 * POST /api/capture/<id>/stop ends it early. GET /api/captures lists the session's captures.
 * Refusals: 401 no session, 403 not allowed (not in controls.capture, another group), 404 unknown
 * id or interface, 429 too many captures at once, 503 the switch could not start it.
 */
export interface CaptureView {
  id: string;
  /** host.interface as the lesson names it, and the group (0: a shared host). */
  target: string;
  group: number;
  /** The port's name on the switch (g1-h1-eth0). */
  port: string;
  state: 'recording' | 'done';
  startedAt: string;
  /** When it stops at the latest. */
  endsAt: string;
  packets: number;
  /** Bytes of the pcap so far (header included), and the most it may grow to. */
  bytes: number;
  maxBytes: number;
  /** Why it stopped: 'time', 'size', 'stopped', or an error. */
  endReason?: string;
  /** tcpdump's filter on the capture port: this interface's frames. */
  filter: string;
  pcapUrl: string;
  liveUrl: string;
}

/** One packet of a capture's live view: tcpdump's one-line decode, plus printable text in it. */
export interface CapturePacket {
  n: number; /** seconds since the capture started */ t: number; len: number; summary: string; text?: string;
  /** Size of the pcap up to and with this packet. */
  bytes?: number;
}

/** Errors of the JSON API: HTTP status plus this body. */
export interface ApiError { error: string }

// ---- Instructor console (/instructor): every /api/instructor/* call needs the instructor session
// cookie (401 without); state-changing calls also need a same-origin Origin (or Sec-Fetch-Site).

/** GET /api/instructor/session: is a password configured, and is this browser logged in. */
export interface InstructorSessionView { configured: boolean; loggedIn: boolean; expires?: string; hint?: string }
/** POST /api/instructor/login (sets the cookie); POST /api/instructor/logout clears it. */
export interface InstructorLoginRequest { password: string }

/** GET /api/instructor/lessons: installed and bundled lesson packs. */
export interface LessonListItem {
  id: string; title: string; summary?: string; minutes?: number; level?: string; version: string;
  bundled: boolean; groups?: { default: number; max: number }; installedAt?: string; error?: string;
}
/** POST /api/instructor/lessons?name=<file.zip|file.tar.gz> (body: the archive) answers this. */
export interface LessonUploadResult { id: string; version: string; title: string; replaced?: string }

/** POST /api/instructor/start, /stop, /reset, /acl, /mirror bodies; each answers OpResult when done. */
export interface StartRequest { lesson: string; groups: number }
export interface ResetRequest { group: number }
export interface AclRequest { target: string; acls: string[]; group?: number }
export interface MirrorRequest { on: boolean; target: string; group?: number; mirror?: string }
export interface OpResult { ok: true; message: string; ms: number }

export interface ClassTaskCell { id: string; status: TaskStatus; reason: string; /** Not done since (ISO), when not done. */ since?: string }
export interface ClassGroupRow {
  group: number; code: string; done: number; total: number;
  /** Since when its oldest not-done task has been not done (ISO); absent when all are done. */
  stuckSince?: string;
  /** Seconds of that, at `generatedAt`. */
  stuckForS?: number;
  tasks: ClassTaskCell[];
}
export interface ClassInterface {
  name: string; ip: string; network: string; vlan: number; portOk: boolean;
  /** Lesson ACLs applied on it (inbound), in order. */
  acls: string[];
  /** Mirror ports that copy its traffic. */
  mirroredTo: string[];
}
export interface ClassHost { name: string; group: number; running: boolean; interfaces: ClassInterface[] }
export interface HealthView {
  load: [number, number, number]; cpus: number;
  memory: { totalMb: number; availableMb: number };
  disk?: { usedFraction: number; freeMb: number; path: string };
  cpuTempC?: number;
  infra: { docker: boolean; containers: Record<string, string>; faucetDpUp?: boolean; faucetError?: string };
  dongles: { name: string; role: string; present: boolean }[];
  /** Other Dovelab appliances found over mDNS (_dovelab._tcp); absent when mDNS is off. */
  neighbours?: { name: string; url: string; version?: string }[];
  /** The Pi firmware's throttling flags (get_throttled); absent on other machines. */
  throttled?: ThrottledView;
  /** Hot, throttled, under-voltage, disk or memory short (hardware/health.ts thresholds). */
  warnings: HealthWarningView[];
}
export interface ThrottleFlagsView { underVoltage: boolean; frequencyCapped: boolean; throttled: boolean; softTempLimit: boolean }
export interface ThrottledView {
  /** The firmware's word, e.g. 0x50005. */
  raw: string;
  now: ThrottleFlagsView;
  /** The firmware's sticky bits: since boot, or lately where the kernel's voltage monitor clears them. */
  occurred: ThrottleFlagsView;
  source: 'vcgencmd' | 'sysfs';
}
export interface HealthWarningView { code: string; message: string }
/** GET /api/instructor/diagram: the whole lab (every group), as SVG text. */
export interface DiagramView { svg: string }

/** GET /api/instructor/class and the `instructor` live event. */
export interface ClassView {
  generatedAt: string;
  appliance: string;
  joinUrls: string[];
  lab: null | { id: string; title: string; startedAt: string; groups: number; source: string };
  tasks: { id: string; title: string }[];
  /** Stuck longest first; groups with all tasks done last. */
  groups: ClassGroupRow[];
  hosts: ClassHost[];
  /** The lesson's ACL names and mirror names (what the switches may apply). */
  acls: string[];
  mirrors: string[];
  checkedAt?: string;
  alarms: string[];
  health: HealthView;
}

/** GET /api/instructor/cards: one printable card per group. */
export interface GroupCard { group: number; code: string; url: string; qrSvg: string }
export interface CardsView { lesson: string; cards: GroupCard[] }

// ---- Docker networks: the networks of the driver (`docker network create -d dovelab`) and their
// containers, with the appliance's ACLs and mirror dongles the console may switch on them.

/** A container's port on a Docker network. `container`/`ifname` are known once it joined. */
export interface DockerContainerView {
  /** Docker's endpoint id (a POST may name it instead of the container). */
  endpoint: string;
  container?: string;
  ifname?: string;
  mac: string;
  /** The address Docker's IPAM gave (CIDR), if any. */
  address?: string;
  /** dovelab.dhcp networks: the lease from the real network's DHCP server, once there is one. */
  lease?: { ip: string; hostname: string };
  /** The appliance's ACLs on its port (inbound), in order. */
  acls: string[];
  /** The mirror dongle that copies its traffic, or null. */
  mirror: string | null;
  /** Ports published on the appliance's addresses (`-p`, nat/routed). */
  published: { proto: 'tcp' | 'udp'; hostPort: number; port: number }[];
  /** On the bridge (false: made, not started yet). */
  joined: boolean;
}
export interface DockerNetworkView {
  id: string;
  /** Docker's name, once the first container joined (else the short id). */
  name: string;
  vid: number;
  mode: 'flat' | 'nat' | 'routed';
  dhcp: boolean;
  tagged: boolean;
  uplinks: { iface: string; vlan?: number }[];
  /** nat/routed: the appliance's address on the network (CIDR). */
  gateway?: string;
  containers: DockerContainerView[];
}
/** GET /api/instructor/networks (500 with the message when networks.json or the ACL file is damaged). */
export interface DockerNetworksView {
  /** The appliance's ACL names (built-ins and /etc/dovelab/acls.yaml): what the switches may apply. */
  acls: string[];
  /** Mirror dongles (the first is what `mirror: true` means). */
  mirrors: string[];
  networks: DockerNetworkView[];
}
/**
 * POST /api/instructor/network-endpoint: a live change of one container's port; answers OpResult
 * once Faucet confirmed (400 with the reason when refused). `container` is its name or endpoint id;
 * `network` (id or name) when it is on several. acls: [] clears; mirror: true (the first mirror
 * dongle), a dongle's name, or false. Absent fields stay as they are.
 * GET /api/instructor/networks/diagram: DiagramView of the Docker networks.
 */
export interface NetworkEndpointRequest { container: string; network?: string; acls?: string[]; mirror?: boolean | string }

// ---- Dongles (the Pi's USB Ethernet adapters) and their roles: uplink, mirror, lab port or unused.

export type DongleRoleView = 'uplink' | 'mirror' | 'lab' | 'unused';
/** One interface of /sys/class/net, as `dovelab hardware scan --json` prints it (null: unknown / none). */
export interface HardwareInterfaceView {
  name: string; driver: string | null; usbPath: string | null; mac: string | null; carrier: boolean | null;
  dongle: boolean; role: DongleRoleView | null;
  /** The stable name its role gives it (it may still carry its kernel name, e.g. eth1, until renamed). */
  assignedName: string | null;
  bus: string | null; vendor: string | null; product: string | null; model: string | null;
  /** Mbit/s; null when unknown (no link). */
  speed: number | null; operstate: string | null;
  wireless: boolean; virtual: boolean; onboard: boolean; idPath: string | null;
  /** Why it is or is not a dongle. */
  reason: string;
}
/** A dongle's role: `config` from hardware.dongles (entry: its index), `kept` its name from before, `default` by USB port order. */
export interface DongleAssignmentView {
  name: string; match: { usbPath: string } | { mac: string }; role: DongleRoleView; present: boolean; ifname?: string;
  source: 'config' | 'kept' | 'default'; entry?: number;
}
/**
 * GET /api/instructor/hardware. With NIC discovery (a `hardware:` section) `interfaces` is the scan
 * and roles are `editable`; without it (a dev machine, the sim world) `interfaces` is empty and
 * `dongles` is the config's `dongles:` map, read-only, and `note` says how roles are set on the Pi.
 */
export interface HardwareView {
  discovery: boolean;
  editable: boolean;
  note?: string;
  interfaces: HardwareInterfaceView[];
  assignments: DongleAssignmentView[];
  /** The dongles map the running agent uses now (name → role; what lessons may name), and whether each is plugged in. */
  dongles: { name: string; role: string; present: boolean }[];
  /** Dongles the running lesson or a Docker network uses: their role, name and device cannot change while it runs. */
  inUse: { iface: string; role: 'uplink' | 'mirror'; by: string }[];
  warnings: string[];
}
/**
 * POST /api/instructor/dongle-role: a dongle's role by USB port or MAC (name: its stable name,
 * default by role), or `remove: true` (the dongle falls back to the defaults). Answers
 * DongleRoleResult once the config file is written and the running agent uses the new roles;
 * 400 names the bad field; 409 when a running lesson or Docker network uses a dongle the change
 * would take (stop it first), or when this appliance has no NIC discovery.
 */
export type DongleRoleRequest =
  | { match: { usbPath: string } | { mac: string }; role: DongleRoleView; name?: string }
  | { match: { usbPath: string } | { mac: string }; remove: true };
export interface DongleRoleResult extends OpResult { view: HardwareView }

// ---- Traffic history (agent/web/history.ts) ----

/** Whose traffic a series is: a lesson host's interface, a container on a Docker network, an uplink dongle. */
export type HistoryPortOwnerView =
  | { kind: 'host'; lab: string; group: number; host: string; iface: string }
  | { kind: 'container'; network: string; container: string; iface: string }
  | { kind: 'uplink'; iface: string };

/** A port's owner, or one ACL rule on a port (its hits are counted as what the port received: the host sent). */
export type HistoryOwnerView = HistoryPortOwnerView | { kind: 'acl'; acl: string; rule: number; port: HistoryPortOwnerView };

/**
 * One series: one owner's port from when it was first seen until its counters went back (the host
 * was recreated) or it changed hands (a new lab run, another container); times in ms since the epoch.
 */
export interface HistorySeriesView {
  id: string;
  /** `g1-h2.eth0 (first-switch)`, `web1.eth0 on office`, `uplink up0`. */
  label: string;
  owner: HistoryOwnerView;
  since: number;
  lastSeen: number;
  /** Still on the switch now (false: a past host, group or lab). */
  current: boolean;
}

/** GET /api/history/series: the series the caller may see (a student: its group's, this run only), newest first. */
export interface HistorySeriesList { series: HistorySeriesView[] }

/**
 * One point, from the INTERFACE's side (as `ip -s link` in the host counts): rx is what it received,
 * tx what it sent; per second over the `dt` seconds that end at `t`.
 */
export interface HistoryPoint { t: number; dt: number; rxPps: number; txPps: number; rxBps: number; txBps: number }

/**
 * GET /api/history?host=h2&iface=eth0&group=3&since=2h[&series=<id>][&format=csv]: each matching
 * series with its points since `since` (minute averages before the last hour, each 5 s scrape within it;
 * `rawFrom` is where full resolution starts). `host` may be `g3-h2`, a container's name or an uplink.
 */
export interface HistoryResponse {
  since: number;
  until: number;
  series: (HistorySeriesView & { rawFrom?: number; points: HistoryPoint[] })[];
}

/** One group's task in the class record (GET /api/instructor/record). */
export interface ClassRecordRowView {
  group: number;
  task: string;
  title: string;
  /** ISO time of the check round that first saw the task pass. */
  firstPass?: string;
  /** Minutes from the run's start to the first pass. */
  minutesToPass?: number;
  /** The last full check's verdict; `unchecked` before the first one (or since the group's reset). */
  state: 'pass' | 'fail' | 'error' | 'unchecked';
  /** How often the group was reset in this run. */
  resets: number;
}

/**
 * GET /api/instructor/record: the class record of the last lab run (also after `down`), groups ×
 * tasks; GET /api/instructor/record.csv gives the same as CSV.
 */
export interface ClassRecordView { lab: string; startedAt: string; updatedAt: string; groups: number; rows: ClassRecordRowView[] }

/**
 * GET /api/history/group?since=15m (a student session): the HistoryResponse of every interface of the
 * group's own hosts in this lab run (each incarnation its own series). `since` may be an ISO time (the
 * last point the page has), so a live page fetches only what is new. No store: `unavailable` (not 503).
 */
export type HistoryGroupResponse = HistoryResponse & { unavailable?: true };

/** GET /api/history/status (no login): whether this appliance keeps traffic history (the other routes answer 503, or `unavailable`, without). */
export interface HistoryStatusView { available: boolean }

/** One bucket of the class's total: what all its lesson hosts received (rx) and sent (tx), per second; `t` its end. */
export interface ClassTrafficPoint { t: number; rxBps: number; txBps: number; rxPps: number; txPps: number }

/**
 * GET /api/history/class?since=15m (no login, like /api/kiosk: totals only, no names): every lesson
 * host of the running lab run added up, in buckets of `stepMs`. No lab running: `points` is []; no store: `unavailable`.
 */
export interface ClassTrafficView { since: number; until: number; stepMs: number; lab?: string; hosts: number; points: ClassTrafficPoint[]; unavailable?: true }

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
export interface ControlsView { acls: AclControlView[] }

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
 * and its `data:` the JSON below. A student session gets `group`; everyone gets `kiosk`.
 */
export type LiveEvent = { type: 'group'; data: GroupView } | { type: 'kiosk'; data: KioskView };

/**
 * Terminals: WebSocket GET /api/terminal?host=<lesson host name> (student session; only hosts of
 * its group). Client -> server: text frames are keystrokes, except a text frame that is JSON
 * `{"type":"resize","cols":N,"rows":N}`. Server -> client: binary frames are terminal output; the
 * socket closes with code 4403 (not your group), 4404 (no such host), 4429 (too many terminals).
 * Also: 4401 (no valid student session), 4408 (idle too long), 1000 (the shell ended or the page
 * closed it), 1001 (the appliance is stopping), 1011 (the terminal could not start or broke).
 */
export interface TerminalResize { type: 'resize'; cols: number; rows: number }

/** Errors of the JSON API: HTTP status plus this body. */
export interface ApiError { error: string }

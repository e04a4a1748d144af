// The instructor's API under /api/instructor/: login (scrypt password from the appliance config,
// failed logins rate-limited per address), a session cookie of its own that expires, and thin
// handlers over lab/ (labUp, labDown, labReset, setAcls, setMirror) and lesson/ (listLessons,
// installPack, removeLesson), and the Docker networks of the driver (networks-view.ts, setEndpointPolicy). Every call but session/login needs the session; every call that
// changes something also needs a same-origin Origin (or Sec-Fetch-Site: same-origin).
// Long operations (start, stop, reset) answer when done; errors are JSON with the message.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { labDown, labReset, labUp, LabError, networkEnv, setAcls, setMirror } from '../lab/service.js';
import { PlanError } from '../lab/desired.js';
import { ApplianceAclError } from '../lab/appliance-acls.js';
import { NetworkStateError, readNetworkState } from '../lab/network-state.js';
import { NetworkError, setEndpointPolicy } from '../lab/networks.js';
import { paths } from '../config.js';
import { LessonError } from '../lesson/load.js';
import { findLesson, installPack, listLessons, removeLesson } from '../lesson/store.js';
import type { DiagramView, DockerNetworksView, NetworkEndpointRequest,
  AclRequest, ApiError, CardsView, InstructorSessionView, LessonListItem, LessonUploadResult, MirrorRequest, OpResult, ResetRequest, StartRequest,
} from './api-types.js';
import type { WebDeps } from './deps.js';
import { INSTRUCTOR_COOKIE, INSTRUCTOR_SESSION_MS, readInstructor, signInstructor, verifyPassword } from './instructor-auth.js';
import { DiagramCache } from './group-diagram.js';
import { joinQrSvg } from './kiosk.js';
import { dockerNetworksDot, dockerNetworksView } from './networks-view.js';
import type { LabViews } from './lab-views.js';
import { TokenBuckets } from './rate-limit.js';

/** Wrong passwords: 5 at once per client address, then one more every 12 s. */
const LOGIN_BURST = 5;
const LOGIN_REFILL_MS = 12_000;
/** Largest lesson archive accepted (bytes). */
export const UPLOAD_MAX_BYTES = 32 * 1024 * 1024;
export const PASSWORD_HINT = "printf '%s' 'the password' | dovelab web password   (then put the line it prints under web: in the appliance config and restart the agent)";

type Status = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;
const fail = (c: Context, status: Status, error: string, headers: Record<string, string> = {}) => c.json<ApiError>({ error }, status, headers);
const noStore = { 'Cache-Control': 'no-store' };

/** Same origin: Origin names this host, or the browser says Sec-Fetch-Site: same-origin. */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin) {
    try { return new URL(origin).host === c.req.header('host'); } catch { return false; }
  }
  return c.req.header('sec-fetch-site') === 'same-origin';
}

/** A lab/lesson error the instructor can act on (400), or the appliance's own trouble (500). */
function opError(c: Context, e: unknown): Response {
  const msg = e instanceof Error ? e.message : String(e);
  // A damaged networks.json or ACL file is the appliance's, though the ACL error is a PlanError.
  if (e instanceof ApplianceAclError || e instanceof NetworkStateError) return fail(c, 500, msg);
  const theirs = e instanceof LabError || e instanceof NetworkError || e instanceof LessonError || e instanceof PlanError || /^(no lesson|lesson ")/.test(msg);
  return fail(c, theirs ? 400 : 500, msg);
}

async function body<T>(c: Context): Promise<T | undefined> {
  try { return (await c.req.json()) as T; } catch { return undefined; }
}

/** POST /api/instructor/network-endpoint: names as Docker and the ACL file allow them. */
const NetworkEndpointBody = z.object({
  container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a container name or endpoint id'),
  network: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a network name or id').optional(),
  acls: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/, 'an ACL name')).max(16).optional(),
  mirror: z.union([z.boolean(), z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/, 'a mirror dongle name')]).optional(),
}).strict();

const isInt = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
const isTarget = (t: unknown): t is string => typeof t === 'string' && /^[A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_.-]{1,15})?$/.test(t);

export interface InstructorRoutes {
  /** True when the request carries a valid instructor session (the live stream asks). */
  loggedIn(cookieValue: string | undefined): boolean;
}

export function instructorRoutes(app: Hono, deps: WebDeps, views: LabViews, clientIp: (c: Context) => string, log: (f: Record<string, unknown>) => void): InstructorRoutes {
  const limiter = new TokenBuckets(LOGIN_BURST, LOGIN_REFILL_MS, deps.now);
  const hash = () => deps.cfg.web.instructor_password_hash;
  const session = (value: string | undefined) => readInstructor(deps.secret, hash(), value, deps.now());
  const bundled = deps.bundledLessonsDir;

  const guard: MiddlewareHandler = async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !sameOrigin(c)) return fail(c, 403, 'cross-site request refused');
    const open = c.req.path === '/api/instructor/session' || c.req.path === '/api/instructor/login';
    if (!open && !session(getCookie(c, INSTRUCTOR_COOKIE))) return fail(c, 401, 'log in as the instructor first');
    await next();
  };
  app.use('/api/instructor/*', guard);

  /** Runs a long operation and answers when it is done. */
  const op = async (c: Context, what: string, fn: () => Promise<string>) => {
    const t0 = Date.now();
    try {
      const message = await fn();
      log({ msg: 'instructor', op: what, ms: Date.now() - t0 });
      return c.json<OpResult>({ ok: true, message, ms: Date.now() - t0 }, 200, noStore);
    } catch (e) {
      log({ msg: 'instructor', op: what, error: (e as Error).message.split('\n')[0] });
      return opError(c, e);
    }
  };

  app.get('/api/instructor/session', (c) => {
    const s = session(getCookie(c, INSTRUCTOR_COOKIE));
    return c.json<InstructorSessionView>({
      configured: !!hash(), loggedIn: !!s,
      ...(s ? { expires: new Date(s.expires).toISOString() } : {}),
      ...(hash() ? {} : { hint: PASSWORD_HINT }),
    }, 200, noStore);
  });

  app.post('/api/instructor/login', async (c) => {
    if (!hash()) return fail(c, 503, `no instructor password is configured; on the appliance run: ${PASSWORD_HINT}`);
    const ip = clientIp(c);
    const allowed = limiter.check(ip);
    if (!allowed.ok) return fail(c, 429, 'too many wrong passwords; wait a little', { 'Retry-After': String(allowed.retryAfterS) });
    const b = await body<{ password?: unknown }>(c);
    if (typeof b?.password !== 'string' || b.password.length > 1024) return fail(c, 400, 'expected JSON {"password": "..."}');
    if (!(await verifyPassword(b.password, hash()))) {
      const after = limiter.take(ip);
      log({ msg: 'instructor login refused' });
      return fail(c, 403, 'wrong password', after.ok ? {} : { 'Retry-After': String(after.retryAfterS) });
    }
    const expires = deps.now() + INSTRUCTOR_SESSION_MS;
    setCookie(c, INSTRUCTOR_COOKIE, signInstructor(deps.secret, hash()!, expires),
      { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: Math.floor(INSTRUCTOR_SESSION_MS / 1000) });
    log({ msg: 'instructor logged in' });
    return c.json<InstructorSessionView>({ configured: true, loggedIn: true, expires: new Date(expires).toISOString() }, 200, noStore);
  });

  app.post('/api/instructor/logout', (c) => {
    deleteCookie(c, INSTRUCTOR_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict' });
    return c.body(null, 204);
  });

  app.get('/api/instructor/class', async (c) => c.json(await views.classView(), 200, noStore));

  app.get('/api/instructor/diagram', async (c) => {
    const st = views.state();
    if (!st) return fail(c, 409, 'no lesson is running');
    return c.json<DiagramView>({ svg: await views.fullDiagram(st) }, 200, noStore);
  });

  app.get('/api/instructor/cards', (c) => {
    const st = views.state();
    if (!st) return fail(c, 409, 'no lesson is running');
    const url = (views.joinUrlsNow()[1] ?? views.joinUrlsNow()[0] ?? '/');
    const cards = Array.from({ length: st.groups }, (_, i) => {
      const code = st.joinCodes?.[String(i + 1)] ?? '';
      const link = `${url}?code=${encodeURIComponent(code)}`;
      return { group: i + 1, code, url: link, qrSvg: joinQrSvg([link]) };
    });
    return c.json<CardsView>({ lesson: st.topology.title ?? st.lab, cards }, 200, noStore);
  });

  app.get('/api/instructor/lessons', (c) => c.json<LessonListItem[]>(listLessons(deps.cfg.dataDir, bundled).map((l) => ({
    id: l.id, title: l.title, version: l.version, bundled: l.bundled,
    ...(l.summary ? { summary: l.summary } : {}), ...(l.minutes ? { minutes: l.minutes } : {}), ...(l.level ? { level: l.level } : {}),
    ...(l.groups ? { groups: l.groups } : {}), ...(l.installed_at ? { installedAt: l.installed_at } : {}), ...(l.error ? { error: l.error } : {}),
  })), 200, noStore));

  app.post('/api/instructor/lessons', async (c) => {
    const name = c.req.query('name') ?? '';
    const ext = /\.(zip|tar\.gz|tgz)$/i.exec(name)?.[0]?.toLowerCase();
    if (!ext) return fail(c, 400, 'upload a lesson pack as a .zip or .tar.gz (?name=<file name>)');
    const declared = Number(c.req.header('content-length') ?? '0');
    if (declared > UPLOAD_MAX_BYTES) return fail(c, 413, `the archive is larger than ${UPLOAD_MAX_BYTES / 1024 / 1024} MB`);
    const raw = c.req.raw.body;
    if (!raw) return fail(c, 400, 'the request has no body (send the archive)');
    const tmp = mkdtempSync(join(tmpdir(), 'dovelab-upload-'));
    try {
      const file = join(tmp, `upload${ext}`);
      const out = createWriteStream(file, { mode: 0o600 });
      let size = 0;
      let tooBig = false;
      const reader = raw.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > UPLOAD_MAX_BYTES) { tooBig = true; await reader.cancel().catch(() => {}); break; }
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      if (tooBig) return fail(c, 413, `the archive is larger than ${UPLOAD_MAX_BYTES / 1024 / 1024} MB`);
      if (!size) return fail(c, 400, 'the archive is empty');
      try {
        const r = await installPack(file, deps.cfg.dataDir);
        log({ msg: 'instructor', op: 'lesson installed', id: r.id, bytes: size });
        return c.json<LessonUploadResult>({ id: r.id, version: r.version, title: r.title, ...(r.replaced ? { replaced: r.replaced.version } : {}) }, 200, noStore);
      } catch (e) {
        // The archive's own name is a temp file: say what the instructor sent.
        return fail(c, e instanceof LessonError ? 400 : 500, (e as Error).message.split(file).join(name));
      }
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  });

  app.delete('/api/instructor/lessons/:id', async (c) => {
    const id = c.req.param('id');
    try { await removeLesson(id, deps.cfg.dataDir, bundled); } catch (e) { return fail(c, 400, (e as Error).message); }
    return c.json<OpResult>({ ok: true, message: `lesson ${id} removed`, ms: 0 }, 200, noStore);
  });

  app.post('/api/instructor/start', async (c) => {
    const b = await body<StartRequest>(c);
    if (typeof b?.lesson !== 'string' || !/^[a-z0-9-]{1,64}$/.test(b.lesson) || !isInt(b.groups, 1, 30)) {
      return fail(c, 400, 'expected JSON {"lesson": "<lesson id>", "groups": 1..30}');
    }
    return op(c, 'start', async () => {
      const found = await findLesson(b.lesson, deps.cfg.dataDir, bundled);
      try {
        const { state } = await labUp(deps.lab, found.dir, b.groups);
        return `${state.topology.title ?? state.lab} started for ${state.groups} group(s)`;
      } finally { found.dispose(); }
    });
  });

  app.post('/api/instructor/stop', (c) => op(c, 'stop', async () => {
    if (!views.state()) throw new LabError('no lesson is running');
    await labDown(deps.lab);
    return 'the lesson is stopped';
  }));

  app.post('/api/instructor/reset', async (c) => {
    const b = await body<ResetRequest>(c);
    if (!isInt(b?.group, 1, 30)) return fail(c, 400, 'expected JSON {"group": N}');
    return op(c, 'reset', async () => { await labReset(deps.lab, b.group); return `group ${b.group} is reset`; });
  });

  app.post('/api/instructor/acl', async (c) => {
    const b = await body<AclRequest>(c);
    if (!b || !isTarget(b.target) || !Array.isArray(b.acls) || b.acls.length > 16 || !b.acls.every((a) => typeof a === 'string' && a.length <= 64)
      || (b.group !== undefined && !isInt(b.group, 1, 30))) {
      return fail(c, 400, 'expected JSON {"target": "host.iface", "acls": ["name", ...], "group"?: N}');
    }
    return op(c, 'acl', async () => {
      await setAcls(deps.lab, b.target, b.acls, b.group);
      return `${b.target}${b.group ? ` (group ${b.group})` : ''}: ${b.acls.length ? b.acls.join(', ') : 'no ACL'}`;
    });
  });

  app.post('/api/instructor/mirror', async (c) => {
    const b = await body<MirrorRequest>(c);
    if (!b || typeof b.on !== 'boolean' || !isTarget(b.target) || (b.group !== undefined && !isInt(b.group, 1, 30))
      || (b.mirror !== undefined && (typeof b.mirror !== 'string' || b.mirror.length > 64))) {
      return fail(c, 400, 'expected JSON {"on": true|false, "target": "host.iface", "group"?: N, "mirror"?: "name"}');
    }
    return op(c, 'mirror', async () => {
      await setMirror(deps.lab, b.on, b.target, b.mirror, b.group);
      return `${b.target}${b.group ? ` (group ${b.group})` : ''}: mirror ${b.on ? 'on' : 'off'}`;
    });
  });

  // ---- Docker networks of the driver: read without the lab lock; a change goes through the driver's verb.
  const networkDiagrams = new DiagramCache(8);

  app.get('/api/instructor/networks', (c) => {
    try { return c.json<DockerNetworksView>(dockerNetworksView(deps.cfg), 200, noStore); } catch (e) { return opError(c, e); }
  });

  app.get('/api/instructor/networks/diagram', async (c) => {
    try { return c.json<DiagramView>({ svg: await networkDiagrams.svg(dockerNetworksDot(deps.cfg)) }, 200, noStore); } catch (e) { return opError(c, e); }
  });

  app.post('/api/instructor/network-endpoint', async (c) => {
    const parsed = NetworkEndpointBody.safeParse(await body<unknown>(c));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return fail(c, 400, `expected JSON {"container": "name", "network"?: "name", "acls"?: [...], "mirror"?: true|false|"dongle"} (${i.path.join('.') || 'body'}: ${i.message})`);
    }
    const b: NetworkEndpointRequest = parsed.data;
    return op(c, 'network-endpoint', async () => {
      // The verb takes a network id; people and the page may give its name.
      let network: string | undefined;
      if (b.network) {
        const nets = readNetworkState(paths(deps.cfg).networks).networks;
        network = nets.find((n) => n.id === b.network)?.id ?? nets.find((n) => n.name === b.network)?.id;
        if (!network) throw new NetworkError(`${b.network}: no such Docker network on this appliance`);
      }
      // A damaged ACL file is the appliance's trouble (500), not a refused change: read it first.
      networkEnv(deps.cfg);
      // Only the fields given: an explicit `acls: undefined` would mean "the network's defaults".
      const change = { ...(b.acls ? { acls: b.acls } : {}), ...(b.mirror !== undefined ? { mirror: b.mirror } : {}) };
      if (!Object.keys(change).length) throw new NetworkError('nothing to change: give acls or mirror');
      const ep = await setEndpointPolicy(deps.lab, b.container, change, 'console', network);
      const who = ep.container ?? b.container;
      const mirror = ep.mirror === true ? 'the mirror dongle' : ep.mirror;
      return `${who}: ${ep.acls.length ? ep.acls.join(', ') : 'no ACL'}; mirror ${mirror ? `to ${mirror}` : 'off'}`;
    });
  });

  return { loggedIn: (value) => !!session(value) };
}

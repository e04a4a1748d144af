// The agent's web side (hono): JSON API, live events, terminals, the built pages. Handlers are
// thin: they read the lab through lab/ (LabViews), check the session and shape the answer.
// createApp is given everything it touches (WebDeps), so tests drive it with app.request().
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { getConnInfo } from '@hono/node-server/conninfo';
import { paths } from '../config.js';
import { groupOfJoinCode } from '../lab/join-codes.js';
import type { LabState } from '../lab/state.js';
import type { AclControlRequest, ApiError, JoinResponse, LiveEvent, SessionView } from './api-types.js';
import { LabError, setAcls } from '../lab/service.js';
import type { WebDeps } from './deps.js';
import { eventStream } from './events.js';
import { securityHeaders } from './headers.js';
import { instructorRoutes } from './instructor.js';
import { dongleRoutes } from './dongles.js';
import { INSTRUCTOR_COOKIE } from './instructor-auth.js';
import { LabViews } from './lab-views.js';
import { TokenBuckets } from './rate-limit.js';
import { jsonLine, requestLog } from './request-log.js';
import { readSession, SESSION_COOKIE, sessionValid, signSession, type Session } from './session.js';
import { serveUi } from './static.js';
import { TerminalRegistry, terminalRoute } from './terminal.js';
import { CaptureRegistry, captureRoutes } from './capture.js';
import { observeRoutes } from './observe.js';

/** Wrong join codes: 10 at once per client address, then one more every 6 s. */
const JOIN_BURST = 10;
const JOIN_REFILL_MS = 6_000;

export interface WebApp {
  app: Hono;
  views: LabViews;
  terminals: TerminalRegistry;
  captures: CaptureRegistry | undefined;
  /** Ends live streams, terminals and captures (the lab keeps running). */
  close(): Promise<void>;
}

const apiError = (c: Context, status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503, error: string, headers: Record<string, string> = {}) =>
  c.json<ApiError>({ error }, status, headers);

function sessionFromCookieHeader(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return v.join('=');
  }
  return undefined;
}

export function createApp(deps: WebDeps): WebApp {
  const app = new Hono();
  const views = new LabViews(deps);
  const terminals = new TerminalRegistry();
  const streams = new Set<() => void>();
  const limiter = new TokenBuckets(JOIN_BURST, JOIN_REFILL_MS, deps.now);
  const clientIp = deps.clientIp ?? ((c: Context) => { try { return getConnInfo(c).remote.address ?? 'unknown'; } catch { return 'unknown'; } });
  const log = (fields: Record<string, unknown>) => deps.log(jsonLine(fields, new Date(deps.now())));

  /** The student session of a request, if it belongs to the lab run on disk. */
  const studentOf = (cookieValue: string | undefined): { session: Session; st: LabState } | undefined => {
    const session = readSession(deps.secret, cookieValue);
    const st = views.state();
    return sessionValid(session, st) ? { session, st: st! } : undefined;
  };

  app.use('*', requestLog(deps.log));
  app.use('*', securityHeaders());
  app.use('*', compress());
  // Small JSON bodies everywhere, except a lesson upload (streamed to disk under its own cap).
  const smallBodies = bodyLimit({ maxSize: 4 * 1024, onError: (c) => apiError(c, 413, 'request body too large') });
  app.use('/api/*', async (c, next) => (c.req.method === 'POST' && c.req.path === '/api/instructor/lessons' ? next() : smallBodies(c, next)));
  // Forms of other sites may not post here (the cookie is SameSite=Strict too).
  app.use('/api/*', async (c, next) => {
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && origin) {
      let host: string | undefined;
      try { host = new URL(origin).host; } catch { /* not a URL */ }
      if (host !== c.req.header('host')) return apiError(c, 403, 'cross-site request refused');
    }
    await next();
  });

  const instructor = instructorRoutes(app, deps, views, clientIp, log);
  dongleRoutes(app, deps, clientIp, log);

  app.get('/api/session', (c) => {
    const s = studentOf(getCookie(c, SESSION_COOKIE));
    return c.json<SessionView>({ group: s?.session.group ?? null, lab: s?.session.lab ?? null }, 200, { 'Cache-Control': 'no-store' });
  });

  app.post('/api/join', async (c) => {
    const ip = clientIp(c);
    const allowed = limiter.check(ip);
    if (!allowed.ok) return apiError(c, 429, 'too many wrong codes; wait a little', { 'Retry-After': String(allowed.retryAfterS) });
    let code: unknown;
    try { code = ((await c.req.json()) as { code?: unknown })?.code; } catch { return apiError(c, 400, 'expected JSON {"code": "..."}'); }
    if (typeof code !== 'string' || code.length > 64) return apiError(c, 400, 'expected JSON {"code": "..."}');
    const st = views.state();
    if (!st) return apiError(c, 409, 'no lesson is running');
    const group = groupOfJoinCode(st.joinCodes, code);
    if (group === undefined || group > st.groups) {
      const after = limiter.take(ip);
      log({ msg: 'join refused', reason: 'wrong code' });
      return apiError(c, 403, 'that is not a join code of this lesson', after.ok ? {} : { 'Retry-After': String(after.retryAfterS) });
    }
    setCookie(c, SESSION_COOKIE, signSession(deps.secret, { group, lab: st.lab, startedAt: st.startedAt }), { httpOnly: true, sameSite: 'Strict', path: '/' });
    log({ msg: 'joined', group });
    return c.json<JoinResponse>({ group, lab: st.lab });
  });

  app.post('/api/leave', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict' });
    return c.body(null, 204);
  });

  app.get('/api/group', async (c) => {
    const s = studentOf(getCookie(c, SESSION_COOKIE));
    if (!s) return apiError(c, 401, 'join a group first');
    return c.json(await views.group(s.st, s.session.group), 200, { 'Cache-Control': 'no-store' });
  });

  // A switch the lesson gives the group (controls:): only listed interfaces and ACLs, only its own ports.
  app.post('/api/controls/acl', async (c) => {
    const s = studentOf(getCookie(c, SESSION_COOKIE));
    if (!s) return apiError(c, 401, 'join a group first');
    let body: Partial<AclControlRequest>;
    try { body = (await c.req.json()) as Partial<AclControlRequest>; } catch { return apiError(c, 400, 'expected JSON {"target": "host.interface", "acls": [...]}'); }
    const { target, acls } = body;
    if (typeof target !== 'string' || !Array.isArray(acls) || !acls.every((a) => typeof a === 'string')) {
      return apiError(c, 400, 'expected JSON {"target": "host.interface", "acls": [...]}');
    }
    const options = s.st.topology.controls?.acls?.[target];
    if (!options || !Object.hasOwn(s.st.topology.controls!.acls, target)) return apiError(c, 403, `the lesson does not let groups switch ACLs on ${target}`);
    const refused = acls.filter((a) => !options.includes(a));
    if (refused.length) return apiError(c, 403, `not a switch of ${target}: ${refused.join(', ')} (it has ${options.join(', ')})`);
    if (new Set(acls).size !== acls.length) return apiError(c, 400, 'an ACL is listed twice');
    try {
      await setAcls(deps.lab, target, acls, s.session.group);
    } catch (e) {
      log({ msg: 'control refused', group: s.session.group, target, error: (e as Error).message.split('\n')[0] });
      return apiError(c, e instanceof LabError ? 400 : 503, (e as Error).message.split('\n')[0]!);
    }
    log({ msg: 'control', group: s.session.group, target, acls });
    return c.json(await views.group(views.state() ?? s.st, s.session.group), 200, { 'Cache-Control': 'no-store' });
  });

  app.get('/api/kiosk', async (c) => c.json(await views.kiosk(), 200, { 'Cache-Control': 'no-store' }));

  app.get('/api/events', (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const teacher = getCookie(c, INSTRUCTOR_COOKIE);
    return eventStream(c, {
      files: [paths(deps.cfg).labState, paths(deps.cfg).checks],
      ...(deps.dongleChanges ? { changes: () => String(deps.dongleChanges!()) } : {}),
      pollMs: deps.eventPollMs ?? 1000,
      now: deps.now,
      streams,
      views: async () => {
        const out: LiveEvent[] = [{ type: 'kiosk', data: await views.kiosk() }];
        const s = studentOf(cookie);
        if (s) out.push({ type: 'group', data: await views.group(s.st, s.session.group) });
        if (instructor.loggedIn(teacher)) out.push({ type: 'instructor', data: await views.classView() });
        return out;
      },
    });
  });

  app.get('/api/terminal', async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return apiError(c, 400, 'this is a WebSocket: open it with new WebSocket(...)');
    await next();
  }, terminalRoute({
    backend: deps.terminals,
    registry: terminals,
    who: (header) => { const s = studentOf(sessionFromCookieHeader(header)); return s && { group: s.session.group, st: s.st }; },
    log,
  }));

  const captures = deps.captures ? new CaptureRegistry({ deps, backend: deps.captures, log, state: () => views.state() }) : undefined;
  if (captures) {
    captureRoutes(app, {
      deps, registry: captures, log, state: () => views.state(),
      student: (c) => { const s = studentOf(getCookie(c, SESSION_COOKIE)); return s && { group: s.session.group, st: s.st }; },
      instructor: (c) => instructor.loggedIn(getCookie(c, INSTRUCTOR_COOKIE)),
    });
  } else {
    app.all('/api/capture*', (c) => apiError(c, 503, 'captures are not available here'));
    app.post('/api/instructor/capture', (c) => apiError(c, 503, 'captures are not available here'));
  }

  observeRoutes(app, {
    deps, state: () => views.state(), clientIp, terminalsOpen: () => terminals.count,
    student: (c) => { const s = studentOf(getCookie(c, SESSION_COOKIE)); return s && { group: s.session.group, st: s.st }; },
  }, deps.metrics);

  app.all('/api/*', (c) => apiError(c, 404, 'no such API'));
  app.get('*', (c) => serveUi(c, deps.uiDir));

  app.onError((e, c) => {
    log({ msg: 'error', path: c.req.path, error: e.message.split('\n')[0] });
    return apiError(c, 500, 'internal error');
  });

  return {
    app, views, terminals, captures,
    async close() {
      for (const stop of [...streams]) stop();
      terminals.closeAll('the appliance is stopping');
      await captures?.closeAll();
    },
  };
}

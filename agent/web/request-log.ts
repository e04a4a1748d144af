// One JSON line per request: time, method, path (never the query or a body: no codes, no secrets),
// status and milliseconds to the response headers.
import type { MiddlewareHandler } from 'hono';

export const jsonLine = (fields: Record<string, unknown>, now = new Date()) => JSON.stringify({ t: now.toISOString(), ...fields });

export const requestLog = (log: (line: string) => void): MiddlewareHandler => async (c, next) => {
  const t0 = performance.now();
  await next();
  log(jsonLine({ msg: 'request', method: c.req.method, path: c.req.path.slice(0, 200), status: c.res.status, ms: Math.round((performance.now() - t0) * 10) / 10 }));
};

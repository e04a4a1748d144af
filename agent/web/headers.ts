// Every response: a strict Content-Security-Policy (scripts, styles and connections only from the
// appliance; the diagram and QR code are SVG markup, not scripts), no MIME sniffing, no referrer.
import type { MiddlewareHandler } from 'hono';

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export const securityHeaders = (): MiddlewareHandler => async (c, next) => {
  await next();
  c.res.headers.set('Content-Security-Policy', CSP);
  c.res.headers.set('X-Content-Type-Options', 'nosniff');
  c.res.headers.set('Referrer-Policy', 'no-referrer');
};

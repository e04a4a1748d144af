// Serves the web app on the configured port with WebSocket support (@hono/node-server 2 + ws).
// close() ends live streams and terminals and stops listening; the lab keeps running.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp, type WebApp } from './app.js';
import type { WebDeps } from './deps.js';
import { joinUrls } from './kiosk.js';

export interface WebServer {
  port: number;
  /** Where people open the pages: the .local name, the IP address, and this machine. */
  urls: string[];
  web: WebApp;
  close(): Promise<void>;
}

export async function serveWeb(deps: WebDeps, opts: { hostname?: string } = {}): Promise<WebServer> {
  const web = createApp(deps);
  const wss = new WebSocketServer({ noServer: true });
  const server = serve({ fetch: web.app.fetch, port: deps.cfg.web.port, hostname: opts.hostname, websocket: { server: wss } }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE'
      ? `web: port ${deps.cfg.web.port} is in use (set web.port in the appliance config, or DOVELAB_WEB_PORT)`
      : `web: cannot listen on port ${deps.cfg.web.port}: ${e.message}`)));
  });
  const port = (server.address() as AddressInfo).port;
  const urls = [...joinUrls(deps.cfg.web.name, port, deps.ipv4()), `http://localhost${port === 80 ? '' : `:${port}`}/`];
  return {
    port, urls, web,
    async close() {
      // Captures end within seconds (tcpdump stops, the switch stops copying): not forever.
      await Promise.race([web.close(), new Promise((r) => setTimeout(r, 8_000))]);
      // Close frames out first (a page sees 1001 "going away"), then cut whatever still hangs on.
      const closing = [...wss.clients].map((ws) => new Promise<void>((r) => { if (ws.readyState === ws.CLOSED) r(); else ws.once('close', () => r()); }));
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1_000))]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// The Docker network driver's protocol (libnetwork's remote driver: JSON POSTs on a unix socket in
// /run/docker/plugins): thin handlers over lab/networks.ts. It lives beside the web API rather than
// in docker/ because its handlers call lab verbs, and adapters never decide (layering check).
// Served as `dovelab` and as `dovesnap` (Docker names a driver after its socket), so Dovesnap's
// command lines (`-d dovesnap`) work unchanged. An error answers 500 {"Err": message}: Docker
// shows it to the user (`docker network create` / `docker run` fail with it).
import { createServer, type Server } from 'node:http';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Hono, type Context } from 'hono';
import { getRequestListener } from '@hono/node-server';
import type { LabContext } from '../lab/engine.js';
import { timeSteps } from '../sys/steps.js';
import { endpointCreate, endpointDelete, endpointJoin, endpointLeave, endpointPublish, networkCreate, networkDelete } from '../lab/networks.js';

const MIME = 'application/vnd.docker.plugins.v1.2+json';

type Body = Record<string, unknown>;

export function pluginApp(ctx: LabContext, log: (f: Record<string, unknown>) => void): Hono {
  const app = new Hono();
  const ok = (c: Context, body: object = {}) => c.body(JSON.stringify(body), 200, { 'Content-Type': MIME });
  const read = async (c: Context): Promise<Body> => {
    const text = await c.req.text();
    if (!text.trim()) return {};
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? v as Body : {};
  };
  /** Runs a verb; any failure is Docker's error message. */
  const call = (path: string, fn: (b: Body) => Promise<object | void>) => app.post(path, async (c) => {
    const t0 = Date.now();
    let b: Body;
    try { b = await read(c); } catch { return c.body(JSON.stringify({ Err: `${path}: the request is not JSON` }), 400, { 'Content-Type': MIME }); }
    // Where the time went (steps the verb marks: Docker's lists, the lock, OVS, Faucet …).
    const r = await timeSteps(() => fn(b));
    const steps = Object.keys(r.steps).length ? r.steps : undefined;
    if ('value' in r) {
      log({ msg: 'plugin', call: path.split('.').pop(), ms: Date.now() - t0, network: str(b.NetworkID).slice(0, 12), endpoint: str(b.EndpointID).slice(0, 12) || undefined, steps });
      return ok(c, r.value ?? {});
    }
    const message = (r.error as Error).message.split('\n')[0]!;
    log({ msg: 'plugin refused', call: path.split('.').pop(), error: message, ms: Date.now() - t0, steps });
    return c.body(JSON.stringify({ Err: `dovelab: ${message}` }), 500, { 'Content-Type': MIME });
  });

  call('/Plugin.Activate', async () => ({ Implements: ['NetworkDriver'] }));
  call('/NetworkDriver.GetCapabilities', async () => ({ Scope: 'local', ConnectivityScope: 'local' }));
  call('/NetworkDriver.AllocateNetwork', async () => ({ Options: {} }));
  call('/NetworkDriver.FreeNetwork', async () => ({}));
  call('/NetworkDriver.CreateNetwork', async (b) => {
    const options = (b.Options ?? {}) as Body;
    const generic = (options['com.docker.network.generic'] ?? {}) as Record<string, unknown>;
    const internal = options['com.docker.network.internal'] === true || options['com.docker.network.internal'] === 'true';
    const ipv4 = Array.isArray(b.IPv4Data) ? b.IPv4Data as { Pool?: string; Gateway?: string }[] : [];
    await networkCreate(ctx, { id: need(b, 'NetworkID'), generic, internal, ipv4 });
  });
  call('/NetworkDriver.DeleteNetwork', async (b) => { await networkDelete(ctx, need(b, 'NetworkID')); });
  call('/NetworkDriver.CreateEndpoint', async (b) => {
    const iface = (b.Interface ?? {}) as Body;
    const mac = str(iface.MacAddress) || undefined;
    const r = await endpointCreate(ctx, { network: need(b, 'NetworkID'), endpoint: need(b, 'EndpointID'), mac, address: str(iface.Address) || undefined });
    // Only what Docker did not give: a MAC it supplied must come back empty (or it rolls back).
    return r.mac ? { Interface: { MacAddress: r.mac } } : {};
  });
  call('/NetworkDriver.EndpointOperInfo', async () => ({ Value: {} }));
  call('/NetworkDriver.DeleteEndpoint', async (b) => { await endpointDelete(ctx, need(b, 'NetworkID'), need(b, 'EndpointID')); });
  call('/NetworkDriver.Join', async (b) => {
    const sandbox = str(b.SandboxKey);
    const r = await endpointJoin(ctx, need(b, 'NetworkID'), need(b, 'EndpointID'), /^\/[\w./-]+$/.test(sandbox) ? sandbox : undefined, portmapOf(b));
    // A flat network has no gateway of ours; no docker_gwbridge either (the network is all it gets).
    // nat/routed: the gateway (a plain IP) becomes the container's default route.
    return { InterfaceName: { SrcName: r.srcName, DstPrefix: 'eth' }, ...(r.gateway ? { Gateway: r.gateway } : {}), DisableGatewayService: true };
  });
  call('/NetworkDriver.Leave', async (b) => { await endpointLeave(ctx, need(b, 'NetworkID'), need(b, 'EndpointID')); });
  call('/NetworkDriver.DiscoverNew', async () => ({}));
  call('/NetworkDriver.DiscoverDelete', async () => ({}));
  // `-p` again (Join had it): published ports follow; Revoke takes them away.
  call('/NetworkDriver.ProgramExternalConnectivity', async (b) => {
    const portmap = portmapOf(b);
    if (portmap !== undefined) await endpointPublish(ctx, need(b, 'NetworkID'), need(b, 'EndpointID'), portmap);
  });
  call('/NetworkDriver.RevokeExternalConnectivity', async (b) => { await endpointPublish(ctx, need(b, 'NetworkID'), need(b, 'EndpointID'), []); });
  // Anything else: not implemented (libnetwork treats 404 so).
  app.all('*', (c) => c.body(JSON.stringify({ Err: `${c.req.path}: not implemented` }), 404, { 'Content-Type': MIME }));
  return app;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
/** Options["com.docker.network.portmap"] of Join / ProgramExternalConnectivity (checked by the verb). */
const portmapOf = (b: Body) => ((b.Options ?? {}) as Body)['com.docker.network.portmap'];
function need(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || !/^[0-9a-zA-Z]{1,128}$/.test(v)) throw new Error(`${key}: missing or not an id`);
  return v;
}

export interface PluginServer { sockets: string[]; close(): Promise<void> }

/** Listens on every socket path (one server each); removes stale sockets first and its own at close. */
export async function servePlugin(ctx: LabContext, sockets: string[], log: (f: Record<string, unknown>) => void): Promise<PluginServer> {
  const listener = getRequestListener(pluginApp(ctx, log).fetch);
  const servers: Server[] = [];
  try {
    for (const path of sockets) {
      mkdirSync(dirname(path), { recursive: true });
      rmSync(path, { force: true });
      // Docker sends the socket's path as the Host header (`/run/docker/plugins/x.sock`), which is
      // no URL authority: the request URL would not parse. Any host will do on a unix socket.
      const server = createServer((req, res) => { req.headers.host = 'plugin.local'; void listener(req, res); });
      // Docker has no deadline on plugin calls; ours do (the lab lock, each adapter call).
      server.requestTimeout = 0;
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, () => resolve()); });
      chmodSync(path, 0o600);
      servers.push(server);
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw new Error(`network driver: cannot listen on ${sockets.join(', ')}: ${(e as Error).message}`);
  }
  return {
    sockets,
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
      for (const p of sockets) rmSync(p, { force: true });
    },
  };
}

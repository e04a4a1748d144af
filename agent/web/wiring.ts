// The real WebDeps for `dovelab agent`: Docker terminals, Faucet's metrics, the disk, the secret.
import type Docker from 'dockerode';
import { paths, type Config } from '../config.js';
import { tcpdumpCaptures } from '../net/capture.js';
import { dockerTerminals } from '../docker/terminal.js';
import type { LabContext } from '../lab/engine.js';
import { infraStatus } from '../lab/infra.js';
import { faucetIo } from '../net/faucet/docker-io.js';
import { faucetStatus } from '../net/faucet/status.js';
import type { WebDeps } from './deps.js';
import { findAppliances } from '../hardware/mdns.js';
import { readHardwareHealth } from '../hardware/health.js';
import { firstIpv4 } from './kiosk.js';
import { diskUsedOf } from './lab-views.js';
import { loadWebSecret } from './session.js';
import { UI_DIR } from './static.js';
import { renameLink } from '../hardware/link-rename.js';
import { realpathSync } from 'node:fs';
import { agentMetrics } from '../metrics/agent-metrics.js';

export const webSecretFile = (c: Config) => `${c.dataDir}/web-secret`;

export function agentWebDeps(cfg: Config, lab: LabContext, docker: Docker, log: (line: string) => void): WebDeps {
  const faucet = faucetIo(docker, cfg);
  return {
    cfg, lab, log,
    now: Date.now,
    secret: loadWebSecret(webSecretFile(cfg)),
    uiDir: process.env.DOVELAB_UI_DIR ?? UI_DIR,
    ipv4: () => firstIpv4(),
    faucetStatus: async () => faucetStatus(await faucet.metrics()),
    diskUsed: () => diskUsedOf(paths(cfg).labState.replace(/\/[^/]*$/, '')),
    terminals: dockerTerminals(docker),
    captures: tcpdumpCaptures,
    infra: async () => { const s = await infraStatus(cfg, docker); return { docker: s.docker, containers: s.containers }; },
    hardware: () => readHardwareHealth({ dataDir: cfg.dataDir }),
    metrics: agentMetrics(),
    ...(cfg.web.mdns ? { neighbours: watchNeighbours(cfg, log) } : {}),
    // Roles are written where the agent read them; live renames only on the real /sys (never for a fixture tree).
    dongleRoles: {
      configFile: agentConfigFile(),
      ...(realSysfs(cfg) ? { rename: renameLink } : {}),
    },
  };
}

/** The appliance config file the agent was started with. */
export const agentConfigFile = () => process.env.DOVELAB_CONFIG ?? '/etc/dovelab/dovelab.yaml';

/** The NIC scan reads the real /sys (not a fixture tree): only then are dongles renamed live. */
export function realSysfs(cfg: Config): boolean {
  try { return realpathSync(cfg.hardware?.sysfs ?? '/sys') === '/sys'; } catch { return false; }
}

/** Browses for other appliances every 30 s in the background; the page reads the last answer. */
function watchNeighbours(cfg: Config, log: (line: string) => void): () => { name: string; url: string; version?: string }[] {
  let last: { name: string; url: string; version?: string }[] = [];
  const look = () => findAppliances(cfg).then((found) => {
    last = found.map((a) => ({
      name: a.name, url: `http://${a.addresses[0] ?? a.host}${a.port === 80 ? '' : `:${a.port}`}/`, ...(a.version ? { version: a.version } : {}),
    }));
  }, (e: Error) => log(JSON.stringify({ msg: 'mdns browse failed', error: e.message })));
  void look();
  setInterval(look, 30_000).unref();
  return () => last;
}

// The appliance's name on the network: http://<name>.local, _http._tcp and _dovelab._tcp.
// Where avahi-daemon runs (the Pi: it owns UDP 5353 and answers <hostname>.local), the agent
// writes an avahi service file; elsewhere its own responder (mdns-responder.ts) answers.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { writeAtomic } from '../sys/files.js';
import { AVAHI_SERVICES_DIR, avahiRunning, avahiServiceFile, removeAvahiService, writeAvahiService } from './mdns-avahi.js';
import { browseAppliances, managementAllow, startResponder, type FoundAppliance } from './mdns-responder.js';

export { avahiRunning, avahiServiceFile, removeAvahiService, writeAvahiService, AVAHI_SERVICES_DIR } from './mdns-avahi.js';
export {
  answerQuestions, browseAppliances, currentAddresses, inSubnet, isManagementInterface, managementAllow, startResponder,
  DOVELAB_SERVICE, HTTP_SERVICE,
  type AddressesByInterface, type BrowseOptions, type FoundAppliance, type Responder, type ResponderOptions,
} from './mdns-responder.js';

const ID_RE = /^[0-9a-f]{16}$/;

/** The appliance's stable id: `<dataDir>/appliance-id`, made once (random, 16 hex digits). */
export function applianceId(dataDir: string): string {
  const file = join(dataDir, 'appliance-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (ID_RE.test(id)) return id;
  } catch { /* first start */ }
  const id = randomBytes(8).toString('hex');
  writeAtomic(file, `${id}\n`);
  return id;
}

/** Dovelab's version from its package.json (dist/agent/hardware → the package root). */
export function dovelabVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const v = (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string });
      if (v.name === 'dovelab' && v.version) return v.version;
    } catch { /* try the next */ }
  }
  return '0.0.0';
}

export interface AdvertiseOptions {
  /** Default: /etc/avahi/services. */
  servicesDir?: string;
  /** Default: avahiRunning(). */
  avahi?: boolean;
}

/**
 * Advertises the web UI as <cfg.web.name>.local port cfg.web.port: an avahi service file when
 * avahi-daemon runs, else the agent's own responder on the management interfaces (never on
 * dongles, the lab bridge, Docker's or the lab's interfaces). Resolves to a stop function.
 */
export async function advertise(cfg: Config, log: (s: string) => void, o: AdvertiseOptions = {}): Promise<() => Promise<void>> {
  const { name, port } = cfg.web;
  const id = applianceId(cfg.dataDir);
  const version = dovelabVersion();
  if (o.avahi ?? await avahiRunning()) {
    const dir = o.servicesDir ?? AVAHI_SERVICES_DIR;
    const written = writeAvahiService(dir, avahiServiceFile(name, port, { version, id }));
    log(`mdns: avahi-daemon runs; ${written ? 'wrote' : 'kept'} ${join(dir, 'dovelab.service')} (_http._tcp, _dovelab._tcp port ${port})`);
    const host = hostname().split('.')[0] ?? '';
    if (host.toLowerCase() !== name.toLowerCase()) {
      log(`mdns: the host name is ${host}, not ${name}: avahi answers ${host}.local, so http://${name}.local will not resolve`);
    }
    return async () => { removeAvahiService(dir); };
  }
  const responder = await startResponder({
    name, port, id, version, log,
    allow: managementAllow({ dongles: Object.keys(cfg.dongles), bridge: cfg.bridge }),
  });
  if (!responder.bound().length) log(`mdns: no management interface with an IPv4 address yet; ${name}.local will answer once one appears`);
  return () => responder.stop();
}

/** Other Dovelab appliances on the management networks (for the instructor page). */
export function findAppliances(cfg: Config, timeoutMs = 1_500): Promise<FoundAppliance[]> {
  return browseAppliances({
    timeoutMs, selfId: applianceId(cfg.dataDir),
    allow: managementAllow({ dongles: Object.keys(cfg.dongles), bridge: cfg.bridge }),
  });
}

// Where avahi-daemon runs (the Pi), it owns UDP 5353 and answers <hostname>.local itself; the
// agent only drops a static service file into /etc/avahi/services (avahi reloads it on change).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeAtomic } from '../sys/files.js';
import { run } from '../sys/run.js';

export const AVAHI_SERVICES_DIR = '/etc/avahi/services';
export const AVAHI_SERVICE_FILE = 'dovelab.service';

export interface ServiceExtras {
  /** Dovelab's version (TXT `version=`). */
  version: string;
  /** The appliance's stable id (TXT `id=`): how appliances tell each other apart. */
  id: string;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/**
 * Pure: the service group avahi reads from /etc/avahi/services/dovelab.service. The instance
 * name is `name` (avahi renames it on a conflict); the host in SRV is avahi's own host name,
 * which on the Pi is `name` too.
 */
export function avahiServiceFile(name: string, port: number, extras: ServiceExtras): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`avahi service: bad port ${port}`);
  const txt = (k: string, v: string) => `    <txt-record>${xmlEscape(`${k}=${v}`)}</txt-record>\n`;
  return '<?xml version="1.0" standalone="no"?>\n'
    + '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">\n'
    + '<!-- Written by the Dovelab agent: changes are overwritten. -->\n'
    + '<service-group>\n'
    + `  <name>${xmlEscape(name)}</name>\n`
    + '  <service>\n    <type>_http._tcp</type>\n'
    + `    <port>${port}</port>\n`
    + txt('path', '/')
    + '  </service>\n'
    + '  <service>\n    <type>_dovelab._tcp</type>\n'
    + `    <port>${port}</port>\n`
    + txt('version', extras.version) + txt('id', extras.id)
    + '  </service>\n'
    + '</service-group>\n';
}

/** Writes the service file atomically and durably, only when its text differs; true if written. */
export function writeAvahiService(dir: string, xml: string): boolean {
  const path = join(dir, AVAHI_SERVICE_FILE);
  if (existsSync(path) && readFileSync(path, 'utf8') === xml) return false;
  writeAtomic(path, xml, 0o644);
  return true;
}

/** Removes the service file (avahi withdraws the services); true if there was one. */
export function removeAvahiService(dir: string): boolean {
  const path = join(dir, AVAHI_SERVICE_FILE);
  if (!existsSync(path)) return false;
  rmSync(path, { force: true });
  fsyncDir(dir);
  return true;
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** avahi-daemon runs: its pid file names a live process, or `avahi-daemon --check` says so. */
export async function avahiRunning(pidFile = '/run/avahi-daemon/pid'): Promise<boolean> {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return pidAlive(pid);
  } catch { /* no pid file: ask the daemon's binary, if installed */ }
  try {
    return (await run(['avahi-daemon', '--check'], { allowFail: true, timeoutMs: 3_000 })).code === 0;
  } catch { return false; }
}

// Servers a host's startup starts (a web server, a DNS server), so the generated tasks check that
// a client gets a connection to them, not only a ping. Pure.
import { commands } from './script.js';
import type { LessonDraft, TaskDraft } from './types.js';

export interface Service { kind: 'web' | 'dns'; port: number; title: string }

const SERVICES: Record<string, Service> = {
  apache2: { kind: 'web', port: 80, title: 'web server' },
  httpd: { kind: 'web', port: 80, title: 'web server' },
  nginx: { kind: 'web', port: 80, title: 'web server' },
  lighttpd: { kind: 'web', port: 80, title: 'web server' },
  named: { kind: 'dns', port: 53, title: 'DNS server' },
  bind9: { kind: 'dns', port: 53, title: 'DNS server' },
  bind: { kind: 'dns', port: 53, title: 'DNS server' },
};

/** The servers a script starts: `systemctl start X`, `service X start`, `/etc/init.d/X start`, `apache2ctl start`, `named`, `nginx`. */
export function startedServices(script: string): Service[] {
  const found = new Map<string, Service>();
  for (const words of commands(script)) {
    const cmd = words[0]?.split('/').pop() ?? '';
    const rest = words.slice(1).filter((w) => !w.startsWith('-'));
    let names: string[] = [];
    if (words[0]?.startsWith('/etc/init.d/') && /^(re)?start$/.test(rest[0] ?? '')) names = [cmd];
    else if (cmd === 'service' && /^(re)?start$/.test(rest[1] ?? '')) names = [rest[0] ?? ''];
    else if (cmd === 'systemctl' && /^(re)?start$|^enable$/.test(rest[0] ?? '') && (rest[0] !== 'enable' || words.includes('--now'))) names = rest.slice(1);
    else if (cmd === 'apache2ctl' && /^(re)?start$/.test(rest[0] ?? '')) names = ['apache2'];
    else if (['named', 'nginx', 'httpd', 'lighttpd'].includes(cmd)) names = [cmd];
    for (const n of names) {
      const s = SERVICES[n.replace(/\.service$/, '')];
      if (s) found.set(s.kind, s);
    }
  }
  return [...found.values()];
}

/**
 * A TCP task per server: the first host that starts no server and has an address (one with a
 * gateway first: a client across routers) connects to it, e.g. `web-pc1-server` (TCP 80).
 */
export function serviceTasks(lesson: LessonDraft): TaskDraft[] {
  const hosts = Object.entries(lesson.hosts);
  const servers = hosts.map(([h, x]) => [h, startedServices(x.startup ?? '')] as const).filter(([, s]) => s.length);
  const serverNames = new Set(servers.map(([h]) => h));
  const addressed = hosts.filter(([h, x]) => !serverNames.has(h) && Object.values(x.interfaces).some((i) => i.ip));
  const client = (addressed.find(([, x]) => Object.values(x.interfaces).some((i) => i.gateway)) ?? addressed[0])?.[0];
  if (!client) return [];
  return servers.flatMap(([h, svcs]) => svcs.map((s) => ({
    id: `${s.kind}-${client}-${h}`,
    title: `${client} connects to the ${s.title} on ${h} (TCP ${s.port})`,
    check: { reach: { from: client, to: h, tcp: s.port } },
  })));
}

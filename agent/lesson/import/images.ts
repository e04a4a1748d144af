// Kathará's and containerlab's common images -> the closest of ours (image-build/images). Pure.
// A lab names an image for the software its startup expects: kathara/frr for FRR, kathara/bind
// for BIND, kathara/base (Kathará's default, a big Debian with many servers) for anything. Ours
// are small and split by purpose, so an image that does several things is chosen from what the
// startup actually runs.

export const LABHOST = 'dovelab/labhost';
export const ROUTER = 'dovelab/router';
export const SERVICES = 'dovelab/services';

/** What each of ours carries, for the import report. */
export const OUR_IMAGES: Record<string, string> = {
  [LABHOST]: 'Debian tools: iproute2, ping, tcpdump, curl, dig, net-tools, iptables, brctl, traceroute, arping',
  [ROUTER]: 'labhost + FRR (zebra, ospfd, ripd, bgpd, …, vtysh), also started from Quagga\'s /etc/quagga layout',
  [SERVICES]: 'labhost + apache2 (CGI), BIND 9, radvd, sqlite3',
};

type Target = typeof LABHOST | typeof ROUTER | typeof SERVICES | 'by-startup';

interface Rule {
  /** Repository names (no registry, no tag) this rule covers. */
  names: string[];
  to: Target;
  /** The foreign image starts this service by itself (its entrypoint); ours need the line in the startup. */
  starts?: string;
  /** Folders the foreign image's software reads that are elsewhere in ours: files shipped there move. */
  moves?: PathMove[];
}

/** A folder of the foreign image (`from`, ending in /) and ours (`to`); `to` undefined: ours has no such thing, files there are not read. */
export interface PathMove { from: string; to?: string; what: string }

/** Docker's official httpd image: Apache built in /usr/local/apache2, started by its CMD (httpd-foreground). */
const HTTPD_MOVES: PathMove[] = [
  { from: '/usr/local/apache2/htdocs/', to: '/var/www/html/', what: 'the document root' },
  { from: '/usr/local/apache2/cgi-bin/', to: '/usr/lib/cgi-bin/', what: 'the CGI folder' },
  { from: '/usr/local/apache2/conf/', what: "httpd's configuration (Debian's apache2 reads /etc/apache2: write the site there)" },
];

const RULES: Rule[] = [
  { names: ['kathara/base', 'kathara/scapy'], to: 'by-startup' },
  { names: ['debian', 'ubuntu', 'alpine', 'busybox', 'centos', 'fedora', 'kathara/alpine', 'nicolaka/netshoot',
    'wbitt/network-multitool', 'praqma/network-multitool', 'ghcr.io/hellt/network-multitool', 'hellt/network-multitool'], to: LABHOST },
  { names: ['kathara/frr', 'kathara/quagga'], to: ROUTER },
  { names: ['frrouting/frr', 'quay.io/frrouting/frr'], to: ROUTER, starts: '/etc/init.d/frr start' },
  { names: ['kathara/bind', 'kathara/bind9', 'ubuntu/bind9', 'internetsystemsconsortium/bind9'], to: SERVICES },
  { names: ['httpd'], to: SERVICES, starts: '/etc/init.d/apache2 start', moves: HTTPD_MOVES },
  { names: ['kathara/apache', 'ubuntu/apache2'], to: SERVICES },
];

/** `docker.io/library/debian:bookworm` -> `debian`; `quay.io/frrouting/frr:9.1.0` -> `quay.io/frrouting/frr`. */
export function repoName(image: string): string {
  let s = image.trim().toLowerCase().replace(/@sha256:[0-9a-f]+$/, '');
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  return s.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/** Startup words that need FRR, or one of the servers of dovelab/services. */
const NEEDS_ROUTER = /\b(vtysh|zebra|ospfd|ospf6d|ripd|ripngd|bgpd|isisd|frr|quagga|frrinit\.sh|watchfrr)\b/;
const NEEDS_SERVICES = /\b(apache2|apache2ctl|a2enmod|a2ensite|httpd|named|bind9|rndc|named-checkconf|radvd|sqlite3)\b/;

/** Which of ours a startup (and the files it ships) asks for: router, services, or labhost. */
export function imageForStartup(startup: string | undefined, files: string[] = []): string {
  const text = `${startup ?? ''}\n${files.join('\n')}`;
  // Files shipped for a service say so too (etc/frr/daemons, etc/bind/named.conf, var/www/...).
  const paths = files.join('\n');
  if (NEEDS_ROUTER.test(text) || /\/etc\/(frr|quagga)\//.test(paths)) return ROUTER;
  if (NEEDS_SERVICES.test(text) || /\/etc\/(bind|apache2|radvd\.conf)|\/var\/www\//.test(paths)) return SERVICES;
  return LABHOST;
}

export interface ImageChoice {
  /** The image of ours to use. */
  image: string;
  /** Why this one, for the import report. */
  why: string;
  /** A line the startup needs because the foreign image ran it by itself (its entrypoint). */
  starts?: string;
  /** Folders that are elsewhere in ours (see Rule.moves). */
  moves?: PathMove[];
}

/** A startup that already starts FRR (or Apache) itself. */
const STARTS_FRR = /frrinit\.sh|docker-start|init\.d\/frr|\bservice\s+frr\b|\bsystemctl\s+(\S+\s+)*(re)?start\s+frr\b/;
const STARTS_APACHE = /init\.d\/apache2|\bservice\s+apache2\b|\bsystemctl\s+(\S+\s+)*(re)?start\s+(apache2|httpd)\b|\bapache2ctl\s+(-k\s+)?start\b|\bhttpd-foreground\b|\bhttpd\s+-k\s+start\b/;
const startsAlready = (line: string, startup: string) => (line.includes('apache2') ? STARTS_APACHE : STARTS_FRR).test(startup);

/**
 * The closest of ours to a foreign image (undefined: no idea, e.g. a vendor NOS or an
 * application image). `startup` and `files` (paths inside the host) decide for kathara/base.
 */
export function closestImage(image: string, startup?: string, files: string[] = []): ImageChoice | undefined {
  const repo = repoName(image);
  if (repo.startsWith('dovelab/')) return { image: repo, why: 'ours' };
  const rule = RULES.find((r) => r.names.includes(repo));
  if (!rule) return undefined;
  if (rule.to === 'by-startup') {
    const ours = imageForStartup(startup, files);
    return { image: ours, why: `Kathará's all-in-one image; chosen from what the startup runs: ${OUR_IMAGES[ours]}` };
  }
  const starts = rule.starts && !startsAlready(rule.starts, startup ?? '') ? rule.starts : undefined;
  return { image: rule.to, why: OUR_IMAGES[rule.to]!, ...(starts ? { starts } : {}), ...(rule.moves ? { moves: rule.moves } : {}) };
}

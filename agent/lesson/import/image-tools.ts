// What each image has, for the import report: commands that lab startups commonly use and that
// not every image has, and the services it can start. One entry per image; extend it when an
// image gains tools (image-build/images/*). An image not listed here is not judged.

export interface ImageTools {
  /** Watched commands (below) the image has. */
  commands: string[];
  /** Services `systemctl start X`, `service X start` or `/etc/init.d/X start` can start in it. */
  services: string[];
}

/** Commands a startup may call that some images lack (the rest, like echo or cat, every image has). */
export const WATCHED_COMMANDS = [
  'ip', 'bridge', 'ifconfig', 'route', 'netstat', 'arp', 'brctl', 'vconfig', 'iptables', 'ip6tables', 'nft', 'ebtables',
  'arping', 'traceroute', 'tracepath', 'ping', 'tcpdump', 'tshark', 'nc', 'curl', 'wget', 'dig', 'nslookup', 'host',
  'ethtool', 'iperf', 'iperf3', 'udhcpc', 'dhclient', 'dnsmasq', 'radvd', 'ss', 'sysctl',
  'systemctl', 'service', 'apache2', 'apache2ctl', 'a2enmod', 'a2ensite', 'nginx', 'named', 'rndc', 'bind9',
  'vtysh', 'zebra', 'ospfd', 'ospf6d', 'bgpd', 'ripd', 'ripngd', 'isisd', 'staticd', 'ovs-vsctl', 'ovs-ofctl',
  'sshd', 'ssh', 'telnet', 'python', 'python3', 'perl', 'mysql', 'mysqld', 'nmap', 'hping3', 'socat',
] as const;

/** What labhost has (checked with `command -v` in the image); router and services are built FROM it. */
const LABHOST_COMMANDS = ['ip', 'bridge', 'ping', 'tcpdump', 'nc', 'curl', 'dig', 'nslookup', 'host', 'ethtool', 'iperf3', 'udhcpc', 'ss', 'sysctl', 'service', 'perl',
  'ifconfig', 'route', 'netstat', 'arp', 'brctl', 'iptables', 'ip6tables', 'ebtables', 'arping', 'traceroute', 'systemctl'];

export const IMAGE_TOOLS: Record<string, ImageTools> = {
  'dovelab/labhost': { commands: LABHOST_COMMANDS, services: [] },
  'dovelab/router': {
    commands: [...LABHOST_COMMANDS, 'vtysh', 'zebra', 'ospfd', 'ospf6d', 'bgpd', 'ripd', 'ripngd', 'isisd', 'staticd'],
    services: ['frr', 'quagga', 'zebra', 'ospfd', 'ospf6d', 'ripd', 'ripngd', 'bgpd', 'isisd', 'pimd', 'babeld'],
  },
  'dovelab/services': {
    commands: [...LABHOST_COMMANDS, 'apache2', 'apache2ctl', 'a2enmod', 'a2ensite', 'named', 'rndc', 'radvd'],
    services: ['apache2', 'named', 'bind9', 'radvd'],
  },
};

const WATCHED = new Set<string>(WATCHED_COMMANDS);
/** Words that run the command after them. */
const WRAPPERS = new Set(['sudo', 'exec', 'nohup', 'time', 'env', 'command', 'nice', 'timeout', 'setsid', 'stdbuf']);

/** What a script runs that `image` lacks: watched commands and services, in first-use order; undefined when the image is not in the table. */
export function missingTools(commands: string[][], image: string): { commands: string[]; services: string[] } | undefined {
  const tools = IMAGE_TOOLS[image];
  if (!tools) return undefined;
  const cmds = new Set<string>(); const services = new Set<string>();
  for (const words of commands) {
    let k = 0;
    while (k < words.length && (WRAPPERS.has(words[k]!) || /^[A-Za-z_]\w*=/.test(words[k]!) || (k > 0 && WRAPPERS.has(words[k - 1]!) && /^-|^\d+[smh]?$/.test(words[k]!)))) k++;
    const word = words[k];
    if (!word) continue;
    const cmd = word.split('/').pop()!;
    const rest = words.slice(k + 1);
    if (word.startsWith('/etc/init.d/')) services.add(cmd);
    else if (cmd === 'service' && rest[0] && !rest[0].startsWith('-')) services.add(rest[0]);
    else if (cmd === 'systemctl' && ['start', 'restart', 'enable', 'reload'].includes(rest[0] ?? '')) for (const s of rest.slice(1).filter((w) => !w.startsWith('-'))) services.add(s.replace(/\.service$/, ''));
    if (WATCHED.has(cmd) && !tools.commands.includes(cmd)) cmds.add(cmd);
  }
  return { commands: [...cmds], services: [...services].filter((s) => !tools.services.includes(s)) };
}

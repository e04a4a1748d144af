// The sim world's layout: namespaces and veths that play the school network and the dongles. Pure.

export interface SimLayout {
  world: string;
  capture: string;
  printer: string;
  /** Linux bridge inside the world netns: the school LAN. */
  lan: string;
  lanAddress: string;
  printerAddress: string;
  dhcpRange: [string, string];
  domain: string;
  /** Dongles: root-netns end (what the appliance sees) and far end. */
  dongles: { name: string; far: string; farNetns: string; toLan: boolean }[];
  stateDir: string;
  /** The training switch: a standalone OVS bridge, the far end of the trunk dongle (this VM's
   * kernel has no 8021q, so OVS makes and reads the tags). */
  trunk: { dongle: string; far: string; bridge: string };
}

export function simLayout(runDir: string): SimLayout {
  return {
    world: 'world',
    capture: 'capture',
    printer: 'printer',
    lan: 'lan0',
    lanAddress: '100.64.0.1/24',
    printerAddress: '100.64.0.10/24',
    dhcpRange: ['100.64.0.100', '100.64.0.199'],
    domain: 'school.test',
    dongles: [
      { name: 'up0', far: 'up0-lan', farNetns: 'world', toLan: true },
      { name: 'mir0', far: 'eth0', farNetns: 'capture', toLan: false },
    ],
    stateDir: `${runDir}/sim`,
    trunk: { dongle: 'up1', far: 'up1-sw', bridge: 'worldsw' },
  };
}

export const dnsmasqArgs = (l: SimLayout) => [
  'dnsmasq', '--conf-file=/dev/null', `--interface=${l.lan}`, '--bind-interfaces', '--no-resolv', '--no-hosts',
  `--dhcp-range=${l.dhcpRange[0]},${l.dhcpRange[1]},255.255.255.0,1h`, '--dhcp-authoritative',
  `--dhcp-leasefile=${l.stateDir}/dnsmasq.leases`, `--pid-file=${l.stateDir}/dnsmasq.pid`,
  `--domain=${l.domain}`, `--local=/${l.domain}/`, '--expand-hosts', '--log-dhcp',
  `--log-facility=${l.stateDir}/dnsmasq.log`, '--user=root', '--group=root',
  `--address=/printer.${l.domain}/${l.printerAddress.split('/')[0]}`,
];

/** dnsmasq's lease file: "expiry mac ip hostname clientid" per line. */
export interface Lease { expiry: number; mac: string; ip: string; hostname: string | undefined }
export function parseLeases(text: string): Lease[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => {
    const [expiry, mac, ip, hostname] = l.trim().split(/\s+/);
    return { expiry: Number(expiry), mac: mac ?? '', ip: ip ?? '', hostname: hostname && hostname !== '*' ? hostname : undefined };
  });
}

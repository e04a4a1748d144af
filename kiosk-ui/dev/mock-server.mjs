// DEV ONLY, not part of the product: serves dist/kiosk-ui/ with the agent's CSP and fake API
// answers, so the pages can be looked at and driven without the real agent.
//   node kiosk-ui/dev/mock-server.mjs [port]      (default 8099)
// Join code: ABCDEF (group 1). Hosts h1, h2 echo keystrokes; `web` closes with 4403, `busy` 4429.
// POST /dev/drop cuts every terminal socket (a network blip); POST /dev/tick flips a task;
// POST /dev/events-off makes /api/events fail; POST /dev/end-sessions forgets every session.
// Instructor console at /instructor (password: teacher). Captures: the group may capture h1.eth0 and
// h2.eth0 (fake packets every 300 ms, a pcap of header + records); POST /dev/capture-fail ends every
// recording capture with an error. CAPTURE_MAX_BYTES=4000 makes the size limit easy to reach.
// Dongles (GET /api/instructor/hardware, POST /api/instructor/dongle-role): a Pi 4 with up0, mir0
// (the running lesson's mirror: its role change is refused) and lab1 plugged in, lab2 pinned by MAC
// but not plugged in; DONGLES=dev shows a machine without NIC discovery (read-only map).
// `ws` is not installed, so the WebSocket server below is a minimal RFC 6455 implementation.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] ?? 8099);
const dist = join(dirname(fileURLToPath(import.meta.url)), '../../dist/kiosk-ui');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
const sessions = new Map(); // cookie -> group

const diagramSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="620pt" height="230pt" viewBox="0 0 620 230">
<title>group 1 wiring</title>
<rect x="0" y="0" width="620" height="230" fill="white"/>
<rect x="230" y="90" width="160" height="50" rx="6" fill="#dde5d0" stroke="#333"/>
<text x="310" y="120" text-anchor="middle" font-family="sans-serif" font-size="14">switch (ovs)</text>
<g font-family="sans-serif" font-size="12">
<rect x="20" y="20" width="140" height="54" rx="10" fill="#e8f0fb" stroke="#333"/><text x="90" y="42" text-anchor="middle">h1</text><text x="90" y="60" text-anchor="middle">10.0.1.1/24</text>
<rect x="20" y="156" width="140" height="54" rx="10" fill="#e8f0fb" stroke="#333"/><text x="90" y="178" text-anchor="middle">h2</text><text x="90" y="196" text-anchor="middle">10.0.1.2/24</text>
<rect x="460" y="88" width="140" height="54" rx="10" fill="#e8f0fb" stroke="#333"/><text x="530" y="110" text-anchor="middle">web</text><text x="530" y="128" text-anchor="middle">10.0.2.10/24 · VLAN 20</text>
<path d="M160 47 L230 105 M160 183 L230 125 M390 115 L460 115" stroke="#333" stroke-width="2" fill="none"/>
</g></svg>`;

const readmeHtml = `<h1>Lesson 1: ping across a switch</h1>
<p>Your group has three hosts on one virtual switch. <strong>h1</strong> and <strong>h2</strong> share a LAN; <strong>web</strong> sits on VLAN 20.</p>
<h2>1. Say hello</h2>
<p>Open a terminal on <code>h1</code> and ping <code>h2</code>:</p>
<pre><code>ping -c 3 10.0.1.2
</code></pre>
<p>Watch the task list: the first task turns green within a few seconds.</p>
<h2>2. Find the web server</h2>
<ol><li>Look at the diagram: which VLAN is <code>web</code> on?</li><li>Try <code>curl http://10.0.2.10/</code> from <code>h2</code>.</li><li>Explain why it fails.</li></ol>
<table><thead><tr><th>Host</th><th>Address</th></tr></thead><tbody><tr><td>h1</td><td>10.0.1.1</td></tr><tr><td>h2</td><td>10.0.1.2</td></tr></tbody></table>
<blockquote><p>Tip: <code>ip addr</code> shows a host's addresses.</p></blockquote>
<p>Read more in <a href="https://example.org/osi">the OSI model notes</a>.</p>`;

let tick = 0;
let studentAcls = [];
const tasks = () => [
  { id: 'ping', title: 'h1 can reach h2', status: 'pass', reason: 'h1 → h2: 3/3 replies' },
  { id: 'arp', title: 'h2 knows h1’s MAC address', hint: 'An ARP entry appears after the first ping: try `ip neigh` on h2.', status: tick % 2 ? 'pass' : 'fail', reason: 'h2 has no ARP entry for 10.0.1.1 yet' },
  { id: 'web', title: 'h2 cannot reach web (different VLAN)', hint: 'VLANs are separate layer-2 networks.', status: 'unknown', reason: '' },
  { id: 'dns', title: 'web answers HTTP on port 80', status: 'error', reason: 'The check could not run: web is not running' },
  { id: 'trace', title: 'Trace the path from h1 to web', hint: 'traceroute is installed on every host.', status: 'fail', reason: 'No route from h1 to 10.0.2.10' },
];
const group = () => ({
  lab: { id: 'lesson-1', title: 'Lesson 1: ping across a switch', startedAt: new Date(Date.now() - 600e3).toISOString() },
  group: 1, readmeHtml, diagramSvg,
  hosts: [
    { name: 'h1', running: true, interfaces: [{ name: 'eth0', ip: '10.0.1.1', addresses: ['10.0.1.1/24'], network: 'lan', vlan: 0 }] },
    { name: 'h2', running: true, interfaces: [{ name: 'eth0', ip: '10.0.1.2', addresses: ['10.0.1.2/24'], network: 'lan', vlan: 0 }] },
    { name: 'web', running: false, interfaces: [{ name: 'eth0', ip: '10.0.2.10', addresses: ['10.0.2.10/24'], network: 'dmz', vlan: 20 }] },
  ],
  tasks: tasks(),
  checkedAt: new Date().toISOString(),
  controls: { acls: [{ target: 'h1.eth0', options: ['no-ping', 'no-http'], applied: studentAcls }], capture: ['h1.eth0', 'h2.eth0'] },
});
/** ACL hit counters (GET /api/.../acl-counters): the mock's two ACLs, counts growing with time. */
const MOCK_RULES = { 'no-ping': [['drop', 'ip_proto=icmp'], ['allow', 'any']], 'no-http': [['drop', 'ip_proto=tcp tcp_dst=80'], ['allow', 'any']] };
const counterRows = (target, group, acl) => (MOCK_RULES[acl] ?? []).map(([action, match], rule) => {
  const packets = Math.floor((Date.now() / 1000) % 100000) % (rule ? 12000 : 37) + group + rule * 1234;
  return { target, group, acl, rule, action, match, packets, bytes: packets * 98 };
});
const qrSvg = (() => { // a fake but QR-looking 25x25 pattern (the agent draws a real one with uqr)
  const n = 25; let d = '';
  const finder = (x, y) => { d += `M${x} ${y}h7v7h-7zM${x + 1} ${y + 1}v5h5v-5zM${x + 2} ${y + 2}h3v3h-3z`; };
  finder(0, 0); finder(18, 0); finder(0, 18);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const inFinder = (x < 8 && y < 8) || (x > 16 && y < 8) || (x < 8 && y > 16);
    if (!inFinder && ((x * 7 + y * 13 + x * y) % 5 < 2)) d += `M${x} ${y}h1v1h-1z`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 29 29" shape-rendering="crispEdges"><rect x="-2" y="-2" width="29" height="29" fill="#fff"/><path fill="#000" fill-rule="evenodd" d="${d}"/></svg>`;
})();
const UV = 'under-voltage: power supply too weak';
let alarms = process.env.ALARMS === '0' ? [] : process.env.ALARMS === 'hw' ? [UV, 'CPU throttled (heat or power)'] : ['Host web of group 3 is down', 'Disk 91% full', UV, 'CPU throttled (heat or power)'];
const kiosk = () => ({
  appliance: 'dovelab-pi-07',
  joinUrls: ['http://dovelab-pi-07.local/', 'http://192.168.10.57/'],
  qrSvg,
  lesson: { id: 'lesson-1', title: 'Lesson 1: ping across a switch', groups: 6, tasks: 5 },
  progress: [1, 2, 3, 4, 5, 6].map((g) => ({ group: g, done: Math.min(5, (g * 2 + tick) % 6), total: 5 })),
  alarms,
});

// --- instructor console ---
const GROUPS = 6;
const webIp = (g) => (g === 1 ? '10.0.2.10' : `10.0.${g + 100}.10`);
const CODES = ['KXBRTM', 'PLQWZD', 'HVNCJS', 'MTRGBY', 'DZWKFL', 'QSXHPN'];
const teachers = new Set(); // instructor cookies
const ifState = new Map(); // `${group}:${host}.${iface}` -> { acls, mirroredTo }
const hostList = () => {
  const out = [];
  for (let g = 1; g <= GROUPS; g++) {
    out.push({ name: 'h1', group: g, running: true, interfaces: [{ name: 'eth0', ip: `10.0.${g}.1`, network: 'lan', vlan: 0 }] });
    out.push({ name: 'h2', group: g, running: true, interfaces: [{ name: 'eth0', ip: `10.0.${g}.2`, network: 'lan', vlan: 0 }] });
    out.push({ name: 'web', group: g, running: g !== 3, interfaces: [{ name: 'eth0', ip: webIp(g), network: 'dmz', vlan: 20 }] });
  }
  out.push({ name: 'router', group: 0, running: true, interfaces: [
    { name: 'eth0', ip: '10.0.0.254', network: 'lan', vlan: 0 }, { name: 'eth1', ip: '10.0.200.254', network: 'dmz', vlan: 20 }] });
  return out.map((h) => ({ ...h, interfaces: h.interfaces.map((i) => ({ ...i, portOk: h.running, acls: [], mirroredTo: [], ...ifState.get(`${h.group}:${h.name}.${i.name}`) })) }));
};
const classView = () => {
  const now = Date.now();
  const ts = tasks();
  const groups = Array.from({ length: GROUPS }, (_, i) => {
    const g = i + 1;
    const cells = ts.map((t, k) => {
      const status = k < ((g * 3 + tick) % 6) ? 'pass' : k === 3 && g === 3 ? 'error' : g % 2 && k === 4 ? 'unknown' : 'fail';
      return { id: t.id, status, reason: status === 'pass' ? '' : t.reason, ...(status === 'pass' ? {} : { since: new Date(now - g * 97e3).toISOString() }) };
    });
    const done = cells.filter((c) => c.status === 'pass').length;
    return { group: g, code: CODES[i], done, total: ts.length, tasks: cells,
      ...(done < ts.length ? { stuckSince: new Date(now - (g * 211e3) % 1500e3).toISOString(), stuckForS: Math.round(((g * 211e3) % 1500e3) / 1000) } : {}) };
  }).sort((a, b) => (b.stuckForS ?? -1) - (a.stuckForS ?? -1));
  return {
    generatedAt: new Date(now).toISOString(), appliance: 'dovelab-pi-07', joinUrls: kiosk().joinUrls,
    lab: { id: 'lesson-1', title: 'Lesson 1: ping across a switch', startedAt: new Date(now - 600e3).toISOString(), groups: GROUPS, source: '/usr/share/dovelab/lessons/lesson-1' },
    tasks: ts.map(({ id, title }) => ({ id, title })),
    groups, hosts: hostList(), acls: ['no-ping', 'no-http'], mirrors: ['tap'],
    checkedAt: new Date(now - 4e3).toISOString(), alarms,
    health: {
      load: [0.42, 0.61, 0.58], cpus: 4, memory: { totalMb: 7810, availableMb: 5121 },
      disk: { usedFraction: 0.91, freeMb: 2650, path: '/var/lib/dovelab' }, cpuTempC: 58.4,
      infra: { docker: true, containers: { ovs: 'running', faucet: 'running', gauge: 'running' }, faucetDpUp: true },
      dongles: [{ name: 'eth1', role: 'uplink', present: true }],
      neighbours: [{ name: 'dovelab-pi-03', url: 'http://dovelab-pi-03.local/', version: '0.1.0' }],
      throttled: { raw: alarms.length ? '0x50005' : '0x0', source: 'vcgencmd',
        now: { underVoltage: alarms.length > 0, frequencyCapped: false, throttled: alarms.length > 0, softTempLimit: false },
        occurred: { underVoltage: alarms.length > 0, frequencyCapped: false, throttled: alarms.length > 0, softTempLimit: false } },
      warnings: alarms.length ? [{ code: 'under-voltage', message: UV }, { code: 'throttled', message: 'CPU throttled (heat or power)' },
        { code: 'disk', message: 'disk 91% full, 2650 MB free' }] : [],
    },
  };
};
const lessons = () => [
  { id: 'lesson-1', title: 'Lesson 1: ping across a switch', summary: 'Hosts, a switch and a VLAN.', minutes: 45, level: 'beginner', version: '1.2.0', bundled: true, groups: { default: 6, max: 15 } },
  { id: 'acl-firewall', title: 'ACLs: a firewall in the switch', minutes: 60, version: '0.3.1', bundled: false, groups: { default: 4, max: 12 }, installedAt: new Date(Date.now() - 86400e3).toISOString() },
  { id: 'broken-pack', title: 'broken-pack', version: '?', bundled: false, error: 'lesson.yaml: hosts[2].image is missing' },
];
// --- Dongles: what `dovelab hardware scan --json` would say on a Pi 4 after first boot.
const nic = (o) => ({ driver: null, usbPath: null, mac: null, carrier: null, dongle: false, role: null, assignedName: null, bus: null, vendor: null, product: null,
  model: null, speed: null, operstate: 'up', wireless: false, virtual: false, onboard: false, idPath: null, reason: '', ...o });
const dongleNics = [
  nic({ name: 'up0', driver: 'r8152', usbPath: '1-1.2', mac: '00:e0:4c:36:00:01', carrier: true, speed: 100, dongle: true, bus: 'usb', vendor: '0bda', product: '8152', model: 'USB 10/100 LAN', reason: 'USB Ethernet dongle (r8152) in port 1-1.2' }),
  nic({ name: 'mir0', driver: 'r8152', usbPath: '2-2', mac: '00:e0:4c:68:00:02', carrier: true, speed: 1000, dongle: true, bus: 'usb', vendor: '0bda', product: '8153', model: 'USB 10/100/1000 LAN', reason: 'USB Ethernet dongle (r8152) in port 2-2' }),
  nic({ name: 'lab1', driver: 'ax88179_178a', usbPath: '1-1.3', mac: '00:0e:c6:88:17:90', carrier: false, dongle: true, bus: 'usb', vendor: '0b95', product: '1790', model: 'AX88179', operstate: 'down', reason: 'USB Ethernet dongle (ax88179_178a) in port 1-1.3' }),
];
const otherNics = [
  nic({ name: 'eth0', driver: 'bcmgenet', mac: 'dc:a6:32:01:02:03', carrier: true, speed: 1000, bus: 'platform', reason: "platform bus (bcmgenet): not USB, the machine's own network port" }),
  nic({ name: 'wlan0', driver: 'brcmfmac', mac: 'dc:a6:32:01:02:04', carrier: true, bus: 'sdio', wireless: true, reason: 'Wi-Fi (brcmfmac): never a dongle' }),
  nic({ name: 'docker0', virtual: true, operstate: 'down', reason: 'virtual interface (bridge): no hardware device' }),
  nic({ name: 'lo', virtual: true, carrier: true, operstate: 'unknown', reason: 'virtual interface (loopback): no hardware device' }),
];
// name -> { role, source, match? }; lab2 is an entry for a dongle not plugged in now.
const dongleRoles = new Map([['up0', { role: 'uplink', source: 'kept' }], ['mir0', { role: 'mirror', source: 'kept' }], ['lab1', { role: 'lab', source: 'kept' }],
  ['lab2', { role: 'lab', source: 'config', match: { mac: '00:e0:4c:68:00:09' } }]]);
const hardwareView = () => {
  if (process.env.DONGLES === 'dev') {
    return { discovery: false, editable: false, interfaces: [], assignments: [], warnings: [], inUse: [{ iface: 'mir0', role: 'mirror', by: 'the running lesson "Lesson 1: ping across a switch" (first-switch)' }],
      dongles: [{ name: 'up0', role: 'uplink', present: true }, { name: 'up1', role: 'uplink', present: true }, { name: 'mir0', role: 'mirror', present: true }],
      note: 'No NIC discovery on this machine (its config has no `hardware:` section): lessons use the `dongles:` map as written. On the Pi, the USB Ethernet dongles found are listed here and their roles are changed here or with `dovelab hardware role`.' };
  }
  const assignments = [...dongleRoles].map(([name, r]) => {
    const n = dongleNics.find((x) => x.name === name);
    return { name, role: r.role, present: !!n, ...(n ? { ifname: n.name } : {}), source: r.source, match: r.match ?? { usbPath: n.usbPath } };
  });
  const interfaces = [...dongleNics.map((n) => ({ ...n, role: dongleRoles.get(n.name).role, assignedName: n.name })), ...otherNics];
  return {
    discovery: true, editable: true, interfaces, assignments, warnings: [],
    dongles: assignments.filter((a) => a.role !== 'unused').map((a) => ({ name: a.name, role: a.role, present: a.present })),
    inUse: [{ iface: 'mir0', role: 'mirror', by: 'the running lesson "Lesson 1: ping across a switch" (first-switch)' }],
  };
};
const dongleRole = (b) => {
  const name = [...dongleRoles].find(([n, r]) => {
    const nicNow = dongleNics.find((x) => x.name === n);
    return b.match?.usbPath ? nicNow?.usbPath === b.match.usbPath : (r.match?.mac ?? nicNow?.mac) === b.match?.mac;
  })?.[0];
  if (!name) return [400, { error: 'match: no dongle there (dev mock)' }];
  if (!b.remove && !['uplink', 'mirror', 'lab', 'unused'].includes(b.role)) return [400, { error: `role: expected uplink, mirror, lab or unused, got ${JSON.stringify(b.role)}` }];
  if (name === 'mir0') return [409, { error: 'mir0 is the mirror dongle of the running lesson "Lesson 1: ping across a switch" (first-switch); the change would make it lab1, a lab dongle. Stop it first, then change the role.' }];
  const cur = dongleRoles.get(name);
  const role = b.remove ? 'lab' : b.role;
  // The new stable name (like the agent: the role's default name unless one is given); the dongle is renamed.
  const prefix = { uplink: 'up', mirror: 'mir', lab: 'lab', unused: 'spare' }[role];
  let to = b.name || (cur.role === role ? name : '');
  for (let i = prefix === 'up' || prefix === 'mir' ? 0 : 1; !to; i++) if (!dongleRoles.has(`${prefix}${i}`)) to = `${prefix}${i}`;
  dongleRoles.delete(name);
  dongleRoles.set(to, b.remove ? { role, source: 'kept' } : { role, source: 'config', match: b.match });
  const nicNow = dongleNics.find((x) => x.name === name);
  if (nicNow) nicNow.name = to;
  const map = [...dongleRoles].filter(([, r]) => r.role !== 'unused').map(([n, r]) => `${n} ${r.role}`).join(', ');
  return [200, { ok: true, ms: 300, message: `${b.match.usbPath ? `USB port ${b.match.usbPath}` : `MAC ${b.match.mac}`} is ${b.remove ? 'back to the defaults' : b.role} (was ${cur.role}). Dongles now: ${map}`, view: hardwareView() }];
};

const teacherOf = (req) => teachers.has(/(?:^|;\s*)dovelab_instructor=([^;]+)/.exec(req.headers.cookie ?? '')?.[1]);

// --- captures (the contract in agent/web/api-types.ts, section "Captures") ---
const CAPTURE_MAX_BYTES = Number(process.env.CAPTURE_MAX_BYTES ?? 1024 * 1024);
const captures = new Map(); // id -> { view, owner, records: Buffer[], recent, live: Set<res>, files: Set<res>, timers }
const pcapHeader = () => {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0); b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6); // magic, version 2.4
  b.writeInt32LE(0, 8); b.writeUInt32LE(0, 12); b.writeUInt32LE(262144, 16); b.writeUInt32LE(1, 20); // zone, sigfigs, snaplen, linktype 1 (Ethernet)
  return b;
};
const mac = (g, h) => `0e:00:00:00:${g.toString(16).padStart(2, '0')}:${h.toString(16).padStart(2, '0')}`;
/** What a host's interface sees, in a loop: ARP, ping, a refused TCP connection, an HTTP request, DNS. */
function script(target, g) {
  const [host] = target.split('.');
  const me = host === 'h2' ? 2 : host === 'web' ? 10 : 1;
  const peer = me === 1 ? 2 : 1;
  const a = host === 'web' ? webIp(g) : `10.0.${g}.${me}`, b = `10.0.${g}.${peer}`, web = webIp(g);
  const A = mac(g, me), B = mac(g, peer), GW = mac(0, 254);
  const ip4 = (s, d, len, rest) => ({ len, src: s, dst: d, type: 0x0800, summary: `${s} > ${d}, ethertype IPv4 (0x0800), length ${len}: ${rest}` });
  let seq = 0;
  return () => {
    const i = seq++;
    const n = Math.floor(i / 8) + 1;
    switch (i % 8) {
      case 0: return { len: 42, src: A, dst: 'ff:ff:ff:ff:ff:ff', type: 0x0806, summary: `${A} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${b} tell ${a}, length 28` };
      case 1: return { len: 42, src: B, dst: A, type: 0x0806, summary: `${B} > ${A}, ethertype ARP (0x0806), length 42: Reply ${b} is-at ${B}, length 28` };
      case 2: return ip4(A, B, 98, `${a} > ${b}: ICMP echo request, id 4711, seq ${n}, length 64`);
      case 3: return ip4(B, A, 98, `${b} > ${a}: ICMP echo reply, id 4711, seq ${n}, length 64`);
      case 4: return ip4(A, GW, 74, `${a}.${43510 + n} > ${web}.80: Flags [S], seq ${1948301 * n % 4294967296}, win 64240, options [mss 1460,sackOK,TS val ${2041 * n} ecr 0,nop,wscale 7], length 0`);
      case 5: return { ...ip4(A, GW, 144, `${a}.${43510 + n} > ${web}.80: Flags [P.], seq 1:79, ack 1, win 502, options [nop,nop,TS val ${2041 * n + 3} ecr 88], length 78: HTTP: GET / HTTP/1.1`),
        text: `GET / HTTP/1.1\r\nHost: ${web}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n` };
      case 6: return ip4(A, GW, 75, `${a}.${51000 + n} > 10.0.0.254.53: ${30000 + n}+ A? web.lab.example. (33)`);
      default: return { ...ip4(GW, A, 91, `10.0.0.254.53 > ${a}.${51000 + n}: ${30000 + n} 1/0/0 A ${web} (49)`), text: 'web.lab.example' };
    }
  };
}
const sse = (res, event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
function endCapture(c, reason) {
  if (c.view.state !== 'recording') return;
  for (const t of c.timers) clearInterval(t);
  c.view = { ...c.view, state: 'done', endReason: reason };
  for (const r of c.live) { sse(r, 'end', c.view); r.end(); }
  for (const r of c.files) r.end();
  c.live.clear(); c.files.clear();
}
function startCapture(owner, target, group, seconds) {
  const id = randomBytes(6).toString('hex');
  const now = Date.now();
  const view = {
    id, target, group, port: `g${group}-${target.replace('.', '-')}`, state: 'recording',
    startedAt: new Date(now).toISOString(), endsAt: new Date(now + seconds * 1000).toISOString(),
    packets: 0, bytes: 24, maxBytes: CAPTURE_MAX_BYTES, filter: `ether host ${mac(group, target.startsWith('h2') ? 2 : 1)}`,
    pcapUrl: `/api/capture/${id}/pcap`, liveUrl: `/api/capture/${id}/live`,
  };
  const c = { view, owner, records: [pcapHeader()], recent: [], live: new Set(), files: new Set(), timers: [] };
  const next = script(target, group || 1);
  c.timers.push(setInterval(() => {
    const p = next();
    const rec = Buffer.alloc(16 + p.len);
    const t = Date.now() - now;
    rec.writeUInt32LE(Math.floor((now + t) / 1000), 0); rec.writeUInt32LE(((now + t) % 1000) * 1000, 4);
    rec.writeUInt32LE(p.len, 8); rec.writeUInt32LE(p.len, 12);
    Buffer.from(p.dst.replaceAll(':', ''), 'hex').copy(rec, 16); Buffer.from(p.src.replaceAll(':', ''), 'hex').copy(rec, 22); rec.writeUInt16BE(p.type, 28);
    if (c.view.bytes + rec.length > c.view.maxBytes) return endCapture(c, 'size');
    c.records.push(rec);
    c.view = { ...c.view, packets: c.view.packets + 1, bytes: c.view.bytes + rec.length };
    const packet = { n: c.view.packets, t: t / 1000, len: p.len, summary: p.summary, ...(p.text ? { text: p.text } : {}) };
    c.recent.push(packet); if (c.recent.length > 100) c.recent.shift();
    for (const r of c.live) sse(r, 'packet', packet);
    for (const r of c.files) r.write(rec);
  }, 300));
  c.timers.push(setTimeout(() => endCapture(c, 'time'), seconds * 1000));
  captures.set(id, c);
  return c;
}
/** The capture routes for a student session (owner = its cookie) or the instructor (owner 'instructor', sees all). */
async function captureRoute(req, res, p, who) {
  const mine = (c) => who.teacher || c.owner === who.owner;
  const m = /^\/api\/capture\/([0-9a-f]+)\/(stop|live|pcap)$/.exec(p);
  if (p === '/api/captures' && req.method === 'GET') {
    if (!who.owner && !who.teacher) return json(res, 401, { error: 'Join a group first.' });
    return json(res, 200, [...captures.values()].filter(mine).map((c) => c.view).reverse());
  }
  if ((p === '/api/capture' || p === '/api/instructor/capture') && req.method === 'POST') {
    const teacher = p === '/api/instructor/capture';
    if (teacher ? !who.teacher : !who.owner) return json(res, 401, { error: teacher ? 'log in as the instructor first' : 'Join a group first.' });
    let b = {};
    try { b = JSON.parse(await readBody(req)); } catch { return json(res, 400, { error: 'expected JSON {"target": "host.interface"}' }); }
    const seconds = b.seconds ?? 30;
    if (typeof b.target !== 'string' || !Number.isInteger(seconds) || seconds < 1 || seconds > 300) return json(res, 400, { error: 'expected {"target": "host.interface", "seconds": 1..300}' });
    const grp = teacher ? (b.group ?? 0) : who.group;
    if (teacher) {
      const [h, i] = b.target.split('.');
      if (!hostList().some((x) => x.name === h && x.group === grp && x.interfaces.some((f) => f.name === i))) return json(res, 404, { error: `no interface ${b.target} in group ${grp}` });
    } else if (!group().controls.capture.includes(b.target)) return json(res, 403, { error: `the lesson does not let your group capture ${b.target}` });
    const owner = teacher ? 'instructor' : who.owner;
    if ([...captures.values()].filter((c) => c.owner === owner && c.view.state === 'recording').length >= (teacher ? 4 : 2)) {
      return json(res, 429, { error: 'Too many captures at once: stop one first.' });
    }
    return json(res, 201, startCapture(owner, b.target, grp, seconds).view);
  }
  if (!m) return false;
  const c = captures.get(m[1]);
  if (!who.owner && !who.teacher) return json(res, 401, { error: 'Join a group first.' });
  if (!c) return json(res, 404, { error: 'no such capture' });
  if (!mine(c)) return json(res, 403, { error: 'not your capture' });
  if (m[2] === 'stop' && req.method === 'POST') { endCapture(c, 'stopped'); return json(res, 200, c.view); }
  if (m[2] === 'live') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'content-security-policy': CSP });
    for (const pk of c.recent.slice(-50)) sse(res, 'packet', pk);
    if (c.view.state !== 'recording') { sse(res, 'end', c.view); return res.end(); }
    c.live.add(res); req.on('close', () => c.live.delete(res));
    return;
  }
  if (m[2] === 'pcap') {
    const stamp = c.view.startedAt.replace(/[-:]/g, '').replace(/\..*/, '');
    res.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap', 'content-disposition': `attachment; filename="${c.view.port}-${stamp}.pcap"`, 'content-security-policy': CSP });
    for (const r of c.records) res.write(r);
    if (c.view.state !== 'recording') return res.end();
    c.files.add(res); req.on('close', () => c.files.delete(res));
    return;
  }
  return json(res, 405, { error: 'method not allowed' });
}

const cookieOf = (req) => /(?:^|;\s*)dl=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
const json = (res, status, body, extra = {}) => { res.writeHead(status, { 'content-type': 'application/json', 'content-security-policy': CSP, ...extra }); res.end(JSON.stringify(body)); };
const readBody = (req) => new Promise((r) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => r(b)); });

const streams = new Set();
let eventsOff = false; // POST /dev/events-off: the stream fails, so the kiosk must poll
const push = () => {
  for (const s of streams) {
    s.res.write(`event: kiosk\ndata: ${JSON.stringify(kiosk())}\n\n`);
    if (s.group) s.res.write(`event: group\ndata: ${JSON.stringify(group())}\n\n`);
    if (s.teacher) s.res.write(`event: instructor\ndata: ${JSON.stringify(classView())}\n\n`);
  }
};

const server = createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  const p = u.pathname;
  const g = sessions.get(cookieOf(req));
  if (p === '/api/session') return json(res, 200, { group: g ?? null, lab: g ? 'lesson-1' : null });
  if (p === '/api/join' && req.method === 'POST') {
    let code = '';
    try { code = JSON.parse(await readBody(req)).code; } catch { /* */ }
    if (code !== 'ABCDEF') return json(res, 400, { error: 'No group has that code. Check the card and try again.' });
    const c = randomBytes(9).toString('hex'); sessions.set(c, 1);
    return json(res, 200, { group: 1, lab: 'lesson-1' }, { 'set-cookie': `dl=${c}; HttpOnly; SameSite=Strict; Path=/` });
  }
  if (p === '/api/leave' && req.method === 'POST') { sessions.delete(cookieOf(req)); return json(res, 200, {}); }
  if (p === '/api/group') return g ? json(res, 200, group()) : json(res, 401, { error: 'Join a group first.' });
  if (p === '/api/kiosk') return json(res, 200, kiosk());
  if (p === '/api/events') {
    if (eventsOff) return json(res, 503, { error: 'events off (dev)' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'content-security-policy': CSP });
    const s = { res, group: g, teacher: teacherOf(req) }; streams.add(s);
    res.write(`event: kiosk\ndata: ${JSON.stringify(kiosk())}\n\n`);
    if (g) res.write(`event: group\ndata: ${JSON.stringify(group())}\n\n`);
    if (s.teacher) res.write(`event: instructor\ndata: ${JSON.stringify(classView())}\n\n`);
    req.on('close', () => streams.delete(s));
    return;
  }
  if (p === '/api/controls/acl-counters') {
    if (!g) return json(res, 401, { error: 'Join a group first.' });
    return json(res, 200, { readAt: new Date().toISOString(), counters: studentAcls.flatMap((a) => counterRows('h1.eth0', 1, a)) });
  }
  if (p === '/api/controls/acl' && req.method === 'POST') {
    if (!g) return json(res, 401, { error: 'Join a group first.' });
    let b = {};
    try { b = JSON.parse(await readBody(req)); } catch { /* */ }
    if (b.target !== 'h1.eth0' || !Array.isArray(b.acls) || b.acls.some((a) => !['no-ping', 'no-http'].includes(a))) return json(res, 403, { error: 'The lesson does not offer that switch.' });
    studentAcls = b.acls; push();
    return json(res, 200, group());
  }
  if (p.startsWith('/api/capture')) {
    const r = await captureRoute(req, res, p, { owner: g ? cookieOf(req) : undefined, group: g, teacher: teacherOf(req) });
    if (r !== false) return;
  }
  if (p.startsWith('/api/instructor/')) return instructorRoute(req, res, p);
  if (p === '/dev/capture-fail' && req.method === 'POST') { for (const c of captures.values()) endCapture(c, 'tcpdump stopped: the capture port went away'); return json(res, 200, {}); }
  if (p === '/dev/tick' && req.method === 'POST') { tick++; push(); return json(res, 200, { tick }); }
  if (p === '/dev/alarms' && req.method === 'POST') { alarms = alarms.length ? [] : ['Host web of group 3 is down', 'Disk 91% full', UV, 'CPU throttled (heat or power)']; push(); return json(res, 200, { alarms }); }
  if (p === '/dev/events-off' && req.method === 'POST') { eventsOff = true; for (const s of streams) s.res.destroy(); streams.clear(); return json(res, 200, {}); }
  if (p === '/dev/end-sessions' && req.method === 'POST') { sessions.clear(); for (const s of streams) s.res.destroy(); streams.clear(); return json(res, 200, {}); }
  if (p === '/dev/drop' && req.method === 'POST') { for (const s of sockets) s.destroy(); sockets.clear(); return json(res, 200, {}); }
  const file = p === '/' ? 'student.html' : p === '/kiosk' ? 'kiosk.html' : p === '/instructor' ? 'instructor.html' : normalize(p).replace(/^(\.\.[/\\])+/, '').slice(1);
  const full = join(dist, file);
  if (!full.startsWith(dist) || !existsSync(full) || !extname(full)) { res.writeHead(404, { 'content-security-policy': CSP }); return res.end('not found'); }
  res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'no-store' });
  res.end(readFileSync(full));
});

async function instructorRoute(req, res, p) {
  const cookie = /(?:^|;\s*)dovelab_instructor=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const loggedIn = teachers.has(cookie);
  if (p === '/api/instructor/session') return json(res, 200, { configured: true, loggedIn });
  if (p === '/api/instructor/login' && req.method === 'POST') {
    let b = {};
    try { b = JSON.parse(await readBody(req)); } catch { /* */ }
    if (b.password !== 'teacher') return json(res, 403, { error: 'wrong password' });
    const c = randomBytes(9).toString('hex'); teachers.add(c);
    return json(res, 200, { configured: true, loggedIn: true }, { 'set-cookie': `dovelab_instructor=${c}; HttpOnly; SameSite=Strict; Path=/` });
  }
  if (!loggedIn) return json(res, 401, { error: 'log in as the instructor first' });
  if (p === '/api/instructor/logout') { teachers.delete(cookie); return json(res, 200, {}); }
  if (p === '/api/instructor/class') return json(res, 200, classView());
  if (p === '/api/instructor/acl-counters') {
    const counters = [...ifState.entries()].flatMap(([key, st]) => { const [grp, target] = key.split(':'); return (st.acls ?? []).flatMap((a) => counterRows(target, Number(grp), a)); });
    return json(res, 200, { readAt: new Date().toISOString(), counters });
  }
  if (p === '/api/instructor/lessons') return json(res, 200, lessons());
  if (p === '/api/instructor/diagram') return json(res, 200, { svg: diagramSvg });
  if (p === '/api/instructor/cards') {
    return json(res, 200, { lesson: 'Lesson 1: ping across a switch', cards: CODES.map((code, i) => ({ group: i + 1, code, url: `http://192.168.10.57/?code=${code}`, qrSvg })) });
  }
  if (p === '/api/instructor/capture') return captureRoute(req, res, p, { teacher: true });
  if (p === '/api/instructor/hardware') return json(res, 200, hardwareView());
  if (p === '/api/instructor/networks') return json(res, 200, { acls: [], mirrors: ['mir0'], networks: [] });
  if (p === '/api/instructor/dongle-role' && req.method === 'POST') {
    let body = {};
    try { body = JSON.parse(await readBody(req)); } catch { /* */ }
    await new Promise((r) => setTimeout(r, 300));
    const [status, answer] = dongleRole(body);
    return json(res, status, answer);
  }
  if (req.method !== 'POST') return json(res, 404, { error: 'not found' });
  let b = {};
  try { b = JSON.parse(await readBody(req)); } catch { /* */ }
  await new Promise((r) => setTimeout(r, 400));
  const key = `${b.group ?? 0}:${b.target}`;
  const cur = { acls: [], mirroredTo: [], ...ifState.get(key) };
  if (p === '/api/instructor/acl') { ifState.set(key, { ...cur, acls: b.acls }); push(); return json(res, 200, { ok: true, message: `${b.target} (group ${b.group ?? 'shared'}): ${b.acls.join(', ') || 'no ACLs'}`, ms: 400 }); }
  if (p === '/api/instructor/mirror') {
    ifState.set(key, { ...cur, mirroredTo: b.on ? [b.mirror] : [] }); push();
    return json(res, 200, { ok: true, message: `mirror of ${b.target} to ${b.mirror} ${b.on ? 'on' : 'off'}`, ms: 400 });
  }
  return json(res, 200, { ok: true, message: `${p.split('/').pop()}: done (dev mock)`, ms: 400 });
}

// --- minimal WebSocket (RFC 6455): enough for the fake terminal ---
const sockets = new Set();
function frame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 255]) : (() => { const b = Buffer.alloc(10); b[0] = 0x80 | opcode; b[1] = 127; b.writeBigUInt64BE(BigInt(n), 2); return b; })();
  return Buffer.concat([head, payload]);
}
const closeFrame = (code, reason = '') => { const b = Buffer.alloc(2 + Buffer.byteLength(reason)); b.writeUInt16BE(code); b.write(reason, 2); return frame(8, b); };

server.on('upgrade', (req, sock) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname !== '/api/terminal') return sock.destroy();
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const host = u.searchParams.get('host');
  const g = sessions.get(cookieOf(req));
  const out = (s) => sock.write(frame(2, Buffer.from(s)));
  if (!g) { sock.end(closeFrame(4401, 'no session')); return; }
  if (host === 'web') { sock.end(closeFrame(4403, 'not your group')); return; }
  if (host === 'busy') { sock.end(closeFrame(4429, 'too many terminals')); return; }
  if (host !== 'h1' && host !== 'h2') { sock.end(closeFrame(4404, 'no such host')); return; }
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  const prompt = `\x1b[1;32mroot@${host}\x1b[0m:\x1b[1;34m~\x1b[0m# `;
  out(`Fake terminal on ${host} (dev mock). Type; Enter echoes the line.\r\n${prompt}`);
  let line = '';
  let buf = Buffer.alloc(0);
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const op = buf[0] & 15; let len = buf[1] & 127; let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; } else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = buf[1] & 128; const mask = masked ? buf.subarray(off, off + 4) : null; if (masked) off += 4;
      if (buf.length < off + len) return;
      const data = Buffer.from(buf.subarray(off, off + len)); buf = buf.subarray(off + len);
      if (mask) for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3];
      if (op === 8) { sock.end(frame(8, data.subarray(0, 2))); return; }
      if (op === 9) { sock.write(frame(10, data)); continue; }
      if (op !== 1 && op !== 2) continue;
      const text = data.toString('utf8');
      if (text.startsWith('{')) {
        try { const m = JSON.parse(text); if (m.type === 'resize') { console.log(`resize ${host} ${m.cols}x${m.rows}`); continue; } } catch { /* keystrokes */ }
      }
      for (const ch of text) {
        if (ch === '\r') { out(`\r\n${line ? `you typed: ${line}\r\n` : ''}${prompt}`); line = ''; }
        else if (ch === '\x7f') { if (line) { line = line.slice(0, -1); out('\b \b'); } }
        else if (ch === '\x03') { out(`^C\r\n${prompt}`); line = ''; }
        else if (ch === '\x04') { out('logout\r\n'); sock.end(closeFrame(1000, 'shell ended')); return; }
        else if (ch >= ' ') { line += ch; out(ch); }
      }
    }
  });
});

server.listen(port, () => console.log(`mock: http://localhost:${port}/  (code ABCDEF)  kiosk: /kiosk`));

// DEV ONLY, not part of the product: serves dist/kiosk-ui/ with the agent's CSP and fake API
// answers, so the pages can be looked at and driven without the real agent.
//   node kiosk-ui/dev/mock-server.mjs [port]      (default 8099)
// Join code: ABCDEF (group 1). Hosts h1, h2 echo keystrokes; `web` closes with 4403, `busy` 4429.
// POST /dev/drop cuts every terminal socket (a network blip); POST /dev/tick flips a task;
// POST /dev/events-off makes /api/events fail; POST /dev/end-sessions forgets every session.
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
let alarms = process.env.ALARMS === '0' ? [] : ['Host web of group 3 is down', 'Disk 91% full'];
const kiosk = () => ({
  appliance: 'dovelab-pi-07',
  joinUrls: ['http://dovelab-pi-07.local/', 'http://192.168.10.57/'],
  qrSvg,
  lesson: { id: 'lesson-1', title: 'Lesson 1: ping across a switch', groups: 6, tasks: 5 },
  progress: [1, 2, 3, 4, 5, 6].map((g) => ({ group: g, done: Math.min(5, (g * 2 + tick) % 6), total: 5 })),
  alarms,
});

const cookieOf = (req) => /(?:^|;\s*)dl=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
const json = (res, status, body, extra = {}) => { res.writeHead(status, { 'content-type': 'application/json', 'content-security-policy': CSP, ...extra }); res.end(JSON.stringify(body)); };
const readBody = (req) => new Promise((r) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => r(b)); });

const streams = new Set();
let eventsOff = false; // POST /dev/events-off: the stream fails, so the kiosk must poll
const push = () => {
  for (const s of streams) {
    s.res.write(`event: kiosk\ndata: ${JSON.stringify(kiosk())}\n\n`);
    if (s.group) s.res.write(`event: group\ndata: ${JSON.stringify(group())}\n\n`);
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
    const s = { res, group: g }; streams.add(s);
    res.write(`event: kiosk\ndata: ${JSON.stringify(kiosk())}\n\n`);
    if (g) res.write(`event: group\ndata: ${JSON.stringify(group())}\n\n`);
    req.on('close', () => streams.delete(s));
    return;
  }
  if (p === '/dev/tick' && req.method === 'POST') { tick++; push(); return json(res, 200, { tick }); }
  if (p === '/dev/alarms' && req.method === 'POST') { alarms = alarms.length ? [] : ['Host web of group 3 is down', 'Disk 91% full']; push(); return json(res, 200, { alarms }); }
  if (p === '/dev/events-off' && req.method === 'POST') { eventsOff = true; for (const s of streams) s.res.destroy(); streams.clear(); return json(res, 200, {}); }
  if (p === '/dev/end-sessions' && req.method === 'POST') { sessions.clear(); for (const s of streams) s.res.destroy(); streams.clear(); return json(res, 200, {}); }
  if (p === '/dev/drop' && req.method === 'POST') { for (const s of sockets) s.destroy(); sockets.clear(); return json(res, 200, {}); }
  const file = p === '/' ? 'student.html' : p === '/kiosk' ? 'kiosk.html' : normalize(p).replace(/^(\.\.[/\\])+/, '').slice(1);
  const full = join(dist, file);
  if (!full.startsWith(dist) || !existsSync(full) || !extname(full)) { res.writeHead(404, { 'content-security-policy': CSP }); return res.end('not found'); }
  res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'no-store' });
  res.end(readFileSync(full));
});

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

// Captures in the browser on the real stack: a real agent records through Faucet's own mirror into
// the group's capture port (a veth into the agent's netns) with tcpdump; the pcap streams while it
// records and tcpdump -r reads it back. Each capture keeps its interface's frames only, each group
// its own, and switching a source on or off is a warm Faucet change.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { stableMac } from '../../agent/lab/desired.js';
import { readLabState } from '../../agent/lab/state.js';
import type { CaptureView } from '../../agent/web/api-types.js';
import { dovelab, LESSONS } from './_cli.js';
import { cfg, inHost, run, stack, startAgent, waitFor, type AgentProc } from './_stack.js';
import { loud } from '../loud-hook.js';

const PORT = 18082;
const BASE = `http://127.0.0.1:${PORT}`;
let agent: AgentProc;
let dir: string;
const cookies: Record<number, string> = {};

async function joinGroup(group: number): Promise<string> {
  const code = readLabState(paths(cfg).labState)!.joinCodes![String(group)]!;
  const r = await fetch(`${BASE}/api/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.is(r.status, 200, await r.clone().text());
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

const post = (path: string, cookie: string, body: unknown) =>
  fetch(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify(body) });

async function startCapture(group: number, target: string, seconds: number): Promise<CaptureView> {
  const r = await post('/api/capture', cookies[group]!, { target, seconds });
  const text = await r.text();
  assert.is(r.status, 201, `capture ${target} (group ${group}): ${text}`);
  return JSON.parse(text) as CaptureView;
}

/** Downloads the whole pcap (it streams until the capture ends) into a file; returns its path. */
async function download(group: number, c: CaptureView, onFirstPacket?: () => Promise<void>): Promise<string> {
  const r = await fetch(`${BASE}${c.pcapUrl}`, { headers: { Cookie: cookies[group]! } });
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
  assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename=".+\.pcap"/);
  const parts: Buffer[] = [];
  let size = 0;
  let called = false;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    parts.push(Buffer.from(chunk));
    size += chunk.length;
    if (!called && size > 24 && onFirstPacket) { called = true; await onFirstPacket(); }
  }
  const file = join(dir, `${c.id}.pcap`);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** tcpdump's own reading of a pcap: one line per packet, with MAC addresses. */
async function read(file: string): Promise<string[]> {
  const r = await run(['tcpdump', '-n', '-e', '-r', file], { allowFail: true });
  assert.is(r.code, 0, `tcpdump -r ${file}: ${r.stderr}`);
  assert.match(r.stderr, /link-type EN10MB/);
  return r.stdout.split('\n').filter(Boolean);
}

const reloads = async () => {
  const text = await (await fetch('http://127.0.0.1:9302/metrics')).text();
  const total = (kind: string) => Number(new RegExp(`^faucet_config_reload_${kind}_total\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { warm: total('warm'), cold: total('cold') };
};

/** The capture port's mirror list in the live faucet.yaml. */
const capturing = (group: number): number[] =>
  (parse(readFileSync(paths(cfg).faucetYaml, 'utf8')) as { dps: Record<string, { interfaces: Record<string, { mirror?: number[] }> }> })
    .dps[cfg.bridge]!.interfaces[String(group * 100 + 99)]?.mirror ?? [];

test.before(loud(async () => {
  await stack();
  const up = await dovelab(['up', `${LESSONS}/mirror-capture`, '--groups', '2']);
  assert.is(up.code, 0, up.stdout + up.stderr);
  dir = mkdtempSync(join(tmpdir(), 'dovelab-capture-test-'));
  agent = startAgent(join(dir, 'agent.log'), 5, { DOVELAB_WEB_PORT: String(PORT) });
  await agent.waitLine('the web UI to listen', new RegExp(`web UI on .*:${PORT}/`), 60_000);
  cookies[1] = await joinGroup(1);
  cookies[2] = await joinGroup(2);
}));
test.after(async () => {
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('h1.eth0 through the mirror: the pcap streams while it records, tcpdump reads it, each group sees its own; warm on and off', async () => {
  const before = await reloads();
  const [one, two] = await Promise.all([startCapture(1, 'h1.eth0', 6), startCapture(2, 'h1.eth0', 6)]);
  assert.equal([one.port, one.group, one.state, two.port], ['g1-h1-eth0', 1, 'recording', 'g2-h1-eth0']);
  assert.equal(capturing(1), [101]);
  assert.equal(capturing(2), [201]);
  let recordingWhileStreaming: string | undefined;
  const [f1, f2] = await Promise.all([
    download(1, one, async () => {
      const list = await (await fetch(`${BASE}/api/captures`, { headers: { Cookie: cookies[1]! } })).json() as CaptureView[];
      recordingWhileStreaming = list.find((c) => c.id === one.id)?.state;
    }),
    download(2, two),
  ]);
  assert.is(recordingWhileStreaming, 'recording', 'packets arrived while the capture was still recording');
  const g1 = await read(f1);
  const g2 = await read(f2);
  // h1 tells its h3 the secret every second: the switch copied it to the appliance.
  const secret = (lines: string[]) => lines.filter((l) => /^\S+ 0e:00:00:00:03:01 > .* 198\.51\.100\.11\.\d+ > 198\.51\.100\.13\.9999: UDP/.test(l));
  assert.ok(secret(g1).length >= 3, `group 1 saw h1's messages:\n${g1.join('\n')}`);
  assert.ok(secret(g2).length >= 3, `group 2 saw h1's messages:\n${g2.join('\n')}`);
  // Both groups' h1 have the same MAC and addresses; their h3 do not: no frame of the other group.
  const h3 = (g: number) => stableMac('mirror-capture', g, 'h3', 'eth0');
  assert.ok(g1.some((l) => l.includes(h3(1))) && !g1.some((l) => l.includes(h3(2))), `group 1: its own h3 only\n${g1.join('\n')}`);
  assert.ok(g2.some((l) => l.includes(h3(2))) && !g2.some((l) => l.includes(h3(1))), `group 2: its own h3 only\n${g2.join('\n')}`);
  const done = await (await fetch(`${BASE}/api/captures`, { headers: { Cookie: cookies[1]! } })).json() as CaptureView[];
  const ended = done.find((c) => c.id === one.id)!;
  assert.equal([ended.state, ended.endReason], ['done', 'time']);
  assert.is(ended.packets, g1.length);
  // The copies stop with the captures; every switch change was warm (no datapath restart).
  await waitFor('the capture ports to copy nothing again', () => capturing(1).length === 0 && capturing(2).length === 0, 15_000);
  const after = await reloads();
  assert.ok(after.warm >= before.warm + 2, `warm reloads ${before.warm} -> ${after.warm}`);
  assert.is(after.cold, before.cold, 'no cold start');
});

test('one interface only: h2.eth0 has h2\'s ping and none of h1\'s messages, while h1.eth0 is captured too', async () => {
  const [h1, h2] = await Promise.all([startCapture(1, 'h1.eth0', 5), startCapture(1, 'h2.eth0', 5)]);
  assert.equal(capturing(1), [101, 102]);
  const ping = inHost('dovelab-g1-h2', ['ping', '-c', '3', '-i', '0.3', '198.51.100.13']);
  const [f1, f2] = await Promise.all([download(1, h1), download(1, h2)]);
  assert.is((await ping).code, 0, 'h2 reaches h3');
  const l1 = await read(f1);
  const l2 = await read(f2);
  const toH3 = (l: string) => /198\.51\.100\.13\.9999: UDP/.test(l);
  // Positive control: the same capture port carried h1's messages during h2's capture.
  assert.ok(l1.some(toH3), `h1.eth0 has h1's messages:\n${l1.join('\n')}`);
  assert.ok(l2.some((l) => /198\.51\.100\.12 > 198\.51\.100\.13: ICMP echo request/.test(l)), `h2.eth0 has h2's ping:\n${l2.join('\n')}`);
  assert.ok(l2.some((l) => /198\.51\.100\.13 > 198\.51\.100\.12: ICMP echo reply/.test(l)), 'and its replies');
  assert.not.ok(l2.some(toH3), `h2.eth0 has none of h1's unicast to h3:\n${l2.join('\n')}`);
  assert.not.ok(l1.some((l) => /ICMP echo/.test(l)), `h1.eth0 has none of h2's ping:\n${l1.join('\n')}`);
});

test('refusals on the real agent, and stop ends a capture early', async () => {
  const notListed = await post('/api/capture', cookies[1]!, { target: 'h3.eth0' });
  assert.is(notListed.status, 403);
  assert.match((await notListed.json() as { error: string }).error, /does not let groups capture h3\.eth0/);
  const noSession = await post('/api/capture', '', { target: 'h1.eth0' });
  assert.is(noSession.status, 401);
  const c = await startCapture(2, 'h2.eth0', 60);
  // Group 1 cannot see, download or stop group 2's capture.
  for (const path of [c.pcapUrl, c.liveUrl]) assert.is((await fetch(`${BASE}${path}`, { headers: { Cookie: cookies[1]! } })).status, 404);
  assert.is((await post(`/api/capture/${c.id}/stop`, cookies[1]!, {})).status, 404);
  assert.equal(capturing(2), [202]);
  const stopped = await post(`/api/capture/${c.id}/stop`, cookies[2]!, {});
  assert.is(stopped.status, 200);
  const v = await stopped.json() as CaptureView;
  assert.equal([v.state, v.endReason], ['done', 'stopped']);
  await waitFor('group 2\'s capture port to copy nothing', () => capturing(2).length === 0, 15_000);
  // The pcap of a stopped capture is whole: tcpdump reads it without complaint.
  await read(await download(2, c));
});

test('down removes the capture ports and the agent\'s capture netns', async () => {
  await agent.stop();
  const down = await dovelab(['down']);
  assert.is(down.code, 0, down.stdout + down.stderr);
  const ns = await run(['ip', 'netns', 'list']);
  assert.not.match(ns.stdout, /dovelab-cap/);
  const links = await run(['ip', '-br', 'link']);
  assert.not.match(links.stdout, /^dl\d+99[@ ]/m);
});

test.run();

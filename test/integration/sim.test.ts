// The sim world plays the school network: DHCP that records hostnames, a printer, the dongles.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simDown, simStatus, simUp } from '../../agent/hardware/sim/world.js';
import { cfg, docker, hostPidOf, inHost, inNetnsOf, run, stack, startCapture } from './_stack.js';
import { vsctlVia } from '../../agent/net/ovs-exec.js';
import { loud } from '../loud-hook.js';

const CLIENT = 'dovelab-simtest';

async function plugClientIntoLan(): Promise<void> {
  await docker.getContainer(CLIENT).remove({ force: true }).catch(() => {});
  const c = await docker.createContainer({ name: CLIENT, Image: cfg.images.labhost, Hostname: 'simtest', HostConfig: { NetworkMode: 'none', CapAdd: ['NET_ADMIN'] } });
  await c.start();
  const pid = await hostPidOf(CLIENT);
  await run(['ip', 'link', 'add', 'simt0', 'type', 'veth', 'peer', 'name', 'simt0c']);
  await run(['ip', 'link', 'set', 'simt0', 'netns', 'world']);
  await run(['ip', '-n', 'world', 'link', 'set', 'simt0', 'master', 'lan0', 'up']);
  await run(['ip', 'link', 'set', 'simt0c', 'netns', String(pid)]);
  await run(['nsenter', '-t', String(pid), '-n', 'ip', 'link', 'set', 'simt0c', 'name', 'eth0', 'up']);
}

test.before(loud(async () => { await stack(); }));
test.after(async () => {
  await docker.getContainer(CLIENT).remove({ force: true }).catch(() => {});
  await simUp(cfg.runDir, undefined, vsctlVia(docker));
});

test('sim up is idempotent', async () => {
  await simUp(cfg.runDir, undefined, vsctlVia(docker));
  await simUp(cfg.runDir, undefined, vsctlVia(docker));
  const st = await simStatus(cfg.runDir);
  assert.equal(st.missing, []);
  for (const dongle of ['up0', 'up1', 'mir0']) assert.ok(existsSync(`/sys/class/net/${dongle}`), dongle);
});

test('a host on the school LAN gets a DHCP lease that records its hostname', async () => {
  await plugClientIntoLan();
  const r = await inHost(CLIENT, ['udhcpc', '-i', 'eth0', '-x', 'hostname:simtest', '-n', '-q', '-t', '5']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const addr = (await inHost(CLIENT, ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout;
  assert.match(addr, /inet 100\.64\.0\.1\d\d\/24/);
  const leases = readFileSync(`${cfg.runDir}/sim/dnsmasq.leases`, 'utf8');
  assert.match(leases, / 100\.64\.0\.1\d\d simtest /);
  assert.ok((await simStatus(cfg.runDir)).leases.some((l) => l.hostname === 'simtest'));
});

test('the printer answers ping and mDNS', async () => {
  const ping = await inHost(CLIENT, ['ping', '-c', '2', '-W', '1', '100.64.0.10']);
  assert.match(ping.stdout, / 0% packet loss/);
  // dig sends a one-shot mDNS query but refuses the answer (it comes from the printer's own
  // address, not 224.0.0.251), so the answer is read off the wire.
  const cap = await startCapture(await inNetnsOf(CLIENT), 'eth0', 'udp and src port 5353 and src host 100.64.0.10');
  try {
    await inHost(CLIENT, ['dig', '+time=1', '+tries=2', '-p', '5353', '@224.0.0.251', 'printer.local']);
    await cap.waitLine("the printer's mDNS answer", /100\.64\.0\.10\.5353 > 100\.64\.0\.1\d\d\.\d+: .* A 100\.64\.0\.10/);
  } finally { await cap.stop(); }
});

test('sim down removes everything sim up made', async () => {
  await simDown(cfg.runDir, undefined, vsctlVia(docker));
  const ns = (await run(['ip', 'netns', 'list'])).stdout;
  for (const n of ['world', 'capture', 'printer']) assert.not.match(ns, new RegExp(`^${n}\\b`, 'm'));
  for (const dongle of ['up0', 'up1', 'up1-sw', 'mir0']) assert.not.ok(existsSync(`/sys/class/net/${dongle}`), dongle);
  const procs = (await run(['ps', '-eo', 'stat,args'])).stdout.split('\n')
    .filter((l) => /dnsmasq .*dovelab|sim\/printer\.js/.test(l) && !l.startsWith('Z'));
  assert.equal(procs, []);
  assert.not.ok(existsSync(`${cfg.runDir}/sim`));
});

test.run();

// Issue 7's findings re-run as a teacher would meet them: each now ends in a clear refusal or a
// bounded, named outcome. Real dockerd, OVS, Faucet and the sim world.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labRepair } from '../../agent/lab/service.js';
import { faucetStatus } from '../../agent/net/faucet/status.js';
import { scrape } from '../../agent/metrics/prometheus.js';
import { cfg, docker, inHost, run, stack } from './_stack.js';
import { dovelab } from './_cli.js';
import { loud } from '../loud-hook.js';

const work = mkdtempSync(join(tmpdir(), 'dovelab-harden-'));

/** A lesson pack folder (lesson.yaml + README.md) from YAML text. */
function pack(name: string, yaml: string, files: Record<string, string> = {}): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'lesson.yaml'), yaml);
  writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const sysctl = (ifname: string, key: string) => readFileSync(`/proc/sys/net/ipv4/conf/${ifname}/${key}`, 'utf8').trim();
const labRules = async () => (await run(['iptables', '-w', '-S', 'DOVELAB-LAB'], { allowFail: true })).stdout;
const ovsPorts = async () => (await (await stack()).ovs.ports(cfg.bridge)).map((p) => p.name);

/** Polls `fn` until it returns a value (not undefined); the error names what never happened. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test.before(loud(async () => { await stack(); }));
test.after(async () => {
  await dovelab(['down']);
  await run(['ip', 'link', 'del', 'mgmt9'], { allowFail: true });
  rmSync(work, { recursive: true, force: true });
});

test('a lesson cannot take an interface of the appliance; a dongle it takes gets its settings back', async () => {
  // mgmt9 plays the Pi's management Ethernet: it has an address.
  // Addresses in the appliance's own namespace come from 198.18.0.0/24 (RFC 2544), not 203.0.113.0/24:
  // package mirrors here answer on 203.0.113.80, and a route to that /24 on a test veth cuts them off.
  await run(['ip', 'link', 'del', 'mgmt9'], { allowFail: true });
  await run(['ip', 'link', 'add', 'mgmt9', 'type', 'veth', 'peer', 'name', 'mgmt9p']);
  await run(['ip', 'addr', 'add', '198.18.0.9/24', 'dev', 'mgmt9']);
  await run(['ip', 'link', 'set', 'mgmt9', 'up']);
  const before = { arp: sysctl('mgmt9', 'arp_ignore'), fwd: sysctl('mgmt9', 'forwarding') };
  const lesson = (iface: string) => `
dovelab: 1
id: seize
networks: {office: {vlan: 110, shared: true}}
uplinks: {x: {interface: ${iface}, network: office}}
hosts: {pc: {interfaces: {eth0: {network: office, ip: 198.51.100.21/24}}}}
`;
  const bad = await dovelab(['up', pack('seize-mgmt9', lesson('mgmt9'))]);
  assert.is(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, /uplinks\.x\.interface: .*mgmt9.*uplink dongles: up0, up1/);
  assert.not.ok((await ovsPorts()).includes('mgmt9'), 'mgmt9 stayed off the bridge');
  assert.not.match(await labRules(), 'mgmt9');
  assert.equal({ arp: sysctl('mgmt9', 'arp_ignore'), fwd: sysctl('mgmt9', 'forwarding') }, before);
  for (const iface of ['lo', 'docker0', cfg.bridge]) {
    const r = await dovelab(['up', pack(`seize-${iface}`, lesson(iface))]);
    assert.is(r.code, 1, `${iface}: ${r.stdout}`);
    assert.match(r.stderr, 'uplinks.x.interface');
  }

  // Positive control: the sim world's uplink dongle is taken, hardened and firewalled …
  const up0Before = { arp: sysctl('up0', 'arp_ignore'), fwd: sysctl('up0', 'forwarding') };
  const good = await dovelab(['up', pack('seize-up0', lesson('up0'))]);
  assert.is(good.code, 0, good.stderr);
  assert.ok((await ovsPorts()).includes('up0'));
  assert.match(await labRules(), '-A DOVELAB-LAB -i up0 -j DROP');
  assert.is(sysctl('up0', 'arp_ignore'), '8');
  // … and when it leaves the lab, it gets its own settings back and loses its rule.
  const down = await dovelab(['down']);
  assert.is(down.code, 0, down.stderr);
  assert.not.ok((await ovsPorts()).includes('up0'));
  assert.not.match(await labRules(), 'up0');
  assert.equal({ arp: sysctl('up0', 'arp_ignore'), fwd: sysctl('up0', 'forwarding') }, up0Before);
});

test('a foreground startup does not hang `up`: it returns with a warning and the server keeps serving', async () => {
  const dir = pack('foreground', `
dovelab: 1
id: foreground
networks: {lan: {}}
hosts:
  client: {interfaces: {eth0: {network: lan, ip: 198.51.100.31/24}}}
  web:
    interfaces: {eth0: {network: lan, ip: 198.51.100.32/24}}
    startup: python3 -m http.server 80 || nc -lk -p 80
`);
  const t0 = Date.now();
  const r = await dovelab(['up', dir]);
  const ms = Date.now() - t0;
  console.log(`    foreground startup: up returned in ${(ms / 1000).toFixed(1)} s`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /warning: startup of g1-web still runs after \d+ s/);
  assert.match(r.stdout, '/var/log/dovelab-startup.log');
  // The lock is free again: another verb runs at once.
  assert.is((await dovelab(['status'])).code, 0);
  // The server the startup left running answers; its output went to the host's log.
  const hit = await inHost('dovelab-g1-client', ['nc', '-z', '-w', '3', '198.51.100.32', '80']);
  assert.is(hit.code, 0, hit.stderr);
  const log = await inHost('dovelab-g1-web', ['cat', '/var/log/dovelab-startup.log']);
  assert.match(log.stdout, /python3: (command )?not found/, 'bash (issue 11) says "command not found"');
  // Control: a port nothing listens on is refused (the probe can tell).
  assert.is.not((await inHost('dovelab-g1-client', ['nc', '-z', '-w', '3', '198.51.100.32', '81'])).code, 0);
});

test('no_reach is an error, not a pass, when the probe cannot run', async () => {
  const dir = pack('noprobe', `
dovelab: 1
id: noprobe
networks: {lan: {}}
hosts:
  a: {interfaces: {eth0: {network: lan, ip: 198.51.100.41/24}}, startup: "rm -f $(command -v nc) /bin/nc /usr/bin/nc /usr/bin/nc.openbsd"}
  b: {interfaces: {eth0: {network: lan, ip: 198.51.100.42/24}}}
tasks:
  - {id: blind, check: {no_reach: {from: a, to: b, tcp: 81}}}
  - {id: seeing, check: {no_reach: {from: b, to: a, tcp: 81}}}
  - {id: nowhere, check: {no_reach: {from: b, to: 203.0.113.200}}}
`);
  const up = await dovelab(['up', dir]);
  assert.is(up.code, 0, up.stderr);
  const r = await dovelab(['check', '--json']);
  const by = Object.fromEntries((JSON.parse(r.stdout).results as { task: string; status: string; reason: string }[]).map((x) => [x.task, x]));
  assert.is(by.blind!.status, 'error', by.blind!.reason);
  assert.match(by.blind!.reason, 'nc is not installed');
  // Positive control: the same probe from a host that has nc runs, and 81 is refused: a pass.
  assert.is(by.seeing!.status, 'pass', by.seeing!.reason);
  // No route in the sender is not "unreachable because of your firewall".
  assert.is(by.nowhere!.status, 'error', by.nowhere!.reason);
  assert.is(r.code, 2, 'errors make `check` exit 2');
});

test('a pack whose file links out of it is refused by `up`; the same file inside it is copied', async () => {
  const yaml = `
dovelab: 1
id: motd
networks: {lan: {}}
hosts: {h1: {interfaces: {eth0: {network: lan}}, files: {/etc/motd: files/motd.txt}}}
`;
  const dir = pack('motd', yaml);
  symlinkSync('/etc/hostname', join(dir, 'files/motd.txt'));
  const bad = await dovelab(['up', dir]);
  assert.is(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, 'files/motd.txt');
  assert.not.ok((await docker.listContainers({ all: true })).some((c) => c.Names.includes('/dovelab-g1-h1') && c.Labels['dovelab.lab'] === 'motd'));
  rmSync(join(dir, 'files/motd.txt'));
  writeFileSync(join(dir, 'files/motd.txt'), 'welcome to the lab\n');
  const good = await dovelab(['up', dir]);
  assert.is(good.code, 0, good.stderr);
  assert.is((await inHost('dovelab-g1-h1', ['cat', '/etc/motd'])).stdout, 'welcome to the lab\n');
});

/** Processes in a container now (the pids cgroup's count). */
const pidsOf = async (container: string) => ((await docker.getContainer(container).stats({ stream: false })).pids_stats?.current ?? 0);

test('a fork bomb in one group leaves the other groups and Faucet working', async () => {
  const dir = pack('forkbomb', `
dovelab: 1
id: forkbomb
networks: {lan: {}}
hosts:
  h1: {interfaces: {eth0: {network: lan, ip: 198.51.100.51/24}}}
  h2: {interfaces: {eth0: {network: lan, ip: 198.51.100.52/24}}}
`);
  const up = await dovelab(['up', dir, '--groups', '2']);
  assert.is(up.code, 0, up.stderr);
  const limit = cfg.limits.default.pids;
  const pingBefore = await inHost('dovelab-g2-h1', ['ping', '-c', '5', '-i', '0.2', '-W', '2', '198.51.100.52']);
  assert.is(pingBefore.code, 0, pingBefore.stdout);
  // The classic bash fork bomb, started detached in group 1's h1.
  const exec = await docker.getContainer('dovelab-g1-h1').exec({ Cmd: ['bash', '-c', 'b() { b | b & }; b'], AttachStdout: false, AttachStderr: false });
  await exec.start({ Detach: true });
  const peak = await waitFor('the fork bomb to reach the pids limit', async () => {
    const n = await pidsOf('dovelab-g1-h1');
    return n >= limit - 5 ? n : undefined;
  }, 30_000);
  // The other group still talks through Faucet, and Faucet still runs the switch.
  const t0 = Date.now();
  const during = await inHost('dovelab-g2-h1', ['ping', '-c', '10', '-i', '0.2', '-W', '2', '198.51.100.52']);
  const pingMs = Date.now() - t0;
  assert.is(during.code, 0, `group 2 lost its network during the bomb: ${during.stdout}`);
  const st = faucetStatus(await scrape(`http://127.0.0.1:${cfg.faucetPromPort}/metrics`));
  assert.ok(st.dpUp[cfg.bridge], 'dp_status 1 during the bomb');
  assert.ok((await pidsOf('dovelab-g1-h1')) <= limit, 'the bomb stays inside its pids limit');
  const status = await dovelab(['status', '--json']);
  assert.ok(status.stdout.includes('"key": "g2-h1"'), status.stderr);
  const rtt = (out: string) => /= [\d.]+\/([\d.]+)\//.exec(out)?.[1];
  console.log(`    fork bomb: ${JSON.stringify({ pids_limit: limit, pids_peak: peak, rtt_avg_ms_before: Number(rtt(pingBefore.stdout)), rtt_avg_ms_during: Number(rtt(during.stdout)), ping10_ms: pingMs, lost_during: /(\d+)% packet loss/.exec(during.stdout)?.[1] + '%' })}`);
  // The bombed host goes with the lab.
  const down = await dovelab(['down']);
  assert.is(down.code, 0, down.stderr);
  assert.not.ok(await docker.getContainer('dovelab-g1-h1').inspect().then(() => true, () => false));
});

test('one DHCP client per interface, however often the port is re-attached', async () => {
  const dir = pack('dhcp-once', `
dovelab: 1
id: dhcp-once
networks: {office: {vlan: 110, shared: true}}
uplinks: {school: {interface: up0, network: office}}
hosts: {pc: {per_group: true, interfaces: {eth0: {network: office, ip: dhcp}}}}
`);
  const up = await dovelab(['up', dir]);
  assert.is(up.code, 0, up.stderr);
  const clients = async () => (await inHost('dovelab-g1-pc', ['pgrep', '-c', '-x', 'udhcpc'])).stdout.trim();
  const leased = () => waitFor('a DHCP lease on g1-pc eth0', async () => {
    const r = await inHost('dovelab-g1-pc', ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
    return /inet 100\.64\.0\./.test(r.stdout) ? r.stdout : undefined;
  });
  await leased();
  assert.is(await clients(), '1');
  const ctx = await stack();
  const port = (await ctx.ovs.ports(cfg.bridge)).find((p) => p.externalIds['dovelab-host'] === 'pc')!.name;
  for (let i = 0; i < 2; i++) {
    await ctx.ovs.deletePort(cfg.bridge, port);
    const r = await labRepair(ctx);
    assert.ok(r?.actions.some((a) => a.kind === 'attach'), 'the lost port was re-attached');
    await leased();
    assert.is(await clients(), '1', `after re-attach ${i + 1}`);
  }
});

test.run();

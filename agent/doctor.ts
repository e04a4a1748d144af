// `dovelab doctor`: every dependency checked, with what is wrong and the next step.
import { existsSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { INFRA, paths, type Config } from './config.js';
import { containerState, imageExists, pingDocker } from './docker/client.js';
import { vsctlVia } from './net/ovs-exec.js';
import { HOST_END_PATTERN } from './lab/desired.js';
import { sha256 } from './net/faucet/apply.js';
import { faucetStatus } from './net/faucet/status.js';
import { labFirewallActive } from './net/firewall.js';
import { datapathIdHex, Ovs } from './net/ovs.js';
import { scrape } from './metrics/prometheus.js';
import { commandExists, run } from './sys/run.js';

export interface Check { name: string; ok: boolean; detail: string; fix?: string }

async function check(name: string, fn: () => Promise<{ ok: boolean; detail: string; fix?: string }>): Promise<Check> {
  try { return { name, ...(await fn()) }; } catch (e) { return { name, ok: false, detail: (e as Error).message }; }
}

export async function doctor(c: Config, docker: Docker): Promise<Check[]> {
  const checks: Check[] = [];
  const add = async (name: string, fn: () => Promise<{ ok: boolean; detail: string; fix?: string }>) => {
    const r = await check(name, fn); checks.push(r); return r;
  };
  await add('root', async () => ({ ok: process.getuid?.() === 0, detail: `uid ${process.getuid?.()}`, fix: 'run dovelab as root (it manages netns, veths and the firewall)' }));
  for (const cmd of ['ip', 'nsenter', 'ethtool', 'iptables', 'ip6tables']) {
    await add(`command ${cmd}`, async () => ({ ok: await commandExists(cmd), detail: cmd, fix: 'apt-get install iproute2 util-linux ethtool iptables' }));
  }
  await add('kernel: network namespaces + veth', async () => {
    const a = `dvdoc${process.pid % 10000}`;
    const r = await run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', `${a}p`], { allowFail: true });
    await run(['ip', 'link', 'del', a], { allowFail: true });
    return { ok: r.code === 0 && existsSync('/proc/self/ns/net'), detail: r.code === 0 ? 'veth pairs work' : r.stderr.trim(), fix: 'a kernel with CONFIG_VETH and CONFIG_NET_NS' };
  });
  await add('kernel: /dev/net/tun', async () => ({ ok: existsSync('/dev/net/tun'), detail: '/dev/net/tun (userspace datapath)', fix: 'modprobe tun' }));
  await add('kernel: openvswitch module', async () => {
    const loaded = existsSync('/sys/module/openvswitch');
    return { ok: true, detail: loaded ? 'loaded: kernel datapath available' : 'not loaded: the bridge uses the userspace (netdev) datapath' };
  });
  const dockerOk = await add('dockerd', async () => { await pingDocker(docker); const v = await docker.version(); return { ok: true, detail: `Docker ${v.Version}, API ${v.ApiVersion}` }; });
  if (!dockerOk.ok) dockerOk.fix = '`dovelab engine start` (or `systemctl start docker`)';
  if (dockerOk.ok) {
    for (const img of [c.images.ovs, c.images.faucet, c.images.labhost]) {
      await add(`image ${img}`, async () => ({ ok: await imageExists(docker, img), detail: img, fix: '`dovelab images build`' }));
    }
    for (const name of Object.values(INFRA)) {
      await add(`container ${name}`, async () => {
        const s = await containerState(docker, name);
        return { ok: !!s?.State.Running, detail: s ? `${s.State.Status}${s.State.Running ? '' : `, exit ${s.State.ExitCode}`}` : 'absent', fix: `\`dovelab infra up\`; if it exits: \`docker logs ${name}\`` };
      });
    }
  }
  const ovs = new Ovs(vsctlVia(docker));
  const ovsOk = dockerOk.ok && (await add('OVS database', async () => {
    const dp = await ovs.datapathOfSwitch();
    return { ok: true, detail: `answering; switch datapath: ${dp ?? 'unknown'}` };
  })).ok;
  if (ovsOk) {
    await add(`bridge ${c.bridge}`, async () => {
      if (!(await ovs.bridgeExists(c.bridge))) return { ok: false, detail: 'absent', fix: '`dovelab infra up`' };
      const b = await ovs.bridgeSettings(c.bridge);
      const other = Object.fromEntries(((b.other_config as [string, [string, string][]])[1]) ?? []);
      const problems: string[] = [];
      if (b.fail_mode !== 'secure') problems.push(`fail_mode ${String(b.fail_mode)}`);
      if (String(b.protocols) !== 'OpenFlow13') problems.push(`protocols ${JSON.stringify(b.protocols)}`);
      if (other['datapath-id'] !== datapathIdHex(c.dpId)) problems.push(`datapath-id ${other['datapath-id']}`);
      if (other['disable-in-band'] !== 'true') problems.push('in-band control enabled');
      return { ok: problems.length === 0, detail: problems.length ? problems.join(', ') : `datapath ${String(b.datapath_type)}, fail_mode secure, OpenFlow13, dp ${datapathIdHex(c.dpId)}`, fix: '`dovelab infra up` corrects it' };
    });
    await add('lab ports', async () => {
      const bad = (await ovs.ports(c.bridge)).filter((p) => p.error || p.ofport < 0);
      return { ok: bad.length === 0, detail: bad.length ? bad.map((p) => `${p.name}: ${p.error ?? 'no ofport'}`).join('; ') : 'no port in error', fix: '`dovelab up` repairs lab ports' };
    });
  }
  if (dockerOk.ok) {
    await add('Faucet', async () => {
      const st = faucetStatus(await scrape(`http://127.0.0.1:${c.faucetPromPort}/metrics`));
      const file = paths(c).faucetYaml;
      const hash = existsSync(file) ? sha256(readFileSync(file, 'utf8')) : '';
      const problems: string[] = [];
      if (!st.hashes.includes(hash)) problems.push(`live config is not ${file}`);
      if (st.loadError !== false) problems.push('config load error');
      if (st.dpUp[c.bridge] !== true) problems.push(`${c.bridge} not connected (dp_status 0)`);
      return { ok: problems.length === 0, detail: problems.length ? problems.join(', ') : `config ${hash.slice(0, 12)} live, dp_status 1`, fix: `\`docker logs ${INFRA.faucet}\`; \`dovelab infra up\`` };
    });
    await add('Gauge', async () => {
      await scrape(`http://127.0.0.1:${c.gaugePromPort}/metrics`);
      return { ok: true, detail: `exporter on :${c.gaugePromPort}` };
    }).then((r) => { if (!r.ok) r.fix = `\`docker logs ${INFRA.gauge}\``; });
  }
  await add('host firewall for lab ports', async () => ({ ok: await labFirewallActive(HOST_END_PATTERN), detail: `INPUT/FORWARD drop from ${HOST_END_PATTERN}`, fix: '`dovelab infra up`' }));
  return checks;
}

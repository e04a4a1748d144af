// Mininet from Debian beside Dovelab (issue 13): `--topo single,N` on a Linux bridge (`--switch lxbr`,
// no controller), namespaces only, until every host answers its neighbour: the floor of a bring-up.
// Used by bench/engine.ts (`bringup_24_hosts_ms.mininet`); alone: `npm run bench:mininet` (root, under
// the stack lock) prints {bench, mininet: {hosts, switch, controller, started_ms, all_reachable_ms,
// pingall_loss_pct, pingall_ms, stop_ms, wall_ms}}.
// Why lxbr: OVS runs here in a container with the userspace datapath, and Mininet's OVS switches
// drive a host ovs-vsctl and the kernel datapath, neither of which exists here; `user` needs
// ofsoftswitch13, which Debian does not ship. The bridge's frames pass the host's iptables
// (br_netfilter is loaded, dockerd sets FORWARD to DROP): the run accepts s1 -> s1 in FORWARD for its
// length, like dockerd does for its own bridges, and takes the rule out again.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../agent/sys/run.js';
import { emitJson } from './emit.js';

const SCRIPT = fileURLToPath(new URL('../../bench/mininet-single.py', import.meta.url));
const BRIDGE = 's1';
const RULE = ['FORWARD', '-i', BRIDGE, '-o', BRIDGE, '-m', 'comment', '--comment', 'dovelab bench: mininet lxbr', '-j', 'ACCEPT'];

export interface MininetBringUp {
  hosts: number; switch: string; controller: string; started_ms: number; all_reachable_ms: number;
  pingall_loss_pct: number; pingall_ms: number; stop_ms: number; wall_ms: number;
}

export async function mininetBringUp(n = 24): Promise<MininetBringUp> {
  if (!existsSync('/usr/bin/mn') || !existsSync('/usr/bin/mnexec')) throw new Error('Mininet is not installed (Debian package mininet; `npm run setup` installs it)');
  if (!existsSync('/usr/sbin/brctl')) throw new Error('brctl is missing (Debian package bridge-utils): Mininet\'s Linux bridge switch needs it');
  // A bridge left by a run that died would be reused half-made.
  await run(['ip', 'link', 'del', BRIDGE], { allowFail: true });
  await run(['iptables', '-I', ...RULE]);
  const t0 = Date.now();
  try {
    const r = await run(['/usr/bin/python3', SCRIPT, String(n)], { timeoutMs: 300_000, allowFail: true });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`mininet single,${n} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-600)}`);
    return { ...(JSON.parse(line) as Omit<MininetBringUp, 'wall_ms'>), wall_ms: Date.now() - t0 };
  } finally {
    await run(['iptables', '-D', ...RULE], { allowFail: true });
    await run(['ip', 'link', 'del', BRIDGE], { allowFail: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const k = process.argv.indexOf('--hosts');
  const mininet = await mininetBringUp(k >= 0 ? Number(process.argv[k + 1]) : 24);
  await emitJson({ bench: 'mininet', mininet });
  process.exit(0);
}

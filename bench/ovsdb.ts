// One OVS port add (and delete) through `docker exec ovs-vsctl` against the same through OVSDB
// (agent/net/ovsdb/), same run, same veth, both waiting for ovs-vswitchd; and 24 ports added
// together (4 at a time, as a reconcile phase does). Needs infra up. JSON out (not a test).
import { emitJson } from './emit.js';
import { loadConfig, paths } from '../agent/config.js';
import { dockerClient } from '../agent/docker/client.js';
import { groupCommit } from '../agent/lab/batch.js';
import { vsctlVia } from '../agent/net/ovs-exec.js';
import { Ovs } from '../agent/net/ovs.js';
import { OvsdbClient } from '../agent/net/ovsdb/client.js';
import { OvsdbSwitch } from '../agent/net/ovsdb/switch.js';
import { run } from '../agent/sys/run.js';

const cfg = loadConfig();
const N = 20;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!; };
const names = Array.from({ length: 24 }, (_, i) => `ovb${i}`);

type PortIo = Pick<OvsdbSwitch, 'addPort' | 'deletePort'>;
const exec: PortIo = new Ovs(vsctlVia(dockerClient()));
const db = new OvsdbClient({ path: `${paths(cfg).ovsRunDir}/db.sock` }).start();
const ovsdb: PortIo = new OvsdbSwitch(db, groupCommit);

async function one(io: PortIo): Promise<{ add: number; del: number }> {
  const t0 = performance.now();
  await io.addPort(cfg.bridge, 'ovb0', 3800, { 'dovelab-bench': 'ovsdb' });
  const t1 = performance.now();
  await io.deletePort(cfg.bridge, 'ovb0');
  return { add: t1 - t0, del: performance.now() - t1 };
}

async function phase(io: PortIo): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < names.length) { const i = next++; await io.addPort(cfg.bridge, names[i]!, 3800 + i, { 'dovelab-bench': 'ovsdb' }); }
  }));
  const ms = performance.now() - t0;
  await Promise.all(names.map((n) => ovsdb.deletePort(cfg.bridge, n)));
  return ms;
}

try {
  for (const n of names) {
    await run(['ip', 'link', 'del', n], { allowFail: true });
    await run(['ip', 'link', 'add', n, 'type', 'veth', 'peer', 'name', `${n}p`]);
  }
  const r = { exec: { add: [] as number[], del: [] as number[] }, ovsdb: { add: [] as number[], del: [] as number[] } };
  await one(ovsdb); await one(exec); // warm both
  for (let i = 0; i < N; i++) {
    // Alternate, so drift on this shared machine hits both alike.
    for (const k of ['exec', 'ovsdb'] as const) { const x = await one(k === 'exec' ? exec : ovsdb); r[k].add.push(x.add); r[k].del.push(x.del); }
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  const stats = (xs: number[]) => ({ p50: round(pct(xs, 50)), p95: round(pct(xs, 95)) });
  const phaseExec = await phase(exec); const phaseDb = await phase(ovsdb);
  await emitJson({
    bench: 'ovsdb',
    port_add_ms: { exec: stats(r.exec.add), ovsdb: stats(r.ovsdb.add), n: N },
    port_delete_ms: { exec: stats(r.exec.del), ovsdb: stats(r.ovsdb.del), n: N },
    add_24_ports_4_at_a_time_ms: { exec: round(phaseExec), ovsdb: round(phaseDb) },
  });
} finally {
  for (const n of names) {
    await ovsdb.deletePort(cfg.bridge, n).catch(() => {});
    await run(['ip', 'link', 'del', n], { allowFail: true });
  }
  db.close();
}
process.exit(0);

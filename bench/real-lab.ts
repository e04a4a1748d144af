// Bring-up of the largest imported course lab (test/fixtures/kathara/ospf5: five FRR routers in a
// ring + two hosts, 7 networks), as JSON (not a test). Needs root, dockerd and the built tree
// (`npm run bench:labs`); takes the real path a teacher takes: `dovelab lesson import`, then for
// 1 and 4 groups (BENCH_LAB_GROUPS="1,4"): `dovelab up --groups N` (wall time until it returns),
// then until every generated task of every group passes (`dovelab check --json`, polled: OSPF
// converged end to end), then `dovelab down` (wall time).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitJson } from './emit.js';
import { dovelab } from '../test/integration/_cli.js';
import { stack, waitFor } from '../test/integration/_stack.js';

const LAB = fileURLToPath(new URL('../../test/fixtures/kathara/ospf5', import.meta.url));
const GROUPS = (process.env.BENCH_LAB_GROUPS ?? '1,4').split(',').map(Number);
const s1 = (ms: number) => Math.round(ms / 100) / 10;

const must = async (args: string[]) => {
  const r = await dovelab(args);
  if (r.code !== 0) throw new Error(`dovelab ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

await stack();
await must(['down']);
const work = mkdtempSync(join(tmpdir(), 'dovelab-bench-lab-'));
const runs: Record<string, unknown>[] = [];
try {
  const pack = join(work, 'pack');
  await must(['lesson', 'import', LAB, '-o', pack]);
  for (const groups of GROUPS) {
    const t0 = Date.now();
    await must(['up', pack, '--groups', String(groups)]);
    const up = Date.now() - t0;
    let checks = 0;
    let last = '';
    await waitFor(`every task of ${groups} group(s) to pass`, async () => {
      checks++;
      const r = await dovelab(['check', '--json']);
      const results = (JSON.parse(r.stdout) as { results: { status: string }[] }).results;
      last = results.filter((x) => x.status !== 'pass').length + ' not passing';
      return results.length > 0 && results.every((x) => x.status === 'pass');
    }, 300_000, 1000).catch((e) => { throw new Error(`${(e as Error).message}; last: ${last}`); });
    const allPass = Date.now() - t0;
    const t1 = Date.now();
    await must(['down']);
    runs.push({ groups, containers: 7 * groups, up_s: s1(up), tasks_pass_s: s1(allPass), check_rounds: checks, down_s: s1(Date.now() - t1) });
  }
} finally {
  await dovelab(['down']);
  rmSync(work, { recursive: true, force: true });
}
await emitJson({ bench: 'real-lab', lab: 'kathara/ospf5 (5 FRR routers, 2 hosts, 7 networks)', runs });
process.exit(0);

// Preloaded into the agent by bench/memory.ts (`node --import …/agent-probe.js cli.js agent`): on
// SIGUSR2 it writes where the process's memory is to $DOVELAB_MEM_PROBE_OUT: V8's heap spaces,
// process.memoryUsage() and the CommonJS packages loaded; with $DOVELAB_MEM_PROBE_SNAPSHOT, a heap
// snapshot there first. Not part of the agent.
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { writeAtomic } from '../agent/sys/files.js';

const out = process.env.DOVELAB_MEM_PROBE_OUT;
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
if (out) {
  process.on('SIGUSR2', () => {
    if (process.env.DOVELAB_MEM_PROBE_SNAPSHOT) writeHeapSnapshot(process.env.DOVELAB_MEM_PROBE_SNAPSHOT);
    const cjs: Record<string, number> = {};
    for (const f of Object.keys(createRequire(import.meta.url).cache)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
      const pkg = m ? m[1]! : 'other';
      cjs[pkg] = (cjs[pkg] ?? 0) + 1;
    }
    const h = getHeapStatistics();
    writeAtomic(out, JSON.stringify({
      memory_usage_mb: Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mb(v)])),
      heap_mb: { used: mb(h.used_heap_size), total: mb(h.total_heap_size), physical: mb(h.total_physical_size), malloced: mb(h.malloced_memory), peak_malloced: mb(h.peak_malloced_memory) },
      heap_spaces_mb: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { used: mb(s.space_used_size), physical: mb(s.physical_space_size) }])),
      commonjs_files_by_package: cjs,
    }));
  });
}

// Peak RSS and wall time of `dovelab` calls that need no running lab, against a bare `node -e 0`
// in the same run (issue 13: a CLI call should stay within 60 MB). Best of three runs each.
import { fileURLToPath } from 'node:url';
import { emitJson } from './emit.js';
import { CLI, timedNode } from './timed.js';

const LESSON = fileURLToPath(new URL('../../lessons/first-switch', import.meta.url));
const CALLS: Record<string, string[]> = {
  help: ['--help'],
  lesson_schema: ['lesson', 'schema'],
  lesson_list: ['lesson', 'list'],
  lesson_validate: ['lesson', 'validate', LESSON],
  status: ['status'],
};

async function best(args: string[]) {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await timedNode(args));
  return { max_rss_kib: Math.min(...runs.map((r) => r.maxRssKiB)), ms: Math.min(...runs.map((r) => r.ms)) };
}

const bare = await best(['-e', '0']);
const calls: Record<string, { max_rss_kib: number; ms: number; over_bare_node_kib: number }> = {};
for (const [name, args] of Object.entries(CALLS)) {
  const r = await best([CLI, ...args]);
  calls[name] = { ...r, over_bare_node_kib: r.max_rss_kib - bare.max_rss_kib };
}
await emitJson({
  bench: 'cli',
  node: process.version,
  bare_node: bare,
  calls,
  largest_call_rss_kib: Math.max(...Object.values(calls).map((c) => c.max_rss_kib)),
});

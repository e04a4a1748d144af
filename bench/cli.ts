// Peak RSS and wall time of `dovelab` calls that need no running lab, against a bare `node -e 0`
// in the same run (issue 13: a CLI call should stay within 60 MB). Best of three runs each; once as
// `node cli.js` and once with the flags the appliance's `dovelab` wrapper gives a CLI call
// (CLI_NODE_FLAGS in agent/config.ts).
import { fileURLToPath } from 'node:url';
import { CLI_NODE_FLAGS } from '../agent/config.js';
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

type Calls = Record<string, { max_rss_kib: number; ms: number; over_bare_node_kib: number }>;
async function measure(flags: string[]): Promise<{ bare: Awaited<ReturnType<typeof best>>; calls: Calls }> {
  const bare = await best([...flags, '-e', '0']);
  const calls: Calls = {};
  for (const [name, args] of Object.entries(CALLS)) {
    const r = await best([...flags, CLI, ...args]);
    calls[name] = { ...r, over_bare_node_kib: r.max_rss_kib - bare.max_rss_kib };
  }
  return { bare, calls };
}
const largest = (c: Calls) => Math.max(...Object.values(c).map((x) => x.max_rss_kib));

const { bare, calls } = await measure([]);
const wrapper = await measure(CLI_NODE_FLAGS);
await emitJson({
  bench: 'cli',
  node: process.version,
  bare_node: bare,
  calls,
  largest_call_rss_kib: largest(calls),
  with_cli_node_flags: { flags: CLI_NODE_FLAGS, bare_node: wrapper.bare, calls: wrapper.calls, largest_call_rss_kib: largest(wrapper.calls) },
  goal_rss_kib: 60 * 1024,
  goal_mb: 60,
});

// `dovelab history`: a host's (or container's, or uplink's) traffic from the store on disk, as CSV
// or JSON; without a target, the series there are. Reads the segments the agent writes (minute
// rollups, up to about a minute behind the running agent; the last hour's 5 s points live in the
// agent: GET /api/history).
import type { Command } from 'commander';
import type { Config } from './config.js';

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => (...a: A) => Promise<void>;

export function registerHistoryVerbs(program: Command, cfg: () => Config, action: Action, log: (s: string) => void): void {
  program.command('history').argument('[target]', 'host.interface (h2.eth0, g3-h2.eth0), a container\'s name, an uplink (up0) or an ACL (web-only: its rules\' hits); none: list the series')
    .description('traffic history of an interface (also of hosts, groups and labs that are gone), as CSV or JSON')
    .option('--group <n>', 'the host\'s group (shared hosts: 0)')
    .option('--lesson <id>', 'only series of this lesson')
    .option('--since <when>', 'a duration back from now (30s, 10m, 2h, 7d) or an ISO time', '1h')
    .option('--format <csv|json>', 'output format', 'csv')
    .action(action(async (target: string | undefined, o: { group?: string; lesson?: string; since: string; format: string }) => {
      // Loaded when it runs: `dovelab --help` stays small.
      const [{ historyStore }, { ownerLabel }, { matches, parseSince, parseTarget, toCsv, HistoryQueryError }] = await Promise.all([
        import('./metrics/history-collect.js'), import('./metrics/history-keys.js'), import('./metrics/history-query.js'),
      ]);
      if (!['csv', 'json'].includes(o.format)) throw new HistoryQueryError(`--format ${o.format}: expected csv or json`);
      if (o.group !== undefined && !/^\d{1,2}$/.test(o.group)) throw new HistoryQueryError(`--group ${o.group}: expected a group number`);
      const now = Date.now();
      const since = parseSince(o.since, now);
      const store = historyStore(cfg());
      store.load();
      const all = store.list();
      if (!target) {
        if (o.format === 'json') log(JSON.stringify(all, null, 2));
        else for (const s of all) log(`${ownerLabel(s.owner).padEnd(36)} ${new Date(s.since).toISOString()} .. ${new Date(s.lastSeen).toISOString()}  ${s.id}`);
        return;
      }
      const q = parseTarget(target, o.group === undefined ? undefined : Number(o.group), o.lesson);
      const chosen = all.filter((s) => matches(s.owner, q)).sort((a, b) => a.since - b.since);
      if (!chosen.length) {
        const known = [...new Set(all.map((s) => ownerLabel(s.owner)))].slice(0, 12);
        throw new HistoryQueryError(`no traffic history of ${target}${o.group !== undefined ? ` in group ${o.group}` : ''}` +
          (known.length ? `; there is history of: ${known.join(', ')}` : '; the store is empty (is the agent running?)'));
      }
      const data = await store.series(chosen.map((s) => s.id), since, now);
      if (o.format === 'csv') { process.stdout.write(toCsv(data)); return; }
      log(JSON.stringify({ since, until: now, series: data.map((d) => ({ id: d.info.id, label: ownerLabel(d.info.owner), owner: d.info.owner, since: d.info.since, lastSeen: d.lastSeen, points: d.points })) }, null, 2));
    }));
}

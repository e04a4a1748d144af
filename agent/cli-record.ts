// `dovelab record`: the class record of the last lab run (groups × tasks: first pass, state at the
// last full check, resets) as CSV or JSON, from <dataDir>/class-record.json (also after `down`).
import type { Command } from 'commander';
import type { Config } from './config.js';

type Action = <A extends unknown[]>(fn: (...a: A) => Promise<void | number>) => (...a: A) => Promise<void>;

export function registerRecordVerbs(program: Command, cfg: () => Config, action: Action, log: (s: string) => void): void {
  program.command('record').description('the class record of the last lab run (groups × tasks: first pass, state, resets), as CSV or JSON')
    .option('--format <csv|json>', 'output format', 'csv')
    .action(action(async (o: { format: string }) => {
      if (!['csv', 'json'].includes(o.format)) throw new Error(`--format ${o.format}: expected csv or json`);
      const [{ recordCsv }, { readClassRecord }, { recordView }, { paths }] = await Promise.all([import('./lab/class-record.js'), import('./lab/state.js'), import('./web/record.js'), import('./config.js')]);
      const file = paths(cfg()).classRecord;
      const r = readClassRecord(file);
      if (!r) throw new Error(`no class record yet (${file}): it starts with the first check round or reset of a lab`);
      if (o.format === 'csv') process.stdout.write(recordCsv(r));
      else log(JSON.stringify(recordView(r), null, 2));
    }));
}

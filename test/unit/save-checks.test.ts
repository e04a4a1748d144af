// checks.json is written only for the run that was checked: a round ending after `down` (or after
// a new `up`) never brings old results back.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ConfigSchema, paths } from '../../agent/config.js';
import type { LabContext } from '../../agent/lab/engine.js';
import { saveCheckResults } from '../../agent/lab/service.js';
import { clearLabState, writeLabState, type LabState } from '../../agent/lab/state.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const root = mkdtempSync(join(tmpdir(), 'dovelab-save-'));
const cfg = ConfigSchema.parse({ dataDir: join(root, 'data'), runDir: join(root, 'run'), logDir: join(root, 'log') });
const logged: string[] = [];
const ctx = { cfg, log: (s: string) => logged.push(s) } as unknown as LabContext;
const st: LabState = {
  lab: 'demo', source: 'x', groups: 1, startedAt: '2026-12-01T10:00:00.000Z',
  topology: TopologySchema.parse(parse('dovelab: 1\nnetworks: {lan: {}}\nhosts: {h1: {interfaces: {eth0: {network: lan}}}}\n')),
};
const report = (startedAt: string) => ({ lab: 'demo', startedAt, updated_at: new Date().toISOString(), results: [] });

test('results of the running lab are saved; results of a lab that is gone or restarted are not', async () => {
  const file = paths(cfg).checks;
  writeLabState(paths(cfg).labState, st);
  await saveCheckResults(ctx, report(st.startedAt));
  assert.ok(existsSync(file), 'positive control: the running lab\'s results are saved');
  assert.is(JSON.parse(readFileSync(file, 'utf8')).startedAt, st.startedAt);

  // The same lab started again: an older round must not overwrite the new run's file.
  writeLabState(paths(cfg).labState, { ...st, startedAt: '2026-12-01T11:00:00.000Z' });
  await saveCheckResults(ctx, report(st.startedAt));
  assert.is(JSON.parse(readFileSync(file, 'utf8')).startedAt, st.startedAt, 'unchanged');
  assert.match(logged.join('\n'), 'no longer runs; results not saved');

  // `down`: lab.json and checks.json are gone; a late round does not bring checks.json back.
  clearLabState(paths(cfg).labState);
  rmSync(file);
  await saveCheckResults(ctx, report(st.startedAt));
  assert.not.ok(existsSync(file));
});

test.run();

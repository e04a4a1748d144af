// The class record of a lesson run (agent/lab/class-record.ts): first passes kept, last states
// replaced, resets counted, a new run starts a new record, the table and its CSV.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvField, noteChecks, noteReset, recordCsv, recordRows, type RunInfo } from '../../agent/lab/class-record.js';
import type { CheckResult } from '../../agent/lab/checks.js';

const RUN: RunInfo = { lab: 'first-switch', startedAt: '2026-12-07T10:00:00.000Z', groups: 2, tasks: [{ id: 'ping', title: 'h1 talks to h2' }, { id: 'mac' }] };
const r = (group: number, task: string, status: CheckResult['status']): CheckResult => ({ group, task, status, reason: '', ms: 1 });
const T = (min: number) => new Date(Date.parse(RUN.startedAt) + min * 60_000).toISOString();

test('first pass is the first round that saw it pass; later rounds change the state, never the first pass', () => {
  let rec = noteChecks(undefined, RUN, [r(1, 'ping', 'fail'), r(1, 'mac', 'fail'), r(2, 'ping', 'fail'), r(2, 'mac', 'fail')], T(1));
  rec = noteChecks(rec, RUN, [r(1, 'ping', 'pass'), r(1, 'mac', 'fail'), r(2, 'ping', 'fail'), r(2, 'mac', 'error')], T(5.5));
  rec = noteChecks(rec, RUN, [r(1, 'ping', 'fail'), r(1, 'mac', 'pass'), r(2, 'ping', 'fail'), r(2, 'mac', 'fail')], T(9));
  assert.equal(recordRows(rec), [
    { group: 1, task: 'ping', title: 'h1 talks to h2', firstPass: T(5.5), minutesToPass: 5.5, state: 'fail', resets: 0 },
    { group: 1, task: 'mac', title: 'mac', firstPass: T(9), minutesToPass: 9, state: 'pass', resets: 0 },
    { group: 2, task: 'ping', title: 'h1 talks to h2', state: 'fail', resets: 0 },
    { group: 2, task: 'mac', title: 'mac', state: 'fail', resets: 0 },
  ]);
  assert.is(rec.updatedAt, T(9));
});

test('a reset is counted for its group only; the group\'s states are unchecked until the next round; first passes stay', () => {
  let rec = noteChecks(undefined, RUN, [r(1, 'ping', 'pass'), r(2, 'ping', 'pass')], T(2));
  rec = noteReset(rec, RUN, 1, T(3));
  rec = noteReset(rec, RUN, 1, T(4));
  const rows = recordRows(rec);
  assert.equal(rows.map((x) => [x.group, x.task, x.state, x.resets, x.firstPass]), [
    [1, 'ping', 'unchecked', 2, T(2)], [1, 'mac', 'unchecked', 2, undefined],
    [2, 'ping', 'pass', 0, T(2)], [2, 'mac', 'unchecked', 0, undefined],
  ]);
});

test('another run (or lab) starts a new record; the same run carries on', () => {
  const rec = noteReset(noteChecks(undefined, RUN, [r(1, 'ping', 'pass')], T(1)), RUN, 2, T(2));
  const again = noteChecks(rec, RUN, [], T(3));
  assert.is(recordRows(again).find((x) => x.group === 1 && x.task === 'ping')!.firstPass, T(1), 'control: same run');
  const next = noteChecks(rec, { ...RUN, startedAt: T(60) }, [], T(61));
  assert.equal(recordRows(next).map((x) => [x.firstPass, x.resets]), [[undefined, 0], [undefined, 0], [undefined, 0], [undefined, 0]]);
  assert.is(noteChecks(rec, { ...RUN, lab: 'vlans' }, [], T(3)).lab, 'vlans');
});

test('CSV: header, one line per group × task, CRLF, quoting and spreadsheet formulas defused', () => {
  const rec = noteChecks(undefined, { ...RUN, groups: 1, tasks: [{ id: 'q', title: 'say "hi", then =1+1' }] }, [r(1, 'q', 'pass')], T(1));
  assert.is(recordCsv(rec), 'lab,run_started,group,task,title,first_pass,minutes_to_pass,state,resets\r\n' +
    `first-switch,2026-12-07T10:00:00.000Z,1,q,"say ""hi"", then =1+1",${T(1)},1,pass,0\r\n`);
  assert.is(csvField('=cmd()'), "'=cmd()");
  assert.is(csvField('-1'), "'-1");
  assert.is(csvField(-1), '-1', 'numbers are numbers');
  assert.is(csvField('plain'), 'plain');
  assert.is(csvField(undefined), '');
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containersToRestore, type StoppedContainer } from '../../agent/lab/plan-restore.js';

const ours = new Set(['net-dovelab']);
const NOT_FOUND = 'failed to add endpoint: plugin "dovelab" not found';
const c = (over: Partial<StoppedContainer>): StoppedContainer =>
  ({ name: 'x', state: 'exited', error: NOT_FOUND, restartPolicy: 'always', networkIds: ['net-dovelab'], ...over });

test('dockerd gave up on it for want of our driver, and its policy restarts it: started', () => {
  assert.equal(containersToRestore([
    c({ name: 'a' }),
    c({ name: 'b', restartPolicy: 'unless-stopped' }),
    c({ name: 'c', error: 'failed to add endpoint: plugin "dovesnap" not found' }),
    c({ name: 'd', error: 'dovelab: Faucet did not confirm the change', state: 'created' }),
  ], ours), ['a', 'b', 'c', 'd']);
});

test('stopped by a person, no restart policy, on-failure, another network, another error: left alone', () => {
  const left = [
    c({ name: 'stopped-by-hand', error: '' }),
    c({ name: 'no-policy', restartPolicy: 'no' }),
    c({ name: 'empty-policy', restartPolicy: '' }),
    c({ name: 'on-failure', restartPolicy: 'on-failure' }),
    c({ name: 'bridge-net', networkIds: ['net-bridge'] }),
    c({ name: 'other-error', error: 'OCI runtime create failed: exec: "nope": executable file not found' }),
    c({ name: 'other-plugin', error: 'failed to add endpoint: plugin "weave" not found' }),
    c({ name: 'running', state: 'running' }),
  ];
  assert.equal(containersToRestore(left, ours), []);
  // Control: the same records with the failure of our driver are taken.
  assert.equal(containersToRestore([c({ name: 'control' }), ...left], ours), ['control']);
});

test.run();

// A component that does not answer: a clear message naming it, exit 1, nothing half-applied.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INFRA, paths } from '../../agent/config.js';
import { teardown } from '../../agent/lab/engine.js';
import { infraUp } from '../../agent/lab/infra.js';
import { cfg, docker, run, stack } from './_stack.js';
import { dovelab, LESSONS } from './_cli.js';
import { loud } from '../loud-hook.js';

const labLinks = async () => (await run(['ip', '-o', 'link', 'show'])).stdout.match(/\bdl\d+(?=[@:])/g) ?? [];
const labContainers = async () => (await docker.listContainers({ all: true, filters: { label: ['dovelab.lab'] } })).length;

test.before(loud(async () => { await teardown(await stack()); }));
test.after(async () => { await infraUp(cfg, docker); });

test('dockerd not answering: infra up names it and the next step, exit 1', async () => {
  const r = await dovelab(['infra', 'up'], { DOCKER_SOCKET: '/run/dovelab-no-such-docker.sock' });
  assert.is(r.code, 1);
  assert.match(r.stderr, /dockerd is not answering/);
  assert.match(r.stderr, /dovelab engine start|systemctl start docker/);
});

test('OVS not running: `up` fails before creating anything', async () => {
  await docker.getContainer(INFRA.ovs).stop({ t: 2 });
  try {
    const r = await dovelab(['up', `${LESSONS}/first-switch`]);
    assert.is(r.code, 1);
    // Lab ports go over OVSDB: the socket of the stopped container has nobody behind it.
    assert.match(r.stderr, /OVS is not running \(no ovsdb-server on \S+\/db\.sock: .*\): run `dovelab infra up`/);
    assert.is(await labContainers(), 0);
    assert.equal(await labLinks(), []);
  } finally {
    await infraUp(cfg, docker);
  }
});

test('Faucet not answering: `up` fails before creating anything, faucet.yaml untouched', async () => {
  const before = readFileSync(paths(cfg).faucetYaml, 'utf8');
  await docker.getContainer(INFRA.faucet).stop({ t: 1 });
  try {
    const r = await dovelab(['up', `${LESSONS}/first-switch`]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /Faucet is not answering on 127\.0\.0\.1:9302/);
    assert.is(await labContainers(), 0);
    assert.equal(await labLinks(), []);
    assert.is(readFileSync(paths(cfg).faucetYaml, 'utf8'), before);
  } finally {
    await infraUp(cfg, docker);
  }
});

test('a bad lesson is rejected with file, path and reason; nothing applied', async () => {
  const r = await dovelab(['up', `${LESSONS}/../test/fixtures/bad-network.yaml`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad-network\.yaml: hosts\.h2\.interfaces\.eth0\.network: unknown network "lan"/);
  assert.is(await labContainers(), 0);
});

test('doctor is green with infra up, and names the fix when Gauge is down', async () => {
  const ok = await dovelab(['doctor']);
  assert.is(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /all good/);
  await docker.getContainer(INFRA.gauge).stop({ t: 1 });
  try {
    const bad = await dovelab(['doctor']);
    assert.is(bad.code, 1);
    assert.match(bad.stdout, /FAIL container dovelab-gauge: exited/);
    assert.match(bad.stdout, /fix: `dovelab infra up`/);
  } finally {
    await infraUp(cfg, docker);
  }
});

test.run();

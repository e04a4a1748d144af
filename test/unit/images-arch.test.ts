// The arm64 build's decisions that need no buildah: which failures are worth another try, and
// bad arguments refused before anything runs (the build itself: `npm run test:arm64`).
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildArchImages, isFetchFailure, shippedTag } from '../../agent/docker/images-arch.js';

const RECIPES = fileURLToPath(new URL('../../../image-build/images', import.meta.url));

test('isFetchFailure: apt and pip download failures, not recipe errors', () => {
  for (const m of [
    'E: Failed to fetch http://mirror/debian/pool/main/t/tini/tini_0.19.0-1+b3_arm64.deb  Unable to connect to mirror:http:',
    'E: Unable to connect to mirror:http:',
    'Temporary failure resolving \'mirror\'',
    "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(...)'",
    "ReadTimeoutError(\"HTTPSConnectionPool(host='pypi', port=443): Read timed out.\")",
  ]) assert.ok(isFetchFailure(m), m);
  for (const m of [
    'E: Unable to locate package openvswitch-swich',
    'ERROR: Could not find a version that satisfies the requirement faucet==9.9',
    '/bin/sh: 1: ovs-vswitchd: not found',
    'error: command \'gcc\' failed with exit code 1',
  ]) assert.not.ok(isFetchFailure(m), m);
});

test('shippedTag is what config.images expects', () => {
  assert.is(shippedTag('ovs'), 'dovelab/ovs:latest');
});

test('unknown image names and architectures are refused before anything runs', async () => {
  await buildArchImages(RECIPES, { arch: 'arm64', outDir: '/nonexistent/out', only: ['ovs', 'openvswitch'] })
    .then(() => assert.unreachable(), (e: Error) => assert.match(e.message, 'unknown image openvswitch (one of ovs, faucet, labhost, router, services)'));
  await buildArchImages(RECIPES, { arch: 'mips', outDir: '/nonexistent/out' })
    .then(() => assert.unreachable(), (e: Error) => assert.match(e.message, '--arch mips: not supported (one of arm64, amd64)'));
});

test.run();

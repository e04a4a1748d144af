// dockerode's SSH transport (ssh2) and BuildKit session (gRPC) are not loaded with it
// (agent/docker/lazy-transports.ts), yet work when used: in a fresh Node, importing our Docker
// client loads neither; a client for ssh://127.0.0.1:1 loads ssh2 on its first call and fails
// as ssh would (connection refused on loopback), not with a missing function.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const CLIENT = fileURLToPath(new URL('../../agent/docker/client.js', import.meta.url));

const probe = `
const { createRequire } = require('node:module');
const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/(ssh2|@grpc)\\//.test(k)).length;
import(${JSON.stringify(CLIENT)}).then(async (m) => {
  const before = loaded();
  const Docker = createRequire(${JSON.stringify(CLIENT)})('dockerode');
  const d = new Docker({ protocol: 'ssh', host: '127.0.0.1', port: 1, username: 'nobody' });
  const err = await d.ping().then(() => 'answered', (e) => e.code || e.message);
  console.log(JSON.stringify({ before, after: loaded(), err, client: typeof m.dockerClient }));
});`;

test('importing our Docker client loads no SSH or gRPC module; an ssh:// client still loads ssh2 when used', () => {
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { before: number; after: number; err: string; client: string };
  assert.is(out.client, 'function');
  assert.is(out.before, 0, 'no ssh2/@grpc module loaded with dockerode');
  assert.ok(out.after > 0, 'the ssh transport loaded ssh2 when a client used it (control: the deferred function is the real one)');
  assert.match(out.err, /ECONNREFUSED/, `ssh to a closed loopback port fails as it should: ${out.err}`);
});

test.run();

// The resident Faucet check (one Python process in the Faucet container) gives the verdicts of
// Faucet's own check_faucet_config command, on good and bad configs, and is what the engine uses.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INFRA, paths } from '../../agent/config.js';
import { execIn } from '../../agent/docker/client.js';
import { askCheckd, CHECKD_SOCKET } from '../../agent/net/faucet/checkd.js';
import { checkFaucetConfig, startCheckd } from '../../agent/net/faucet/docker-io.js';
import { cfg, docker, labUp, run, stack, waitFor } from './_stack.js';
import { loud } from '../loud-hook.js';

const TWO = `
dovelab: 1
networks: {lab: {}}
acls: {no-ping: [{match: {ip_proto: icmp}, action: drop}, {action: allow}]}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
  h2: {interfaces: {eth0: {network: lab, ip: 198.51.100.12/24}}}
apply: {h1.eth0: [no-ping]}
`;

const dir = () => paths(cfg).faucetDir;
const sock = () => `${dir()}/${CHECKD_SOCKET}`;
const written: string[] = [];
function candidate(name: string, text: string): string {
  const f = `${dir()}/.eq-${name}.yaml`;
  // Throwaway files in the config folder the container sees.
  writeFileSync(f, text);
  written.push(f);
  return f;
}

async function oneShot(file: string): Promise<{ ok: boolean; output: string }> {
  const r = await execIn(docker, INFRA.faucet, ['check_faucet_config', `/etc/faucet/${file.split('/').pop()}`], { allowFail: true, timeoutMs: 60_000 });
  return { ok: r.code === 0, output: r.stdout + r.stderr };
}

test.before(loud(async () => { await stack(); await labUp(TWO); }));
test.after(() => { for (const f of written) rmSync(f, { force: true }); });

test('the resident check answers as check_faucet_config does, on good and bad configs', async () => {
  await startCheckd(docker);
  await waitFor('the Faucet check daemon listening', async () => (await askCheckd(sock(), '/etc/faucet/faucet.yaml').catch(() => undefined)) ?? false, 60_000);
  const live = readFileSync(paths(cfg).faucetYaml, 'utf8');
  assert.match(live, /acls_in|acl_in/, 'the lab config has port ACLs');
  const cases: Record<string, { text: string; ok: boolean; says?: RegExp }> = {
    lab: { text: live, ok: true },
    idle: { text: readFileSync(`${dir()}/.initial.yaml`, 'utf8'), ok: true },
    unknownKey: { text: live.replace(/^(\s+)hardware: Open vSwitch$/m, '$1hardware: Open vSwitch\n$1bogus_key: 1'), ok: false, says: /bogus_key/ },
    vid5000: { text: live.replace(/vid: (\d+)/, 'vid: 5000'), ok: false, says: /vid|5000/i },
    missingAcl: { text: live.replace(/^(\s+)- dovelab-allow$/m, '$1- no-such-acl'), ok: false, says: /no-such-acl/ },
    yamlError: { text: 'dps: [\n', ok: false },
    empty: { text: '', ok: false },
  };
  for (const [name, c] of Object.entries(cases)) {
    if (name !== 'lab' && name !== 'idle') assert.is.not(c.text, live, `${name}: the mutation applied`);
    const f = candidate(name, c.text);
    const cmd = await oneShot(f);
    const resident = await askCheckd(sock(), `/etc/faucet/.eq-${name}.yaml`);
    assert.ok(resident, `${name}: the daemon answered`);
    assert.is(cmd.ok, c.ok, `${name}: check_faucet_config says ${cmd.ok ? 'ok' : 'invalid'}: ${cmd.output.slice(-300)}`);
    assert.is(resident.ok, cmd.ok, `${name}: same verdict (resident output: ${resident.output.slice(-300)})`);
    if (c.says) {
      assert.match(cmd.output, c.says, `${name}: the command names the problem`);
      assert.match(resident.output, c.says, `${name}: the daemon names it too`);
    }
  }
});

test('the engine\'s check goes through the daemon, and falls back to the command without it', async () => {
  const good = candidate('engine-good', readFileSync(paths(cfg).faucetYaml, 'utf8'));
  const bad = candidate('engine-bad', readFileSync(paths(cfg).faucetYaml, 'utf8').replace(/vid: (\d+)/, 'vid: 5000'));
  assert.ok((await checkFaucetConfig(docker, cfg, good)).ok);
  const v = await checkFaucetConfig(docker, cfg, bad);
  assert.not.ok(v.ok);
  assert.match(v.error, /vid|5000/i);
  // Without a daemon (killed, socket gone): the one-shot command still decides, and a new daemon starts.
  await execIn(docker, INFRA.faucet, ['sh', '-c', `kill -9 "$(cat /etc/faucet/${CHECKD_SOCKET}.lock)"`], { allowFail: true });
  rmSync(sock(), { force: true });
  assert.not.ok(existsSync(sock()));
  const again = await checkFaucetConfig(docker, cfg, bad);
  assert.not.ok(again.ok);
  assert.match(again.error, /vid|5000/i);
  assert.ok((await checkFaucetConfig(docker, cfg, good)).ok);
  await waitFor('a new daemon listening', async () => (await askCheckd(sock(), `/etc/faucet/.eq-engine-good.yaml`).catch(() => undefined))?.ok ?? false, 60_000);
});

test('a short-lived process that starts the daemon still exits (the detached exec holds nothing open)', async () => {
  await execIn(docker, INFRA.faucet, ['sh', '-c', `kill -9 "$(cat /etc/faucet/${CHECKD_SOCKET}.lock)"`], { allowFail: true });
  rmSync(sock(), { force: true });
  const file = candidate('cli', readFileSync(paths(cfg).faucetYaml, 'utf8'));
  const script = `const m = await import(${JSON.stringify(new URL('../../agent/net/faucet/docker-io.js', import.meta.url).href)});
const c = await import(${JSON.stringify(new URL('../../agent/config.js', import.meta.url).href)});
const d = await import(${JSON.stringify(new URL('../../agent/docker/client.js', import.meta.url).href)});
const v = await m.checkFaucetConfig(d.dockerClient(), c.loadConfig(), ${JSON.stringify(file)});
console.log(v.ok ? 'verdict ok' : 'verdict bad');`;
  // Ends on its own (no process.exit) well inside the deadline; killed at the deadline, it fails.
  const r = await run([process.execPath, '--input-type=module', '-e', script], { allowFail: true, timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /verdict ok/);
  await waitFor('the daemon it started listening', async () => (await askCheckd(sock(), '/etc/faucet/faucet.yaml').catch(() => undefined))?.ok ?? false, 60_000);
});

test.run();

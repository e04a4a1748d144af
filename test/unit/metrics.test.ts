import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseMetrics, selectMetrics } from '../../agent/metrics/prometheus.js';
import { confirmPollMs } from '../../agent/net/faucet/apply.js';
import { confirms, FAUCET_STATUS_METRICS, faucetStatus } from '../../agent/net/faucet/status.js';

// Lines as Faucet 1.10.12 and Gauge print them (seen on this stack).
const FAUCET = `# HELP faucet_config_load_error 1 if last attempt to re/load config failed
# TYPE faucet_config_load_error gauge
faucet_config_load_error 0.0
# HELP faucet_config_hash_info file hashes for last successful config
# TYPE faucet_config_hash_info gauge
faucet_config_hash_info{config_files="/etc/faucet/faucet.yaml",error="",hashes="bd97623c"} 1.0
faucet_config_applied 1.0
faucet_config_reload_warm_total{dp_id="0x1",dp_name="dovelab0"} 3.0
faucet_config_reload_cold_total{dp_id="0x1",dp_name="dovelab0"} 1.0
dp_status{dp_id="0x1",dp_name="dovelab0"} 1.0
`;

test('Faucet status: hash, load error, applied, dp_status, warm/cold counts', () => {
  const st = faucetStatus(parseMetrics(FAUCET));
  assert.equal(st, { hashes: ['bd97623c'], loadError: false, applied: true, dpUp: { dovelab0: true }, warmStarts: 3, coldStarts: 1 });
  assert.ok(confirms(st, 'bd97623c', 'dovelab0'));
  assert.not.ok(confirms(st, 'other', 'dovelab0'));
});

test('a load error, or a DP that is down, does not confirm', () => {
  const err = FAUCET.replace('faucet_config_load_error 0.0', 'faucet_config_load_error 1.0');
  assert.not.ok(confirms(faucetStatus(parseMetrics(err)), 'bd97623c', 'dovelab0'));
  const down = FAUCET.replace('dp_status{dp_id="0x1",dp_name="dovelab0"} 1.0', 'dp_status{dp_id="0x1",dp_name="dovelab0"} 0.0');
  assert.not.ok(confirms(faucetStatus(parseMetrics(down)), 'bd97623c', 'dovelab0'));
  assert.not.ok(confirms(faucetStatus([]), 'bd97623c', 'dovelab0'));
});

test("Gauge's empty HELP lines parse", () => {
  const s = parseMetrics('# HELP of_port_tx_packets \n# TYPE of_port_tx_packets gauge\nof_port_tx_packets{port="g1-h1-eth0"} 7.0\n');
  assert.equal(s, [{ name: 'of_port_tx_packets', labels: { port: 'g1-h1-eth0' }, value: 7 }]);
});

// A page Faucet 1.10.12 served here (idle bridge, no lab).
const PAGE = readFileSync(new URL('../../../test/fixtures/metrics/faucet-idle.txt', import.meta.url), 'utf8');

test('the status read from the selected lines equals the one from the whole page', () => {
  const whole = faucetStatus(parseMetrics(PAGE));
  assert.equal(whole.dpUp, { dovelab0: true });
  assert.equal(whole.loadError, false);
  assert.is(whole.hashes.length, 1);
  const picked = selectMetrics(PAGE, FAUCET_STATUS_METRICS);
  assert.equal(faucetStatus(parseMetrics(picked)), whole);
  assert.ok(picked.length * 5 < PAGE.length, `${picked.length} of ${PAGE.length} bytes kept`);
  // Control: a selection that leaves dp_status out loses it, so the comparison above can fail.
  const without = selectMetrics(PAGE, FAUCET_STATUS_METRICS.filter((n) => n !== 'dp_status'));
  assert.equal(faucetStatus(parseMetrics(without)).dpUp, {});
});

test('selectMetrics keeps whole names only, with their TYPE lines', () => {
  const text = '# TYPE dp_status gauge\ndp_status{dp_name="a"} 1.0\ndp_status_extra 2.0\n# TYPE dp_status_extra gauge\nother 3\n';
  assert.is(selectMetrics(text, ['dp_status']), '# TYPE dp_status gauge\ndp_status{dp_name="a"} 1.0\n');
});

test('confirmation polls: the first soon, then every 50 ms', () => {
  assert.equal([0, 1, 2, 3, 4, 10].map(confirmPollMs), [10, 20, 40, 50, 50, 50]);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMetrics } from '../../agent/metrics/prometheus.js';
import { confirms, faucetStatus } from '../../agent/net/faucet/status.js';

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

test.run();

// What Faucet's Prometheus metrics say about the live config. Pure.
import { pick, type Sample } from '../../metrics/prometheus.js';

export interface FaucetStatus {
  /** sha256 hashes of the config files Faucet has loaded. */
  hashes: string[];
  loadError: boolean | undefined;
  applied: boolean | undefined;
  /** dp_status per DP name: 1 = the switch is connected and programmed. */
  dpUp: Record<string, boolean>;
  /** Faucet's counters of warm and cold starts (summed over DPs). */
  warmStarts: number;
  coldStarts: number;
}

/** The metrics faucetStatus reads (a scrape may keep only these). */
export const FAUCET_STATUS_METRICS = ['faucet_config_hash_info', 'faucet_config_load_error', 'faucet_config_applied',
  'dp_status', 'faucet_config_reload_warm_total', 'faucet_config_reload_cold_total'] as const;

const flag = (s: Sample[]) => (s.length ? s.every((x) => x.value === 1) : undefined);

export function faucetStatus(samples: Sample[]): FaucetStatus {
  const hashes = pick(samples, 'faucet_config_hash_info')
    .flatMap((s) => (s.labels.hashes ?? '').split(',')).filter(Boolean);
  const dpUp: Record<string, boolean> = {};
  for (const s of pick(samples, 'dp_status')) dpUp[s.labels.dp_name ?? '?'] = s.value === 1;
  const sum = (n: string) => pick(samples, n).reduce((a, s) => a + s.value, 0);
  return {
    hashes,
    loadError: pick(samples, 'faucet_config_load_error').some((s) => s.value !== 0)
      || (pick(samples, 'faucet_config_load_error').length ? false : undefined),
    applied: flag(pick(samples, 'faucet_config_applied')),
    dpUp,
    warmStarts: sum('faucet_config_reload_warm_total'),
    coldStarts: sum('faucet_config_reload_cold_total'),
  };
}

/** True when Faucet runs exactly this config (by sha256) without error and the DP is up. */
export function confirms(st: FaucetStatus, sha256: string, dpName: string): boolean {
  return st.hashes.includes(sha256) && st.loadError === false && st.applied !== false && st.dpUp[dpName] === true;
}

// The appliance's health for the instructor: the board (load, memory, the data disk, the CPU
// temperature, the Pi firmware's throttling, read by hardware/health.ts) with its warnings, the
// OVS/Faucet/Gauge containers and Faucet's dp_status, and the configured dongles (present or
// not). Each fact that cannot be read is left out, never guessed.
import { healthWarnings, readHardwareHealth, type HardwareHealth } from '../hardware/health.js';
import type { HealthView } from './api-types.js';

export interface HealthInputs {
  dataDir: string;
  dongles: Record<string, string>;
  /** Interfaces present on the appliance now. */
  present: () => Promise<string[]>;
  infra: () => Promise<{ docker: boolean; containers: Record<string, string> }>;
  /** Faucet's dp_status for the lab bridge, or the error reading it. */
  faucet: () => Promise<{ dpUp: boolean } | { error: string } | undefined>;
  thermalFile?: string;
  /** The board's health (default: read from this machine). */
  hardware?: () => Promise<HardwareHealth>;
}

export async function readHealth(i: HealthInputs): Promise<HealthView> {
  const [hw, infra, faucet, present] = await Promise.all([
    (i.hardware ?? (() => readHardwareHealth({ dataDir: i.dataDir, ...(i.thermalFile ? { thermalFile: i.thermalFile } : {}) })))(),
    i.infra().catch(() => ({ docker: false, containers: {} })),
    i.faucet().catch((e: Error) => ({ error: e.message })),
    i.present().catch(() => [] as string[]),
  ]);
  return {
    ...hw,
    infra: {
      ...infra,
      ...(faucet && 'dpUp' in faucet ? { faucetDpUp: faucet.dpUp } : {}),
      ...(faucet && 'error' in faucet ? { faucetError: faucet.error.split('\n')[0] } : {}),
    },
    dongles: Object.entries(i.dongles).map(([name, role]) => ({ name, role, present: present.includes(name) })),
    warnings: healthWarnings(hw),
  };
}

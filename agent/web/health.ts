// The appliance's health for the instructor: load, memory, the data disk, the CPU temperature (when
// the board has a thermal zone), the OVS/Faucet/Gauge containers and Faucet's dp_status, and the
// configured dongles (present or not). Each fact that cannot be read is left out, never guessed.
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
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
}

/** MemAvailable from /proc/meminfo (what the kernel could hand out), else os.freemem(). */
function availableMem(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return freemem();
}

export function cpuTempC(file = '/sys/class/thermal/thermal_zone0/temp'): number | undefined {
  try {
    const v = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(v) ? Math.round(v / 100) / 10 : undefined;
  } catch { return undefined; }
}

export async function readHealth(i: HealthInputs): Promise<HealthView> {
  const mb = (n: number) => Math.round(n / 1024 / 1024);
  const [disk, infra, faucet, present] = await Promise.all([
    statfs(i.dataDir).then((s) => {
      const used = s.blocks - s.bfree;
      return { usedFraction: used + s.bavail > 0 ? used / (used + s.bavail) : 0, freeMb: mb(s.bavail * s.bsize), path: i.dataDir };
    }, () => undefined),
    i.infra().catch(() => ({ docker: false, containers: {} })),
    i.faucet().catch((e: Error) => ({ error: e.message })),
    i.present().catch(() => [] as string[]),
  ]);
  const temp = cpuTempC(i.thermalFile);
  const [l1, l5, l15] = loadavg();
  return {
    load: [l1 ?? 0, l5 ?? 0, l15 ?? 0].map((x) => Math.round(x * 100) / 100) as [number, number, number],
    cpus: cpus().length,
    memory: { totalMb: mb(totalmem()), availableMb: mb(availableMem()) },
    ...(disk ? { disk } : {}),
    ...(temp !== undefined ? { cpuTempC: temp } : {}),
    infra: {
      ...infra,
      ...(faucet && 'dpUp' in faucet ? { faucetDpUp: faucet.dpUp } : {}),
      ...(faucet && 'error' in faucet ? { faucetError: faucet.error.split('\n')[0] } : {}),
    },
    dongles: Object.entries(i.dongles).map(([name, role]) => ({ name, role, present: present.includes(name) })),
  };
}

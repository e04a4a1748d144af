// What the LEDs are told about the appliance: infra up, web answering, lab loaded, and the faults a
// person must see (infra down, Faucet without its switch, a dongle the lab needs missing). The
// reading is injected (the agent passes Docker, OVS and its own web port); the verdict is pure.
import type { Config } from '../config.js';
import type { ApplianceFacts } from '../hardware/leds.js';
import type { InfraStatus } from './infra.js';
import type { LabState } from './state.js';
import type { DesiredUplink } from './desired.js';

export interface FactsReading {
  infra: InfraStatus | { error: string };
  webAnswers: boolean;
  /** Interfaces present now. */
  present: string[];
  lab?: LabState;
  /** The lab's dongles (uplinks and mirrors) as planned. */
  labDongles: Pick<DesiredUplink, 'iface' | 'role'>[];
}

const ROLE_NAMES = ['ovs', 'faucet', 'gauge'] as const;

/** The facts for the LEDs from one reading (pure). */
export function applianceFacts(c: Config, r: FactsReading): ApplianceFacts {
  const faults: string[] = [];
  const infra = r.infra;
  if ('error' in infra) faults.push(`cannot read the switch's state (${infra.error.split('\n')[0]})`);
  else if (!infra.docker) faults.push('Docker is not answering');
  else {
    for (const role of ROLE_NAMES) {
      const st = infra.containers[role];
      if (st !== 'running') faults.push(`the ${role} container is ${st ?? 'absent'}`);
    }
    if (infra.containers.faucet === 'running') {
      if (infra.faucetError) faults.push(`Faucet is not answering (${infra.faucetError.split('\n')[0]})`);
      else if (infra.faucet && infra.faucet.dpUp[c.bridge] !== true) faults.push(`Faucet does not see the switch ${c.bridge}`);
    }
  }
  if (!r.webAnswers) faults.push(`the web UI does not answer on port ${c.web.port}`);
  if (r.lab) {
    for (const d of r.labDongles) if (!r.present.includes(d.iface)) faults.push(`the lab's ${d.role} dongle ${d.iface} is not plugged in`);
  }
  const infraHealthy = !('error' in infra) && infra.docker && ROLE_NAMES.every((n) => infra.containers[n] === 'running')
    && !infra.faucetError && infra.faucet?.dpUp[c.bridge] === true;
  const uplink = Object.entries(c.dongles).find(([name, role]) => role === 'uplink' && r.present.includes(name))?.[0]
    ?? Object.entries(c.dongles).find(([, role]) => role === 'uplink')?.[0];
  return {
    agentUp: true,
    webAnswers: r.webAnswers,
    infraHealthy,
    labRunning: r.lab !== undefined,
    faults,
    ...(uplink ? { uplink } : {}),
  };
}

// OVS commands run inside the dovelab/ovs container (the host needs no OVS packages).
import type Docker from 'dockerode';
import { INFRA } from '../config.js';
import { execIn } from '../docker/client.js';
import type { VsctlRunner } from './ovs.js';

export class OvsUnavailable extends Error {}

/** Runs a command in the OVS container; a missing or stopped container becomes a clear error. */
async function inOvs(docker: Docker, argv: string[]) {
  try {
    return await execIn(docker, INFRA.ovs, argv, { timeoutMs: 20_000 });
  } catch (e) {
    const code = (e as { statusCode?: number }).statusCode;
    if (code === 404 || code === 409) {
      throw new OvsUnavailable(`OVS is not running (container ${INFRA.ovs} ${code === 404 ? 'absent' : 'stopped'}): run \`dovelab infra up\``);
    }
    throw e;
  }
}

/** ovs-vsctl inside the OVS container; its own --timeout and our deadline: a dead ovs-vswitchd cannot hang us. */
export const vsctlVia = (docker: Docker): VsctlRunner => (args: string[]) => inOvs(docker, ['ovs-vsctl', '--timeout=10', ...args]);

export const ofctlVia = (docker: Docker) => (args: string[]) => inOvs(docker, ['ovs-ofctl', '-O', 'OpenFlow13', ...args]);

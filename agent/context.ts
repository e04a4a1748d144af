// Wires the real adapters together for one CLI invocation (or the agent process).
import type Docker from 'dockerode';
import type { Config } from './config.js';
import { dockerClient, pingDocker } from './docker/client.js';
import { vsctlVia } from './docker/infra.js';
import { chooseDatapath } from './lab/infra.js';
import type { LabContext } from './lab/engine.js';
import { faucetIo } from './net/faucet/docker-io.js';
import { Ovs } from './net/ovs.js';

export async function labContext(cfg: Config, log: (s: string) => void, docker: Docker = dockerClient()): Promise<LabContext> {
  await pingDocker(docker);
  const ovs = new Ovs(vsctlVia(docker));
  return { cfg, docker, ovs, faucet: faucetIo(docker, cfg), datapath: await chooseDatapath(cfg, ovs), log };
}

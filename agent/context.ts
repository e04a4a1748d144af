// The composition root: wires the real adapters into one set for a CLI invocation or the agent.
import { readdirSync } from 'node:fs';
import type Docker from 'dockerode';
import type { Config } from './config.js';
import { dockerClient, pingDocker } from './docker/client.js';
import { dockerLabHosts } from './docker/hosts.js';
import { LABEL } from './lab/diff.js';
import type { LabContext } from './lab/engine.js';
import { chooseDatapath } from './lab/infra.js';
import { faucetIo } from './net/faucet/docker-io.js';
import { faucetPort } from './net/faucet/apply.js';
import { ensureLabFirewall } from './net/firewall.js';
import { addressesIn, attachCapture, attachVeth, limitHostEnd, createEndpointVeth, createGatewayVeth, deleteLink, linksInNetns, mtuOf, removeNetns, setLinkUp } from './net/links.js';
import { ensureGatewayFirewall } from './net/gateway-firewall.js';
import { hardenDongle, heldDongles, isHardened, releaseDongle } from './net/dongle.js';
import { readInterfaceFacts } from './hardware/interfaces.js';
import { groupCommit } from './lab/batch.js';
import { OvsdbClient } from './net/ovsdb/client.js';
import { OvsdbSwitch } from './net/ovsdb/switch.js';
import { containerOfEndpoint, containersOn, networkName } from './docker/endpoints.js';
import { endpointIfname, setEndpointMac, startEndpointDhcp, stopEndpointDhcp } from './net/endpoint-dhcp.js';
import { flowsVia, readAclCounters } from './net/faucet/acl-counters.js';
import { paths } from './config.js';
import { hostEndHeld, hostEndJoined } from './lab/network-state.js';

export async function labContext(cfg: Config, log: (s: string) => void, docker: Docker = dockerClient()): Promise<LabContext> {
  await pingDocker(docker);
  // Lab ports over the OVS container's OVSDB socket (no docker exec); bridge set-up stays with ovs-vsctl (lab/infra.ts).
  const ovs = new OvsdbSwitch(new OvsdbClient({ path: `${paths(cfg).ovsRunDir}/db.sock`, log }).start(), groupCommit);
  return {
    cfg, log, datapath: await chooseDatapath(cfg, ovs),
    hosts: dockerLabHosts(docker, { label: LABEL.lab }),
    ovs,
    links: { attachVeth, limitHostEnd, attachCapture, createEndpointVeth, createGateway: createGatewayVeth, removeNetns, deleteLink, mtuOf, setLinkUp, linksInNetns, addressesIn },
    dongles: {
      present: async () => readdirSync('/sys/class/net'),
      facts: readInterfaceFacts,
      held: async () => heldDongles(paths(cfg).dongleState),
      harden: (ifname) => hardenDongle(ifname, paths(cfg).dongleState),
      hardened: async (ifname) => isHardened(ifname),
      release: (ifname) => releaseDongle(ifname, paths(cfg).dongleState),
    },
    firewall: { ensure: ensureLabFirewall, gateways: (chains) => ensureGatewayFirewall(chains, log) },
    faucet: faucetPort(faucetIo(docker, cfg), paths(cfg).faucetYaml, cfg.bridge),
    endpoints: {
      containerOf: (network, endpoint, waitMs) => containerOfEndpoint(docker, network, endpoint, waitMs),
      networkName: (id, ms) => networkName(docker, id, ms),
      containersOn: (name, ms) => containersOn(docker, name, ms),
      startDhcp: (a) => startEndpointDhcp(a, `${cfg.runDir}/udhcpc.script`),
      stopDhcp: stopEndpointDhcp,
      setMac: setEndpointMac,
      ifnameOf: endpointIfname,
      joinedHostEnd: (name) => hostEndJoined(paths(cfg).networks, name),
      heldHostEnd: (name) => hostEndHeld(paths(cfg).networks, name),
    },
    aclHits: () => readAclCounters(flowsVia(paths(cfg).ovsRunDir, cfg.bridge), paths(cfg).faucetYaml),
    flows: flowsVia(paths(cfg).ovsRunDir, cfg.bridge),
  };
}

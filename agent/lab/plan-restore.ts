// Containers of the network driver that dockerd could not restore. At boot dockerd starts before
// the agent (the driver needs OVS, itself a container, and the agent needs dockerd), so it gives up
// on containers of our networks ("plugin "dovelab" not found") after waiting about 30 s. The agent
// starts them once it serves the driver: what dockerd would have done had the driver been there.

export interface StoppedContainer {
  name: string;
  /** Docker's state: exited, created … */
  state: string;
  /** Docker's State.Error: why its last start failed ('' if it did not fail). */
  error: string;
  /** HostConfig.RestartPolicy.Name: '', no, always, unless-stopped, on-failure. */
  restartPolicy: string;
  /** Ids of the networks it is attached to. */
  networkIds: string[];
}

/** Docker's error when a start needed a driver that was not there, or that refused. */
const DRIVER_FAILED = /plugin "(dovelab|dovesnap)" not found|\bdovelab: /;

/**
 * The containers to start: restarted by dockerd's own policy (always, unless-stopped), on one of
 * our networks, and stopped because their start failed on our driver. One that a person stopped
 * has no start error, so it stays stopped (unless-stopped keeps its meaning); on-failure is about
 * the container's own exit, not the daemon's restart, and is left to Docker.
 */
export function containersToRestore(list: StoppedContainer[], driverNetworks: ReadonlySet<string>): string[] {
  return list
    .filter((c) => c.state === 'exited' || c.state === 'created')
    .filter((c) => c.restartPolicy === 'always' || c.restartPolicy === 'unless-stopped')
    .filter((c) => c.networkIds.some((id) => driverNetworks.has(id)))
    .filter((c) => DRIVER_FAILED.test(c.error))
    .map((c) => c.name);
}

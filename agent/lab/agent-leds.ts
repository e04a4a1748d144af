// The agent's LEDs: booting at start, then after every repair a fresh look at infra, web and the
// lab's dongles decides what they show (appliance-facts.ts → hardware/leds.ts ledPlan). Infra
// problems count as faults only once the switch was healthy or the system has been up a while:
// dockerd restores the containers during boot, and a blinking fault LED then would cry wolf.
import { readdirSync } from 'node:fs';
import { uptime } from 'node:os';
import type Docker from 'dockerode';
import { INFRA, paths, type Config } from '../config.js';
import { openLedDriver } from '../hardware/leds-open.js';
import { ALL_OFF, LedController, applianceState, ledPlan, type ApplianceFacts } from '../hardware/leds.js';
import { withDeadline } from '../sys/deadline.js';
import { applianceFacts } from './appliance-facts.js';
import { containerState, pingDocker } from '../docker/client.js';
import { faucetIo } from '../net/faucet/docker-io.js';
import { faucetStatus } from '../net/faucet/status.js';
import type { InfraStatus } from './infra.js';
import { desiredOf } from './service.js';
import { readLabState } from './state.js';

/** Seconds since boot before infra trouble is a fault even if the switch was never seen healthy. */
const BOOT_GRACE_S = 180;
const LOOK_DEADLINE_MS = 10_000;

export interface AgentLeds {
  /** Looks at the appliance and shows it (one look at a time; calls during a look are dropped). */
  update(webServed: boolean): Promise<void>;
  /** The agent cannot start (Docker not answering): a fault once past the boot grace, else booting. */
  failed(why: string): Promise<void>;
  /** All LEDs off, driver closed (agent stopping). */
  stop(): Promise<void>;
}

export async function startAgentLeds(c: Config, docker: Docker, log: (s: string) => void,
  opts: { bootGraceS?: number } = {}): Promise<AgentLeds | undefined> {
  const grace = opts.bootGraceS ?? BOOT_GRACE_S;
  let leds: LedController;
  try {
    const driver = await openLedDriver(c.leds, log, `${c.runDir}/leds.jsonl`);
    if (!driver) return undefined;
    leds = new LedController(driver, log);
  } catch (e) {
    log(`leds: ${(e as Error).message}; the agent runs without LEDs`);
    return undefined;
  }
  log(`leds: ${leds.kind} driver`);
  await leds.show(ledPlan({ agentUp: false, webAnswers: false, infraHealthy: false, labRunning: false, faults: [] }));
  /** The look in flight (stop waits for it, so nothing lights up after the LEDs went off). */
  let looking: Promise<void> | undefined;
  let stopped = false;
  let sawHealthy = false;
  let lastState = 'booting';
  return {
    update(webServed) {
      if (looking || stopped) return looking ?? Promise.resolve();
      looking = showLook(webServed).finally(() => { looking = undefined; });
      return looking;
    },
    async failed(why) {
      if (uptime() <= grace) return;
      log(`leds: fault (${why.split('\n')[0]})`);
      await leds.show(ledPlan({ agentUp: true, webAnswers: false, infraHealthy: false, labRunning: false, faults: [why] }));
    },
    async stop() {
      stopped = true;
      await looking;
      await leds.show(ALL_OFF).catch(() => []);
      await leds.close();
    },
  };

  async function showLook(webServed: boolean): Promise<void> {
    try {
      const facts = await withDeadline('LED facts', LOOK_DEADLINE_MS, () => look(c, docker, webServed));
      if (stopped) return;
      if (facts.infraHealthy) sawHealthy = true;
      const settled = sawHealthy || uptime() > grace;
      const shown: ApplianceFacts = settled ? facts : { ...facts, faults: facts.faults.filter((f) => f.includes('dongle')) };
      const state = applianceState(shown);
      if (state !== lastState) log(`leds: ${state}${shown.faults.length ? ` (${shown.faults.join('; ')})` : ''}`);
      lastState = state;
      await leds.show(ledPlan(shown));
    } catch (e) {
      if (!stopped) log(`leds: ${(e as Error).message}`);
    }
  }
}

async function look(c: Config, docker: Docker, webServed: boolean): Promise<ApplianceFacts> {
  let lab;
  try { lab = readLabState(paths(c).labState); } catch { lab = undefined; }
  const [infra, webAnswers] = await Promise.all([
    infraLook(c, docker).catch((e: Error) => ({ error: e.message })),
    webServed ? fetch(`http://127.0.0.1:${c.web.port}/`, { signal: AbortSignal.timeout(2_000) }).then(() => true, () => false) : Promise.resolve(false),
  ]);
  let present: string[] = [];
  try { present = readdirSync('/sys/class/net'); } catch { /* none */ }
  const labDongles = lab ? desiredOf(c, lab).uplinks.filter((u) => u.owner === undefined).map((u) => ({ iface: u.iface, role: u.role })) : [];
  return applianceFacts(c, { infra, webAnswers, present, ...(lab ? { lab } : {}), labDongles });
}

/**
 * What the LEDs need of the switch, cheaply (this runs after every repair): Docker, the infra
 * containers' states and Faucet's metrics over loopback; no command inside the OVS container.
 */
async function infraLook(c: Config, docker: Docker): Promise<InfraStatus> {
  try { await pingDocker(docker); } catch { return { docker: false, containers: {} }; }
  const containers: Record<string, string> = {};
  for (const [role, name] of Object.entries(INFRA)) containers[role] = (await containerState(docker, name))?.State.Status ?? 'absent';
  const out: InfraStatus = { docker: true, containers };
  if (containers.faucet === 'running') {
    try { out.faucet = faucetStatus(await faucetIo(docker, c).metrics()); } catch (e) { out.faucetError = (e as Error).message; }
  }
  return out;
}

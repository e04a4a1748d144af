// Task checks -> concrete probes per group (which host runs what, what counts as done). Pure.
import type { Check, Topology } from '../lesson/schema.js';
import { containerOf, faucetAclName, type DesiredState } from './desired.js';
import type { AclHit } from '../net/faucet/acl-hits.js';

export type ProbeKind = 'ping' | 'tcp' | 'command';

export interface Probe {
  task: string;
  group: number;
  container: string;
  /** The lesson host the probe runs in (what students and teachers call it). */
  host: string;
  kind: ProbeKind;
  /** reach / no_reach: the address probed. */
  to?: string;
  argv: string[];
  timeoutMs: number;
  /** A "yes" outcome (reached, command exit 0) means done; false for no_reach. */
  passOnSuccess: boolean;
  what: string;
}

/**
 * An acl_hits check: reads the switch's counter of one ACL rule on the group's ports (no exec in
 * a host). `acl` is the Faucet ACL name; `ports` the Faucet port names counted.
 */
export interface CounterProbe {
  task: string;
  group: number;
  kind: 'acl_hits';
  acl: string;
  rule: number;
  ports: string[];
  min: number;
  what: string;
}

export type CheckStatus = 'pass' | 'fail' | 'error';
export interface CheckResult { task: string; group: number; status: CheckStatus; reason: string; ms: number }

/** What came back from running a probe's argv in its host. */
export interface ExecResult { code: number; stdout: string; stderr: string }

/**
 * What a probe found, before reach / no_reach / command turn it into pass or fail.
 * yes: reached / command exit 0. no: ran and got an answer that is not yes (no reply within the
 * deadline, refused, ICMP unreachable, command exit != 0). error: the probe could not run or its
 * result means nothing. route?: nc said "Network is unreachable", which is either a missing route
 * in the sender (error) or an ICMP net-unreachable from a router on the wire (no); a route check
 * (`routeCheckArgv`) decides.
 */
export type Outcome =
  | { is: 'yes' | 'no' | 'error'; why: string }
  | { is: 'route?'; why: string }
  /** The sender has no route to the target (no address or route configured yet): it certainly does
   * not reach it (a `reach` task is not done), but that proves nothing about a firewall (`no_reach`). */
  | { is: 'unrouted'; why: string };

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The address of `host` in `group`: preferably on a network `from` is also on; a static one
 * from the plan, else one it learned (DHCP).
 */
export function addressOf(d: DesiredState, host: string, group: number, learned: Record<string, string[]> = {}, from?: string): string | undefined {
  const inGroup = (h: string) => d.ports.filter((p) => p.host === h && (p.group === group || p.group === 0));
  const near = new Set(from ? inGroup(from).map((p) => p.vid) : []);
  const ports = inGroup(host).sort((a, b) => Number(near.has(b.vid)) - Number(near.has(a.vid)));
  for (const p of ports) if (p.address) return p.address.split('/')[0];
  for (const p of ports) { const a = learned[p.faucetName]?.[0]; if (a) return a.split('/')[0]; }
  return undefined;
}


/** One probe per task for a group, or an error result when the task cannot be turned into one. */
export function planChecks(t: Topology, d: DesiredState, group: number, learned: Record<string, string[]> = {}): (Probe | CounterProbe | CheckResult)[] {
  return t.tasks.map((task) => {
    const c: Check = task.check;
    const fail = (reason: string): CheckResult => ({ task: task.id, group, status: 'error', reason, ms: 0 });
    if (c.command) {
      return { task: task.id, group, container: containerOf(t, c.command.on, group), host: c.command.on, kind: 'command',
        argv: ['sh', '-c', c.command.run], timeoutMs: c.command.timeout * 1000, passOnSuccess: true,
        what: `${c.command.on}: ${c.command.run}` };
    }
    if (c.acl_hits) {
      const h = c.acl_hits;
      const [host, ifname] = (h.on ?? '').split('.');
      const ports = d.ports.filter((p) => (p.group === group || p.group === 0) && (h.on === undefined || (p.host === host && p.ifname === ifname)))
        .map((p) => p.faucetName);
      if (ports.length === 0) return fail(`${h.on ?? 'the group'} has no port on the switch`);
      return { task: task.id, group, kind: 'acl_hits', acl: faucetAclName(h.acl), rule: h.rule, ports, min: h.min,
        what: `ACL ${h.acl} rule ${h.rule}${h.on ? ` on ${h.on}` : ''}: at least ${h.min} packet(s)` } satisfies CounterProbe;
    }
    const r = c.reach ?? c.no_reach;
    if (!r) return fail('the check has no kind');
    const to = IPV4.test(r.to) ? r.to : addressOf(d, r.to, group, learned, r.from);
    if (!to) return fail(`${r.to} has no address yet`);
    const seconds = String(Math.max(1, Math.round(r.timeout)));
    // -v: nc says why it failed (refused, timed out, no route); -n: the address is numeric, no DNS.
    const argv = r.tcp !== undefined
      ? ['nc', '-v', '-n', '-z', '-w', seconds, to, String(r.tcp)]
      : ['ping', '-c', '2', '-i', '0.2', '-W', seconds, to];
    const how = r.tcp !== undefined ? `TCP ${to}:${r.tcp}` : `ping ${to}`;
    return { task: task.id, group, container: containerOf(t, r.from, group), host: r.from, kind: r.tcp !== undefined ? 'tcp' : 'ping',
      to, argv, timeoutMs: (r.timeout + 3) * 1000, passOnSuccess: !!c.reach, what: `${r.from}: ${how}${c.no_reach ? ' must fail' : ''}` };
  });
}

// ---- Classification: exit code AND output (wording checked against iputils-ping 20221126,
// netcat-openbsd 1.219, coreutils timeout, dash; busybox wording where it differs).

/** The seconds of the `timeout -k 1 N` wrapper a probe runs under. */
export const wrapperSeconds = (p: Pick<Probe, 'timeoutMs'>) => Math.max(1, Math.ceil(p.timeoutMs / 1000));

/** The argv actually executed in the host: the probe under coreutils `timeout`. */
export const wrappedArgv = (p: Probe) => ['timeout', '-k', '1', String(wrapperSeconds(p)), ...p.argv];

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
const lastLine = (s: string) => (lines(s).slice(-1)[0] ?? '').slice(0, 160);

/**
 * Exit 126/127: something could not be executed. Names it from the message when it can:
 *   timeout: failed to run command 'nc': No such file or directory      (coreutils, 127)
 *   sh: 1: nc: not found / sh: nc: not found / bash: nc: command not found (127)
 *   OCI runtime exec failed: ... exec: "timeout": executable file not found in $PATH (docker)
 *   ...: Permission denied (126)
 */
export function notRunnable(code: number, output: string, fallback: string, host: string): string | undefined {
  const docker = /exec: "([^"]+)": executable file not found/.exec(output);
  if (code !== 126 && code !== 127 && !docker) return undefined;
  const name = docker?.[1]
    ?? /failed to run command [‘'`"]([^’'"]+)[’'"]/.exec(output)?.[1]
    ?? /(?:^|\n)\S+?: (?:\d+: )?(?:line \d+: )?([^\s:]+): (?:command )?not found/.exec(output)?.[1]
    ?? /(?:^|\n)\S+?: (?:\d+: )?(?:line \d+: )?([^\s:]+): Permission denied/.exec(output)?.[1]
    ?? fallback;
  if (code === 126 || /Permission denied/.test(output)) return `${name} cannot be executed in ${host} (permission denied)`;
  return `${name} is not installed in ${host}`;
}

/** Exit codes of the `timeout -k 1 N` wrapper when it had to stop the probe (143: busybox timeout). */
export const killedByWrapper = (code: number) => code === 124 || code === 137 || code === 143;

/** ping (iputils): 0 some reply; 1 no reply within the deadline; 2 any other error. */
export function pingOutcome(r: ExecResult, host: string, to: string): Outcome {
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.code === 0) return { is: 'yes', why: 'replies' };
  // strerror wording, never a reply line ("Destination Net Unreachable"): the sender's own route.
  if (/Network is unreachable/.test(out)) return { is: 'unrouted', why: `${host} has no route to ${to} (Network is unreachable)` };
  if (/Name or service not known|name resolution|bad address|unknown host/i.test(out)) return { is: 'error', why: `${to} is not a valid address or known host name` };
  if (r.code === 1) {
    // A reply line from a router or from the sender itself (neighbour did not answer ARP), e.g.
    //   From 10.9.0.254 icmp_seq=1 Destination Net Unreachable / Destination Host Unreachable / Packet filtered
    const from = /From (\S+) icmp_seq=\d+ (.+)$/m.exec(r.stdout);
    if (from) return { is: 'no', why: `no reply: ${from[2]!.trim()} (from ${from[1]})` };
    return { is: 'no', why: 'no reply' };
  }
  return { is: 'error', why: `ping failed (exit ${r.code})${lastLine(out) ? `: ${lastLine(out)}` : ''}` };
}

/** nc -v -z (netcat-openbsd): 0 connected; 1 with the reason on stderr. */
export function ncOutcome(r: ExecResult, host: string, to: string, port: string): Outcome {
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.code === 0) return { is: 'yes', why: 'connected' };
  if (r.code === 1) {
    if (/Connection refused/.test(out)) return { is: 'no', why: 'connection refused' };
    if (/timed out|Connection timed out/.test(out)) return { is: 'no', why: 'no answer (timed out)' };
    // ICMP host unreachable / admin prohibited from a router, or a neighbour that did not answer ARP.
    if (/No route to host/.test(out)) return { is: 'no', why: 'no route to host (unreachable)' };
    // The sender's own packet filter or a local prohibit route refused it: a policy answer.
    if (/Operation not permitted|Permission denied/.test(out)) return { is: 'no', why: `blocked by a firewall in ${host}` };
    // Local missing route and ICMP net-unreachable from a router read the same: needs a route check.
    if (/Network is unreachable/.test(out)) return { is: 'route?', why: 'network is unreachable' };
    if (/getaddrinfo|Name or service not known|name resolution/.test(out)) return { is: 'error', why: `${to} is not a valid address or known host name` };
    if (/port number|port range|invalid port/i.test(out)) return { is: 'error', why: `${port} is not a valid port` };
  }
  return { is: 'error', why: `nc failed (exit ${r.code})${lastLine(out) ? `: ${lastLine(out)}` : ''}` };
}

/** Runs in the sender when nc said "Network is unreachable": does the sender itself have a route? */
export const routeCheckArgv = (to: string) => ['timeout', '-k', '1', '3', 'ping', '-c', '1', '-W', '1', to];

/**
 * Settles nc's "Network is unreachable" by the route check's result: ping's own
 * "connect: Network is unreachable" (exit 2) means no route in the sender (error); ping exit 0 or 1
 * means the sender has a route, so the unreachable came from the wire (no).
 */
export function afterRouteCheck(host: string, to: string, r: ExecResult | undefined): Outcome {
  if (r && (r.code === 0 || r.code === 1) && !/Network is unreachable/.test(r.stdout + r.stderr)) {
    return { is: 'no', why: 'network unreachable (a router answered)' };
  }
  if (r && r.code === 2 && /Network is unreachable/.test(r.stdout + r.stderr)) {
    return { is: 'unrouted', why: `${host} has no route to ${to} (Network is unreachable)` };
  }
  return { is: 'error', why: `network unreachable, and whether ${host} has a route to ${to} could not be checked` };
}

/** What a probe's run says. `r` is the wrapped run (see `wrappedArgv`). */
export function outcome(p: Probe, r: ExecResult): Outcome {
  const out = `${r.stdout}\n${r.stderr}`;
  const missing = notRunnable(r.code, out, p.kind === 'command' ? 'the command' : p.argv[0]!, p.host);
  if (missing) return { is: 'error', why: missing };
  if (killedByWrapper(r.code)) return { is: 'error', why: `it did not finish within ${wrapperSeconds(p)} s` };
  if (r.code === 125) return { is: 'error', why: `the timeout wrapper failed in ${p.host}${lastLine(out) ? `: ${lastLine(out)}` : ''}` };
  if (p.kind === 'ping') return pingOutcome(r, p.host, p.to ?? '?');
  if (p.kind === 'tcp') return ncOutcome(r, p.host, p.to ?? '?', p.argv[p.argv.length - 1] ?? '?');
  return r.code === 0 ? { is: 'yes', why: 'exit 0' }
    : { is: 'no', why: `exit ${r.code}${lastLine(out) ? `: ${lastLine(out)}` : ''}` };
}

/** The task's result from an outcome: pass / fail only when the probe ran and got an answer. */
export function verdict(p: Probe, o: Outcome, ms: number): CheckResult {
  const base = { task: p.task, group: p.group, ms };
  if (o.is === 'unrouted' && p.passOnSuccess) return { ...base, status: 'fail', reason: `${p.what}: ${o.why}` };
  if (o.is === 'error' || o.is === 'route?' || o.is === 'unrouted') {
    return { ...base, status: 'error', reason: `${p.host}: cannot run the check: ${o.why} — ${p.what}` };
  }
  const done = p.passOnSuccess ? o.is === 'yes' : o.is === 'no';
  return { ...base, status: done ? 'pass' : 'fail', reason: `${p.what}: ${o.why}` };
}

/** verdict(outcome(...)): the whole classification of one run, for callers and tests. */
export const judge = (p: Probe, r: ExecResult, ms: number): CheckResult => verdict(p, outcome(p, r), ms);

/** An acl_hits check's result from the switch's counters (see readAclCounters). */
export function judgeCounter(p: CounterProbe, hits: AclHit[], ms: number): CheckResult {
  const base = { task: p.task, group: p.group, ms };
  const mine = hits.filter((h) => h.acl === p.acl && p.ports.includes(h.port));
  const lesson = p.acl.replace(/^lesson-/, '');
  if (mine.length === 0) return { ...base, status: 'fail', reason: `${p.what}: ${lesson} is not switched on there` };
  const packets = mine.filter((h) => h.rule === p.rule).reduce((a, h) => a + h.packets, 0);
  return { ...base, status: packets >= p.min ? 'pass' : 'fail', reason: `${p.what}: ${packets} counted` };
}

// How a probe's exit code and output become pass / fail / error, for reach and no_reach alike.
// Output samples are verbatim from iputils-ping 20221126, netcat-openbsd 1.219, coreutils timeout
// and dash, run in throwaway network namespaces (see the rows' notes); docker's wording from its
// exec error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { afterRouteCheck, judge, ncOutcome, planChecks, routeCheckArgv, wrappedArgv, type CheckStatus, type ExecResult, type Probe } from '../../agent/lab/checks.js';
import { planDesired } from '../../agent/lab/desired.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const t = TopologySchema.parse(parse(`
dovelab: 1
networks: {lan: {}}
hosts:
  h1: {interfaces: {eth0: {network: lan, ip: 10.9.0.1/24}}}
  h2: {interfaces: {eth0: {network: lan, ip: 10.9.0.2/24}}}
tasks:
  - {id: ping-yes, check: {reach: {from: h1, to: 10.9.0.2}}}
  - {id: ping-no, check: {no_reach: {from: h1, to: 10.9.0.2}}}
  - {id: tcp-yes, check: {reach: {from: h1, to: 10.9.0.2, tcp: 8080, timeout: 2}}}
  - {id: tcp-no, check: {no_reach: {from: h1, to: 10.9.0.2, tcp: 8080, timeout: 2}}}
  - {id: cmd, check: {command: {on: h2, run: "grep -q ok /x"}}}
`));
const d = planDesired(t, { lab: 't', groups: 1, bridge: 'dovelab0', dpId: 1, defaultImage: 'img' });
const [pingYes, pingNo, tcpYes, tcpNo, cmd] = planChecks(t, d, 1) as Probe[];

const ping = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
const stats = ping(['', '--- 10.9.0.2 ping statistics ---', '2 packets transmitted, 0 received, 100% packet loss, time 201ms']);
const P = 'pass', F = 'fail', E = 'error';

// [case, tool, exit code, stdout, stderr, reach verdict, no_reach verdict, reason (reach) matches]
const table: [string, 'ping' | 'nc', number, string, string, CheckStatus, CheckStatus, RegExp][] = [
  ['ping: replies', 'ping', 0, ping(['PING 10.9.0.2 (10.9.0.2) 56(84) bytes of data.', '64 bytes from 10.9.0.2: icmp_seq=1 ttl=64 time=0.154 ms']), '', P, F, /: replies$/],
  ['ping: no reply within -W (silent drop)', 'ping', 1, 'PING 10.9.0.2 (10.9.0.2) 56(84) bytes of data.\n' + stats, '', F, P, /: no reply$/],
  ['ping: neighbour did not answer ARP', 'ping', 1, ping(['PING 10.9.0.99 (10.9.0.99) 56(84) bytes of data.', 'From 10.9.0.1 icmp_seq=1 Destination Host Unreachable', 'From 10.9.0.1 icmp_seq=2 Destination Host Unreachable']) + stats, '', F, P, /no reply: Destination Host Unreachable \(from 10\.9\.0\.1\)/],
  ['ping: router has no route (ICMP net unreachable)', 'ping', 1, ping(['PING 10.8.1.1 (10.8.1.1) 56(84) bytes of data.', 'From 10.9.0.254 icmp_seq=1 Destination Net Unreachable']) + stats, '', F, P, /Destination Net Unreachable \(from 10\.9\.0\.254\)/],
  ['ping: ICMP admin prohibited', 'ping', 1, ping(['PING 10.8.4.1 (10.8.4.1) 56(84) bytes of data.', 'From 10.9.0.254 icmp_seq=1 Packet filtered']) + stats, '', F, P, /Packet filtered/],
  // No route in the sender (no address or route set up yet): a reach task is not done; a no_reach proves nothing.
  ['ping: no route in the sender', 'ping', 2, '', 'ping: connect: Network is unreachable\n', F, E, /h1 has no route to 10\.9\.0\.2 \(Network is unreachable\)/],
  ['ping: route lost mid-run (sendmsg)', 'ping', 1, 'PING 10.9.0.2 (10.9.0.2) 56(84) bytes of data.\n' + stats, 'ping: sendmsg: Network is unreachable\n', F, E, /no route to/],
  ['ping: unknown host', 'ping', 2, '', 'ping: nosuchhost: Temporary failure in name resolution\n', E, E, /not a valid address/],
  ['ping: busybox bad address', 'ping', 1, '', "ping: bad address 'nosuchhost'\n", E, E, /not a valid address/],
  ['ping: other error', 'ping', 2, '', 'ping: bind: Cannot assign requested address\n', E, E, /ping failed \(exit 2\): ping: bind: Cannot assign/],
  ['ping: not installed (coreutils timeout)', 'ping', 127, '', 'timeout: failed to run command ‘ping’: No such file or directory\n', E, E, /^h1: cannot run the check: ping is not installed in h1/],
  ['ping: killed by the timeout wrapper', 'ping', 124, 'PING 10.8.3.1 (10.8.3.1) 56(84) bytes of data.\n', '', E, E, /did not finish within 6 s/],
  ['ping: killed after -k', 'ping', 137, '', '', E, E, /did not finish within 6 s/],
  ['nc: connected', 'nc', 0, '', 'Connection to 10.9.0.2 8080 port [tcp/*] succeeded!\n', P, F, /TCP 10\.9\.0\.2:8080: connected$/],
  ['nc: refused', 'nc', 1, '', 'nc: connect to 10.9.0.2 port 8080 (tcp) failed: Connection refused\n', F, P, /connection refused/],
  ['nc: timed out (silent drop)', 'nc', 1, '', 'nc: connect to 10.8.3.1 port 8080 (tcp) timed out: Operation now in progress\n', F, P, /no answer \(timed out\)/],
  ['nc: ICMP host unreachable / prohibited', 'nc', 1, '', 'nc: connect to 10.8.2.1 port 8080 (tcp) failed: No route to host\n', F, P, /no route to host/],
  ['nc: sender firewall refuses', 'nc', 1, '', 'nc: connect to 10.9.0.2 port 8080 (tcp) failed: Operation not permitted\n', F, P, /blocked by a firewall in h1/],
  ['nc: network unreachable, route not yet checked', 'nc', 1, '', 'nc: connect to 192.0.2.1 port 8080 (tcp) failed: Network is unreachable\n', E, E, /network is unreachable/],
  ['nc: unknown host', 'nc', 1, '', 'nc: getaddrinfo for host "nosuchhost" port 8080: Temporary failure in name resolution\n', E, E, /not a valid address/],
  ['nc: bad port', 'nc', 1, '', 'nc: port number too large: 99999\n', E, E, /not a valid port/],
  ['nc: unexpected exit', 'nc', 2, '', 'nc: something odd\n', E, E, /nc failed \(exit 2\): nc: something odd/],
  ['nc: not installed (coreutils timeout)', 'nc', 127, '', "timeout: failed to run command 'nc': No such file or directory\n", E, E, /^h1: cannot run the check: nc is not installed in h1/],
  ['nc: not installed, no message', 'nc', 127, '', '', E, E, /nc is not installed in h1/],
  ['nc: not executable', 'nc', 126, '', "timeout: failed to run command 'nc': Permission denied\n", E, E, /nc cannot be executed in h1/],
  ['nc: no timeout in the image (docker exec)', 'nc', 127, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "timeout": executable file not found in $PATH: unknown\r\n', '', E, E, /timeout is not installed in h1/],
  ['nc: killed by the timeout wrapper', 'nc', 124, '', '', E, E, /did not finish within 5 s/],
];

for (const [name, tool, code, stdout, stderr, reach, noReach, why] of table) {
  test(`${name}: exit ${code} -> reach ${reach}, no_reach ${noReach}`, () => {
    const r: ExecResult = { code, stdout, stderr };
    const [yes, no] = tool === 'ping' ? [pingYes!, pingNo!] : [tcpYes!, tcpNo!];
    const a = judge(yes, r, 1), b = judge(no, r, 1);
    assert.is(a.status, reach, a.reason);
    assert.is(b.status, noReach, b.reason);
    assert.match(a.reason, why);
  });
}

test('the pass/fail rows cover both answers and the error rows cover every "could not run" cause', () => {
  assert.ok(table.some((r) => r[5] === P) && table.some((r) => r[5] === F) && table.some((r) => r[5] === E));
  // Never: a probe that could not run passes a no_reach.
  for (const r of table) if (r[5] === E) assert.is(r[6], E, r[0]);
});

// [case, exit code, stdout, stderr, verdict, reason matches]
const commands: [string, number, string, string, CheckStatus, RegExp][] = [
  ['exit 0', 0, '', '', P, /: exit 0$/],
  ['exit 1', 1, '', '', F, /: exit 1$/],
  ['exit 2 with a message', 2, '', 'grep: /x: No such file or directory\n', F, /exit 2: grep: \/x: No such file or directory/],
  ['command not found (dash)', 127, '', 'sh: 1: grep: not found\n', E, /^h2: cannot run the check: grep is not installed in h2/],
  ['command not found (bash)', 127, '', 'bash: line 1: grep: command not found\n', E, /grep is not installed in h2/],
  ['command not found (busybox sh)', 127, '', 'sh: grep: not found\n', E, /grep is not installed in h2/],
  ['not executable', 126, '', 'sh: 1: /etc/passwd: Permission denied\n', E, /\/etc\/passwd cannot be executed in h2/],
  ['no sh in the image', 127, '', "timeout: failed to run command 'sh': No such file or directory\n", E, /sh is not installed in h2/],
  ['timed out', 124, '', '', E, /did not finish within 5 s/],
  ['killed after -k', 137, '', '', E, /did not finish within 5 s/],
  ['the wrapper itself failed', 125, '', "timeout: invalid time interval 'x'\n", E, /timeout wrapper failed in h2/],
];
for (const [name, code, stdout, stderr, status, why] of commands) {
  test(`command: ${name} -> ${status}`, () => {
    const v = judge(cmd!, { code, stdout, stderr }, 1);
    assert.is(v.status, status, v.reason);
    assert.match(v.reason, why);
  });
}

test("nc's Network is unreachable is settled by a route check in the sender", () => {
  assert.equal(routeCheckArgv('10.8.1.1'), ['timeout', '-k', '1', '3', 'ping', '-c', '1', '-W', '1', '10.8.1.1']);
  assert.is(ncOutcome({ code: 1, stdout: '', stderr: 'nc: connect to 10.8.1.1 port 80 (tcp) failed: Network is unreachable\n' }, 'h1', '10.8.1.1', '80').is, 'route?');
  // The sender has a route (ping sent; a router answered, or nothing did): the unreachable came from the wire.
  assert.equal(afterRouteCheck('h1', '10.8.1.1', { code: 1, stdout: 'From 10.9.0.254 icmp_seq=1 Destination Net Unreachable\n', stderr: '' }),
    { is: 'no', why: 'network unreachable (a router answered)' });
  assert.is(afterRouteCheck('h1', '10.8.1.1', { code: 0, stdout: '', stderr: '' }).is, 'no');
  // No route in the sender.
  assert.equal(afterRouteCheck('h1', '192.0.2.1', { code: 2, stdout: '', stderr: 'ping: connect: Network is unreachable\n' }),
    { is: 'unrouted', why: 'h1 has no route to 192.0.2.1 (Network is unreachable)' });
  // No ping to ask, or the check itself did not come back.
  assert.is(afterRouteCheck('h1', '10.8.1.1', { code: 127, stdout: '', stderr: "timeout: failed to run command 'ping'\n" }).is, 'error');
  assert.is(afterRouteCheck('h1', '10.8.1.1', undefined).is, 'error');
});

test('probes run under the timeout wrapper; nc says why (-v) and does no DNS (-n)', () => {
  assert.equal(wrappedArgv(tcpNo!), ['timeout', '-k', '1', '5', 'nc', '-v', '-n', '-z', '-w', '2', '10.9.0.2', '8080']);
  assert.equal(wrappedArgv(pingYes!), ['timeout', '-k', '1', '6', 'ping', '-c', '2', '-i', '0.2', '-W', '3', '10.9.0.2']);
  assert.equal(wrappedArgv(cmd!), ['timeout', '-k', '1', '5', 'sh', '-c', 'grep -q ok /x']);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { addressOf, judge, planChecks, type Probe } from '../../agent/lab/checks.js';
import { planDesired } from '../../agent/lab/desired.js';
import { TopologySchema } from '../../agent/lesson/schema.js';

const t = TopologySchema.parse(parse(`
dovelab: 1
networks: {left: {}, right: {}, office: {vlan: 110, shared: true}}
hosts:
  a: {interfaces: {eth0: {network: left, ip: 198.51.100.10/25}}}
  r: {interfaces: {eth0: {network: left, ip: 198.51.100.1/25}, eth1: {network: right, ip: 198.51.100.129/25}}}
  b: {interfaces: {eth0: {network: right, ip: 198.51.100.140/25}}}
  pc: {interfaces: {eth0: {network: office, ip: dhcp}}}
tasks:
  - {id: ab, check: {reach: {from: a, to: b}}}
  - {id: br, check: {reach: {from: b, to: r}}}
  - {id: web, check: {reach: {from: a, to: r, tcp: 80, timeout: 2}}}
  - {id: iso, check: {no_reach: {from: a, to: 203.0.113.9}}}
  - {id: file, check: {command: {on: pc, run: "test -f /x"}}}
  - {id: dhcp, check: {reach: {from: a, to: pc}}}
`));
const d = planDesired(t, { lab: 't', groups: 2, bridge: 'dovelab0', dpId: 1, defaultImage: 'img' });

test('a host is reached on the network the sender shares with it', () => {
  assert.is(addressOf(d, 'r', 1, {}, 'b'), '198.51.100.129');
  assert.is(addressOf(d, 'r', 1, {}, 'a'), '198.51.100.1');
  assert.is(addressOf(d, 'pc', 1), undefined);
  assert.is(addressOf(d, 'pc', 1, { 'pc-eth0': ['100.64.0.150/24'] }), '100.64.0.150');
});

test('probes per group: containers, commands, pass conditions', () => {
  const probes = planChecks(t, d, 2) as Probe[];
  assert.equal(probes.slice(0, 5).map((p) => [p.task, p.container, p.argv.join(' '), p.passOnSuccess]), [
    ['ab', 'dovelab-g2-a', 'ping -c 2 -i 0.2 -W 3 198.51.100.140', true],
    ['br', 'dovelab-g2-b', 'ping -c 2 -i 0.2 -W 3 198.51.100.129', true],
    ['web', 'dovelab-g2-a', 'nc -v -n -z -w 2 198.51.100.1 80', true],
    ['iso', 'dovelab-g2-a', 'ping -c 2 -i 0.2 -W 3 203.0.113.9', false],
    ['file', 'dovelab-pc', 'sh -c test -f /x', true],
  ]);
  // A DHCP host without an address yet: an error of that task, with the reason.
  assert.equal(probes[5], { task: 'dhcp', group: 2, status: 'error', reason: 'pc has no address yet', ms: 0 });
});

test('probes know their host, kind and target', () => {
  const [ab, , web, , file] = planChecks(t, d, 1) as Probe[];
  assert.equal([ab!.host, ab!.kind, ab!.to], ['a', 'ping', '198.51.100.140']);
  assert.equal([web!.host, web!.kind, web!.to], ['a', 'tcp', '198.51.100.1']);
  assert.equal([file!.host, file!.kind, file!.to], ['pc', 'command', undefined]);
});

test('verdicts: reach passes on a reply, no_reach on no reply; the reason says what happened', () => {
  const [ab, , , iso] = planChecks(t, d, 1) as Probe[];
  const noReply = { code: 1, stdout: 'PING x\n\n--- x ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 201ms\n', stderr: '' };
  assert.is(judge(ab!, { code: 0, stdout: '', stderr: '' }, 5).status, 'pass');
  assert.is(judge(ab!, noReply, 5).status, 'fail');
  assert.is(judge(ab!, noReply, 5).reason, 'a: ping 198.51.100.140: no reply');
  assert.is(judge(iso!, noReply, 5).status, 'pass');
  assert.is(judge(iso!, { code: 0, stdout: '', stderr: '' }, 5).status, 'fail');
});

test.run();

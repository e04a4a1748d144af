// The lab firewall's plan from one `iptables -S` listing (agent/net/firewall.ts): nothing to run
// when the table is right (the agent's every pass), exactly the missing or stale parts otherwise.
// The real tables are exercised by test/integration/hardening.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHAIN, planLabFirewall } from '../../agent/net/firewall.js';

const DOCKER = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -j DOCKER
`;
const RIGHT = `${DOCKER}-N ${CHAIN}
-A INPUT -j ${CHAIN}
-A FORWARD -j ${CHAIN}
-A ${CHAIN} -i dl+ -j DROP
-A ${CHAIN} -i up0 -j DROP
`;

test('a table that is right: nothing to run (positive control below: the same table without the lab)', () => {
  assert.equal(planLabFirewall(RIGHT, ['dl+', 'up0']), []);
  assert.equal(planLabFirewall(RIGHT.replace(/\n/g, '\r\n'), ['dl+', 'up0']), [], 'line ends do not matter');
});

test('no lab chain: made, filled, hooked first in INPUT and FORWARD', () => {
  assert.equal(planLabFirewall(DOCKER, ['dl+']), [
    ['-N', CHAIN],
    ['-A', CHAIN, '-i', 'dl+', '-j', 'DROP'],
    ['-I', 'INPUT', '1', '-j', CHAIN],
    ['-I', 'FORWARD', '1', '-j', CHAIN],
  ]);
});

test('an interface added and one gone: one rule each, the chain and hooks left alone', () => {
  assert.equal(planLabFirewall(RIGHT, ['dl+', 'mir0']), [
    ['-A', CHAIN, '-i', 'mir0', '-j', 'DROP'],
    ['-D', CHAIN, '-i', 'up0', '-j', 'DROP'],
  ]);
});

test('a hook someone removed (dockerd rewrote FORWARD): put back; a hook with a match is not ours', () => {
  const noForward = RIGHT.replace(`-A FORWARD -j ${CHAIN}\n`, `-A FORWARD -i eth0 -j ${CHAIN}\n`);
  assert.equal(planLabFirewall(noForward, ['dl+', 'up0']), [['-I', 'FORWARD', '1', '-j', CHAIN]]);
});

test.run();

// A hub network (`kind: hub`) on the real stack: every frame to every other port, whatever it is.
// Frames that Faucet's learning VLANs would not pass (unicast to a third host, an STP BPDU, an
// 802.1Q-tagged frame; this kernel has no 8021q, so the frames are written raw) are sent from one
// host's netns and seen by tcpdump in the others. A switch network beside it is the control.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { teardown, reconcile } from '../../agent/lab/engine.js';
import { planDesired } from '../../agent/lab/desired.js';
import { TopologySchema } from '../../agent/lesson/schema.js';
import { checkFaucetConfig } from '../../agent/net/faucet/docker-io.js';
import { cfg, docker, inNetnsOf, labUp, pingLoss, run, stack, startCapture, type Capture } from './_stack.js';
import { loud } from '../loud-hook.js';

const LESSON = `
dovelab: 1
networks: {lan: {kind: hub}, sw: {}}
acls: {no-ping: [{match: {eth_type: ipv4, ip_proto: icmp}, action: drop}]}
hosts:
  a: {interfaces: {eth0: {network: lan, ip: 198.51.100.1/24}}}
  b: {interfaces: {eth0: {network: lan, ip: 198.51.100.2/24}}}
  c: {interfaces: {eth0: {network: lan}}}
  d: {interfaces: {eth0: {network: sw, ip: 203.0.113.4/24}}}
  e: {interfaces: {eth0: {network: sw, ip: 203.0.113.5/24}}}
  f: {interfaces: {eth0: {network: sw}}}
`;
const C = (h: string) => `dovelab-g1-${h}`;
let macs: Record<string, string> = {};

/** Sends one raw Ethernet frame (hex) out of `iface` in a host's netns (python3 of the appliance, AF_PACKET). */
async function sendFrame(container: string, frameHex: string, iface = 'eth0'): Promise<void> {
  const py = `import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind((sys.argv[1],0))\ns.send(bytes.fromhex(sys.argv[2]))`;
  const r = await run([...await inNetnsOf(container), 'python3', '-c', py, iface, frameHex], { allowFail: true });
  if (r.code !== 0) throw new Error(`could not send a raw frame from ${container}: ${r.stderr}`);
}

const hexMac = (m: string) => m.replace(/:/g, '');
/** IEEE 802.1D configuration BPDU (LLC 42 42 03), root and bridge id from the sender's MAC. */
const bpdu = (src: string) => {
  const llc = '424203' + '0000' + '00' + '00' + '00' + `8000${hexMac(src)}` + '00000000' + `8000${hexMac(src)}` + '8001' + '0000' + '1400' + '0200' + '0f00';
  return `0180c2000000${hexMac(src)}${(llc.length / 2).toString(16).padStart(4, '0')}${llc}`.padEnd(120, '0');
};
/** Broadcast frame tagged with VLAN `vid`, EtherType 0x88b5 (local experimental), payload `marker`. */
const tagged = (src: string, vid: number, marker: string) =>
  `ffffffffffff${hexMac(src)}8100${vid.toString(16).padStart(4, '0')}88b5${Buffer.from(marker).toString('hex')}`.padEnd(120, '0');
/** Untagged broadcast, EtherType 0x88b5: the positive control for frames that must not cross. */
const plain = (src: string, marker: string) => `ffffffffffff${hexMac(src)}88b5${Buffer.from(marker).toString('hex')}`.padEnd(120, '0');

async function capture(host: string, filter: string): Promise<Capture> {
  return startCapture(await inNetnsOf(C(host)), 'eth0', filter);
}

test.before(loud(async () => {
  await stack();
  const { desired } = await labUp(LESSON, 1, 'hubtest');
  macs = Object.fromEntries(desired.ports.map((p) => [p.host, p.mac]));
}));

test('the generated faucet.yaml (hub rules) passes the real check_faucet_config', async () => {
  assert.match(readFileSync(paths(cfg).faucetYaml, 'utf8'), /dovelab-hub-g1-lan/);
  const verdict = await checkFaucetConfig(docker, cfg, paths(cfg).faucetYaml);
  assert.ok(verdict.ok, verdict.error);
});

test('a third host on the hub sees unicast between two others; on a switch it does not', async () => {
  // The switch learns d and e first (a learnt address is installed after its first packets).
  assert.is(await pingLoss(C('d'), '203.0.113.5', 3), 0, 'd pings e across the switch');
  const c = await capture('c', 'icmp and host 198.51.100.2');
  const f = await capture('f', 'icmp and host 203.0.113.5');
  try {
    assert.is(await pingLoss(C('a'), '198.51.100.2', 3), 0, 'a pings b across the hub');
    assert.is(await pingLoss(C('d'), '203.0.113.5', 3), 0, 'd pings e again, f capturing');
    await c.waitLine('c to see a ping b', /198\.51\.100\.1 > 198\.51\.100\.2: ICMP echo request/);
    await c.waitLine('c to see b answer a', /198\.51\.100\.2 > 198\.51\.100\.1: ICMP echo reply/);
  } finally {
    const seenByF = (await f.stop()).lines;
    await c.stop();
    // f's capture ran all along: on the switch it saw none of d's and e's unicast echoes.
    assert.equal(seenByF.filter((l) => /ICMP echo/.test(l)), [], 'f (on the switch) must not see d <-> e unicast');
  }
});

test('an STP BPDU sent on the hub arrives at the other ports; a switch drops it', async () => {
  const b = await capture('b', 'ether dst 01:80:c2:00:00:00');
  const c = await capture('c', 'ether dst 01:80:c2:00:00:00');
  const e = await capture('e', 'ether dst 01:80:c2:00:00:00 or ether proto 0x88b5');
  try {
    await sendFrame(C('a'), bpdu(macs.a!));
    await b.waitLine('b to receive the BPDU', /STP 802\.1d, Config/);
    await c.waitLine('c to receive the BPDU', /STP 802\.1d, Config/);
    // Control: on the switch, d's BPDU then a plain broadcast; the broadcast arrives, the BPDU not.
    await sendFrame(C('d'), bpdu(macs.d!));
    await sendFrame(C('d'), plain(macs.d!, 'after-bpdu'));
    await e.waitLine('e to receive the broadcast sent after the BPDU', /0x88b5/);
  } finally {
    const seenByE = (await e.stop()).lines;
    await b.stop(); await c.stop();
    assert.equal(seenByE.filter((l) => /STP|01:80:c2/.test(l)), [], 'a Faucet VLAN drops 802.1D group frames');
  }
});

test('an 802.1Q-tagged frame crosses the hub with its tag', async () => {
  const b = await capture('b', 'vlan 42');
  const c = await capture('c', 'vlan 42');
  try {
    await sendFrame(C('a'), tagged(macs.a!, 42, 'tagged-through-hub'));
    await b.waitLine('b to receive the tagged frame', /vlan 42,.*0x88b5/);
    await c.waitLine('c to receive the tagged frame', /vlan 42,.*0x88b5/);
  } finally { await b.stop(); await c.stop(); }
});

test('a lesson ACL on a hub port (a student toggle) filters and the port stays a hub port', async () => {
  const ctx = await stack();
  assert.is(await pingLoss(C('a'), '198.51.100.2', 2), 0, 'control: a pings b before the ACL');
  const withAcl = planDesired(TopologySchema.parse(parse(LESSON)), {
    lab: 'hubtest', groups: 1, bridge: cfg.bridge, dpId: cfg.dpId, defaultImage: cfg.images.labhost, overrides: { acls: { 'g1-a-eth0': ['no-ping'] } },
  });
  await reconcile(ctx, withAcl);
  const b = await capture('b', 'ether dst 01:80:c2:00:00:00 or vlan 42');
  try {
    assert.is(await pingLoss(C('a'), '198.51.100.2', 3), 100, 'the ACL drops a\'s pings');
    await sendFrame(C('a'), bpdu(macs.a!));
    await sendFrame(C('a'), tagged(macs.a!, 42, 'tagged-with-acl'));
    await b.waitLine('b to receive the BPDU with the ACL on', /STP 802\.1d, Config/);
    await b.waitLine('b to receive the tagged frame with the ACL on', /vlan 42,.*0x88b5/);
  } finally { await b.stop(); }
  await labUp(LESSON, 1, 'hubtest');
  assert.is(await pingLoss(C('a'), '198.51.100.2', 3), 0, 'the ACL swapped off: a pings b again');
});

test.after(async () => { await teardown(await stack()); });

test.run();

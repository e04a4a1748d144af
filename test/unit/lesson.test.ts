import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LessonError, parseTopology } from '../../agent/lesson/load.js';

const ok = `
dovelab: 1
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
`;

test('a valid topology parses with defaults', () => {
  const t = parseTopology(ok, 'lesson.yaml');
  assert.is(t.networks.lab!.shared, false);
  assert.is(t.hosts.h1!.interfaces.eth0!.ip, '198.51.100.11/24');
});

const bad: [string, string, RegExp][] = [
  ['unknown network', ok.replace('network: lab,', 'network: nope,'), /lesson\.yaml: hosts\.h1\.interfaces\.eth0\.network: unknown network "nope"/],
  ['unknown key', ok.replace('networks:', 'colour: red\nnetworks:'), /lesson\.yaml: \(top\): Unrecognized key: "colour"/],
  ['VLAN out of range', ok.replace('lab: {}', 'lab: {vlan: 5000}'), /networks\.lab\.vlan: Too big/],
  ['bad address', ok.replace('198.51.100.11/24', '198.51.100.311/24'), /hosts\.h1\.interfaces\.eth0\.ip/],
  ['bad interface name', ok.replace('eth0:', '"eth 0":'), /hosts\.h1\.interfaces\.eth 0: not a valid Linux interface name/],
  ['wrong version', ok.replace('dovelab: 1', 'dovelab: 2'), /dovelab: Invalid input: expected 1/],
  ['duplicate key', ok + '  h1: {interfaces: {}}\n', /Map keys must be unique/],
  ['VLAN clash', 'dovelab: 1\nnetworks: {a: {vlan: 7, shared: true}, b: {vlan: 7, shared: true}}\nhosts: {}\n', /networks\.b\.vlan: VLAN 7 is already used by network "a"/],
];
for (const [name, doc, why] of bad) {
  test(`rejects: ${name}`, () => {
    try { parseTopology(doc, 'lesson.yaml'); } catch (e) {
      assert.instance(e, LessonError);
      assert.match((e as Error).message, why);
      return;
    }
    assert.unreachable('accepted a bad topology');
  });
}

test.run();

// Lesson ACL rules -> Faucet rules: field names, prerequisites added, impossible matches refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AclError, aclProblems, compileAcl } from '../../agent/lab/acl.js';
import { AclRuleSchema, type AclMatch, type AclRule } from '../../agent/lesson/schema.js';

/** Rules go through the schema first, as in a lesson file. */
const rule = (match: Record<string, unknown>, action: 'allow' | 'drop' = 'drop'): AclRule => AclRuleSchema.parse({ match, action });
const compileMatch = (match: Record<string, unknown>) => compileAcl([rule(match)])[0]!.match;

const compiles: [string, Record<string, unknown>, Record<string, number | string>][] = [
  ['empty match matches everything', {}, {}],
  ['eth_type by name', { eth_type: 'arp' }, { eth_type: 0x0806 }],
  ['eth_type by number', { eth_type: 0x88cc }, { eth_type: 0x88cc }],
  ['ip_proto icmp gets IPv4', { ip_proto: 'icmp' }, { eth_type: 0x0800, ip_proto: 1 }],
  ['ip_proto icmpv6 gets IPv6', { ip_proto: 'icmpv6' }, { eth_type: 0x86dd, ip_proto: 58 }],
  ['numeric ip_proto gets IPv4', { ip_proto: 47 }, { eth_type: 0x0800, ip_proto: 47 }],
  ['ip_proto tcp over IPv6 keeps eth_type', { eth_type: 'ipv6', ip_proto: 'tcp' }, { eth_type: 0x86dd, ip_proto: 6 }],
  ['tcp_dst gets ip_proto 6 and IPv4', { tcp_dst: 22 }, { eth_type: 0x0800, ip_proto: 6, tcp_dst: 22 }],
  ['tcp_src and tcp_dst', { tcp_src: 1024, tcp_dst: 80 }, { eth_type: 0x0800, ip_proto: 6, tcp_src: 1024, tcp_dst: 80 }],
  ['udp_dst gets ip_proto 17', { udp_dst: 53 }, { eth_type: 0x0800, ip_proto: 17, udp_dst: 53 }],
  ['udp with numeric ip_proto 17', { ip_proto: 17, udp_src: 68 }, { eth_type: 0x0800, ip_proto: 17, udp_src: 68 }],
  ['tcp over IPv6', { eth_type: 'ipv6', tcp_dst: 443 }, { eth_type: 0x86dd, ip_proto: 6, tcp_dst: 443 }],
  ['ip_src gets IPv4, renamed ipv4_src', { ip_src: '198.51.100.12' }, { eth_type: 0x0800, ipv4_src: '198.51.100.12' }],
  ['ip_dst network', { ip_dst: '198.51.100.0/24' }, { eth_type: 0x0800, ipv4_dst: '198.51.100.0/24' }],
  ['/32 and /0 are networks too', { ip_src: '198.51.100.12/32', ip_dst: '0.0.0.0/0' }, { eth_type: 0x0800, ipv4_src: '198.51.100.12/32', ipv4_dst: '0.0.0.0/0' }],
  ['icmp from one host', { ip_proto: 'icmp', ip_src: '198.51.100.11' }, { eth_type: 0x0800, ip_proto: 1, ipv4_src: '198.51.100.11' }],
  ['MACs lowercased, no prerequisites', { eth_src: '0E:00:00:00:00:AA', eth_dst: 'ff:ff:ff:ff:ff:ff' }, { eth_src: '0e:00:00:00:00:aa', eth_dst: 'ff:ff:ff:ff:ff:ff' }],
  ['ARP from one MAC', { eth_type: 'arp', eth_src: '0e:00:00:00:00:01' }, { eth_type: 0x0806, eth_src: '0e:00:00:00:00:01' }],
];
for (const [name, match, want] of compiles) {
  test(`compiles: ${name}`, () => {
    assert.equal(compileMatch(match), want);
    assert.equal(aclProblems([rule(match)]), []);
  });
}

test('match keys come in a fixed order: eth_type, ip_proto, then the rest', () => {
  const m = compileMatch({ udp_dst: 53, ip_dst: '198.51.100.0/24', eth_dst: '0e:00:00:00:00:02', ip_src: '198.51.100.1', eth_src: '0e:00:00:00:00:01', udp_src: 5353 });
  assert.equal(Object.keys(m), ['eth_type', 'ip_proto', 'eth_src', 'eth_dst', 'ipv4_src', 'ipv4_dst', 'udp_src', 'udp_dst']);
  const given = compileMatch({ tcp_dst: 80, ip_proto: 'tcp', eth_type: 'ipv4' });
  assert.equal(Object.keys(given), ['eth_type', 'ip_proto', 'tcp_dst']);
});

test('actions: allow -> allow true, drop -> allow false; rule order kept', () => {
  const out = compileAcl([rule({ tcp_dst: 22 }, 'allow'), rule({}, 'drop')]);
  assert.equal(out.map((r) => r.actions), [{ allow: true }, { allow: false }]);
  assert.equal(out[0]!.match.tcp_dst, 22);
  assert.equal(out[1]!.match, {});
});

test('compiling does not change the lesson rule', () => {
  const r = rule({ tcp_dst: 80, eth_src: '0E:00:00:00:00:AA' });
  compileAcl([r]);
  assert.equal(r.match, { tcp_dst: 80, eth_src: '0E:00:00:00:00:AA' } as AclMatch);
});

/** Match -> every problem expected, as [field, reason]. */
const impossible: [string, Record<string, unknown>, [string, RegExp][]][] = [
  ['ip_proto with eth_type arp', { eth_type: 'arp', ip_proto: 'tcp' }, [['ip_proto', /^ip_proto matches IP packets only \(eth_type ipv4 or ipv6\), but eth_type is arp \(0x0806\)$/]]],
  ['ip_proto with a non-IP EtherType', { eth_type: 0x88cc, ip_proto: 17 }, [['ip_proto', /but eth_type is 0x88cc$/]]],
  ['tcp port with eth_type arp', { eth_type: 'arp', tcp_dst: 80 }, [['tcp_dst', /^tcp_dst matches IP packets only .* eth_type is arp/]]],
  ['tcp_dst with ip_proto udp', { ip_proto: 'udp', tcp_dst: 80 }, [['tcp_dst', /^tcp_dst needs ip_proto tcp \(6\), but ip_proto is udp \(17\)$/]]],
  ['udp ports with numeric ip_proto 6', { ip_proto: 6, udp_src: 68, udp_dst: 67 }, [['udp_src', /needs ip_proto udp \(17\), but ip_proto is tcp \(6\)/], ['udp_dst', /needs ip_proto udp \(17\)/]]],
  ['tcp port with ip_proto icmp', { ip_proto: 'icmp', tcp_src: 80 }, [['tcp_src', /but ip_proto is icmp \(1\)/]]],
  ['tcp_* together with udp_*', { tcp_dst: 80, udp_dst: 53 }, [['udp_dst', /^udp_dst cannot be combined with tcp_dst: a packet is either TCP or UDP$/]]],
  ['tcp_* with udp_* and ip_proto udp', { ip_proto: 'udp', tcp_src: 1, udp_dst: 53 }, [['tcp_src', /needs ip_proto tcp \(6\), but ip_proto is udp/]]],
  ['icmpv6 with eth_type ipv4', { eth_type: 'ipv4', ip_proto: 'icmpv6' }, [['ip_proto', /^icmpv6 \(58\) is IPv6's ICMP: it needs eth_type ipv6/]]],
  ['icmp with eth_type ipv6', { eth_type: 'ipv6', ip_proto: 'icmp' }, [['ip_proto', /IPv6 uses icmpv6 \(58\)/]]],
  ['icmpv6 with IPv4 addresses', { ip_proto: 'icmpv6', ip_src: '198.51.100.1', ip_dst: '198.51.100.2' }, [['ip_src', /^ip_src is an IPv4 address, but ip_proto icmpv6 \(58\) is IPv6 only$/], ['ip_dst', /^ip_dst is an IPv4 address/]]],
  ['ip_src with eth_type ipv6', { eth_type: 'ipv6', ip_src: '198.51.100.1' }, [['ip_src', /^ip_src is an IPv4 address: it matches only eth_type ipv4, but eth_type is ipv6 \(0x86dd\)$/]]],
  ['ip_dst with eth_type arp', { eth_type: 'arp', ip_dst: '198.51.100.1' }, [['ip_dst', /but eth_type is arp \(0x0806\)$/]]],
  ['ip_src with host bits under its prefix', { ip_src: '198.51.100.12/24' }, [['ip_src', /^198\.51\.100\.12\/24 has host bits set under \/24: .* 198\.51\.100\.12$/]]],
  ['an eth_type that is a frame length', { eth_type: 0x05dc }, [['eth_type', /^0x05dc is a frame length, not an EtherType/]]],
];
for (const [name, match, want] of impossible) {
  test(`refuses: ${name}`, () => {
    const got = aclProblems([rule(match)]);
    assert.equal(got.map((p) => [p.index, p.field]), want.map(([field]) => [0, field]), JSON.stringify(got));
    want.forEach(([, why], k) => assert.match(got[k]!.message, why));
    assert.throws(() => compileAcl([rule(match)]), (e: unknown) => e instanceof AclError && e.problems.length === want.length);
  });
}

test('problems name the rule index; AclError lists all of them', () => {
  const rules = [rule({ tcp_dst: 80 }, 'allow'), rule({ eth_type: 'arp', ip_src: '198.51.100.1' }), rule({}), rule({ ip_proto: 'udp', tcp_dst: 1 })];
  const want = [{ index: 1, field: 'ip_src' }, { index: 3, field: 'tcp_dst' }];
  assert.equal(aclProblems(rules).map(({ index, field }) => ({ index, field })), want);
  try { compileAcl(rules); } catch (e) {
    assert.instance(e, AclError);
    assert.equal((e as AclError).problems.map(({ index, field }) => ({ index, field })), want);
    assert.match((e as Error).message, /^rule 1: match\.ip_src: .*\nrule 3: match\.tcp_dst: /);
    return;
  }
  assert.unreachable('compiled impossible rules');
});

test.run();

// Startups without set -e that set what the lesson already set begin by clearing it
// (import/review.ts clearedPrologue): their last `ip route add default` must not fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clearedPrologue, reviewHosts, withPrologue } from '../../agent/lesson/import/review.js';
import type { DraftHost, LessonDraft } from '../../agent/lesson/import/types.js';

const HEAD = '# dovelab: the lesson set these before this startup, which sets them again: cleared first, as on bare interfaces';
const pc = (startup: string): DraftHost => ({ interfaces: { eth0: { network: 'a', ip: '198.51.100.10/24', gateway: '198.51.100.1' }, eth1: { network: 'b' } }, startup });

test('the addresses and default route the script sets again, nothing else', () => {
  assert.is(clearedPrologue(pc('ip address add 198.51.100.10/24 dev eth0\nip route add default via 198.51.100.1\n')),
    `${HEAD}\nip -4 address flush dev eth0\nip route del default 2>/dev/null`);
  assert.is(clearedPrologue(pc('ifconfig eth0 198.51.100.10 netmask 255.255.255.0 up\nroute add default gw 198.51.100.1\n')),
    `${HEAD}\nip -4 address flush dev eth0\nip route del default 2>/dev/null`);
  // eth1 has no lesson address: the script's own is left alone; no gateway line: no route del.
  assert.is(clearedPrologue({ interfaces: { eth0: { network: 'a', ip: '198.51.100.10/24' }, eth1: { network: 'b' } }, startup: 'ip a add 198.51.100.10/24 dev eth0\nip a add 203.0.113.1/24 dev eth1\n' }),
    `${HEAD}\nip -4 address flush dev eth0`);
  assert.is(clearedPrologue(pc('systemctl start frr\n')), undefined);
});

test('after a #! line; set -e startups get replace instead (no prologue)', () => {
  assert.is(withPrologue('#!/bin/bash\necho hi\n', 'P'), '#!/bin/bash\nP\necho hi\n');
  assert.is(withPrologue('echo hi\n', 'P'), 'P\necho hi\n');
  const lesson = (startup: string): LessonDraft => ({ dovelab: 1, id: 'x', networks: { a: {}, b: {} }, hosts: { pc: pc(startup) } });
  const plain = lesson('ip address add 198.51.100.10/24 dev eth0\nip route add default via 198.51.100.1\n');
  const r = reviewHosts(plain);
  assert.ok(plain.hosts.pc!.startup!.startsWith(`${HEAD}\n`));
  assert.ok(r.warnings.some((w) => /begin by clearing them .*: pc$/.test(w)), r.warnings.join('\n'));
  const strict = lesson('set -e\nip address add 198.51.100.10/24 dev eth0\nip route add default via 198.51.100.1\n');
  reviewHosts(strict);
  assert.is(strict.hosts.pc!.startup, 'set -e\nip address replace 198.51.100.10/24 dev eth0\nip route replace default via 198.51.100.1\n');
});

test.run();

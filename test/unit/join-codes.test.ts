// Join codes: made per group by `up`, readable, unique, kept across reset and live changes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paths } from '../../agent/config.js';
import { groupOfJoinCode, JOIN_ALPHABET, newJoinCodes, normaliseJoinCode } from '../../agent/lab/join-codes.js';
import { ensureJoinCodes, labReset, labUp, setAcls } from '../../agent/lab/service.js';
import { readLabState, writeLabState } from '../../agent/lab/state.js';
import { FakeWorld, tempConfig } from './_fake-adapters.js';

test('newJoinCodes: one code per group, 6 unambiguous symbols, all different', () => {
  const codes = newJoinCodes(30);
  assert.equal(Object.keys(codes), Array.from({ length: 30 }, (_, i) => String(i + 1)));
  for (const c of Object.values(codes)) assert.match(c, /^[A-HJ-NP-Z2-9]{6}$/);
  assert.is(new Set(Object.values(codes)).size, 30);
  assert.not.match(JOIN_ALPHABET, /[01OI]/);
  // A picker that repeats itself: the second group still gets a different code.
  let n = 0;
  const twice = newJoinCodes(2, () => (n++ < 12 ? 0 : 1));
  assert.is.not(twice['1'], twice['2']);
});

test('groupOfJoinCode: case and whitespace do not matter; a near miss is no group', () => {
  const codes = { 1: 'ABCDEF', 2: 'XYZ234' };
  assert.is(groupOfJoinCode(codes, ' abc def\n'), 1);
  assert.is(groupOfJoinCode(codes, 'xyz-234'), 2);
  assert.is(groupOfJoinCode(codes, 'ABCDEG'), undefined);
  assert.is(groupOfJoinCode(codes, 'ABCDE'), undefined);
  assert.is(groupOfJoinCode(codes, 'ABCDEFF'), undefined);
  assert.is(groupOfJoinCode(codes, ''), undefined);
  assert.is(groupOfJoinCode(undefined, 'ABCDEF'), undefined);
  assert.is(normaliseJoinCode(' a b\tc '), 'ABC');
});

const LESSON = `
dovelab: 1
id: jc
networks: {lab: {}}
hosts:
  h1: {interfaces: {eth0: {network: lab, ip: 198.51.100.11/24}}}
acls:
  no-ping:
    - {match: {ip_proto: icmp}, action: drop}
`;

test('up makes the codes; reset and a live ACL change keep them; an old lab.json gets codes once', async () => {
  const t = tempConfig();
  try {
    const w = new FakeWorld();
    const ctx = w.context(t.cfg);
    const dir = join(t.dir, 'lesson');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lesson.yaml'), LESSON);
    const { state } = await labUp(ctx, dir, 2);
    const codes = state.joinCodes!;
    assert.equal(Object.keys(codes), ['1', '2']);
    assert.equal(readLabState(paths(t.cfg).labState)!.joinCodes, codes);
    await labReset(ctx, 2);
    await setAcls(ctx, 'h1.eth0', ['no-ping'], 1);
    assert.equal(readLabState(paths(t.cfg).labState)!.joinCodes, codes, 'kept');
    assert.equal(await ensureJoinCodes(t.cfg), codes, 'a lab with codes keeps them');
    const { joinCodes: _drop, ...old } = readLabState(paths(t.cfg).labState)!;
    writeLabState(paths(t.cfg).labState, old);
    const made = await ensureJoinCodes(t.cfg);
    assert.equal(Object.keys(made!), ['1', '2']);
    assert.equal(readLabState(paths(t.cfg).labState)!.joinCodes, made);
  } finally { t.done(); }
});

test.run();

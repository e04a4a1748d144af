// JSON-RPC over a stream has no length prefix (agent/net/ovsdb/framing.ts): values are cut out of
// the byte stream incrementally, whatever the chunking.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FramingError, JsonStream } from '../../agent/net/ovsdb/framing.js';

const MSGS = [
  { id: 1, result: [{ rows: [{ name: 'a}]"{[' }] }], error: null },
  { method: 'update', params: ['dovelab', { Port: { x: { new: { name: 'dl101', note: 'quote \\" and \\\\' } } } }], id: null },
  { method: 'echo', params: [], id: 'echo' },
  [1, 2, [3, { 'ü': '€ — 日本' }]],
];
const TEXT = MSGS.map((m) => JSON.stringify(m)).join('');

test('concatenated values come out whole, one chunk or byte by byte (multi-byte UTF-8 split too)', () => {
  assert.equal(new JsonStream().push(Buffer.from(TEXT)), MSGS);
  const s = new JsonStream();
  const out: unknown[] = [];
  const bytes = Buffer.from(TEXT);
  for (let i = 0; i < bytes.length; i++) out.push(...s.push(bytes.subarray(i, i + 1)));
  assert.equal(out, MSGS);
  assert.is(s.pending(), 0);
});

test('a value stays pending until its last byte; whitespace between values is fine', () => {
  const s = new JsonStream();
  const one = JSON.stringify(MSGS[0]);
  assert.equal(s.push(one.slice(0, -1)), []);
  assert.ok(s.pending() > 0);
  assert.equal(s.push(`}\n  \r\n\t${JSON.stringify(MSGS[2])}\n`), [MSGS[0], MSGS[2]]);
  assert.is(s.pending(), 0);
});

test('random chunkings of the same stream give the same values', () => {
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const bytes = Buffer.from(TEXT.repeat(5));
  for (let round = 0; round < 50; round++) {
    const s = new JsonStream();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length;) { const n = 1 + (rnd() % 40); out.push(...s.push(bytes.subarray(i, i + n))); i += n; }
    assert.is(out.length, MSGS.length * 5);
    assert.equal(out.slice(0, 4), MSGS);
  }
});

test('garbage between messages, a broken value and an oversized one are errors (good input passes)', () => {
  assert.equal(new JsonStream().push('{"a":1}'), [{ a: 1 }]);
  assert.throws(() => new JsonStream().push('{"a":1} 42'), (e: Error) => e instanceof FramingError && /expected '\{' or '\['/.test(e.message));
  assert.throws(() => new JsonStream().push('{"a":1,}'), (e: Error) => e instanceof FramingError && /does not parse/.test(e.message));
  assert.throws(() => new JsonStream(16).push('{"a":"0123456789abcdef'), (e: Error) => e instanceof FramingError && /over 16 bytes/.test(e.message));
});

test.run();

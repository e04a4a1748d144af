// The client of the resident Faucet check: answers, no daemon, a hung or garbled daemon.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askCheckd, parseCheckdReply } from '../../agent/net/faucet/checkd.js';

const dir = mkdtempSync(join(tmpdir(), 'checkd-'));
const servers: Server[] = [];
function serve(name: string, onLine: (line: string, reply: (s: string) => void) => void): Promise<string> {
  const path = join(dir, name);
  const srv = createServer((c) => {
    let buf = '';
    c.on('data', (b) => {
      buf += b.toString();
      if (buf.includes('\n')) onLine(buf.slice(0, buf.indexOf('\n')), (s) => c.end(s));
    });
  });
  servers.push(srv);
  return new Promise((resolve) => srv.listen(path, () => resolve(path)));
}
test.after(() => { for (const s of servers) s.close(); rmSync(dir, { recursive: true, force: true }); });

test('a verdict: the request names the file as the container sees it', async () => {
  let asked = '';
  const path = await serve('ok.sock', (line, reply) => { asked = line; reply('{"ok": false, "output": "vid 5000 out of range"}\n'); });
  assert.equal(await askCheckd(path, '/etc/faucet/.candidate-faucet.yaml'), { ok: false, output: 'vid 5000 out of range' });
  assert.equal(JSON.parse(asked), { path: '/etc/faucet/.candidate-faucet.yaml' });
});

test('no daemon: undefined (the one-shot check decides), not an error', async () => {
  assert.is(await askCheckd(join(dir, 'absent.sock'), '/etc/faucet/x.yaml'), undefined);
});

test('a daemon that does not answer in time: an error naming the socket and file', async () => {
  const path = await serve('hung.sock', () => { /* never answers */ });
  try {
    await askCheckd(path, '/etc/faucet/x.yaml', 200);
    assert.unreachable('a hung daemon must not pass');
  } catch (e) {
    assert.match((e as Error).message, /hung\.sock.*did not answer about \/etc\/faucet\/x\.yaml/);
  }
});

test('garbage or a closed connection is an error, never a verdict', async () => {
  const junk = await serve('junk.sock', (_l, reply) => reply('{"ok": "yes"}\n'));
  await askCheckd(junk, '/x').then(() => assert.unreachable('garbage passed'), (e: Error) => assert.match(e.message, /unexpected answer/));
  const closed = await serve('closed.sock', (_l, reply) => reply(''));
  await askCheckd(closed, '/x').then(() => assert.unreachable('no answer passed'), (e: Error) => assert.match(e.message, /closed without an answer/));
  assert.throws(() => parseCheckdReply('not json'));
  assert.equal(parseCheckdReply('{"ok": true, "output": ""}'), { ok: true, output: '' });
});

test.run();

// A resident check_faucet_config: one Python process in the Faucet container imports Faucet's own
// check once and answers each candidate file over a unix socket in the shared config folder (a
// one-shot check spends ≈0.6 s importing Faucet, seen here). Same function, so the same verdict;
// any doubt (no answer, no socket, a late answer) falls back to the one-shot command.
import { connect } from 'node:net';

/** The socket's name in the Faucet config folder (host: <dataDir>/faucet, container: /etc/faucet). */
export const CHECKD_SOCKET = '.checkd.sock';

/**
 * The daemon. argv[1]: the socket path, argv[2]: seconds without a request before it exits. A lock next to the socket keeps it to one daemon (agent
 * and CLI may both start one); it holds the daemon's pid so a hung one can be killed.
 */
export const CHECKD_PY = String.raw`
import contextlib, fcntl, io, json, logging, os, socket, sys
path = sys.argv[1]
IDLE = float(sys.argv[2]) if len(sys.argv) > 2 else 900
lock = open(path + '.lock', 'a+')
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(0)
lock.seek(0); lock.truncate(); lock.write(str(os.getpid())); lock.flush()
from faucet.check_faucet_config import check_config
with contextlib.suppress(FileNotFoundError):
    os.unlink(path)
old = os.umask(0o077)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.umask(old)
srv.listen(8)
# Idle for IDLE seconds: exit (its ~65 MB back); the next check runs one-shot and starts it again.
srv.settimeout(IDLE)
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        os.unlink(path)
        sys.exit(0)
    with conn:
        out = io.StringIO()
        try:
            conn.settimeout(10)
            data = b''
            while not data.endswith(b'\n'):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            req = json.loads(data)
            with contextlib.redirect_stderr(out):
                ok = check_config([req['path']], logging.DEBUG, out)
            reply = {'ok': bool(ok), 'output': out.getvalue()[-8192:]}
        except Exception as e:
            reply = {'ok': False, 'output': out.getvalue()[-4096:] + '\n%s: %s' % (type(e).__name__, e)}
        finally:
            # check_config adds a handler per call.
            logging.getLogger(os.devnull + '.config').handlers.clear()
        try:
            conn.sendall((json.dumps(reply) + '\n').encode())
        except OSError:
            pass
`;

export interface CheckdVerdict { ok: boolean; output: string }

/** Parses the daemon's one-line answer; throws on anything else. Pure. */
export function parseCheckdReply(line: string): CheckdVerdict {
  const v = JSON.parse(line) as unknown;
  if (!v || typeof v !== 'object' || typeof (v as CheckdVerdict).ok !== 'boolean' || typeof (v as CheckdVerdict).output !== 'string') {
    throw new Error(`Faucet check daemon: unexpected answer ${line.slice(0, 200)}`);
  }
  return v as CheckdVerdict;
}

/**
 * Asks the daemon about `containerPath` (the file as the Faucet container sees it). Undefined when
 * no daemon listens (start one and check another way); throws when it listens but does not answer
 * properly within `timeoutMs`.
 */
export function askCheckd(socketPath: string, containerPath: string, timeoutMs = 20_000): Promise<CheckdVerdict | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    let connected = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`Faucet check daemon (${socketPath}) did not answer about ${containerPath} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = (f: () => void) => { clearTimeout(timer); sock.destroy(); f(); };
    sock.on('connect', () => { connected = true; sock.write(`${JSON.stringify({ path: containerPath })}\n`); });
    sock.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        finish(() => { try { resolve(parseCheckdReply(line)); } catch (e) { reject(e as Error); } });
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED')) finish(() => resolve(undefined));
      else finish(() => reject(new Error(`Faucet check daemon (${socketPath}): ${e.message}`)));
    });
    sock.on('close', () => finish(() => reject(new Error(`Faucet check daemon (${socketPath}) closed without an answer`))));
  });
}

// Flow counters straight from ovs-vswitchd's management socket (<runDir>/ovs/<bridge>.mgmt, which
// the OVS container's run directory shares with the host), as `ovs-ofctl dump-flows` reads them,
// without a `docker exec` per read (one exec costs about 0.1-0.2 s of CPU across dockerd, runc and
// ofctl; the history reads ACL counters every few seconds). One short connection per read: no
// state to keep, nothing to reconnect. No maintained OpenFlow 1.3 client exists on npm (the
// packages there are OpenFlow 1.0 and unmaintained), and flow statistics are four message types.
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { withDeadline } from '../../sys/deadline.js';
import type { FlowStat } from '../faucet/acl-hits.js';
import { describeError, echoReply, flowStatsRequest, hello, OFP_VERSION, OFPT, OpenFlowError, parseFlowStatsReply, splitMessages } from './codec.js';

export interface FlowReaderOptions {
  /** The bridge's management socket. */
  path: string;
  timeoutMs?: number;
  /** Opens the stream; tests hand in their own. */
  connect?: (path: string) => Duplex;
}

/** Every flow of the bridge with its counters (what `ovs-ofctl -O OpenFlow13 dump-flows` shows). */
export function dumpFlows(o: FlowReaderOptions): Promise<FlowStat[]> {
  const connect = o.connect ?? ((p: string) => createConnection(p));
  return withDeadline(`reading flow counters from ${o.path}`, o.timeoutMs ?? 5_000, (signal) => new Promise<FlowStat[]>((resolve, reject) => {
    const s = connect(o.path);
    const xid = 0x646c0001;
    const flows: FlowStat[] = [];
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      s.destroy();
      if (e) reject(e); else resolve(flows);
    };
    // On the deadline the socket goes; the deadline's own error (naming the socket) is what the caller sees.
    signal.addEventListener('abort', () => { done = true; s.destroy(); }, { once: true });
    s.on('error', (e: NodeJS.ErrnoException) => finish(new OpenFlowError(e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
      ? `OVS's management socket ${o.path} is not there (${e.code}): is the OVS container running?` : `${o.path}: ${e.message}`)));
    s.on('close', () => finish(new OpenFlowError(`${o.path}: the switch closed the connection before the flow counters came`)));
    s.on('data', (chunk: Buffer) => {
      try {
        const cut = splitMessages(buf.length ? Buffer.concat([buf, chunk]) : chunk);
        buf = Buffer.from(cut.rest);
        for (const m of cut.messages) {
          if (m.type === OFPT.HELLO) {
            if (m.version < OFP_VERSION) throw new OpenFlowError(`${o.path}: the switch speaks OpenFlow version ${m.version}, not 1.3`);
          } else if (m.type === OFPT.ECHO_REQUEST) s.write(echoReply(m));
          else if (m.type === OFPT.ERROR) throw new OpenFlowError(`${o.path}: the switch refused the request (${describeError(m.body)})`);
          else if (m.type === OFPT.MULTIPART_REPLY && m.xid === xid) {
            const part = parseFlowStatsReply(m.body);
            flows.push(...part.flows);
            if (!part.more) finish();
          }
        }
      } catch (e) { finish(e as Error); }
    });
    s.write(Buffer.concat([hello(1), flowStatsRequest(xid)]));
  }));
}

// Live updates: GET /api/events, Server-Sent Events. Everyone gets `kiosk`; a student session also
// gets `group`. The stream looks at the mtimes of lab.json and checks.json every second (a stat, no
// read), and at `changes` (dongles pulled or plugged), and sends a view when one changed, or every RESEND_MS in case only the running lab changed
// (a host died); an event is sent only when its JSON differs from the last one sent. A comment
// line every 15 s keeps proxies and phones from dropping the connection.
import { statSync } from 'node:fs';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveEvent } from './api-types.js';

const HEARTBEAT_MS = 15_000;
/** How often the wait between polls looks at `changes` (a counter read, no I/O): a pulled dongle shows at once. */
const CHANGES_TICK_MS = 100;
const RESEND_MS = 10_000;

export interface EventSource {
  /** Files whose change means new views (lab.json, checks.json). */
  files: string[];
  /** Anything else whose change means new views (a count of dongles pulled or plugged). */
  changes?: () => string;
  /** The views for this client now: kiosk always; group while its session is valid. */
  views(): Promise<LiveEvent[]>;
  pollMs: number;
  now: () => number;
  /** Streams register here so shutdown can end them. */
  streams: Set<() => void>;
}

const stamp = (files: string[]) => files.map((f) => { try { return statSync(f).mtimeMs; } catch { return 0; } }).join(',');

export function eventStream(c: Context, src: EventSource): Response {
  return streamSSE(c, async (stream) => {
    let open = true;
    const stop = () => { open = false; void stream.close(); };
    src.streams.add(stop);
    stream.onAbort(() => { open = false; });
    const sent = new Map<string, string>();
    let seen = '';
    let lastViews = 0;
    let lastBeat = src.now();
    try {
      while (open) {
        const now = src.now();
        const changed = src.changes?.();
        const s = stamp(src.files) + (changed !== undefined ? `;${changed}` : '');
        if (s !== seen || now - lastViews >= RESEND_MS) {
          seen = s; lastViews = now;
          for (const e of await src.views()) {
            const data = JSON.stringify(e.data);
            if (sent.get(e.type) === data) continue;
            sent.set(e.type, data);
            await stream.writeSSE({ event: e.type, data });
            lastBeat = now;
          }
        }
        if (now - lastBeat >= HEARTBEAT_MS) { await stream.write(': heartbeat\n\n'); lastBeat = now; }
        if (!src.changes) { await stream.sleep(src.pollMs); continue; }
        // Until the next poll, or sooner when `changes` moved (also while the views were made).
        for (let waited = 0; waited < src.pollMs && open && src.changes() === changed; waited += CHANGES_TICK_MS) {
          await stream.sleep(Math.min(CHANGES_TICK_MS, src.pollMs - waited));
        }
      }
    } catch { /* the client went away mid-write */ } finally { src.streams.delete(stop); }
  }, async () => { /* errors end the stream; the page reconnects */ });
}

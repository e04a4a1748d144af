// Live updates: one EventSource on /api/events per page. EventSource reconnects by itself after
// a network blip; when the server ends the stream for good (readyState CLOSED, e.g. a 401 or a
// restart), we open a new one after a pause, and the caller polls meanwhile.
import type { LiveEvent } from '../../../agent/web/api-types.js';

export type StreamState = 'connecting' | 'open' | 'down';

type Handlers = { [K in LiveEvent['type']]?: (data: Extract<LiveEvent, { type: K }>['data']) => void };

/** Subscribe; returns the function that closes the stream. */
export function subscribe(handlers: Handlers, onState: (s: StreamState) => void, retryMs = 5000): () => void {
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  let first = true;
  const open = () => {
    if (stopped) return;
    if (first) onState('connecting'); // later attempts stay 'down' until they open (no flapping)
    first = false;
    es = new EventSource('/api/events');
    es.onopen = () => onState('open');
    es.onerror = () => {
      if (!es) return;
      onState('down');
      if (es.readyState === EventSource.CLOSED) {
        es = null;
        timer = setTimeout(open, retryMs);
      }
    };
    for (const type of Object.keys(handlers) as LiveEvent['type'][]) {
      es.addEventListener(type, (ev) => {
        let data: unknown;
        try { data = JSON.parse((ev as MessageEvent<string>).data); } catch { return; }
        (handlers[type] as ((d: unknown) => void) | undefined)?.(data);
      });
    }
  };
  open();
  return () => { stopped = true; clearTimeout(timer); es?.close(); es = null; };
}

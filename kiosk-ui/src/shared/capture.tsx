// A capture's live panel, shared by the student page and the instructor console: what it records,
// the decoded packets as they come (GET liveUrl, Server-Sent Events: a replay of the last packets,
// each new one, then `end`), its size against the limit, the time left, Stop, and the pcap link.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { CapturePacket, CaptureRequest, CaptureView } from '../../../agent/web/api-types.js';
import { ApiFailure, call, serverNow } from './api.js';
import './capture.css';

export const captures = {
  /** A student's capture (the instructor's: teacher.capture in instructor/api.ts). */
  start: (r: CaptureRequest) => call<CaptureView>('POST', '/api/capture', r),
  /** The session's captures (the instructor's: all), newest first. */
  list: () => call<CaptureView[]>('GET', '/api/captures'),
  stop: (id: string) => call<CaptureView>('POST', `/api/capture/${encodeURIComponent(id)}/stop`),
};

/** The lengths offered, in seconds (the API takes 1..300). */
export const CAPTURE_SECONDS = [10, 30, 60];

/** Packets kept on the page (the pcap has them all). */
const KEEP = 200;

export const size = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Why a capture stopped, in plain words; `failed` for an error. */
export function endText(v: CaptureView): { text: string; failed: boolean } {
  switch (v.endReason) {
    case 'time': return { text: `stopped after ${Math.round((Date.parse(v.endsAt) - Date.parse(v.startedAt)) / 1000)} s`, failed: false };
    case 'size': return { text: 'stopped at the size limit', failed: false };
    case 'stopped': case undefined: case '': return { text: 'stopped', failed: false };
    default: return { text: v.endReason, failed: true };
  }
}

const parse = <T,>(ev: Event): T | null => {
  try { return JSON.parse((ev as MessageEvent<string>).data) as T; } catch { return null; }
};
const oneLine = (s: string) => { const t = s.trimEnd().replace(/\r?\n/g, ' ↵ '); return t.length > 240 ? `${t.slice(0, 240)}…` : t; };

/**
 * The live panel of one capture (key it by the capture's id). `label` names it (default: the
 * target); `onView` gets the capture's newer view when it stops.
 */
export function CaptureLive(props: { view: CaptureView; label?: string; onView: (v: CaptureView) => void; focusStop?: boolean }) {
  const v = props.view;
  const label = props.label ?? v.target;
  const recording = v.state === 'recording';
  const [packets, setPackets] = useState<CapturePacket[]>([]);
  // What the live packets add to the view's counts while it records (the view is the start's).
  const [more, setMore] = useState({ n: v.packets, bytes: 0 });
  const [problem, setProblem] = useState<string | null>(null);
  const [stopping, setStopping] = useState(false);
  const [, setTick] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const stopButton = useRef<HTMLButtonElement>(null);
  const download = useRef<HTMLAnchorElement>(null);
  const follow = useRef(true);
  const focusDownload = useRef(false);
  const onView = useRef(props.onView);
  onView.current = props.onView;

  useEffect(() => {
    let es: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dead = false;
    let last = 0;
    const finish = (end: CaptureView) => {
      if (dead) return;
      if (document.activeElement === stopButton.current) focusDownload.current = true;
      onView.current(end);
    };
    const open = () => {
      if (dead) return;
      es = new EventSource(v.liveUrl);
      es.addEventListener('packet', (ev) => {
        const p = parse<CapturePacket>(ev);
        if (!p || p.n <= last) return; // a reconnect replays what we have
        last = p.n;
        const b = box.current;
        follow.current = !b || b.scrollHeight - b.scrollTop - b.clientHeight < 40;
        setPackets((xs) => [...(xs.length >= KEEP ? xs.slice(xs.length - KEEP + 1) : xs), p]);
        setMore((m) => (p.n > m.n ? { n: p.n, bytes: p.bytes ?? m.bytes + 16 + p.len } : m));
      });
      es.addEventListener('end', (ev) => {
        es?.close(); es = null;
        const end = parse<CaptureView>(ev);
        if (end) finish(end);
      });
      es.onerror = () => {
        if (!es || es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
        es = null;
        // Refused or cut for good: ask how the capture is, and listen again while it records.
        captures.list().then((all) => {
          const now = all.find((c) => c.id === v.id);
          if (!now) { if (!dead) setProblem('The appliance no longer knows this capture.'); return; }
          if (now.state === 'recording') timer = setTimeout(open, 3000); else finish(now);
        }, () => { timer = setTimeout(open, 5000); });
      };
    };
    open();
    return () => { dead = true; clearTimeout(timer); es?.close(); };
  }, [v.id]);

  useEffect(() => {
    if (!recording) return;
    const t = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [recording]);

  useEffect(() => { if (props.focusStop) stopButton.current?.focus(); }, []);
  useEffect(() => {
    if (!recording && focusDownload.current) { focusDownload.current = false; download.current?.focus(); }
  }, [recording]);
  // Layout effect: the list is at the bottom before the next packet asks whether it was (a replay comes in a burst).
  useLayoutEffect(() => {
    const b = box.current;
    if (b && follow.current) b.scrollTop = b.scrollHeight;
  }, [packets]);

  const stop = async () => {
    setStopping(true);
    setProblem(null);
    try {
      const end = await captures.stop(v.id);
      focusDownload.current = true;
      props.onView(end);
    } catch (e) {
      setProblem(e instanceof ApiFailure ? e.message : 'The appliance did not answer.');
    } finally { setStopping(false); }
  };

  const count = recording ? Math.max(v.packets, more.n) : v.packets;
  const bytes = recording ? Math.min(v.maxBytes, v.bytes + more.bytes) : v.bytes;
  const left = Math.max(0, Math.ceil((Date.parse(v.endsAt) - serverNow()) / 1000));
  const end = endText(v);

  return (
    <div class="cap">
      <p class={end.failed && !recording ? 'cap-status cap-failed' : 'cap-status'} role="status" data-testid="capture-status">
        {recording
          ? <><span class="cap-rec" aria-hidden="true" />Recording <span class="mono">{label}</span></>
          : <><span class="mono">{label}</span>: {end.failed ? `the capture failed: ${end.text}` : end.text}</>}
      </p>
      <p class="cap-stats">
        {count} {count === 1 ? 'packet' : 'packets'} · {size(bytes)} of {size(v.maxBytes)}
        {recording && <> · {left > 0 ? `${left} s left` : 'stopping…'}</>}
      </p>
      <div class="cap-actions">
        {recording && (
          <button ref={stopButton} type="button" class="secondary small" data-testid="capture-stop" disabled={stopping} onClick={stop}>
            {stopping ? 'Stopping…' : 'Stop'}<span class="vh"> the capture of {label}</span>
          </button>
        )}
        <a ref={download} class="cap-download" href={v.pcapUrl} download data-testid="capture-download">
          Download pcap<span class="vh"> of {label}</span>
        </a>
        {recording && <span class="cap-note">The file is complete when the capture stops.</span>}
      </div>
      {problem && <p class="cap-error" role="alert">{problem}</p>}
      <div class="cap-box" ref={box} role="region" aria-label={`Packets on ${label}, newest last`} tabIndex={0}>
        {packets.length === 0 && <p class="cap-empty">{recording ? 'Waiting for packets…' : 'No packets.'}</p>}
        <ol class="cap-packets" data-testid="capture-packets">
          {packets.map((p) => (
            <li key={p.n}>
              <span class="cap-t">{p.t.toFixed(1)}</span>
              <span class="cap-sum">{p.summary}{p.text && <span class="cap-text">{oneLine(p.text)}</span>}</span>
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}

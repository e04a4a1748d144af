// One interface's traffic: a caption in words (the text alternative: rates now and peaks), then
// bytes/s and packets/s charts of what it received and sent. Used by the student page and the
// instructor console; the data comes from the caller (live polling: useLiveHistory).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { HistoryPoint, HistoryResponse } from '../../../agent/web/api-types.js';
import { ApiFailure, call, serverNow } from './api.js';
import { Chart, Key } from './graph.js';
import { captionText, lastPoint, mergePoints, toColumns } from './graph-data.js';

export function InterfaceTraffic(props: { label: string; points: HistoryPoint[]; from: number; to: number; within: string; testid?: string; headingLevel?: 3 | 4 }) {
  const bytes = useMemo(() => toColumns(props.points, 'bytes'), [props.points]);
  const packets = useMemo(() => toColumns(props.points, 'packets'), [props.points]);
  const caption = captionText(props.label, props.points, serverNow(), props.within);
  const H = props.headingLevel === 3 ? 'h3' : 'h4';
  return (
    <figure class="g-fig" data-testid={props.testid}>
      <figcaption class="g-cap" data-testid="graph-caption">{caption}</figcaption>
      <div class="g-pair">
        <div><H class="g-h">Bytes per second</H><Chart data={bytes} from={props.from / 1000} to={props.to / 1000} unit="bytes/s" height={140} testid="chart-bytes" /></div>
        <div><H class="g-h">Packets per second</H><Chart data={packets} from={props.from / 1000} to={props.to / 1000} unit="packets/s" height={140} testid="chart-packets" /></div>
      </div>
      <Key />
    </figure>
  );
}

export interface LiveState {
  /** Series id -> its label and points in the window. */
  series: Map<string, { label: string; current: boolean; points: HistoryPoint[] }>;
  /** The window, in the appliance's time (ms). */
  from: number;
  to: number;
  loaded: boolean;
  error: string | null;
  /** 503: the appliance keeps no traffic history. */
  unavailable: boolean;
}

const POLL_MS = 5000;

/**
 * Points of `path` (a /api/history… URL without `since`) over the last `rangeS` seconds, or over
 * [fixed.from, fixed.to] for a past series. Live (`fixed` absent): every 5 s asks only for what came
 * after the newest point it has, and slides the window.
 */
export function useLiveHistory(path: string | null, rangeS: number, fixed?: { from: number; to: number }): LiveState {
  const empty = (): LiveState => ({ series: new Map(), from: serverNow() - rangeS * 1000, to: serverNow(), loaded: false, error: null, unavailable: false });
  const [state, setState] = useState<LiveState>(empty);
  const newest = useRef<number | undefined>(undefined);
  useEffect(() => {
    setState(empty());
    newest.current = undefined;
    if (!path) return undefined;
    let dead = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sep = path.includes('?') ? '&' : '?';
    const tick = async () => {
      const first = newest.current === undefined;
      const q = fixed
        ? `since=${new Date(fixed.from).toISOString()}&until=${new Date(fixed.to).toISOString()}`
        : first ? `since=${rangeS}s` : `since=${new Date(newest.current!).toISOString()}`;
      try {
        const r = await call<HistoryResponse & { unavailable?: true }>('GET', `${path}${sep}${q}`);
        if (dead) return;
        if (r.unavailable) { setState((x) => ({ ...x, loaded: true, unavailable: true })); return; }
        const to = fixed ? fixed.to : r.until;
        const from = fixed ? fixed.from : to - rangeS * 1000;
        setState((s) => {
          const next = new Map(first ? [] : s.series);
          // A poll that is not the first drops points that slid out of the window.
          for (const [id, v] of next) next.set(id, { ...v, points: mergePoints(v.points, [], from) });
          for (const x of r.series) {
            const old = next.get(x.id);
            next.set(x.id, { label: x.label, current: x.current, points: mergePoints(old?.points ?? [], x.points, from) });
          }
          return { series: next, from, to, loaded: true, error: null, unavailable: false };
        });
        const n = Math.max(newest.current ?? 0, ...r.series.map((x) => lastPoint(x.points)?.t ?? 0));
        newest.current = n > 0 ? n : r.until;
      } catch (e) {
        if (dead) return;
        const status = e instanceof ApiFailure ? e.status : 0;
        setState((s) => ({ ...s, loaded: true, unavailable: status === 503, error: status === 404 ? null : e instanceof Error ? e.message : String(e) }));
        if (status === 404) newest.current ??= serverNow();
      }
      if (!dead && !fixed) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => { dead = true; clearTimeout(timer); };
  }, [path, rangeS, fixed?.from, fixed?.to]);
  return state;
}

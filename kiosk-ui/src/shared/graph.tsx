// A traffic chart (rx and tx of one measure over a time window) that loads uPlot when it first comes
// into view (graph/uplot-chart.ts, its own chunk). The canvas is decoration for screen readers: the
// figure's caption (given by the caller) says the rates in words.
import { useEffect, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import type { ChartHandle } from '../graph/uplot-chart.js';
import type { Columns } from './graph-data.js';
import './graph.css';

/** The uPlot chunk, once. */
let loading: Promise<typeof import('../graph/uplot-chart.js')> | undefined;
const loadChart = () => (loading ??= import('../graph/uplot-chart.js'));

/** True once the element has been on screen (or at once where IntersectionObserver is missing). */
function useSeen(ref: { current: HTMLElement | null }): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (seen || !el) return undefined;
    if (typeof IntersectionObserver === 'undefined') { setSeen(true); return undefined; }
    const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) { setSeen(true); io.disconnect(); } }, { rootMargin: '200px' });
    io.observe(el);
    return () => io.disconnect();
  }, [seen]);
  return seen;
}

/** The chart's box: data in seconds (uPlot's x), the window [from, to] in seconds. */
export function Chart(props: { data: Columns; from: number; to: number; unit: string; height?: number; testid?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ChartHandle | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const seen = useSeen(box);
  const [failed, setFailed] = useState(false);
  const height = props.height ?? 150;

  useEffect(() => {
    if (!seen) return undefined;
    let dead = false;
    let ro: ResizeObserver | undefined;
    loadChart().then((m) => {
      const el = box.current;
      if (dead || !el) return;
      const p = latest.current;
      chart.current = m.createChart(el, p.data, { width: Math.max(200, el.clientWidth), height, from: p.from, to: p.to, unit: p.unit });
      el.dataset.drawn = 'true';
      ro = new ResizeObserver(() => chart.current?.resize(el.clientWidth));
      ro.observe(el);
    }, () => { if (!dead) setFailed(true); });
    return () => { dead = true; ro?.disconnect(); chart.current?.destroy(); chart.current = null; };
  }, [seen]);

  useEffect(() => { chart.current?.update(props.data, props.from, props.to); }, [props.data, props.from, props.to]);

  return (
    <div class="g-chart" ref={box} style={{ minHeight: `${height}px` }} aria-hidden="true" data-testid={props.testid}>
      {failed && <p class="g-failed">The graph could not load. Reload the page to try again.</p>}
    </div>
  );
}

/** The key under a chart: what the two lines are (line style too, not colour only). */
export function Key() {
  return (
    <p class="g-key" aria-hidden="true">
      <span class="g-key-rx">received</span> <span class="g-key-tx">sent</span>
    </p>
  );
}

// The group's traffic: per interface of its own hosts, what it sent and received (bytes and
// packets per second), live, over a range the student picks. uPlot loads when a graph comes into
// view; the caption of each graph says the rates in words.
import { useState } from 'preact/hooks';
import { RANGES, DEFAULT_RANGE, keyOf, rangeSeconds } from '../shared/graph-data.js';
import { InterfaceTraffic, useLiveHistory } from '../shared/traffic.js';
import type { HistoryPoint } from '../../../agent/web/api-types.js';

export function Traffic() {
  const [range, setRange] = useState(DEFAULT_RANGE);
  const live = useLiveHistory('/api/history/group', rangeSeconds(range));
  const rangeLabel = RANGES.find((r) => r.value === range)?.label ?? range;
  // One graph per interface: a host reset starts a new series of the same interface; draw them as one.
  const byKey = new Map<string, { label: string; points: HistoryPoint[] }>();
  for (const [id, s] of live.series) {
    const k = keyOf(id);
    const label = s.label.replace(/ \([^)]*\)$/, '');
    const o = byKey.get(k);
    byKey.set(k, { label, points: o ? [...o.points, ...s.points] : s.points });
  }
  const list = [...byKey.entries()].sort((a, b) => a[1].label.localeCompare(b[1].label, undefined, { numeric: true }));
  return (
    <section id="traffic" class="card" aria-labelledby="traffic-h" data-testid="traffic">
      <div class="section-head">
        <h2 id="traffic-h" class="section-h">Traffic</h2>
        {!live.unavailable && <label class="g-range">Show the last{' '}
          <select value={range} onChange={(e) => setRange((e.currentTarget as HTMLSelectElement).value)}>
            {RANGES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
          </select>
        </label>}
      </div>
      {live.unavailable
        ? <p class="help">This appliance keeps no traffic history, so there are no graphs here.</p>
        : <p class="help">What each interface of your hosts sent and received, counted by the switch every few seconds.</p>}
      {live.error && <p class="error" role="alert">{live.error}</p>}
      {!live.loaded && <p role="status">Loading…</p>}
      {live.loaded && !list.length && !live.error && !live.unavailable && <p class="muted">No traffic counted yet: the graphs appear once the switch has counted your hosts (a few seconds after the lesson starts).</p>}
      <ul class="g-list">
        {list.map(([k, s]) => (
          <li key={k}>
            <h3 class="g-if mono">{s.label}</h3>
            <InterfaceTraffic label={s.label} points={s.points} from={live.from} to={live.to} within={`in the last ${rangeLabel}`} testid={`traffic-${s.label}`} />
          </li>
        ))}
      </ul>
    </section>
  );
}

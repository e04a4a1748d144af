// Traffic history in the console: any interface the store has, running or gone ("what did g3-h2
// send before it was reset?"): a picker of series (running first, then past ones with when they
// ran), the graph (live for a running one), and the host's whole history as CSV or JSON.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { HistorySeriesList, HistorySeriesView, HistoryStatusView } from '../../../agent/web/api-types.js';
import { ApiFailure, call } from '../shared/api.js';
import { RANGES, DEFAULT_RANGE, hostName, hostQuery, pickList, rangeSeconds } from '../shared/graph-data.js';
import { InterfaceTraffic, useLiveHistory } from '../shared/traffic.js';

const LIST_MS = 15_000;
/** A past series is drawn from a little before it began to a little after it was last seen. */
const MARGIN_MS = 30_000;
/** Downloads cover what the API serves at most (a week). */
const DOWNLOAD_SINCE = '7d';

export function TrafficHistory({ onLoggedOut }: { onLoggedOut: () => void }) {
  const [series, setSeries] = useState<HistorySeriesView[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [picked, setPicked] = useState<string | null>(null);
  const [range, setRange] = useState(DEFAULT_RANGE);

  useEffect(() => {
    let dead = false;
    let t: ReturnType<typeof setInterval> | undefined;
    const load = () => call<HistorySeriesList>('GET', '/api/history/series').then((l) => { if (!dead) { setSeries(l.series); setProblem(null); } }, (e: unknown) => {
      if (dead) return;
      if (e instanceof ApiFailure && e.status === 401) { onLoggedOut(); return; }
      if (e instanceof ApiFailure && e.status === 503) { setUnavailable(true); return; }
      setProblem(e instanceof Error ? e.message : String(e));
    });
    // Asked first, so an appliance without history gets no failing requests (and the console stays clean).
    call<HistoryStatusView>('GET', '/api/history/status').then((st) => {
      if (dead) return;
      if (!st.available) { setUnavailable(true); return; }
      void load();
      t = setInterval(() => void load(), LIST_MS);
    }, () => { if (!dead) setUnavailable(true); });
    return () => { dead = true; clearInterval(t); };
  }, []);

  const lists = useMemo(() => pickList(series ?? []), [series]);
  const chosenId = picked ?? lists.running[0]?.id ?? lists.gone[0]?.id ?? null;
  const chosen = series?.find((s) => s.id === chosenId);
  const fixed = useMemo(() => (chosen && !chosen.current
    ? { from: Math.max(chosen.since - MARGIN_MS, chosen.lastSeen - 86_400_000), to: chosen.lastSeen + MARGIN_MS } : undefined), [chosen?.id, chosen?.current, chosen?.lastSeen]);
  const live = useLiveHistory(chosen ? `/api/history?series=${encodeURIComponent(chosen.id)}` : null, rangeSeconds(range), fixed);
  const points = chosen ? live.series.get(chosen.id)?.points ?? [] : [];
  const within = fixed ? 'while it ran' : `in the last ${RANGES.find((r) => r.value === range)?.label ?? range}`;

  if (unavailable) return null;
  const host = chosen ? hostName(chosen) : '';
  const base = chosen ? `/api/history?${hostQuery(chosen)}&since=${DOWNLOAD_SINCE}` : '';
  return (
    <section class="card" aria-labelledby="th-h" data-testid="traffic-history">
      <h2 id="th-h" class="section-h">Traffic history</h2>
      <p class="muted i-small">Every interface the switch counted, also of hosts, groups and lessons that are gone.</p>
      {problem && <p class="i-error" role="alert">{problem}</p>}
      {!series ? <p role="status">Loading…</p> : !series.length ? <p>No traffic counted yet.</p> : (
        <>
          <div class="i-th-controls">
            <label class="i-inline">Interface{' '}
              <select value={chosenId ?? ''} onChange={(e) => setPicked((e.target as HTMLSelectElement).value)} data-testid="history-picker">
                {lists.running.length > 0 && <optgroup label="Running now">{lists.running.map((i) => <option key={i.id} value={i.id}>{i.text}</option>)}</optgroup>}
                {lists.gone.length > 0 && <optgroup label="Gone (past hosts and lessons)">{lists.gone.map((i) => <option key={i.id} value={i.id}>{i.text}</option>)}</optgroup>}
              </select>
            </label>
            {chosen?.current
              ? <label class="i-inline">Last{' '}
                  <select value={range} onChange={(e) => setRange((e.target as HTMLSelectElement).value)}>
                    {RANGES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
                  </select>
                </label>
              : chosen && <span class="i-small muted">Gone since {new Date(chosen.lastSeen).toLocaleString()}</span>}
          </div>
          {chosen && (
            <>
              {live.error && <p class="i-error" role="alert">{live.error}</p>}
              <InterfaceTraffic label={chosen.label} points={points} from={live.from} to={live.to} within={within} testid="history-graph" headingLevel={3} />
              <p class="i-th-dl">
                Download {host}’s history (all its interfaces, the last 7 days):{' '}
                <a href={`${base}&format=csv`} download data-testid="history-csv">CSV<span class="vh"> of {host}</span></a>{' · '}
                <a href={`${base}&format=json&download=1`} download data-testid="history-json">JSON<span class="vh"> of {host}</span></a>
              </p>
            </>
          )}
        </>
      )}
    </section>
  );
}

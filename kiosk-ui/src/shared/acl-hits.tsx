// The switch's hit counters of an ACL's rules, shown small next to its switch; polled every 3 s
// while the page shows switches (the agent reads the switch at most every 2 s, whoever asks). The
// page keeps the last 2 minutes of polls: a sparkline per rule shows when it was hit.
import { useEffect, useState } from 'preact/hooks';
import type { AclCounterRow, AclCountersView } from '../../../agent/web/api-types.js';
import { ACL_KEEP, hitsPerPoll, pushAclRows, ruleKey, type AclHistory } from './graph-data.js';
import { Sparkline } from './sparkline.js';
import './acl-hits.css';

const POLL_MS = 3000;

/** The latest counters (or why there are none); `active` false: no polling. */
export function useAclCounters(load: () => Promise<AclCountersView>, active: boolean): { rows: AclCounterRow[]; error: string | null; hist: AclHistory } {
  const [state, setState] = useState<{ rows: AclCounterRow[]; error: string | null; hist: AclHistory }>({ rows: [], error: null, hist: new Map() });
  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    const tick = () => {
      load().then((v) => {
        if (stopped) return;
        const t = Date.parse(v.readAt);
        setState((s) => ({ rows: v.counters, error: v.error ?? null, hist: v.error ? s.hist : pushAclRows(s.hist, v.counters, t) }));
      },
        () => { if (!stopped) setState((s) => ({ ...s, error: 'counters not available' })); });
    };
    tick();
    const timer = setInterval(tick, POLL_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [active]);
  return state;
}

const short = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

const WINDOW_TEXT = `${Math.round((ACL_KEEP * POLL_MS) / 60_000)} min`;

/**
 * One ACL's rules on one interface: "#2 drop any 30" and a sparkline of its hits per poll since the
 * page looked (the last 2 minutes), with the recent count in words. Renders nothing without rows.
 */
export function AclHits({ rows, label, hist }: { rows: AclCounterRow[]; label: string; hist?: AclHistory }) {
  if (!rows.length) return null;
  return (
    <ul class="acl-hits" aria-label={`Packets matched by each rule of ${label}`}>
      {rows.map((r) => {
        const per = hitsPerPoll(hist?.get(ruleKey(r)) ?? []);
        const recent = per.reduce((a, b) => a + b, 0);
        return (
          <li key={r.rule} class={`acl-hit ${r.action}`} title={`rule ${r.rule}: ${r.action} ${r.match} — ${r.packets} packets, ${r.bytes} bytes since switched on`} data-rule={r.rule}>
            <span class="acl-hit-rule">#{r.rule} {r.action}</span>
            <span class="acl-hit-match">{r.match}</span>
            <b class="acl-hit-n">{short(r.packets)}</b>
            {per.length >= 2 && (
              <span class="acl-hit-spark" data-testid="acl-spark">
                <Sparkline values={per} width={48} height={14} color={r.action === 'drop' ? '#a3261b' : '#1f6b34'} />
                <span class="acl-hit-recent">+{short(recent)}<span class="vh"> packets in the last {WINDOW_TEXT}</span></span>
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** The rows of one ACL on one interface (and group). */
export const rowsOf = (rows: AclCounterRow[], target: string, acl: string, group?: number) =>
  rows.filter((r) => r.target === target && r.acl === acl && (group === undefined || r.group === group));

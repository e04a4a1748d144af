// The switch's hit counters of an ACL's rules, shown small next to its switch; polled every 3 s
// while the page shows switches (the agent reads the switch at most every 2 s, whoever asks).
import { useEffect, useState } from 'preact/hooks';
import type { AclCounterRow, AclCountersView } from '../../../agent/web/api-types.js';
import './acl-hits.css';

const POLL_MS = 3000;

/** The latest counters (or why there are none); `active` false: no polling. */
export function useAclCounters(load: () => Promise<AclCountersView>, active: boolean): { rows: AclCounterRow[]; error: string | null } {
  const [state, setState] = useState<{ rows: AclCounterRow[]; error: string | null }>({ rows: [], error: null });
  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    const tick = () => {
      load().then((v) => { if (!stopped) setState({ rows: v.counters, error: v.error ?? null }); },
        () => { if (!stopped) setState((s) => ({ ...s, error: 'counters not available' })); });
    };
    tick();
    const timer = setInterval(tick, POLL_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [active]);
  return state;
}

const short = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

/** One ACL's rules on one interface: "#2 drop any 30". Renders nothing without rows. */
export function AclHits({ rows, label }: { rows: AclCounterRow[]; label: string }) {
  if (!rows.length) return null;
  return (
    <ul class="acl-hits" aria-label={`Packets matched by each rule of ${label}`}>
      {rows.map((r) => (
        <li key={r.rule} class={`acl-hit ${r.action}`} title={`rule ${r.rule}: ${r.action} ${r.match} — ${r.packets} packets, ${r.bytes} bytes since switched on`}>
          <span class="acl-hit-rule">#{r.rule} {r.action}</span>
          <span class="acl-hit-match">{r.match}</span>
          <b class="acl-hit-n">{short(r.packets)}</b>
        </li>
      ))}
    </ul>
  );
}

/** The rows of one ACL on one interface (and group). */
export const rowsOf = (rows: AclCounterRow[], target: string, acl: string, group?: number) =>
  rows.filter((r) => r.target === target && r.acl === acl && (group === undefined || r.group === group));

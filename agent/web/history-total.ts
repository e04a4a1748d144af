// Traffic history for the kiosk (pure): the class's total traffic, every lesson host's points
// summed into even time buckets, so one small line says how busy the class's network is.
import type { RatePoint } from '../metrics/history-rates.js';
import type { ClassTrafficPoint } from './api-types.js';

/** The bucket length for a span: about 60 buckets, whole multiples of the 5 s scrape, at least 5 s. */
export function bucketMs(spanMs: number): number {
  return Math.max(5000, Math.ceil(spanMs / 60 / 5000) * 5000);
}

/**
 * Sums the points of many series into buckets of `stepMs` (aligned to the epoch) within
 * (since, until]. A point covers (t - dt, t]; its traffic is spread over the buckets it covers in
 * proportion to time. A bucket's rate is its traffic over the time its points covered (the most any
 * one series covered), so a bucket the scrapes have only half filled is not shown as a dip.
 * Buckets no point reaches are left out.
 */
export function classTotal(series: readonly { points: readonly RatePoint[] }[], since: number, until: number, stepMs: number): ClassTrafficPoint[] {
  interface Acc { rxB: number; txB: number; rxP: number; txP: number; covered: number }
  const buckets = new Map<number, Acc>();
  for (const s of series) {
    const covered = new Map<number, number>();
    for (const p of s.points) {
      const t1 = Math.min(p.t, until);
      const t0 = Math.max(p.t - p.dt * 1000, since);
      if (t1 <= t0) continue;
      for (let b = Math.floor(t0 / stepMs); b * stepMs < t1; b++) {
        const lo = Math.max(t0, b * stepMs);
        const hi = Math.min(t1, (b + 1) * stepMs);
        if (hi <= lo) continue;
        const s_ = (hi - lo) / 1000;
        const a = buckets.get(b) ?? { rxB: 0, txB: 0, rxP: 0, txP: 0, covered: 0 };
        a.rxB += p.rxBps * s_; a.txB += p.txBps * s_; a.rxP += p.rxPps * s_; a.txP += p.txPps * s_;
        buckets.set(b, a);
        covered.set(b, (covered.get(b) ?? 0) + (hi - lo));
      }
    }
    for (const [b, ms] of covered) { const a = buckets.get(b)!; a.covered = Math.max(a.covered, ms); }
  }
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return [...buckets].sort((x, y) => x[0] - y[0]).map(([b, a]) => {
    const s = Math.max(a.covered, 1) / 1000;
    return { t: Math.min((b + 1) * stepMs, until), rxBps: r(a.rxB / s), txBps: r(a.txB / s), rxPps: r(a.rxP / s), txPps: r(a.txP / s) };
  });
}

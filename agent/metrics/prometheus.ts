// Reads a Prometheus text endpoint into flat samples.
import parse from 'parse-prometheus-text-format';

export interface Sample { name: string; labels: Record<string, string>; value: number }

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  // Gauge writes "# HELP name " with an empty text, which the parser rejects; we need no HELP.
  for (const fam of parse(text.replace(/^# HELP .*$/gm, ''))) {
    for (const m of fam.metrics) {
      if (m.value === undefined) continue;
      out.push({ name: fam.name, labels: m.labels ?? {}, value: Number(m.value) });
    }
  }
  return out;
}

export async function scrape(url: string, timeoutMs = 2000): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

export const pick = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

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

/**
 * Only the lines of the named metrics (samples, and their # TYPE / # HELP lines). Faucet's page grows
 * with every port and learned host; a confirmation poll needs six of its metrics.
 */
export function selectMetrics(text: string, names: readonly string[]): string {
  const want = new Set(names);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = line.startsWith('#') ? /^# (?:TYPE|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line) : /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m && want.has(m[1]!)) out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** All samples of the page, or only those of `names`. */
export async function scrape(url: string, timeoutMs = 2000, names?: readonly string[]): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const text = await res.text();
  return parseMetrics(names ? selectMetrics(text, names) : text);
}

export const pick = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

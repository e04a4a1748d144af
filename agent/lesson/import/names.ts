// Source names -> lesson names (lowercase letters, digits, dashes; a letter first; at most 15),
// unique within one kind, with a record of every rename so the import can say what it did.

const MAX = 15;

/** A name in the lesson's rules for `raw`; `prefix` starts it when raw does not start with a letter. */
export function lessonName(raw: string, prefix: string): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(s)) s = s ? `${prefix}-${s}` : prefix;
  return trimTo(s, MAX);
}

/** A lesson id (lowercase letters, digits, dashes) for `raw`, or `fallback`. */
export function lessonId(raw: string | undefined, fallback = 'imported'): string {
  const s = (raw ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s || fallback;
}

const trimTo = (s: string, n: number) => s.slice(0, n).replace(/-+$/, '');

/** Hands out unique lesson names for one kind (hosts, networks); the same source name maps to the same result. */
export class Namer {
  private readonly used = new Set<string>();
  private readonly byRaw = new Map<string, string>();
  constructor(private readonly prefix: string) {}

  /** The lesson name for source name `raw`; `wanted` proposes another base (e.g. "a-b" for a link). */
  name(raw: string, wanted: string = raw): string {
    const known = this.byRaw.get(raw);
    if (known) return known;
    const base = lessonName(wanted, this.prefix);
    let out = base;
    for (let k = 2; this.used.has(out); k++) out = `${trimTo(base, MAX - String(k).length - 1)}-${k}`;
    this.used.add(out);
    this.byRaw.set(raw, out);
    return out;
  }

  /** Source name -> lesson name, in the order names were handed out. */
  mapping(): Record<string, string> { return Object.fromEntries(this.byRaw); }

  /** One sentence for the names that changed, e.g. `collision domains renamed …: LAN_1 → lan-1`; undefined if none did. */
  renames(what: string, only: (raw: string) => boolean = () => true): string | undefined {
    const changed = [...this.byRaw].filter(([raw, n]) => raw !== n && only(raw));
    if (!changed.length) return undefined;
    return `${what} renamed to fit lesson names (lowercase letters, digits, dashes, at most 15): ${changed.map(([raw, n]) => `${raw} → ${n}`).join(', ')}`;
  }
}

/** A network name for a link between two nodes: "a-b", each side shortened when the pair is too long. */
export function pairName(a: string, b: string): string {
  const x = lessonName(a, 'n'); const y = lessonName(b, 'n');
  if (x.length + y.length + 1 <= MAX) return `${x}-${y}`;
  const half = Math.floor((MAX - 1) / 2);
  return `${trimTo(x, half)}-${trimTo(y, MAX - 1 - Math.min(half, x.length))}`;
}

// A token bucket per key (a client's IP): `capacity` attempts at once, refilled at a steady rate.
// hono has no limiter; this one is small, in memory, and forgets keys whose bucket is full again.

export interface LimitVerdict { ok: boolean; /** Seconds until the next attempt is allowed (when !ok). */ retryAfterS: number }

export class TokenBuckets {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly capacity: number, private readonly refillEveryMs: number, private readonly now: () => number = Date.now) {}

  private level(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return this.capacity;
    return Math.min(this.capacity, b.tokens + (this.now() - b.at) / this.refillEveryMs);
  }

  /** May `key` try now? Does not take a token. */
  check(key: string): LimitVerdict {
    const l = this.level(key);
    return l >= 1 ? { ok: true, retryAfterS: 0 } : { ok: false, retryAfterS: Math.ceil(((1 - l) * this.refillEveryMs) / 1000) };
  }

  /** Takes a token (a failed attempt); returns what `check` says afterwards. */
  take(key: string): LimitVerdict {
    this.buckets.set(key, { tokens: Math.max(0, this.level(key) - 1), at: this.now() });
    this.sweep();
    return this.check(key);
  }

  /** Keys tracked (full buckets are forgotten). */
  get size(): number { return this.buckets.size; }

  private sweep(): void {
    if (this.buckets.size < 1024) return;
    for (const k of [...this.buckets.keys()]) if (this.level(k) >= this.capacity) this.buckets.delete(k);
  }
}

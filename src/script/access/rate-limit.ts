/**
 * A token bucket per API key, in this process: `rate` requests per second on average, bursts up to
 * `burst`. Replicas each keep their own buckets, so N replicas allow up to N times the rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst = rate * 2,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `keyId`: 0 when allowed, otherwise the seconds to wait before retrying. */
  take(keyId: number): number {
    const now = this.now();
    const bucket = this.buckets.get(keyId) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    if (!this.buckets.has(keyId)) this.prune(now);
    this.buckets.set(keyId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }

  // A bucket that has refilled completely is the same as no bucket: forget it, so memory stays bounded.
  private prune(now: number) {
    if (this.buckets.size < 10_000) return;
    const refill = (this.burst / this.rate) * 1000;
    for (const [id, bucket] of this.buckets) if (now - bucket.at >= refill) this.buckets.delete(id);
  }
}

// Per-key rate limiting: a token bucket per client key (refill `perSecond`, capacity `burst`);
// an empty bucket answers 429 with Retry-After. In memory, per gateway process (runtime-free).
import type { MiddlewareHandler } from 'hono';
import type { ClientEnv } from './auth.js';
import { apiError } from './http-errors.js';

export interface RateLimitConfig {
  /** Sustained requests per second per key; 0 or less turns the limiter off. */
  perSecond: number;
  /** Bucket capacity: requests a key may make at once after being idle. */
  burst: number;
  /** Milliseconds clock (monotonic where the runtime has one); injectable for tests. */
  clock: () => number;
  /** Buckets kept before idle full ones are dropped (bounds memory; only authenticated keys get one). */
  maxBuckets: number;
}

export type TakeOutcome = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

type Bucket = { tokens: number; at: number };

/** Token buckets keyed by an opaque id (the key's hash): `take` spends one token or says when to retry. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly config: RateLimitConfig) {}

  get enabled(): boolean {
    return this.config.perSecond > 0;
  }

  take(id: string): TakeOutcome {
    const { perSecond, burst, clock } = this.config;
    const capacity = Math.max(1, burst);
    if (!this.enabled) return { ok: true, remaining: capacity };
    const now = clock();
    const bucket = this.buckets.get(id) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (!this.buckets.has(id)) {
      if (this.buckets.size >= this.config.maxBuckets) this.prune(now);
      this.buckets.set(id, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterMs: ((1 - bucket.tokens) * 1000) / perSecond };
  }

  /**
   * Drops buckets that have refilled completely (they behave exactly like absent ones); if the table
   * is still full, the longest-held buckets go (those keys start again from a full burst).
   */
  private prune(now: number): void {
    const { perSecond, burst, maxBuckets } = this.config;
    for (const [id, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * perSecond) / 1000 >= burst) this.buckets.delete(id);
    }
    for (const id of this.buckets.keys()) {
      if (this.buckets.size < maxBuckets) break;
      this.buckets.delete(id);
    }
  }
}

/**
 * Middleware after clientAuth: spends one token of the caller's key (`keyId`, the key's hash).
 * 429 carries Retry-After in whole seconds (at least 1) and changes nothing stored.
 */
export function rateLimit(buckets: TokenBuckets): MiddlewareHandler<ClientEnv> {
  return async (c, next) => {
    if (!buckets.enabled) return next();
    const outcome = buckets.take(c.get('keyId'));
    if (outcome.ok) return next();
    const seconds = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
    c.header('Retry-After', String(seconds));
    return apiError(c, 429, 'rate_limited', `too many requests for this API key; retry in ${seconds} s`, [
      { field: 'Authorization', reason: 'per-key rate limit exceeded' },
    ]);
  };
}

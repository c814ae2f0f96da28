// Per-key rate limiting: a key over its budget gets 429 with Retry-After and nothing is stored;
// other keys are unaffected; the bucket refills with time. The limiter's clock is injected.
import { afterEach, describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../gateway/rate-limit.js';
import { makeSecurityApp, oneJob } from './security-app.js';

let close: (() => void) | null = null;
afterEach(() => {
  close?.();
  close = null;
});

describe('per-key rate limit', () => {
  it('answers 429 with Retry-After once a key spends its burst, per key, and refills over time', async () => {
    let now = 0;
    const t = await makeSecurityApp({ limits: { rateLimitPerSecond: 2, rateLimitBurst: 3 }, rateClock: () => now });
    close = t.close;
    for (let i = 0; i < 3; i++) expect((await t.call('POST', '/v1/jobs', { body: oneJob() })).status).toBe(201);
    const limited = await t.call('POST', '/v1/jobs', { body: oneJob() });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = (await limited.json()) as { error: { type: string; field: string } };
    expect(body.error.type).toBe('rate_limited');
    expect(body.error.field).toBe('Authorization');
    expect(t.countJobs()).toBe(3);
    // Reads count too, and the other tenant's key has its own bucket.
    expect((await t.call('GET', '/v1/jobs')).status).toBe(429);
    expect((await t.call('POST', '/v1/jobs', { token: t.keyB, body: oneJob() })).status).toBe(201);
    // 2 per second: after 500 ms exactly one more request fits.
    now += 500;
    expect((await t.call('GET', '/v1/jobs')).status).toBe(200);
    expect((await t.call('GET', '/v1/jobs')).status).toBe(429);
    now += 10_000; // a long idle period refills only up to the burst
    for (let i = 0; i < 3; i++) expect((await t.call('GET', '/v1/jobs')).status).toBe(200);
    expect((await t.call('GET', '/v1/jobs')).status).toBe(429);
  });

  it('says how long to wait: Retry-After rounds the refill time up to whole seconds', async () => {
    let now = 0;
    const t = await makeSecurityApp({ limits: { rateLimitPerSecond: 0.2, rateLimitBurst: 1 }, rateClock: () => now });
    close = t.close;
    expect((await t.call('GET', '/v1/jobs')).status).toBe(200);
    expect((await t.call('GET', '/v1/jobs')).headers.get('retry-after')).toBe('5');
    now += 4_100;
    expect((await t.call('GET', '/v1/jobs')).headers.get('retry-after')).toBe('1');
    now += 900;
    expect((await t.call('GET', '/v1/jobs')).status).toBe(200);
  });

  it('does not limit unauthenticated requests into buckets (they are 401) nor the runner API', async () => {
    const now = 0;
    const t = await makeSecurityApp({ limits: { rateLimitPerSecond: 1, rateLimitBurst: 1 }, rateClock: () => now });
    close = t.close;
    for (let i = 0; i < 5; i++) expect((await t.call('GET', '/v1/jobs', { token: 'wrong' })).status).toBe(401);
    expect((await t.call('GET', '/v1/jobs')).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await t.call('POST', '/v1/runner/claim', { token: 'runner-secret-token-0123456789', body: { runner_id: 'r' } })).status).toBe(204);
    }
  });

  it('keeps memory bounded: idle, refilled buckets are dropped when the table is full', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 10, burst: 2, clock: () => now, maxBuckets: 100 });
    for (let i = 0; i < 100; i++) expect(buckets.take(`k${i}`).ok).toBe(true);
    now += 1_000;
    for (let i = 100; i < 1_000; i++) buckets.take(`k${i}`);
    expect((buckets as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(100);
    // Turned off (perSecond 0): never limits.
    const off = new TokenBuckets({ perSecond: 0, burst: 1, clock: () => now, maxBuckets: 10 });
    for (let i = 0; i < 50; i++) expect(off.take('k').ok).toBe(true);
  });
});

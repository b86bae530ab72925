import { describe, expect, it } from '@jest/globals';
import type { GraphQLError } from 'graphql';
import { createRateLimiter } from '../src/safety/index.js';

/** The per-caller rate on its own (its HTTP answer is in api/safety.test.ts). */

async function refusal(admit: Promise<void>): Promise<GraphQLError> {
  try {
    await admit;
  } catch (error) {
    return error as GraphQLError;
  }
  throw new Error('expected RATE_LIMITED, the operations were admitted');
}

describe('the per-caller rate', () => {
  it('refuses a burst over the per-second rate at once, with a retry after 1 s', async () => {
    const limiter = createRateLimiter({ perMinute: 1000, perSecond: 3 });
    const error = await refusal(limiter.admit('alice', 4));
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1, http: { status: 429 } });
    expect(error.message).toMatch(/at most 3 per second per caller/);
  });

  it('refuses what is over the per-minute rate until the minute is over; other callers keep theirs', async () => {
    const limiter = createRateLimiter({ perMinute: 5, perSecond: 100 });
    await limiter.admit('alice', 3);
    await limiter.admit('alice', 2);
    const error = await refusal(limiter.admit('alice', 1));
    expect(error.extensions?.['code']).toBe('RATE_LIMITED');
    expect(error.extensions?.['retryAfterSeconds']).toBeGreaterThanOrEqual(1);
    expect(error.extensions?.['retryAfterSeconds']).toBeLessThanOrEqual(60);
    const http = error.extensions?.['http'] as { headers: Map<string, string> };
    expect(http.headers.get('retry-after')).toBe(String(error.extensions?.['retryAfterSeconds']));
    await limiter.admit('bob', 5);
  });

  it('admits everything with a per-minute rate of 0', async () => {
    const limiter = createRateLimiter({ perMinute: 0, perSecond: 1 });
    for (let i = 0; i < 100; i++) await limiter.admit('alice', 10);
  });
});

import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '@canopy/schema';

export interface RateLimitSettings {
  /** Operations per caller per minute (CANOPY_RATE_LIMIT_PER_MINUTE); 0 turns rate limiting off. */
  perMinute: number;
  /** Operations per caller per second, however much of the minute is left: how large a burst may be (CANOPY_RATE_LIMIT_PER_SECOND). */
  perSecond: number;
}

export interface RateLimiter {
  /**
   * Counts `operations` against the caller's rates; throws a GraphQLError
   * RATE_LIMITED (HTTP 429 with `retry-after`) when either is spent.
   */
  admit(callerId: string, operations: number): Promise<void>;
}

/**
 * Two fixed windows per caller, kept in this process's memory: a second
 * (bounds bursts) and a minute (bounds the sustained rate). A request that
 * the second refuses does not count against the minute.
 */
export function createRateLimiter(settings: RateLimitSettings): RateLimiter {
  if (settings.perMinute === 0) return { admit: async () => {} };
  const windows = [
    { limiter: new RateLimiterMemory({ keyPrefix: 'second', points: settings.perSecond, duration: 1 }), label: `${settings.perSecond} per second` },
    { limiter: new RateLimiterMemory({ keyPrefix: 'minute', points: settings.perMinute, duration: 60 }), label: `${settings.perMinute} per minute` },
  ];
  return {
    async admit(callerId, operations) {
      for (const { limiter, label } of windows) {
        try {
          await limiter.consume(callerId, operations);
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          throw rateLimited(label, rejection.msBeforeNext);
        }
      }
    },
  };
}

function rateLimited(rate: string, msBeforeNext: number): GraphQLError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new GraphQLError(`Too many operations: at most ${rate} per caller. Retry in ${retryAfterSeconds} s.`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      retryAfterSeconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
}

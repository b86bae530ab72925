import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { ValidationRule } from 'graphql';
import type { CanopyError } from '@canopy/schema';
import { limitRules, operationCount, requestLimitError, type GraphQLLimits } from './limits.js';
import { createRateLimiter, type RateLimitSettings } from './rate-limit.js';
import { hideSuggestions, noIntrospection, withoutSuggestions } from './schema-privacy.js';

export { limitRules, operationCount, requestLimitError, type GraphQLLimits } from './limits.js';
export { createRateLimiter, type RateLimiter, type RateLimitSettings } from './rate-limit.js';
export { hideSuggestions, noIntrospection, withoutSuggestions } from './schema-privacy.js';

export type Mode = 'production' | 'development';

/** What the GraphQL endpoint adds to Apollo Server and checks around it to stay safe by default. */
export interface GraphQLSafety {
  /** Spread into the ApolloServer options (its `plugins` merged with the endpoint's own). */
  apolloOptions: {
    introspection: true;
    allowBatchedHttpRequests: true;
    csrfPrevention: true;
    includeStacktraceInErrorResponses: false;
    validationRules: ValidationRule[];
    plugins: ApolloServerPlugin<BaseContext>[];
  };
  /** Internal errors answer with their stack trace (development mode only). */
  stackTraces: boolean;
  /** Batch size and tokens, checked on the request before anything else; undefined when within the limits. */
  requestLimitError(body: unknown, search: string): CanopyError | undefined;
  /** Counts the request's operations against the caller's rate; throws RATE_LIMITED (HTTP 429). */
  admit(callerId: string, body: unknown): Promise<void>;
  /** The same limits for subscriptions over WebSocket: each subscribe message is one operation of the caller's rate. */
  subscriptions: SubscriptionGuard;
}

/** What every subscription is checked against before it runs (subscriptions/server.ts). */
export interface SubscriptionGuard {
  /** Depth, cost, aliases, directives (and introspection in production), run with graphql's own validation. */
  validationRules: readonly ValidationRule[];
  /** Tokens one document may hold (CANOPY_MAX_TOKENS). */
  maxTokens: number;
  /** Error messages as production mode shows them (no field suggestions). */
  message(text: string): string;
  /** Counts one operation against the caller's rate; throws RATE_LIMITED. */
  admit(callerId: string): Promise<void>;
}

/**
 * The limits (depth, cost, aliases, directives, tokens, batch size), the
 * per-caller rate, and what production mode hides: introspection, field
 * suggestions, the explorer (`landingPage`, development only) and stack
 * traces. CSRF prevention is Apollo's (simple requests are refused);
 * automatic persisted queries are Apollo's default (in-memory LRU cache).
 */
export function createGraphQLSafety(settings: { mode: Mode; limits: GraphQLLimits; rateLimit: RateLimitSettings; landingPage?: ApolloServerPlugin<BaseContext> }): GraphQLSafety {
  const development = settings.mode === 'development';
  const rateLimiter = createRateLimiter(settings.rateLimit);
  const validationRules = [...limitRules(settings.limits), ...(development ? [] : [noIntrospection])];
  return {
    apolloOptions: {
      // Introspection is refused by noIntrospection in production, with its own code; Apollo's rule would add a second error.
      introspection: true,
      // Dashboards batch; the size is capped by requestLimitError.
      allowBatchedHttpRequests: true,
      csrfPrevention: true,
      // formatError adds the stack of internal errors in development; Apollo's would expose its own internals' stacks too.
      includeStacktraceInErrorResponses: false,
      validationRules,
      plugins: [
        development && settings.landingPage ? settings.landingPage : ApolloServerPluginLandingPageDisabled(),
        ...(development ? [] : [hideSuggestions()]),
      ],
    },
    stackTraces: development,
    requestLimitError: (body, search) => requestLimitError(body, search, settings.limits),
    admit: (callerId, body) => rateLimiter.admit(callerId, operationCount(body)),
    subscriptions: {
      validationRules,
      maxTokens: settings.limits.tokens,
      message: development ? (text) => text : withoutSuggestions,
      admit: (callerId) => rateLimiter.admit(callerId, 1),
    },
  };
}

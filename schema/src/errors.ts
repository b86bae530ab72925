/**
 * Stable error codes. Clients branch on `code`, never on the message, so a
 * code never changes meaning once published; new failures get new codes.
 */
export const ErrorCode = {
  /** Input failed validation; `details.field` names the offending field. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The stream was not at the revision the writer expected. */
  WRONG_EXPECTED_VERSION: 'WRONG_EXPECTED_VERSION',
  /** An event id was already used by a different append. */
  DUPLICATE_EVENT_ID: 'DUPLICATE_EVENT_ID',
  /** An event (or an append) is larger than the log accepts. */
  EVENT_TOO_LARGE: 'EVENT_TOO_LARGE',
  /** The event type has no contract in `schema/`. */
  UNKNOWN_EVENT_TYPE: 'UNKNOWN_EVENT_TYPE',
  /** The event payload does not match its contract. */
  INVALID_EVENT_PAYLOAD: 'INVALID_EVENT_PAYLOAD',
  /** The log could not be reached or answered with an unexpected failure. */
  EVENT_STORE_UNAVAILABLE: 'EVENT_STORE_UNAVAILABLE',
  /** The subscription fell too far behind or was closed by the server. */
  SUBSCRIPTION_DROPPED: 'SUBSCRIPTION_DROPPED',
  /** A WebSocket connection already holds as many subscriptions as it may; `details.limit`. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** A name is already used where it must be unique (e.g. a workspace name in its organization). */
  NAME_TAKEN: 'NAME_TAKEN',
  /** The change would leave no owner. */
  LAST_OWNER: 'LAST_OWNER',
  /** The workspace still holds resources (clusters) and cannot be deleted. */
  WORKSPACE_NOT_EMPTY: 'WORKSPACE_NOT_EMPTY',
  /** A default workspace cannot be deleted (nor renamed in a personal organization). */
  PROTECTED_WORKSPACE: 'PROTECTED_WORKSPACE',
  /** The quotas set (namespaces × clusters) would exceed the workspace's CPU or memory budget. */
  QUOTA_EXCEEDS_BUDGET: 'QUOTA_EXCEEDS_BUDGET',
  /** The workspace's data key was destroyed with the workspace: its secret values are unrecoverable. */
  SECRET_KEY_DESTROYED: 'SECRET_KEY_DESTROYED',
  /** An idempotency key was reused for a different command. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** A subgraph the gateway routes to did not answer (unreachable, or an HTTP failure); `details.subgraph` names it. Retry later. */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** The operation nests fields (or fragments) deeper than the gateway allows; `details.limit`. */
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  /** The operation's estimated cost (fields, depth, page sizes) is over the gateway's limit; `details.limit`. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** The operation uses more aliases than the gateway allows; `details.limit`. */
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  /** The operation uses more directives than the gateway allows; `details.limit`. */
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  /** The GraphQL document has more tokens than the gateway parses; `details.limit`. */
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  /** A batched HTTP request holds more operations than the gateway runs at once; `details.limit`. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  /** The caller sent more operations than their rate allows (HTTP 429); `details.retryAfterSeconds`. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Schema introspection (`__schema`, `__type`) is off in production mode. */
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  /** An automatic persisted query's hash is unknown to the server: send the query with its hash once (Apollo's code, which clients act on). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  CONFLICT: 'CONFLICT',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The one error type that crosses package boundaries: a code, a message that says what to do, and details. */
export class CanopyError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CanopyError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isCanopyError(error: unknown, code?: ErrorCode): error is CanopyError {
  return error instanceof CanopyError && (code === undefined || error.code === code);
}

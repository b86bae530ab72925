import { CloseCode } from 'graphql-ws';

/**
 * Why the server closes a subscription socket. graphql-ws's own codes
 * (4400 bad message, 4403 forbidden, 4406 subprotocol, 4408 no
 * connection_init in time, 4409 duplicate id, 4429 second init, 4500
 * internal) keep their meaning; these are the ones this server adds or
 * gives a reason of its own.
 */
export const SubscriptionCloseCode = {
  /** No token, an invalid one (reason `Unauthorized: <reason>`, the same reasons as HTTP), or the token expired (reason `token expired`): connect again with a valid token. */
  UNAUTHORIZED: CloseCode.Unauthorized,
  /** The client did not read its events fast enough (reason `slow consumer`): a subscription's queue or the socket's unsent bytes were over their limit. Reconnect and resume with the last cursor. */
  SLOW_CONSUMER: 4503,
  /** The identity provider's keys could not be fetched (reason `jwks_unavailable`): try again shortly. */
  TRY_AGAIN_LATER: 1013,
  /** The server is stopping (reason `server stopping`): reconnect, to it or another process, and resume with the last cursor. */
  GOING_AWAY: 1001,
} as const;

export const CloseReason = {
  TOKEN_EXPIRED: 'token expired',
  SLOW_CONSUMER: 'slow consumer',
  SERVER_STOPPING: 'server stopping',
} as const;

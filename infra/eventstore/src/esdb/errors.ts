/**
 * EventStoreDB client errors as the CanopyErrors every adapter reports.
 */
import { CanopyError, ErrorCode, isCanopyError } from '@canopy/schema';
import {
  AccessDeniedError,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { ExpectedRevision } from '../event-store.js';
import { wrongExpectedVersion } from '../validation.js';

/**
 * How the Canopy test server reports an event id reused by another append
 * (EventStoreDB itself has no such failure); the client surfaces it in the message.
 */
const DUPLICATE_EVENT_ID_MARKER = 'DuplicateEventId';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The CanopyError for a failed append. */
export function appendError(error: unknown, stream: string, expected: ExpectedRevision): CanopyError {
  if (isCanopyError(error)) return error;
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion;
    return wrongExpectedVersion(stream, expected, typeof actual === 'bigint' ? actual : 'no_stream');
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new CanopyError(
      ErrorCode.EVENT_TOO_LARGE,
      `The append is larger than EventStoreDB accepts (${error.maxAppendSize} bytes). Store large payloads elsewhere and append a reference.`,
      { field: 'events', maxBytes: error.maxAppendSize },
      { cause: error },
    );
  }
  if (error instanceof UnknownError && messageOf(error).includes(DUPLICATE_EVENT_ID_MARKER)) {
    return new CanopyError(ErrorCode.DUPLICATE_EVENT_ID, `An event id of this append was already used by another append (${messageOf(error)}).`, { stream }, { cause: error });
  }
  return storeError(error, 'append');
}

/** The CanopyError for any other failed call: bad input, access denied, or the log being unavailable. */
export function storeError(error: unknown, operation: string): CanopyError {
  if (isCanopyError(error)) return error;
  if (error instanceof InvalidArgumentError) {
    return new CanopyError(ErrorCode.BAD_USER_INPUT, error.message, { field: 'options' }, { cause: error });
  }
  if (error instanceof AccessDeniedError) {
    return new CanopyError(ErrorCode.FORBIDDEN, `EventStoreDB denied the ${operation}: ${error.message}`, {}, { cause: error });
  }
  return new CanopyError(
    ErrorCode.EVENT_STORE_UNAVAILABLE,
    `EventStoreDB could not complete the ${operation}: ${messageOf(error)}. Check that it is running and reachable.`,
    { operation },
    { cause: error },
  );
}

/** The CanopyError that ends a subscription the server or the connection dropped. */
export function subscriptionDropped(error: unknown): CanopyError {
  if (isCanopyError(error)) return error;
  return new CanopyError(
    ErrorCode.SUBSCRIPTION_DROPPED,
    `The EventStoreDB subscription was dropped: ${messageOf(error)}. Resubscribe from the last checkpoint.`,
    {},
    { cause: error },
  );
}

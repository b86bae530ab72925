import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CanopyError, ErrorCode } from '@canopy/schema';

export const CORRELATION_HEADER = 'x-correlation-id';

/** What every log line made while serving one request carries. */
interface RequestScope {
  correlationId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** Runs `work` as part of the request `correlationId`: log lines it makes (through `withRequestScope` loggers) carry the id. */
export function inRequestScope<T>(correlationId: string, work: () => T): T {
  return scope.run({ correlationId }, work);
}

/**
 * A logger whose lines carry the correlation id of the request they were
 * made for, when there is one; its children inherit that. Lines made
 * outside any request (start-up, projections) are unchanged.
 */
export function withRequestScope(logger: Logger): Logger {
  return logger.child(
    {},
    {
      formatters: {
        log(object: object) {
          const current = scope.getStore();
          return current === undefined || 'correlationId' in object ? object : { ...object, correlationId: current.correlationId };
        },
      },
    },
  );
}

/** Printable ASCII without spaces, 1–128 characters: what proxies and tracing tools send. */
const VALID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's correlation id: the client's `x-correlation-id`, or a new
 * UUID when it sent none. A value that could not be logged and echoed
 * safely is refused with BAD_USER_INPUT rather than replaced, so the
 * caller's tracing does not silently break.
 */
export function correlationIdOf(header: string | string[] | undefined): string {
  if (header === undefined) return randomUUID();
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!VALID.test(value)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `The ${CORRELATION_HEADER} header must be 1 to 128 printable ASCII characters without spaces.`, { field: CORRELATION_HEADER });
  }
  return value;
}

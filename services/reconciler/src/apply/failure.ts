import type { ClusterSyncFailureReason } from '@canopy/schema';

/** Why an attempt failed, in words fit for the log and the API (built from codes and Status messages, never from credentials or secret values). */
export interface SyncFailure {
  reason: ClusterSyncFailureReason;
  message: string;
  failedObjects: number;
}

export class SyncError extends Error {
  constructor(readonly failure: SyncFailure) {
    super(failure.message);
    this.name = 'SyncError';
  }
}

/** Raised when one call to a cluster takes longer than the attempt allows. */
export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

/** The HTTP status of a client-node ApiException, if the error is one. */
export function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 && 'body' in (error as object) ? code : undefined;
}

/** Whether the failure says the cluster cannot be talked to at all (so the rest of the attempt is pointless). */
export function isUnreachable(failure: SyncFailure): boolean {
  return failure.reason === 'unreachable' || failure.reason === 'unauthorized' || failure.reason === 'connection-invalid';
}

/** Classifies what a call to a cluster threw; `what` names the object or call. */
export function classify(error: unknown, what: string): SyncFailure {
  if (error instanceof SyncError) return error.failure;
  if (error instanceof DeadlineError) return { reason: 'unreachable', message: `${what}: ${error.message}`, failedObjects: 0 };
  const status = httpStatus(error);
  if (status !== undefined) {
    const detail = statusMessage((error as { body?: unknown }).body);
    const said = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
    // A 403 is a refusal of the credentials when it names the user (RBAC) or says nothing; otherwise the object was refused (quota, admission, a terminating namespace).
    if (status === 401 || (status === 403 && (!detail || /User "|cannot (get|list|watch|create|update|patch|delete)/.test(detail)))) {
      return { reason: 'unauthorized', message: `the cluster refused the credentials (${said})`, failedObjects: 0 };
    }
    if (status === 409) return { reason: 'conflict', message: `${what}: ${said}`, failedObjects: 1 };
    if (status >= 500 || status === 429) return { reason: 'unreachable', message: `the API server answered ${said}`, failedObjects: 0 };
    return { reason: 'rejected', message: `${what}: ${said}`, failedObjects: 1 };
  }
  const err = error as { name?: string; code?: unknown; type?: string; message?: string; cause?: { code?: unknown } } | undefined;
  if (err?.name === 'ClusterAccessError') return { reason: 'connection-invalid', message: `${String(err.code)}: ${err.message ?? ''}`, failedObjects: 0 };
  const code = String(err?.code ?? err?.cause?.code ?? '');
  if (code === 'ECONNREFUSED') return { reason: 'unreachable', message: 'connection refused: nothing listens at the server address', failedObjects: 0 };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { reason: 'unreachable', message: `the server's host name does not resolve (${code})`, failedObjects: 0 };
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(err?.message ?? '')) {
    return { reason: 'unreachable', message: 'the connection was dropped before an answer', failedObjects: 0 };
  }
  if (code === 'ETIMEDOUT' || err?.name === 'AbortError' || err?.type === 'aborted') return { reason: 'unreachable', message: 'the connection timed out', failedObjects: 0 };
  if (/^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/.test(code)) {
    return { reason: 'unreachable', message: `TLS handshake failed (${code})`, failedObjects: 0 };
  }
  if (err?.type === 'system' || code.startsWith('E')) return { reason: 'unreachable', message: `network error${code ? ` ${code}` : ''}`, failedObjects: 0 };
  return { reason: 'error', message: `${what}: ${(err?.message ?? String(error)).split('\n')[0]}`, failedObjects: 1 };
}

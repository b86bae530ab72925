/**
 * Failures as EventStoreDB reports them: gRPC statuses whose trailing metadata
 * carries the `exception` key the clients branch on, and the
 * `google.rpc.Status` values BatchAppend answers with per request.
 */
import { Metadata, status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';
import type { ExpectedRevision, Revision } from '../event-store.js';
import { BadRequest, Code, GoogleEmpty, MaximumAppendSizeExceeded, packAny, Status, Unknown, WrongExpectedVersion } from './protocol.js';

/** Names of failures this server reports that EventStoreDB does not have; clients see them in the message. */
export const DUPLICATE_EVENT_ID_MESSAGE = 'DuplicateEventId';

function grpcError(code: GrpcStatus, details: string, entries: Record<string, string> = {}): ServerErrorResponse {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

export function maxAppendSizeExceededError(maxAppendSize: number): ServerErrorResponse {
  return grpcError(GrpcStatus.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(maxAppendSize),
  });
}

export function requiredMetadataMissingError(message: string): ServerErrorResponse {
  return grpcError(GrpcStatus.INVALID_ARGUMENT, message, {
    exception: 'missing-required-metadata-property',
    'required-metadata-properties': 'type,content-type',
  });
}

export function invalidArgumentError(message: string): ServerErrorResponse {
  return grpcError(GrpcStatus.INVALID_ARGUMENT, message);
}

export function duplicateEventIdError(message: string): ServerErrorResponse {
  return grpcError(GrpcStatus.ALREADY_EXISTS, `${DUPLICATE_EVENT_ID_MESSAGE}: ${message}`);
}

export function unavailableError(message: string): ServerErrorResponse {
  return grpcError(GrpcStatus.UNAVAILABLE, message);
}

export function unknownError(message: string): ServerErrorResponse {
  return grpcError(GrpcStatus.UNKNOWN, message);
}

export function unimplementedError(method: string): ServerErrorResponse {
  return grpcError(GrpcStatus.UNIMPLEMENTED, `${method} is not implemented by the Canopy EventStoreDB test server.`);
}

/** The shared `event_store.client.WrongExpectedVersion` detail that BatchAppend packs into its status. */
export function wrongExpectedVersionStatus(expected: ExpectedRevision, actual: Revision | 'no_stream'): Status {
  const detail = new WrongExpectedVersion();
  if (actual === 'no_stream') detail.setCurrentNoStream(new GoogleEmpty());
  else detail.setCurrentStreamRevision(actual.toString(10));
  setExpected(detail, expected);
  return status(Code.ALREADY_EXISTS, 'WrongExpectedVersion', packAny(detail, 'event_store.client.WrongExpectedVersion'));
}

function setExpected(detail: InstanceType<typeof WrongExpectedVersion>, expected: ExpectedRevision): void {
  if (typeof expected === 'bigint') detail.setExpectedStreamPosition(expected.toString(10));
  else if (expected === 'any') detail.setExpectedAny(new GoogleEmpty());
  else if (expected === 'no_stream') detail.setExpectedNoStream(new GoogleEmpty());
  else detail.setExpectedStreamExists(new GoogleEmpty());
}

export function maxAppendSizeExceededStatus(maxAppendSize: number): Status {
  const detail = new MaximumAppendSizeExceeded();
  detail.setMaxappendsize(maxAppendSize);
  return status(Code.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', packAny(detail, 'event_store.client.MaximumAppendSizeExceeded'));
}

export function badRequestStatus(message: string, code: number = Code.INVALID_ARGUMENT): Status {
  const detail = new BadRequest();
  detail.setMessage(message);
  return status(code, message, packAny(detail, 'event_store.client.BadRequest'));
}

export function unknownStatus(message: string): Status {
  return status(Code.UNKNOWN, message, packAny(new Unknown(), 'event_store.client.Unknown'));
}

function status(code: number, message: string, details: ReturnType<typeof packAny>): Status {
  const result = new Status();
  result.setCode(code);
  result.setMessage(message);
  result.setDetails(details);
  return result;
}

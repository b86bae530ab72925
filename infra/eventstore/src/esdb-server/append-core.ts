/**
 * One append against the backing store, as both append RPCs (Append and
 * BatchAppend) need it: proposed messages in, an outcome out. The RPC
 * handlers only translate outcomes into their own reply shapes.
 */
import { isCanopyError } from '@canopy/schema';
import type { EventStore, ExpectedRevision, NewEvent, Position, Revision } from '../event-store.js';
import { ProtocolInputError, toNewEvent, type ProposedEvent } from './convert.js';

export interface AppendRequest {
  stream: string;
  expected: ExpectedRevision;
  events: readonly ProposedEvent[];
}

export type AppendOutcome =
  /** `revision` undefined: the stream does not exist (an empty append to no stream); `position` undefined: nothing was written. */
  | { kind: 'success'; revision: Revision | undefined; position: Position | undefined }
  | { kind: 'wrong-expected-version'; expected: ExpectedRevision; actual: Revision | 'no_stream' }
  | { kind: 'too-large'; maxAppendSize: number }
  | { kind: 'bad-request'; message: string; missingMetadata: boolean }
  | { kind: 'duplicate-event-id'; message: string }
  | { kind: 'failed'; message: string };

export function isSystemStream(stream: string): boolean {
  return stream.startsWith('$');
}

export async function performAppend(store: EventStore, request: AppendRequest, maxAppendSize: number): Promise<AppendOutcome> {
  const { stream, expected } = request;
  if (isSystemStream(stream)) {
    return { kind: 'bad-request', message: `Stream '${stream}' is a system stream; this server does not write system streams.`, missingMetadata: false };
  }
  let events: NewEvent[];
  try {
    events = request.events.map((event, index) => toNewEvent(event, index));
  } catch (error) {
    if (error instanceof ProtocolInputError) {
      return { kind: 'bad-request', message: error.message, missingMetadata: error.missingMetadata };
    }
    throw error;
  }
  try {
    if (events.length === 0) return await emptyAppend(store, stream, expected);
    const result = await store.append(stream, events, { expectedRevision: expected });
    return { kind: 'success', revision: result.nextExpectedRevision, position: result.position };
  } catch (error) {
    return await failedAppend(store, request, error, maxAppendSize);
  }
}

async function lastRevision(store: EventStore, stream: string): Promise<Revision | 'no_stream'> {
  for await (const event of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) return event.revision;
  return 'no_stream';
}

function satisfies(expected: ExpectedRevision, actual: Revision | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'stream_exists') return actual !== 'no_stream';
  return actual === expected;
}

/** EventStoreDB accepts an append of no events: it checks the expected revision and writes nothing. */
async function emptyAppend(store: EventStore, stream: string, expected: ExpectedRevision): Promise<AppendOutcome> {
  const actual = await lastRevision(store, stream);
  if (!satisfies(expected, actual)) return { kind: 'wrong-expected-version', expected, actual };
  return { kind: 'success', revision: actual === 'no_stream' ? undefined : actual, position: undefined };
}

async function failedAppend(store: EventStore, request: AppendRequest, error: unknown, maxAppendSize: number): Promise<AppendOutcome> {
  const message = error instanceof Error ? error.message : String(error);
  if (isCanopyError(error, 'WRONG_EXPECTED_VERSION')) {
    const reported = error.details['actual'];
    const actual = typeof reported === 'bigint' || reported === 'no_stream' ? reported : await lastRevision(store, request.stream);
    return { kind: 'wrong-expected-version', expected: request.expected, actual };
  }
  if (isCanopyError(error, 'EVENT_TOO_LARGE')) {
    const reported = error.details['maxBytes'];
    return { kind: 'too-large', maxAppendSize: typeof reported === 'number' ? Math.min(reported, maxAppendSize) : maxAppendSize };
  }
  if (isCanopyError(error, 'DUPLICATE_EVENT_ID')) return { kind: 'duplicate-event-id', message };
  if (isCanopyError(error, 'BAD_USER_INPUT')) return { kind: 'bad-request', message, missingMetadata: false };
  return { kind: 'failed', message };
}

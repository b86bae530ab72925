/**
 * Streams.Read of one stream (count option): events from a revision,
 * forwards or backwards, or `stream_not_found` when the stream has no events.
 */
import type { Direction, EventStore, ReadStreamOptions, Revision } from '../event-store.js';
import { isSystemStream } from './append-core.js';
import { eventResponse, streamNotFoundResponse } from './convert.js';
import type { ReadResp } from './protocol.js';
import type { ResponseWriter } from './writer.js';

export type RevisionOption = 'start' | 'end' | Revision;

export interface ReadStreamRequest {
  stream: string;
  from: RevisionOption;
  direction: Direction;
  maxCount: bigint;
  structuredUuids: boolean;
}

/** The port's `maxCount`, or undefined for "no limit". */
export function toMaxCount(count: bigint): number | undefined {
  return count >= BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(count);
}

async function streamExists(store: EventStore, stream: string): Promise<boolean> {
  for await (const _ of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) return true;
  return false;
}

export async function readStream(store: EventStore, writer: ResponseWriter<ReadResp>, request: ReadStreamRequest): Promise<void> {
  const { stream, from, direction } = request;
  // System streams ($-prefixed) cannot exist in the backing store.
  if (isSystemStream(stream)) {
    await writer.write(streamNotFoundResponse(stream));
    return;
  }
  const maxCount = toMaxCount(request.maxCount);
  // Forwards from the end reads nothing (EventStoreDB answers with no events, or not found).
  const readsNothing = (direction === 'forwards' && from === 'end') || maxCount === 0;
  let sent = 0;
  if (!readsNothing) {
    const options: ReadStreamOptions = { direction };
    if (from === 'start') options.fromRevision = 0n;
    else if (from !== 'end') options.fromRevision = from;
    if (maxCount !== undefined) options.maxCount = maxCount;
    for await (const event of store.readStream(stream, options)) {
      if (!(await writer.write(eventResponse(event, request.structuredUuids)))) return;
      sent += 1;
    }
  }
  if (sent === 0 && !(await streamExists(store, stream))) await writer.write(streamNotFoundResponse(stream));
}

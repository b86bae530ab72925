/**
 * Streams.Read of $all (count option): events from a position, forwards
 * (inclusive of the position) or backwards (exclusive), optionally filtered.
 */
import type { Direction, EventStore, Position, ReadAllOptions } from '../event-store.js';
import { eventResponse } from './convert.js';
import type { ServerFilter } from './filter.js';
import type { ReadResp } from './protocol.js';
import { toMaxCount } from './read-stream.js';
import type { ResponseWriter } from './writer.js';

export type PositionOption = 'start' | 'end' | Position;

export interface ReadAllRequest {
  from: PositionOption;
  direction: Direction;
  maxCount: bigint;
  filter: ServerFilter | undefined;
  structuredUuids: boolean;
}

/** The store's read for a protocol read; undefined when it reads nothing (forwards from the end, backwards from the start). */
function storeOptions(from: PositionOption, direction: Direction): ReadAllOptions | undefined {
  if (direction === 'forwards') {
    if (from === 'end') return undefined;
    if (from === 'start' || from <= 0n) return { direction };
    return { direction, after: from - 1n };
  }
  if (from === 'start') return undefined;
  if (from === 'end') return { direction };
  return { direction, before: from };
}

export async function readAll(store: EventStore, writer: ResponseWriter<ReadResp>, request: ReadAllRequest): Promise<void> {
  const options = storeOptions(request.from, request.direction);
  const maxCount = toMaxCount(request.maxCount);
  if (options === undefined || maxCount === 0) return;
  const { filter } = request;
  if (filter === undefined && maxCount !== undefined) options.maxCount = maxCount;
  let sent = 0;
  for await (const event of store.readAll(options)) {
    if (filter && !filter.matches(event)) continue;
    if (!(await writer.write(eventResponse(event, request.structuredUuids)))) return;
    sent += 1;
    if (maxCount !== undefined && sent >= maxCount) return;
  }
}

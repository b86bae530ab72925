/**
 * Client events to port events, and the port's JSON events to client event data.
 */
import type { EventData, ResolvedEvent, AllStreamResolvedEvent, JSONType } from '@eventstore/db-client';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { JsonObject, JsonValue, NewEvent, Position, RecordedEvent } from '../event-store.js';

/** EventStoreDB's "no position" (2^64 - 1). */
const NO_POSITION = 0xffff_ffff_ffff_ffffn;

/** System events ($-prefixed stream or type: $stats, $>, $metadata, …) never reach the port. */
export function isSystemEvent(stream: string, type: string): boolean {
  return stream.startsWith('$') || type.startsWith('$');
}

export function toEventData(event: NewEvent & { id: string }): EventData {
  return {
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    // The client JSON-serializes `data` whatever its type; its typings omit numbers, booleans and null.
    data: event.data as JSONType,
    metadata: event.metadata ?? {},
  };
}

function toData(data: unknown, isJson: boolean): JsonValue {
  if (isJson) return data as JsonValue;
  // Binary events (written by other tools): JSON when the bytes are JSON, else their base64 text.
  const bytes = Buffer.from(data as Uint8Array);
  try {
    return JSON.parse(bytes.toString('utf8')) as JsonValue;
  } catch {
    return bytes.toString('base64');
  }
}

function toMetadata(metadata: unknown): JsonObject {
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) && !(metadata instanceof Uint8Array)) {
    return metadata as JsonObject;
  }
  return {};
}

type ClientRecordedEvent = NonNullable<ResolvedEvent['event'] | AllStreamResolvedEvent['event']>;

export function positionOf(event: ClientRecordedEvent, resolved: { commitPosition?: bigint }): Position {
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined || position === NO_POSITION) {
    throw new CanopyError(ErrorCode.EVENT_STORE_UNAVAILABLE, `EventStoreDB returned event ${event.id} of ${event.streamId} without a position.`, {
      stream: event.streamId,
      id: event.id,
    });
  }
  return position;
}

/** The port event for a resolved client event; undefined for an event-less entry (an unresolved link). */
export function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  return {
    id: event.id,
    stream: event.streamId,
    type: event.type,
    revision: event.revision,
    position: positionOf(event, resolved),
    data: toData(event.data, event.isJson),
    metadata: toMetadata(event.metadata),
    createdAt: event.created,
  };
}

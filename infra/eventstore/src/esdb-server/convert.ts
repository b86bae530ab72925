/**
 * Conversion between the port's events and the protocol's messages: proposed
 * messages (appends) in, recorded events (reads and subscriptions) out.
 */
import type { JsonObject, JsonValue, NewEvent, Position, RecordedEvent } from '../event-store.js';
import { ReadResp, streamIdentifier, uuidMessage, uuidToString, type UUID } from './protocol.js';

const JSON_CONTENT_TYPE = 'application/json';
/** .NET ticks (100 ns) per millisecond: `created` travels as ticks since the Unix epoch. */
const TICKS_PER_MILLISECOND = 10_000n;

/** What `AppendReq.ProposedMessage` and `BatchAppendReq.ProposedMessage` have in common. */
export interface ProposedMessageLike {
  getId(): UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

/** A proposed event as received: raw bytes, before it is turned into a port event. */
export interface ProposedEvent {
  id: string | undefined;
  type: string | undefined;
  contentType: string | undefined;
  data: Uint8Array;
  metadata: Uint8Array;
}

export function readProposedMessage(message: ProposedMessageLike): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidToString(message.getId()),
    type: metadata.get('type'),
    contentType: metadata.get('content-type'),
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

/** Bytes an append counts against the maximum append size: data plus custom metadata. */
export function proposedSize(event: ProposedEvent): number {
  return event.data.byteLength + event.metadata.byteLength;
}

export class ProtocolInputError extends Error {
  override readonly name = 'ProtocolInputError';
  /** True when a required `metadata` entry (`type`, `content-type`) is missing. */
  readonly missingMetadata: boolean;

  constructor(message: string, missingMetadata = false) {
    super(message);
    this.missingMetadata = missingMetadata;
  }
}

function parseJson(bytes: Uint8Array, what: string): JsonValue {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as JsonValue;
  } catch {
    throw new ProtocolInputError(`${what} is not valid JSON.`);
  }
}

/**
 * The port event for a proposed message. The backing store holds JSON only,
 * so binary (`application/octet-stream`) events and non-object metadata are refused.
 */
export function toNewEvent(event: ProposedEvent, index: number): NewEvent {
  if (event.type === undefined) {
    throw new ProtocolInputError(`Required Metadata Property 'type' is missing (event ${index}).`, true);
  }
  if (event.contentType === undefined) {
    throw new ProtocolInputError(`Required Metadata Property 'content-type' is missing (event ${index}).`, true);
  }
  if (event.contentType !== JSON_CONTENT_TYPE) {
    throw new ProtocolInputError(
      `Event ${index} has content type '${event.contentType}'; this server stores JSON events only (content-type ${JSON_CONTENT_TYPE}).`,
    );
  }
  const data = parseJson(event.data, `Data of event ${index}`);
  let metadata: JsonObject = {};
  if (event.metadata.byteLength > 0) {
    const parsed = parseJson(event.metadata, `Custom metadata of event ${index}`);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ProtocolInputError(`Custom metadata of event ${index} must be a JSON object.`);
    }
    metadata = parsed;
  }
  const newEvent: NewEvent = { type: event.type, data, metadata };
  if (event.id !== undefined) newEvent.id = event.id;
  return newEvent;
}

function recordedEventMessage(event: RecordedEvent, structuredUuid: boolean): ReadResp.ReadEvent.RecordedEvent {
  const message = new ReadResp.ReadEvent.RecordedEvent();
  message.setId(uuidMessage(event.id, structuredUuid));
  message.setStreamIdentifier(streamIdentifier(event.stream));
  message.setStreamRevision(event.revision.toString(10));
  message.setCommitPosition(event.position.toString(10));
  message.setPreparePosition(event.position.toString(10));
  const metadata = message.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', JSON_CONTENT_TYPE);
  metadata.set('created', (BigInt(event.createdAt.getTime()) * TICKS_PER_MILLISECOND).toString(10));
  message.setData(Buffer.from(JSON.stringify(event.data), 'utf8'));
  message.setCustomMetadata(Buffer.from(JSON.stringify(event.metadata), 'utf8'));
  return message;
}

export function eventResponse(event: RecordedEvent, structuredUuid: boolean): ReadResp {
  const readEvent = new ReadResp.ReadEvent();
  readEvent.setEvent(recordedEventMessage(event, structuredUuid));
  readEvent.setCommitPosition(event.position.toString(10));
  const response = new ReadResp();
  response.setEvent(readEvent);
  return response;
}

export function confirmationResponse(subscriptionId: string): ReadResp {
  const confirmation = new ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  const response = new ReadResp();
  response.setConfirmation(confirmation);
  return response;
}

export function checkpointResponse(position: Position): ReadResp {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.toString(10));
  checkpoint.setPreparePosition(position.toString(10));
  const response = new ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}

export function caughtUpResponse(): ReadResp {
  const response = new ReadResp();
  response.setCaughtUp(new ReadResp.CaughtUp());
  return response;
}

export function streamNotFoundResponse(stream: string): ReadResp {
  const notFound = new ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(streamIdentifier(stream));
  const response = new ReadResp();
  response.setStreamNotFound(notFound);
  return response;
}

/**
 * The log's port. Every adapter (EventStoreDB, PostgreSQL, PGlite) implements
 * it and passes the same contract suite (test/contract).
 *
 * Positions order every event in the whole log; they are unique and
 * increasing but not dense (EventStoreDB's are byte offsets). Revisions count
 * the events of one stream from 0.
 */

export type Position = bigint;
export type Revision = bigint;

/**
 * What the writer believes about the stream: anything, that it does not
 * exist yet, that it exists, or the exact revision of its last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | Revision;

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export interface NewEvent {
  /** A UUID; appending the same ids again is a no-op that returns the first result. Generated when absent. */
  id?: string;
  type: string;
  data: JsonValue;
  metadata?: JsonObject;
}

export interface RecordedEvent {
  id: string;
  stream: string;
  type: string;
  /** Revision of the event in its stream, from 0. */
  revision: Revision;
  /** Position in the whole log. */
  position: Position;
  data: JsonValue;
  metadata: JsonObject;
  createdAt: Date;
}

export interface AppendOptions {
  /** Defaults to `'any'`. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextExpectedRevision: Revision;
  /** Position of the last event of the append. */
  position: Position;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive. Defaults to the first event (forwards) or the last (backwards). */
  fromRevision?: Revision;
  maxCount?: number;
}

/** Events match when their stream starts with one of the prefixes AND their type is one of the types; an absent list matches all. */
export interface EventFilter {
  streamPrefixes?: readonly string[];
  eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  direction?: Direction;
  /** Exclusive lower bound: only events with a greater position. */
  after?: Position;
  /** Exclusive upper bound: only events with a smaller position. */
  before?: Position;
  maxCount?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /**
   * Where to resume: after this position (a checkpoint), from the start of the
   * log when absent, or only events appended from now on with `'end'`.
   */
  after?: Position | 'end';
  filter?: EventFilter;
}

/**
 * What a subscription yields, in log order:
 * - `event`: the next matching event;
 * - `caught-up`: history is exhausted, from here on events are live (once);
 *   `position` is the last position covered so far, undefined for an empty log;
 * - `checkpoint`: every event up to `position` was seen (matching or not), so a
 *   filtered consumer may store `position` as its resume point.
 */
export type SubscriptionMessage =
  | { kind: 'event'; event: RecordedEvent }
  | { kind: 'caught-up'; position: Position | undefined }
  | { kind: 'checkpoint'; position: Position };

/**
 * Iterate it once: the iterator is single-use, and leaving the loop early
 * (break, return, throw) closes the subscription.
 */
export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  /** Ends the subscription; the iteration finishes after the current message. */
  close(): Promise<void>;
}

export interface EventStore {
  /** Appends atomically; all events or none. */
  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** The stream's events; none when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** Catch-up then live, without gap or duplicate, resumable from a checkpoint. */
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** Position of the last event in the log, undefined when empty. */
  headPosition(): Promise<Position | undefined>;
  close(): Promise<void>;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

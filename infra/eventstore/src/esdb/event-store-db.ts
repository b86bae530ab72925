/**
 * The EventStore port on EventStoreDB, through its official gRPC client.
 * Inputs are validated here with the rules every adapter shares, so bad input
 * fails the same way and never reaches the server.
 */
import { CanopyError, ErrorCode } from '@canopy/schema';
import { BACKWARDS, END, EventStoreDBClient, FORWARDS, START, StreamNotFoundError, type AllStreamResolvedEvent, type ReadPosition, type ResolvedEvent, type StreamingRead } from '@eventstore/db-client';
import type { Channel } from '@grpc/grpc-js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  Subscription,
  SubscribeOptions,
} from '../event-store.js';
import {
  DEFAULT_MAX_APPEND_BYTES,
  prepareAppend,
  validateExpectedRevision,
  validateReadAllOptions,
  validateReadStreamOptions,
  validateStreamName,
  validateSubscribeOptions,
} from '../validation.js';
import { isSystemEvent, toEventData, toRecordedEvent } from './convert.js';
import { appendError, storeError } from './errors.js';
import { matchesFilter } from './filters.js';
import { EsdbSubscription } from './subscription.js';

export interface EventStoreDbOptions {
  /** Largest append accepted before anything is sent; defaults to EventStoreDB's 1 MiB. */
  maxAppendBytes?: number;
}

/** How long close() waits for the client to cancel its open calls before closing the channel anyway. */
const DISPOSE_TIMEOUT_MS = 2_000;

/** Iterates a client read, converting its events and its errors; cancels the call when the consumer stops early. */
async function* iterate<E extends ResolvedEvent | AllStreamResolvedEvent>(
  read: StreamingRead<E>,
  operation: string,
): AsyncGenerator<RecordedEvent> {
  let finished = false;
  try {
    for await (const resolved of read) {
      const event = toRecordedEvent(resolved);
      if (event) yield event;
    }
    finished = true;
  } catch (error) {
    finished = true;
    if (error instanceof StreamNotFoundError) return;
    throw storeError(error, operation);
  } finally {
    if (!finished) await read.cancel();
  }
}

export class EventStoreDbEventStore implements EventStore {
  readonly #client: EventStoreDBClient;
  readonly #maxAppendBytes: number;
  readonly #subscriptions = new Set<EsdbSubscription>();
  #closed = false;

  constructor(client: EventStoreDBClient, options: EventStoreDbOptions = {}) {
    this.#client = client;
    this.#maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
  }

  #checkOpen(): void {
    if (this.#closed) throw new CanopyError(ErrorCode.EVENT_STORE_UNAVAILABLE, 'This EventStoreDB event store is closed.');
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.#checkOpen();
    const expected = validateExpectedRevision(options.expectedRevision);
    const prepared = prepareAppend(stream, events, this.#maxAppendBytes);
    const eventData = prepared.events.map((event, index) => toEventData({ ...events[index]!, id: event.id, type: event.type }));
    let result;
    try {
      result = await this.#client.appendToStream(prepared.stream, eventData, { expectedRevision: expected });
    } catch (error) {
      throw appendError(error, prepared.stream, expected);
    }
    if (result.position === undefined) {
      throw new CanopyError(ErrorCode.EVENT_STORE_UNAVAILABLE, `EventStoreDB accepted the append to ${prepared.stream} but returned no position.`, {
        stream: prepared.stream,
      });
    }
    return { nextExpectedRevision: result.nextExpectedRevision, position: result.position.commit };
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.#checkOpen();
    const name = validateStreamName(stream);
    validateReadStreamOptions(options);
    const { direction = 'forwards', fromRevision, maxCount } = options;
    if (maxCount === 0) return;
    const read = this.#client.readStream(name, {
      direction: direction === 'backwards' ? BACKWARDS : FORWARDS,
      fromRevision: fromRevision ?? (direction === 'backwards' ? END : START),
      ...(maxCount !== undefined ? { maxCount } : {}),
    });
    yield* iterate(read, 'read of a stream');
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.#checkOpen();
    validateReadAllOptions(options);
    const { direction = 'forwards', after, before, maxCount, filter } = options;
    if (maxCount === 0) return;
    // Forwards reads include their start position and backwards reads exclude it; both bounds are re-checked here.
    let fromPosition: ReadPosition;
    if (direction === 'forwards') fromPosition = after === undefined ? START : { commit: after, prepare: after };
    else fromPosition = before === undefined ? END : { commit: before, prepare: before };
    const read = this.#client.readAll({ direction: direction === 'backwards' ? BACKWARDS : FORWARDS, fromPosition });
    let count = 0;
    for await (const event of iterate(read, 'read of $all')) {
      if (direction === 'forwards' ? before !== undefined && event.position >= before : after !== undefined && event.position <= after) return;
      if (after !== undefined && event.position <= after) continue;
      if (before !== undefined && event.position >= before) continue;
      if (!matchesFilter(event, filter)) continue;
      yield event;
      count += 1;
      if (maxCount !== undefined && count >= maxCount) return;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.#checkOpen();
    validateSubscribeOptions(options);
    const subscription: EsdbSubscription = new EsdbSubscription(
      this.#client,
      options,
      () => this.headPosition(),
      () => this.#subscriptions.delete(subscription),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<Position | undefined> {
    this.#checkOpen();
    const read = this.#client.readAll({ direction: BACKWARDS, fromPosition: END });
    for await (const event of iterate(read, 'read of the head position')) {
      if (!isSystemEvent(event.stream, event.type)) return event.position;
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#subscriptions].map((subscription) => subscription.close()));
    // dispose() waits for every open call to finish; a call the server ended oddly must not hold close() forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#client.dispose(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DISPOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    // The client has no close of its own; its channel keeps keepalive timers running until closed.
    const channel = await (this.#client as unknown as { getChannel(): Promise<Channel> }).getChannel().catch(() => undefined);
    channel?.close();
  }
}

/** Connects to EventStoreDB (e.g. `esdb://localhost:2113?tls=false`) and checks that it answers. */
export async function openEventStoreDbEventStore(connectionString: string, options: EventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `Invalid EventStoreDB connection string: ${(error as Error).message}`, { field: 'connectionString' }, { cause: error });
  }
  const store = new EventStoreDbEventStore(client, options);
  try {
    await store.headPosition();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

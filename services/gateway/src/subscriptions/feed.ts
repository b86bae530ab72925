import type { EventStore, ReadDomainEvent, RecordedEvent } from '@canopy/eventstore';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { EventFeed, FollowOptions } from '@canopy/workspaces';
import type { EventHub } from './hub.js';
import { BoundedQueue } from './queue.js';

export interface FeedDeps {
  hub: EventHub;
  store: EventStore;
  upcast(event: RecordedEvent): ReadDomainEvent;
  /** Events one subscription may hold for its client. */
  maxQueued: number;
  /** Whether the subscriber's connection already holds more unsent bytes than it may. */
  congested(): boolean;
  /** The subscriber did not keep up: called once, after its feed closed and dropped what it held; the caller closes the connection. */
  onSlowConsumer(): void;
  /** A queue reached this length (for the high-water mark). */
  onQueued?(length: number): void;
  /** Registers an open feed with its connection, which closes it when it goes; returns the unregistering function. */
  track?(feed: { close(): void }): () => void;
}

/** The event feed of one subscription, on the process's hub. */
export function createEventFeed(deps: FeedDeps): EventFeed {
  return { follow: (options) => Follower.open(deps, options) };
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One subscriber's events: listens to the hub first, then replays the log
 * from the cursor, then takes what the hub queued meanwhile, skipping every
 * position it already delivered — so the switch from the log to live leaves
 * no gap (the hub queued everything after the position it had reached when
 * the follower started listening, and the replay read at least up to there)
 * and no duplicate.
 *
 * Bounded memory: the queue holds at most `maxQueued` events. While
 * replaying, a full queue is dropped and the replay simply reads on from the
 * log (every dropped event is there); once live, a full queue, or a
 * connection over its byte budget, means the client does not keep up: the
 * feed closes and the connection is closed (`onSlowConsumer`).
 */
class Follower implements AsyncIterableIterator<ReadDomainEvent> {
  private readonly streams: Set<string>;
  private readonly prefixes: readonly string[];
  private readonly queue: BoundedQueue<ReadDomainEvent>;
  private phase: 'replay' | 'live' = 'replay';
  private replay: AsyncIterator<RecordedEvent> | undefined;
  private overflowed = false;
  private closed = false;
  private live = true;
  /** The last position delivered (or the cursor): nothing at or before it is delivered again. */
  private last: bigint | undefined;
  /** The log's head once this follower listened: access is checked as of here, and events after it are rechecked. */
  private from: bigint | undefined;
  private unlisten: (() => void) | undefined;
  private untrack: (() => void) | undefined;

  private constructor(
    private readonly deps: FeedDeps,
    private readonly options: FollowOptions,
  ) {
    this.streams = new Set(options.streams);
    this.prefixes = options.streamPrefixes ?? [];
    this.queue = new BoundedQueue(deps.maxQueued);
  }

  static async open(deps: FeedDeps, options: FollowOptions): Promise<Follower> {
    const follower = new Follower(deps, options);
    try {
      await follower.start();
    } catch (error) {
      follower.close();
      throw error;
    }
    return follower;
  }

  private async start(): Promise<void> {
    this.untrack = this.deps.track?.(this);
    this.unlisten = this.deps.hub.listen({ streams: this.options.streams, prefixes: this.prefixes }, (event) => this.offer(event));
    // Read after listening: the hub has queued, or will queue, everything after where it was, and the head is at or past that.
    const head = await this.deps.store.headPosition();
    this.from = head;
    const { after } = this.options;
    if (after !== undefined && after > (head ?? 0n)) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, `after (${after}) is beyond the end of the log (${head ?? 0n}): pass the cursor of an event you received.`, { field: 'after' });
    }
    await this.options.authorize(head);
    if (this.closed) return;
    const live = this.options.live;
    this.live = typeof live === 'function' ? live() : (live ?? true);
    if (!this.live) {
      this.unlisten?.();
      this.queue.clear();
      if (after === undefined) return this.close();
      this.last = after;
      this.replay = this.read(after);
      return;
    }
    // Without a cursor the feed starts after the head; with a cursor at the head, the hub has queued all that follows.
    const cursor = after ?? this.from;
    this.last = cursor;
    const behind = after !== undefined && (this.from === undefined || after < this.from);
    if (behind || this.overflowed) {
      this.overflowed = false;
      this.replay = this.read(cursor);
    } else {
      this.phase = 'live';
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ReadDomainEvent>> {
    for (;;) {
      if (this.closed) return DONE;
      const event = await this.pull();
      if (event === undefined || this.closed) return DONE;
      if (!this.follows(event.stream)) continue;
      if (this.last !== undefined && event.position <= this.last) continue;
      this.last = event.position;
      if ((this.from === undefined || event.position > this.from) && this.options.recheck?.(event)) {
        try {
          await this.options.authorize(event.position);
        } catch (error) {
          this.close();
          throw error;
        }
        if (this.closed) return DONE;
      }
      if (this.keeps(event)) return { done: false, value: event };
    }
  }

  async return(): Promise<IteratorResult<ReadDomainEvent>> {
    this.close();
    return DONE;
  }

  /** Stops listening and drops everything held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlisten?.();
    this.untrack?.();
    this.queue.close();
    const replay = this.replay;
    this.replay = undefined;
    replay?.return?.().catch(() => {});
  }

  /** The next event: from the log while replaying (reading on past a dropped queue), then from the queue. */
  private async pull(): Promise<ReadDomainEvent | undefined> {
    while (this.phase === 'replay') {
      const replay = this.replay;
      if (!replay) return undefined;
      const step = await replay.next();
      if (this.closed) return undefined;
      if (!step.done) {
        if (!this.follows(step.value.stream)) continue;
        return this.deps.upcast(step.value);
      }
      if (this.overflowed) {
        this.overflowed = false;
        this.replay = this.read(this.last);
        continue;
      }
      if (!this.live) {
        this.close();
        return undefined;
      }
      this.phase = 'live';
    }
    return this.queue.take();
  }

  /** The hub's listener: queues what this subscriber wants, and notices when it falls behind. */
  private offer(event: ReadDomainEvent): void {
    if (this.closed || !this.wants(event)) return;
    if (this.deps.congested()) return this.slow();
    if (this.queue.push(event)) {
      this.deps.onQueued?.(this.queue.length);
      return;
    }
    if (this.phase === 'replay') {
      this.overflowed = true;
      this.queue.clear();
      return;
    }
    this.slow();
  }

  private slow(): void {
    this.close();
    this.deps.onSlowConsumer();
  }

  private wants(event: ReadDomainEvent): boolean {
    return this.follows(event.stream) && (this.keeps(event) || (this.options.recheck?.(event) ?? false));
  }

  private follows(stream: string): boolean {
    if (this.streams.has(stream)) return true;
    for (const prefix of this.prefixes) if (stream.startsWith(prefix)) return true;
    return false;
  }

  private keeps(event: ReadDomainEvent): boolean {
    return this.options.keep?.(event) ?? true;
  }

  private read(after: bigint | undefined): AsyncIterator<RecordedEvent> {
    return this.deps.store.readAll({ ...(after === undefined ? {} : { after }), filter: { streamPrefixes: [...this.streams, ...this.prefixes] } })[Symbol.asyncIterator]();
  }
}

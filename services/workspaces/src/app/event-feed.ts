import type { ReadDomainEvent } from '@canopy/eventstore';
import type { WorkspaceReads } from './reads.js';

/**
 * Events of a few streams (or streams by prefix) as they are appended, for one subscription:
 * implemented by the process serving subscriptions (the gateway fans one
 * log subscription out to all of them and replays a cursor from the log).
 */
export interface EventFeed {
  /**
   * Resolves once the feed listens and `authorize` has accepted the caller;
   * rejects with what `authorize` threw. The iterator yields the events in
   * log order, each once, and throws what a later `authorize` throws (the
   * feed is then closed). Leaving it (`return`) closes the feed.
   */
  follow(options: FollowOptions): Promise<AsyncIterableIterator<ReadDomainEvent>>;
}

export interface FollowOptions {
  /** Exact stream names. */
  streams: readonly string[];
  /**
   * And every stream whose name starts with one of these, including streams
   * created later (say `backup-`: every backup). Each prefix must hold its
   * stream category, the name up to a `-`: the feed refuses others.
   */
  streamPrefixes?: readonly string[];
  /**
   * A cursor: the events after this log position are replayed from the log,
   * then the feed goes live, with no gap and no duplicate. Absent: the
   * events appended after the feed started. A cursor beyond the log's head is refused
   * (BAD_USER_INPUT, field `after`).
   */
  after?: bigint;
  /** Which events of those streams are yielded; default all. */
  keep?(event: ReadDomainEvent): boolean;
  /**
   * Called before anything is yielded, with the log's head once the feed
   * listens (undefined: the log is empty) — the check must hold as of that
   * position — and again before each later event that `recheck` picks, with
   * that event's position (it is not yielded unless `authorize` resolves).
   * Throws to refuse (at the start) or to end the feed.
   */
  authorize(position: bigint | undefined): Promise<void>;
  /** Events that may change the caller's access (their role, for instance); default none. */
  recheck?(event: ReadDomainEvent): boolean;
  /**
   * false: only what the log holds (from `after`), then the iteration ends.
   * Evaluated once `authorize` accepted the caller. Default true.
   */
  live?: boolean | (() => boolean);
}

/** What a subscription's resolvers get besides the request context: the event feed, and reads with no request cache (access is re-checked over time). */
export interface LiveContext {
  events: EventFeed;
  /** New reads for the caller each call (fresh loaders: a role read an hour ago is not reused). */
  reads(): WorkspaceReads;
}

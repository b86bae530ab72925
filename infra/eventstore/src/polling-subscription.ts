import type { EventFilter, Position, RecordedEvent, SubscribeOptions, Subscription, SubscriptionMessage } from './event-store.js';
import type { Wakeup } from './wakeup.js';

/** What a polled log offers a subscription: filtered pages read together with the head. */
export interface PolledLog {
  headPosition(): Promise<Position | undefined>;
  /**
   * Up to `limit` events after `after` matching the filter, in order, and the
   * head position, both read in one snapshot: when fewer than `limit` events
   * come back, every event up to `head` has been scanned.
   */
  readPage(after: Position | undefined, filter: EventFilter | undefined, limit: number): Promise<{ head: Position | undefined; events: RecordedEvent[] }>;
  readonly appended: Wakeup;
}

export interface PollingOptions {
  pageSize: number;
  /** Upper bound on the wait between polls when no notification arrives. */
  idleMs: number;
}

/**
 * Catch-up then live over a log whose positions commit in order: read pages
 * until one comes back short, then sleep until an append is announced (or `idleMs`
 * passes, so a lost notification only delays). The consumer pulls, so a slow
 * consumer holds at most one page in memory.
 */
export function pollingSubscription(log: PolledLog, options: SubscribeOptions, polling: PollingOptions): Subscription {
  let closed = false;

  async function* messages(): AsyncGenerator<SubscriptionMessage> {
    let after: Position | undefined = options.after === 'end' ? await log.headPosition() : options.after;
    let caughtUp = false;
    while (!closed) {
      const seen = log.appended.current;
      const { head, events } = await log.readPage(after, options.filter, polling.pageSize);
      for (const event of events) {
        if (closed) return;
        after = event.position;
        yield { kind: 'event', event };
      }
      if (events.length === polling.pageSize) continue;
      if (head !== undefined && (after === undefined || after < head)) {
        // The filter skipped the rest of the log up to head.
        after = head;
        yield { kind: 'checkpoint', position: head };
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caught-up', position: after };
      }
      if (closed) return;
      await log.appended.wait(seen, polling.idleMs);
    }
  }

  const iterator = messages();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      closed = true;
      // Wakes every poller of this log; the others just poll once more.
      log.appended.fire();
    },
  };
}

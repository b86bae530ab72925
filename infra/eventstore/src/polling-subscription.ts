import type { EventFilter, Position, RecordedEvent, SubscribeOptions, Subscription, SubscriptionMessage } from './event-store.js';
import type { Wakeup } from './wakeup.js';

/** What a polled log offers a subscription: a head and filtered pages. */
export interface PolledLog {
  headPosition(): Promise<Position | undefined>;
  /** Events with after < position <= upTo matching the filter, in order, at most `limit`. */
  readPage(after: Position | undefined, upTo: Position, filter: EventFilter | undefined, limit: number): Promise<RecordedEvent[]>;
  readonly appended: Wakeup;
}

export interface PollingOptions {
  pageSize: number;
  /** Upper bound on the wait between polls when no notification arrives. */
  idleMs: number;
}

/**
 * Catch-up then live over a log whose positions commit in order: read pages
 * up to the head, then sleep until an append is announced (or `idleMs`
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
      const head = await log.headPosition();
      if (head === undefined || (after !== undefined && head <= after)) {
        if (!caughtUp) {
          caughtUp = true;
          yield { kind: 'caught-up', position: after };
        }
        if (closed) return;
        await log.appended.wait(seen, polling.idleMs);
        continue;
      }
      const page = await log.readPage(after, head, options.filter, polling.pageSize);
      for (const event of page) {
        if (closed) return;
        after = event.position;
        yield { kind: 'event', event };
      }
      if (page.length < polling.pageSize && (after === undefined || after < head)) {
        // The filter skipped the rest of the log up to head.
        after = head;
        yield { kind: 'checkpoint', position: head };
      }
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

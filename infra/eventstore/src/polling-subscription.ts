import type { EventFilter, Position, RecordedEvent, SubscribeOptions, Subscription, SubscriptionMessage } from './event-store.js';
import { matchesFilter, type AppendedBatch } from './own-appends.js';
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
  /**
   * The highest position the log is known to have reached (this process's
   * appends and the notifications of others'). A live subscription at or
   * past it has nothing to read until woken.
   */
  readonly announcedHead?: Position;
  /** This process's append that starts right after `after`, when still remembered: read without a query. */
  ownAppendAfter?(after: Position): AppendedBatch | undefined;
}

export interface PollingOptions {
  pageSize: number;
  /** Upper bound on the wait between polls when no notification arrives. */
  idleMs: number;
}

/**
 * Catch-up then live over a log whose positions commit in order: read pages
 * until one comes back short, then sleep until an append is announced (or `idleMs`
 * passes, so a lost notification only delays). Live, the process's own appends
 * are taken as they were recorded and the log is read only for what others
 * appended, or when `idleMs` passed without news. The consumer pulls, so a
 * slow consumer holds at most two pages in memory (the one it is taking and,
 * after a full page, the next one, asked for ahead).
 */
export function pollingSubscription(log: PolledLog, options: SubscribeOptions, polling: PollingOptions): Subscription {
  let closed = false;

  async function* messages(): AsyncGenerator<SubscriptionMessage> {
    let after: Position | undefined = options.after === 'end' ? await log.headPosition() : options.after;
    let caughtUp = false;
    let mustRead = true;
    // Catching up, the page after a full one is asked for before this one is handed out, so that the database
    // reads it while the consumer works. `seen` is taken before that read, as it would be before a read of its own.
    let next: { seen: number; page: ReturnType<PolledLog['readPage']> } | undefined;
    while (!closed) {
      const seen = next?.seen ?? log.appended.current;
      // (A page asked for ahead is read first: own appends after `after` are in it.)
      if (caughtUp && !mustRead && !next) {
        let batch: AppendedBatch | undefined;
        // Whether the filter skipped events after the last one yielded: one checkpoint covers them all.
        let skipped = false;
        while (!closed && (batch = log.ownAppendAfter?.(after ?? 0n))) {
          for (const event of batch.events) {
            if (closed) return;
            skipped = !matchesFilter(event, options.filter);
            if (!skipped) yield { kind: 'event', event };
            after = event.position;
          }
        }
        // As a read would: a checkpoint when the filter skipped the last events taken.
        if (skipped && !closed) yield { kind: 'checkpoint', position: after! };
        if (log.announcedHead !== undefined && after !== undefined && after >= log.announcedHead) {
          await log.appended.wait(seen, polling.idleMs);
          // Woken by nothing: a notification may have been lost, so read.
          mustRead = log.appended.current === seen;
          continue;
        }
      }
      mustRead = false;
      const page = next?.page ?? log.readPage(after, options.filter, polling.pageSize);
      next = undefined;
      const { head, events } = await page;
      if (events.length === polling.pageSize && !closed) {
        const prefetch = log.readPage(events[events.length - 1]!.position, options.filter, polling.pageSize);
        // Not awaited if the consumer stops first: its failure must not go unhandled.
        prefetch.catch(() => {});
        next = { seen: log.appended.current, page: prefetch };
      }
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
      mustRead = log.appended.current === seen;
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

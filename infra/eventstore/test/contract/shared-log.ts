import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventStore, NewEvent, RecordedEvent, Subscription } from '../../src/event-store.js';
import { uniqueStream } from './index.js';

export interface TwoWriters {
  /** Two stores on the same log, as two processes of a deployment would be. */
  stores: [EventStore, EventStore];
  close(): Promise<void>;
}

function oneEvent(n: number): NewEvent {
  return { id: randomUUID(), type: 'Shared', data: { n } };
}

/** Reads a subscription's events until it holds `count`, or fails after the timeout. */
async function eventsFrom(subscription: Subscription, count: number, timeoutMs = 15_000): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(deadline - Date.now(), 0));
      }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`subscription timed out after ${received.length} of ${count} events`);
    if (next.done) break;
    if (next.value.kind === 'event') received.push(next.value.event);
  }
  return received;
}

/**
 * A log written by several processes: each process's live subscriptions see
 * every event, its own appends and the others', in log order, once.
 */
export function describeSharedLog(name: string, open: () => Promise<TwoWriters>): void {
  describe(`Shared log: ${name}`, () => {
    let writers: TwoWriters;
    beforeAll(async () => {
      writers = await open();
    });
    afterAll(async () => {
      await writers?.close();
    });

    it('live subscriptions of both writers see all interleaved appends in order, with no gap and no duplicate', async () => {
      const [a, b] = writers.stores;
      const prefix = uniqueStream('shared');
      const subscriptions = [a, b].map((store) => store.subscribeToAll({ after: 'end', filter: { streamPrefixes: [prefix] } }));
      try {
        // Each subscription is live once it answers caught-up (pulled by hand: leaving a for-await would end it).
        for (const subscription of subscriptions) {
          const iterator = subscription[Symbol.asyncIterator]();
          while ((await iterator.next()).value?.kind !== 'caught-up');
        }
        const total = 120;
        const writes = Array.from({ length: total }, (_, n) => (n % 3 === 0 ? b : a).append(`${prefix}-${n % 7}`, [oneEvent(n)]));
        await Promise.all(writes);
        const read = (await collectAll(a, prefix)).map(summary);
        expect(read).toHaveLength(total);
        for (const subscription of subscriptions) expect((await eventsFrom(subscription, total)).map(summary)).toEqual(read);
      } finally {
        await Promise.all(subscriptions.map((s) => s.close()));
      }
    });

    it("reads the other writer's appends once for all of its live subscriptions, not once each", async () => {
      const [a, b] = writers.stores;
      const prefix = uniqueStream('tail');
      const total = 40;
      // Unfiltered, this test's streams, its odd ones, and none of them; twice each.
      const kinds = [
        { filter: undefined, count: total },
        { filter: { streamPrefixes: [prefix] }, count: total },
        { filter: { streamPrefixes: [`${prefix}-odd`] }, count: total / 2 },
        { filter: { streamPrefixes: ['elsewhere-'] }, count: 0 },
      ];
      const subscriptions = [...kinds, ...kinds].map(({ filter }) => b.subscribeToAll({ after: 'end', ...(filter ? { filter } : {}) }));
      const reads = countPageReads(b);
      try {
        for (const subscription of subscriptions) {
          const iterator = subscription[Symbol.asyncIterator]();
          while ((await iterator.next()).value?.kind !== 'caught-up');
        }
        // Every subscription follows live while the other writer appends (the last kind until it is closed).
        const following = subscriptions.map((subscription, i) => eventsFrom(subscription, kinds[i % kinds.length]!.count || Number.MAX_SAFE_INTEGER, 60_000));
        following.forEach((f) => f.catch(() => {}));
        reads.count = 0;
        // One at a time: each append is one notification to the other writer.
        for (let n = 0; n < total; n++) await a.append(`${prefix}-${n % 2 === 1 ? 'odd' : 'even'}`, [oneEvent(n)]);
        const all = (await collectAll(a, prefix)).map(summary);
        const expected = [all, all, all.filter((e) => e.stream === `${prefix}-odd`)];
        for (const [i, received] of following.entries()) {
          if (i % kinds.length < expected.length) expect((await received).map(summary)).toEqual(expected[i % kinds.length]);
        }
        // Eight subscriptions each reading for itself take about 8 reads per append.
        expect(reads.count).toBeLessThan(2 * total);
      } finally {
        reads.restore();
        await Promise.all(subscriptions.map((s) => s.close()));
      }
    });
  });
}

/** Counts a SQL store's page reads (its subscriptions' queries of the log). */
function countPageReads(store: EventStore): { count: number; restore(): void } {
  const polled = store as unknown as { readPage: (...args: unknown[]) => Promise<unknown> };
  const original = polled.readPage;
  const counter = {
    count: 0,
    restore: () => {
      polled.readPage = original;
    },
  };
  polled.readPage = (...args: unknown[]) => {
    counter.count += 1;
    return original.apply(store, args);
  };
  return counter;
}

async function collectAll(store: EventStore, prefix: string): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const event of store.readAll({ filter: { streamPrefixes: [prefix] } })) all.push(event);
  return all;
}

function summary(event: RecordedEvent) {
  return { id: event.id, position: event.position, stream: event.stream, revision: event.revision, data: event.data, createdAt: event.createdAt.getTime() };
}

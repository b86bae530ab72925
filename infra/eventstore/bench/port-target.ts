/** The BenchTarget over the log's port: the same code measures every adapter. */
import type { EventStore } from '../src/event-store.js';
import type { BenchTarget } from './target.js';

export function portTarget(store: EventStore): BenchTarget {
  return {
    async append(stream, events, eventsInStream) {
      await store.append(stream, events, { expectedRevision: eventsInStream === 0 ? 'no_stream' : BigInt(eventsInStream - 1) });
    },

    async readAll(limit) {
      let count = 0;
      for await (const _event of store.readAll(limit === undefined ? {} : { maxCount: limit })) count++;
      return count;
    },

    async catchUp() {
      const subscription = store.subscribeToAll();
      let count = 0;
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') count++;
          else if (message.kind === 'caught-up') break;
        }
      } finally {
        await subscription.close();
      }
      return count;
    },
  };
}

import type { EventLog, ReadDomainEvent } from '@canopy/eventstore';
import type { EventFeed, FollowOptions } from '@canopy/workspaces';

/**
 * An EventFeed over the log's own subscription, one per follower, with the
 * contract's rules: authorize at the head once listening, replay after the
 * cursor then live, recheck the events `recheck` picks, yield those `keep`
 * keeps. (The gateway's feed fans one subscription out to many; this is the
 * same contract, simply.)
 */
export function logFeed(log: EventLog): EventFeed {
  return {
    async follow(options: FollowOptions) {
      const head = await log.store.headPosition();
      if (options.after !== undefined && options.after > (head ?? 0n)) throw new Error('after is beyond the end of the log');
      await options.authorize(head);
      const streams = new Set(options.streams);
      const subscription = log.store.subscribeToAll({ after: options.after ?? head ?? undefined, filter: { streamPrefixes: [...streams] } });
      const messages = subscription[Symbol.asyncIterator]();
      let closed = false;
      const close = async () => {
        closed = true;
        await subscription.close();
      };
      const feed: AsyncIterableIterator<ReadDomainEvent> = {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          for (;;) {
            if (closed) return { done: true, value: undefined };
            const step = await messages.next();
            if (step.done) return { done: true, value: undefined };
            if (step.value.kind !== 'event' || !streams.has(step.value.event.stream)) continue;
            const event = log.upcast(step.value.event);
            if ((head === undefined || event.position > head) && options.recheck?.(event)) {
              try {
                await options.authorize(event.position);
              } catch (error) {
                await close();
                throw error;
              }
            }
            if (options.keep?.(event) ?? true) return { done: false, value: event };
          }
        },
        async return() {
          await close();
          return { done: true, value: undefined };
        },
      };
      return feed;
    },
  };
}

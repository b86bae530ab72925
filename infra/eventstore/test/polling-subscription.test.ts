/**
 * A live subscription of the SQL log takes this process's own appends
 * without reading them back; what its filter skips costs its consumer one
 * checkpoint per run of skipped appends, not one per append (a projector
 * that never reads workload events gets no message for each of them).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openPgliteEventStore, type EventStore, type SubscriptionMessage } from '../src/index.js';

let store: EventStore;

beforeAll(async () => {
  store = await openPgliteEventStore();
});

afterAll(async () => {
  await store?.close();
});

const event = () => ({ id: randomUUID(), type: 'Noted', data: { at: Date.now() } });

describe('a filtered live subscription over own appends', () => {
  it('gets one checkpoint past a run of appends its filter skips, then the next event it wants', async () => {
    const subscription = store.subscribeToAll({ after: 'end', filter: { streamPrefixes: ['wanted-'] } });
    const iterator = subscription[Symbol.asyncIterator]();
    const messages: SubscriptionMessage[] = [];
    const until = async (done: (m: SubscriptionMessage) => boolean) => {
      for (;;) {
        const step = await iterator.next();
        if (step.done) throw new Error('the subscription ended');
        messages.push(step.value);
        if (done(step.value)) return;
      }
    };
    try {
      await until((m) => m.kind === 'caught-up');
      messages.length = 0;
      // Twenty appends made together: the log sends the first alone and the others as one group.
      const skipped = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(`other-${i}`, [event()])));
      const last = skipped.reduce((max, r) => (r.position > max ? r.position : max), 0n);
      await until((m) => m.kind === 'checkpoint' && m.position === last);
      expect(messages.every((m) => m.kind === 'checkpoint')).toBe(true);
      expect(messages.length).toBeLessThanOrEqual(2);

      const wanted = await store.append('wanted-1', [event()]);
      await until((m) => m.kind === 'event');
      expect(messages.at(-1)).toMatchObject({ kind: 'event', event: { stream: 'wanted-1', position: wanted.position } });
    } finally {
      await subscription.close();
    }
  });
});

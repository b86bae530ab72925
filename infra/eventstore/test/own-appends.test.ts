import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { RecordedEvent } from '../src/event-store.js';
import { OwnAppends, type AppendedBatch } from '../src/own-appends.js';

const batch = (after: bigint): AppendedBatch => ({ after, events: [] });

describe('OwnAppends', () => {
  it('keeps the newest appends that fit in its byte budget, and always the latest one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 300 }), (capacity, sizes) => {
        const own = new OwnAppends(capacity);
        sizes.forEach((bytes, i) => own.remember(batch(BigInt(i)), bytes));
        // The model: the longest run of latest appends whose sizes add up to the capacity, at least one.
        let kept = 1;
        let total = sizes[sizes.length - 1]!;
        for (let j = sizes.length - 2; j >= 0 && total + sizes[j]! <= capacity; j--) {
          total += sizes[j]!;
          kept += 1;
        }
        for (let i = 0; i < sizes.length; i++) {
          const found = own.startingAfter(BigInt(i));
          if (i >= sizes.length - kept) expect(found?.after).toBe(BigInt(i));
          else expect(found).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands a subscription that stopped inside a batch the rest of it, and nothing it cannot vouch for', () => {
    const event = (position: bigint): RecordedEvent => ({ id: `e${position}`, stream: 's', type: 'T', revision: position, position, data: null, metadata: {}, createdAt: new Date(0) });
    const own = new OwnAppends();
    own.remember({ after: 10n, events: [11n, 12n, 13n, 14n, 15n].map(event) }, 100);
    own.remember({ after: 15n, events: [16n, 17n].map(event) }, 100);
    expect(own.startingAfter(10n)?.events.map((e) => e.position)).toEqual([11n, 12n, 13n, 14n, 15n]);
    expect(own.startingAfter(12n)).toEqual({ after: 12n, events: [13n, 14n, 15n].map(event) });
    expect(own.startingAfter(16n)?.events.map((e) => e.position)).toEqual([17n]);
    expect(own.startingAfter(17n)).toBeUndefined();
    expect(own.startingAfter(9n)).toBeUndefined();
  });

  it('forgets the oldest first over a long run (its order of keys is compacted as it goes)', () => {
    const own = new OwnAppends(10 * 100);
    for (let i = 0; i < 50_000; i++) own.remember(batch(BigInt(i)), 100);
    expect(own.startingAfter(49_990n)?.after).toBe(49_990n);
    expect(own.startingAfter(49_989n)).toBeUndefined();
  });
});

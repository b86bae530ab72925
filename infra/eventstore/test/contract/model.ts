import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import fc from 'fast-check';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { collect, type EventStore, type ExpectedRevision, type NewEvent } from '../../src/event-store.js';

/**
 * A model of the log a few lines long: per stream, the ids in order. Random
 * sequences of appends (fresh ids or retries of an earlier batch, with every
 * kind of expected revision) must leave the store equal to the model, and
 * each append must succeed or fail exactly when the model says.
 */
type Step = { stream: number; count: number; expected: 'any' | 'no_stream' | 'stream_exists' | 'exact' | 'off-by-one'; retry: number | null };

const step: fc.Arbitrary<Step> = fc.record({
  stream: fc.integer({ min: 0, max: 2 }),
  count: fc.integer({ min: 1, max: 3 }),
  expected: fc.constantFrom('any', 'no_stream', 'stream_exists', 'exact', 'off-by-one'),
  retry: fc.option(fc.nat(), { nil: null }),
});

export async function checkAgainstModel(store: EventStore, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const prefix = `model-${randomUUID().slice(0, 8)}`;
      const model = new Map<string, string[]>();
      const batches: { stream: string; events: NewEvent[] }[] = [];

      for (const s of steps) {
        const retried = s.retry !== null && batches.length > 0 ? batches[s.retry % batches.length]! : undefined;
        const stream = retried?.stream ?? `${prefix}-${s.stream}`;
        const events = retried?.events ?? Array.from({ length: s.count }, () => ({ id: randomUUID(), type: 'Modeled', data: { step: batches.length } }));
        const current = model.get(stream);
        const revision = current ? BigInt(current.length - 1) : undefined;
        const expected: ExpectedRevision =
          s.expected === 'exact' ? (revision ?? 0n) : s.expected === 'off-by-one' ? (revision ?? -1n) + 2n : s.expected;
        const accepted =
          retried !== undefined ||
          expected === 'any' ||
          (expected === 'no_stream' && revision === undefined) ||
          (expected === 'stream_exists' && revision !== undefined) ||
          (typeof expected === 'bigint' && expected === revision);

        const outcome = await store.append(stream, events, { expectedRevision: expected }).then(
          () => 'ok' as const,
          (error: unknown) => {
            if (error instanceof CanopyError && error.code === ErrorCode.WRONG_EXPECTED_VERSION) return 'conflict' as const;
            throw error;
          },
        );
        expect(outcome).toBe(accepted ? 'ok' : 'conflict');
        if (accepted && !retried) {
          model.set(stream, [...(current ?? []), ...events.map((e) => e.id!)]);
          batches.push({ stream, events });
        }
      }

      for (const [stream, ids] of model) {
        const read = await collect(store.readStream(stream));
        expect(read.map((e) => e.id)).toEqual(ids);
        expect(read.map((e) => e.revision)).toEqual(ids.map((_, i) => BigInt(i)));
      }
      const all = await collect(store.readAll({ filter: { streamPrefixes: [prefix] } }));
      const appended = batches.flatMap((b) => b.events.map((e) => e.id));
      expect(all.map((e) => e.id)).toEqual(appended);
    }),
    { numRuns: runs },
  );
}

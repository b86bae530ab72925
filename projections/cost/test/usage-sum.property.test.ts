import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { allocate, nanosToPrice, priceBookOf, rollUp, RollupTotals, roundHalfEven, Timeline, UsageSum, type PriceBook, type UsageSample } from '../src/index.js';
import { roundedProduct } from '../src/model/money.js';

const BASE = Date.parse('2026-03-01T00:00:00Z') / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const MAX_BYTES = 2 ** 50;

/** Quantities up to the contract's bounds, often small, sometimes at the top (where float arithmetic stops being exact). */
const quantity = (max: number) => fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max }), fc.constant(max), fc.constant(0));

const sample: fc.Arbitrary<UsageSample> = fc
  .record({
    start: fc.integer({ min: 0, max: 4 * 3600 }),
    length: fc.oneof(fc.constant(60), fc.integer({ min: 1, max: 3600 })),
    clusterId: fc.constantFrom('c1', 'c2'),
    capacity: fc.record({ cpu: quantity(100_000_000), memory: quantity(MAX_BYTES), gpus: quantity(100_000) }),
    rows: fc.uniqueArray(
      fc.record({
        workspaceId: fc.constantFrom('ws-a', 'ws-b', null),
        namespace: fc.constantFrom('shop', 'ops'),
        kind: fc.constantFrom('Deployment', 'Job'),
        name: fc.constantFrom('api', 'web', 'db'),
        pods: fc.integer({ min: 0, max: 9 }),
        cpuUsage: quantity(100_000_000),
        cpuRequest: quantity(100_000_000),
        memoryUsage: quantity(MAX_BYTES),
        memoryRequest: quantity(MAX_BYTES),
        gpus: quantity(100_000),
      }),
      { maxLength: 6, selector: (r) => `${r.workspaceId}/${r.namespace}/${r.kind}/${r.name}` },
    ),
  })
  .map(({ start, length, clusterId, capacity, rows }) => ({ clusterId, start: iso(BASE + start), end: iso(BASE + start + length), capacity, rows }));

/** Prices up to the contract's 1,000,000 per unit-hour, in nano-units. */
const price = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 8n }), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.constantFrom(0n, 31_611_000n, 4_237_000n, 10n ** 15n));
const book: fc.Arbitrary<PriceBook> = fc
  .record({ currency: fc.constantFrom('USD', 'EUR'), cpu: price, memory: price, gpu: fc.option(price, { nil: null }) })
  .map(({ currency, cpu, memory, gpu }) => priceBookOf({ currency, cpuCoreHour: nanosToPrice(cpu), memoryGiBHour: nanosToPrice(memory), gpuHour: gpu === null ? null : nanosToPrice(gpu) }));

describe('UsageSum', () => {
  it('sums what rolling up `allocate` of each sample gives, in every table, at any size the contract allows', () => {
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ at: fc.integer({ min: -3600, max: 5 * 3600 }), book }), { maxLength: 2 }),
        fc.array(fc.record({ at: fc.integer({ min: -3600, max: 5 * 3600 }), shared: fc.boolean() }), { maxLength: 2 }),
        (samples, books, sharingChanges) => {
          const prices = new Timeline(priceBookOf({ currency: 'USD', cpuCoreHour: '0.031611', memoryGiBHour: '0.004237', gpuHour: '0.95' }));
          for (const { at, book: b } of books) prices.set(BASE + at, b);
          const sharing = new Timeline(false);
          for (const { at, shared } of sharingChanges) sharing.set(BASE + at, shared);
          const expected = new RollupTotals();
          const sum = new UsageSum();
          for (const s of samples) {
            rollUp(allocate(s, prices, sharing), expected.add);
            sum.addSample(s, prices, sharing);
          }
          const actual = new RollupTotals();
          rollUp(sum.totals(), actual.add);
          expect(actual.tables).toEqual(expected.tables);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rounds in float arithmetic exactly as in bigint, or falls back to bigint', () => {
    const term = fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 26n }), fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }));
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 26n }), fc.bigInt({ min: 0n, max: 2n ** 53n - 1n })), term, term, (units, multiplier, divisor) => {
        const expected = roundHalfEven(units * multiplier, divisor);
        expect(BigInt(roundedProduct(Number(units), multiplier, divisor, Number(multiplier), Number(divisor)))).toBe(expected);
        expect(BigInt(roundedProduct(units, multiplier, divisor, Number(multiplier), Number(divisor)))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    // Halves go to the even neighbour.
    expect(roundedProduct(5, 1n, 2n, 1, 2)).toBe(2);
    expect(roundedProduct(7, 1n, 2n, 1, 2)).toBe(4);
    expect(roundedProduct(2 ** 52, 3n, 2n, 3, 2)).toBe(3 * 2 ** 51);
  });
});

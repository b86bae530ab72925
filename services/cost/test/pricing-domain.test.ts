import { describe, expect, it } from '@jest/globals';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { decideIdleSharing, decidePriceBook, effectiveFromOf } from '../src/index.js';
import { emptyPricing, evolvePricing, pricingView, type PricingEvent } from '../src/domain/pricing.js';

const now = new Date('2026-03-01T10:20:30Z');
const fieldOf = (run: () => unknown): [string, unknown] => {
  try {
    run();
  } catch (error) {
    if (error instanceof CanopyError) return [error.code, error.details.field];
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('the pricing decisions', () => {
  it('accepts effectiveFrom from the start of the current UTC hour on, in whole seconds, normalized to UTC', () => {
    expect(effectiveFromOf('2026-03-01T10:00:00Z', now)).toBe('2026-03-01T10:00:00Z');
    expect(effectiveFromOf('2026-03-01T12:00:00+02:00', now)).toBe('2026-03-01T10:00:00Z');
    expect(effectiveFromOf('2026-03-01T10:20:30.000Z', now)).toBe('2026-03-01T10:20:30Z');
    expect(effectiveFromOf('2027-01-01T00:00Z', now)).toBe('2027-01-01T00:00:00Z');
    for (const refused of ['2026-03-01T09:59:59Z', '2026-03-01T11:59:59+02:00', '2026-03-01T10:00:00.001Z', '2026-03-01', '2026-03-01T10:00:00', 'soon', 42]) {
      expect([refused, ...fieldOf(() => effectiveFromOf(refused, now))]).toEqual([refused, ErrorCode.BAD_USER_INPUT, 'effectiveFrom']);
    }
  });

  it('decides nothing for a book or setting already there at that time, and replaces a different one', () => {
    const input = { clusterId: 'c1', effectiveFrom: '2026-03-01T11:00:00Z', currency: 'USD', cpuCoreHour: '0.5', memoryGiBHour: '0.01', gpuHour: null };
    const [event] = decidePriceBook(emptyPricing('c1'), input, now) as [PricingEvent];
    expect(event).toEqual({ type: 'PriceBookSet', data: { ...input, gpuHour: null } });
    const state = evolvePricing(emptyPricing('c1'), event, 0n);
    expect(decidePriceBook(state, { ...input, cpuCoreHour: '0.500', memoryGiBHour: '0.010000' }, now)).toEqual([]);
    expect(decidePriceBook(state, { ...input, gpuHour: '0' }, now)).toHaveLength(1);
    expect(decidePriceBook(state, { ...input, currency: 'EUR' }, now)).toHaveLength(1);
    const replaced = evolvePricing(state, decidePriceBook(state, { ...input, cpuCoreHour: '0.6' }, now)[0]!, 1n);
    expect(pricingView(replaced).priceBooks.map((b) => b.cpuCoreHour)).toEqual(['0.6']);
    const sharing = { clusterId: 'c1', effectiveFrom: '2026-03-01T11:00:00Z', shared: true };
    const shared = evolvePricing(replaced, decideIdleSharing(replaced, sharing, now)[0]!, 2n);
    expect(decideIdleSharing(shared, sharing, now)).toEqual([]);
    expect(decideIdleSharing(shared, { ...sharing, shared: false }, now)).toHaveLength(1);
    expect(pricingView(shared)).toEqual({
      clusterId: 'c1',
      priceBooks: [{ effectiveFrom: '2026-03-01T11:00:00Z', currency: 'USD', cpuCoreHour: '0.6', memoryGiBHour: '0.01', gpuHour: null }],
      idleSharing: [{ effectiveFrom: '2026-03-01T11:00:00Z', shared: true }],
    });
  });
});

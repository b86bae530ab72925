import { describe, expect, it } from '@jest/globals';
import { CanopyError } from '@canopy/schema';
import { checkPeriod, splitPeriod } from '../src/period.js';

const ms = (iso: string) => Date.parse(iso);
const fieldOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CanopyError) return [error.code, error.details.field];
    throw error;
  }
  return undefined;
};

describe('periods', () => {
  it('accepts whole hours, or whole days where days are asked for, as instants or dates', () => {
    expect(checkPeriod({ from: '2026-03-01T10:00:00Z', to: '2026-03-01T11:00:00+00:00' }, { days: false, maxDays: 1 })).toEqual({ from: ms('2026-03-01T10:00:00Z'), to: ms('2026-03-01T11:00:00Z') });
    expect(checkPeriod({ from: '2026-03-01', to: '2026-03-02' }, { days: true, maxDays: 1 })).toEqual({ from: ms('2026-03-01T00:00:00Z'), to: ms('2026-03-02T00:00:00Z') });
  });

  it.each([
    [{ from: 'now', to: '2026-03-02' }, 'from'],
    [{ from: '2026-02-30', to: '2026-03-02' }, 'from'],
    [{ from: '2026-03-01T10:00:00', to: '2026-03-02' }, 'from'],
    [{ from: '2026-03-01T10:00:00Z', to: '2026-03-02' }, 'from'],
    [{ from: '2026-03-01', to: '2026-03-02T00:30:00Z' }, 'to'],
    [{ from: '2026-03-02', to: '2026-03-01' }, 'to'],
    [{ from: '2026-03-01', to: '2026-03-04' }, 'to'],
    [{ from: 1, to: '2026-03-02' } as never, 'from'],
  ])('refuses %j with BAD_USER_INPUT on %s', (period, field) => {
    expect(fieldOf(() => checkPeriod(period, { days: true, maxDays: 2 }))).toEqual(['BAD_USER_INPUT', field]);
  });

  it('reads whole days from the daily roll-up and at most the hours around them from the hourly one', () => {
    expect(splitPeriod(ms('2026-03-01T10:00:00Z'), ms('2026-03-04T05:00:00Z'))).toEqual({
      days: ['2026-03-02', '2026-03-04'],
      hours: [
        ['2026-03-01T10:00:00.000Z', '2026-03-02T00:00:00.000Z'],
        ['2026-03-04T00:00:00.000Z', '2026-03-04T05:00:00.000Z'],
      ],
    });
    expect(splitPeriod(ms('2026-03-01T00:00:00Z'), ms('2026-03-03T00:00:00Z'))).toEqual({
      days: ['2026-03-01', '2026-03-03'],
      hours: [
        ['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
        ['2026-03-03T00:00:00.000Z', '2026-03-03T00:00:00.000Z'],
      ],
    });
    // Within one day: hours only.
    expect(splitPeriod(ms('2026-03-01T10:00:00Z'), ms('2026-03-01T12:00:00Z'))).toEqual({
      days: ['1970-01-01', '1970-01-01'],
      hours: [
        ['2026-03-01T10:00:00.000Z', '2026-03-01T12:00:00.000Z'],
        ['2026-03-01T12:00:00.000Z', '2026-03-01T12:00:00.000Z'],
      ],
    });
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cronEvaluator, cronProblem, formatDuration, MAX_EXPIRY_SECONDS, normalizeCron, parseDuration } from '../src/index.js';

describe('cron expressions of backup schedules', () => {
  it.each(['0 2 * * *', '*/15 * * * *', '0 0 * * MON-FRI', '30 1 1,15 * *', '0 3 * JAN,JUL sun', '5-10/2 0-6 * * 1-5', '  0   2 * * *  '])('%j is accepted', (text) => {
    expect(cronProblem(text)).toBeUndefined();
  });

  it.each([
    ['* * * *', 'five fields'],
    ['0 0 2 * * *', 'five fields'],
    ['', 'five fields'],
    ['61 * * * *', 'not a valid cron expression'],
    ['0 24 * * *', 'not a valid cron expression'],
    ['0 0 32 * *', 'not a valid cron expression'],
    ['0 0 * 13 *', 'not a valid cron expression'],
    ['0 0 31 2 *', 'never runs'],
    ['@daily', 'five fields'],
    ['0 0 L * *', 'invalid day of month field'],
    ['0 0 * * 5#2', 'invalid day of week field'],
    ['0 0 ? * *', 'invalid day of month field'],
    ['0 0 * * MONDAY', 'invalid day of week field'],
    ['0 MON * * *', 'invalid hour field'],
    ['a b c d e', 'invalid minute field'],
  ])('%j is refused (%s)', (text, reason) => {
    expect(cronProblem(text)).toContain(reason);
  });

  it('runs in UTC: the next run of "0 2 * * *" after 01:59 UTC is 02:00 UTC the same day, then the next day', () => {
    const cron = cronEvaluator('0 2 * * *');
    expect(cron.nextRun(new Date('2026-03-01T01:59:00Z'))?.toISOString()).toBe('2026-03-01T02:00:00.000Z');
    expect(cron.nextRun(new Date('2026-03-01T02:00:00Z'))?.toISOString()).toBe('2026-03-02T02:00:00.000Z');
  });

  it('normalizes spacing and name case', () => {
    expect(normalizeCron(' 0  3 * jan,jul sun ')).toBe('0 3 * JAN,JUL SUN');
  });
});

describe('expiry durations', () => {
  it.each([
    ['720h', 720 * 3600],
    ['720h0m0s', 720 * 3600],
    ['30d', 30 * 86_400],
    ['1h30m', 5400],
    ['1d12h', 36 * 3600],
    ['45s', 45],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '30', 'h', '1.5h', '30m1h', '-1h', '1w', '30 d', '1h1h'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formatting and parsing round-trip for every duration up to the maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_EXPIRY_SECONDS }), (seconds) => {
        expect(parseDuration(formatDuration(seconds))).toBe(seconds);
      }),
    );
    expect(formatDuration(2_592_000)).toBe('30d');
    expect(formatDuration(5400)).toBe('1h30m');
  });
});

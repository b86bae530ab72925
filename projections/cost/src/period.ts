import { CanopyError, ErrorCode } from '@canopy/schema';

/** A period as callers give it: ISO 8601 instants, `from` included, `to` excluded. */
export interface Period {
  from: string;
  to: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The longest period a query may cover, in days, by the finest roll-up it reads. */
export const MAX_PERIOD_DAYS = { hourly: 31, daily: 732, export: 92 } as const;

const bad = (field: string, message: string): CanopyError => new CanopyError(ErrorCode.BAD_USER_INPUT, message, { field });

/**
 * A period's bounds, checked: valid instants on whole UTC hours (whole UTC
 * days when `days`), `from` before `to`, at most `maxDays` long.
 */
export function checkPeriod(period: Period, options: { days: boolean; maxDays: number }): { from: number; to: number } {
  const unit = options.days ? DAY_MS : HOUR_MS;
  const what = options.days ? 'a whole UTC day (midnight)' : 'a whole UTC hour';
  const bound = (field: 'from' | 'to'): number => {
    const value = period[field];
    const time = typeof value === 'string' ? instant(value) : NaN;
    if (!Number.isFinite(time)) throw bad(field, `${field} must be an ISO 8601 instant, e.g. 2026-03-01T00:00:00Z`);
    if (time % unit !== 0) throw bad(field, `${field} must be ${what}, got ${value}`);
    return time;
  };
  const from = bound('from');
  const to = bound('to');
  if (to <= from) throw bad('to', 'to must be after from');
  if (to - from > options.maxDays * DAY_MS) throw bad('to', `a period may span at most ${options.maxDays} days here`);
  return { from, to };
}

/** Epoch milliseconds of `2026-03-01` or `2026-03-01T10:00:00Z` (or with an offset); NaN for anything else, Feb 30 included (which `Date.parse` rolls over). */
function instant(value: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(value);
  if (!match) return NaN;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return NaN;
  return Date.parse(value);
}

/** ISO instant of epoch milliseconds. */
export const isoInstant = (ms: number): string => new Date(ms).toISOString();
/** `YYYY-MM-DD` of epoch milliseconds (UTC). */
export const isoDay = (ms: number): string => isoInstant(ms).slice(0, 10);

/**
 * An hour-aligned period cut into the whole UTC days inside it (read from
 * the daily roll-ups) and the hours before and after them (from the hourly
 * ones): at most 46 hours of hourly rows, whatever the period's length.
 * Empty ranges have equal bounds.
 */
export function splitPeriod(from: number, to: number): { days: [string, string]; hours: [string, string][] } {
  const firstMidnight = Math.ceil(from / DAY_MS) * DAY_MS;
  const lastMidnight = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstMidnight >= lastMidnight) return { days: [isoDay(0), isoDay(0)], hours: [[isoInstant(from), isoInstant(to)], [isoInstant(to), isoInstant(to)]] };
  return {
    days: [isoDay(firstMidnight), isoDay(lastMidnight)],
    hours: [
      [isoInstant(from), isoInstant(firstMidnight)],
      [isoInstant(lastMidnight), isoInstant(to)],
    ],
  };
}

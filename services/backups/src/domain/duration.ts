import { z } from 'zod';

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;

/** Longest expiry accepted: 100 years (Velero has no limit; this keeps every date representable). */
export const MAX_EXPIRY_SECONDS = 100 * 365 * 86_400;

/**
 * A backup's expiry as users write it: Velero's TTL (a Go duration such as
 * `720h` or `720h0m0s`) with days added (`30d`), units in the order d, h,
 * m, s, each at most once. Parsed to seconds; zero is refused.
 */
export const Expiry = z
  .string()
  .max(64, 'must be at most 64 characters')
  .transform((text, ctx) => {
    const seconds = parseDuration(text.trim());
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 720h, 30d or 1h30m (units d, h, m, s)' });
      return z.NEVER;
    }
    if (seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than zero: a backup that expires at once would be deleted as soon as it is taken' });
      return z.NEVER;
    }
    if (seconds > MAX_EXPIRY_SECONDS) {
      ctx.addIssue({ code: 'custom', message: 'must be at most 100 years' });
      return z.NEVER;
    }
    return seconds;
  });

/** Seconds of a duration like `1d12h`, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?$/.exec(text);
  if (!match || text === '') return undefined;
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * UNIT_SECONDS.d + Number(h ?? 0) * UNIT_SECONDS.h + Number(m ?? 0) * UNIT_SECONDS.m + Number(s ?? 0) * UNIT_SECONDS.s;
}

/** The shortest text `parseDuration` reads back as `seconds` (e.g. 2592000 → `30d`, 5400 → `1h30m`). */
export function formatDuration(seconds: number): string {
  let left = seconds;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const count = Math.floor(left / size);
    if (count > 0) text += `${count}${unit}`;
    left -= count * size;
  }
  return text || '0s';
}

/** The longest lifetime `canopy token` mints: 30 days. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 24 * 3600 } as const;

/** Parses a token lifetime: `3600` (seconds), `45s`, `30m`, `12h`, `7d`; between 1 second and 30 days. */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new RangeError(`--ttl "${text}" is not a duration: use e.g. 30m, 12h, 7d or 3600 (seconds).`);
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] || 's') as keyof typeof UNIT_SECONDS];
  if (seconds < 1) throw new RangeError(`--ttl "${text}" is zero: a token must live at least one second.`);
  if (seconds > MAX_TTL_SECONDS) throw new RangeError(`--ttl "${text}" is longer than 30 days (30d), the longest lifetime allowed.`);
  return seconds;
}

import { Cron } from 'croner';
import { z } from 'zod';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS: readonly { name: string; names: readonly string[] }[] = [
  { name: 'minute', names: [] },
  { name: 'hour', names: [] },
  { name: 'day of month', names: [] },
  { name: 'month', names: MONTHS },
  { name: 'day of week', names: WEEKDAYS },
];

/**
 * A backup schedule's cron: exactly five fields (minute hour day-of-month
 * month day-of-week), in UTC, with `*`, numbers, month and weekday names,
 * ranges (`1-5`), lists (`1,15`) and steps (`*\/15`). Croner checks the
 * ranges and computes the runs. Its extensions (seconds, years, `L`, `W`,
 * `#`, `?`, nicknames such as `@daily`) are refused: Velero's scheduler
 * (robfig/cron) and every other cron reader must understand the same text.
 */
export const CronExpression = z
  .string()
  .max(256, 'must be at most 256 characters')
  .transform((text, ctx) => {
    const problem = cronProblem(text);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return normalizeCron(text);
  });

/** Why the text is not a schedule this domain accepts, or undefined when it is one. */
export function cronProblem(text: string): string | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === '') {
    return `must have five fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" for 02:00 UTC every day; got ${fields[0] === '' ? 'none' : fields.length}`;
  }
  for (const [index, field] of fields.entries()) {
    const spec = FIELDS[index]!;
    if (!field.split(',').every((item) => validItem(item, spec.names))) {
      return `has an invalid ${spec.name} field "${field}": use *, numbers${spec.names.length ? ' or names' : ''}, ranges (a-b), lists (a,b) and steps (/n)`;
    }
  }
  let cron: Cron;
  try {
    cron = cronEvaluator(text);
  } catch (error) {
    return `is not a valid cron expression (${error instanceof Error ? error.message : String(error)})`;
  }
  // A day that never comes (31 February) is valid syntax that never runs.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) return 'never runs (no date matches it)';
  return undefined;
}

function validItem(item: string, names: readonly string[]): boolean {
  const value = names.length ? `(?:\\d{1,2}|${names.join('|')})` : '\\d{1,2}';
  return new RegExp(`^(?:\\*|${value}(?:-${value})?)(?:/\\d{1,2})?$`, 'i').test(item);
}

/** The fields joined by single spaces, names upper-cased. */
export function normalizeCron(text: string): string {
  return text.trim().split(/\s+/).join(' ').toUpperCase();
}

/** Croner's evaluator for a cron this domain accepted (no timer is started: it has no function to run). */
export function cronEvaluator(cron: string): Cron {
  return new Cron(normalizeCron(cron), { timezone: 'Etc/UTC', mode: '5-part' });
}

/** The first run strictly after `after`, or undefined when there is none. */
export function nextRun(cron: Cron, after: Date): Date | undefined {
  return cron.nextRun(after) ?? undefined;
}

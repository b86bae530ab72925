import { MAX_USAGE_INTERVAL_SECONDS, MAX_USAGE_ROWS } from '@canopy/schema';
import type { UsageSample } from './model/allocation.js';

/**
 * A quick check that a current-version `UsageSampled` payload satisfies its
 * contract, for the projector's hot path: validating a sample of ten rows
 * with the zod contract costs about 50 µs, most of a rebuild's time per
 * event. It is conservative: it accepts only payloads the contract accepts
 * unchanged (exactly the contract's fields, nothing to strip or default), and
 * answers false for anything else, which then goes through the contract
 * (and its error messages). `usage-check.test.ts` holds it to that.
 */
export function isPlainValidUsage(data: unknown): data is UsageSample {
  if (!isRecord(data) || !hasKeys(data, 5)) return false;
  const { clusterId, start, end, capacity, rows } = data;
  if (!isId(clusterId) || typeof start !== 'string' || typeof end !== 'string' || !isRecord(capacity) || !Array.isArray(rows)) return false;
  const from = utcSecond(start);
  const to = utcSecond(end);
  if (from === undefined || to === undefined || !(to > from && to - from <= MAX_USAGE_INTERVAL_SECONDS)) return false;
  if (!hasKeys(capacity, 3) || !isInt(capacity['cpu'], MAX_MILLICORES) || !isInt(capacity['memory'], MAX_BYTES) || !isInt(capacity['gpus'], MAX_GPUS)) return false;
  if (rows.length > MAX_USAGE_ROWS) return false;
  const seen = new Set<string>();
  for (const row of rows) {
    if (!isRecord(row) || !hasKeys(row, 10)) return false;
    const { workspaceId, namespace, kind, name } = row;
    if (!(workspaceId === null || isId(workspaceId))) return false;
    if (typeof namespace !== 'string' || namespace.length > 63 || !LABEL.test(namespace)) return false;
    if (typeof kind !== 'string' || !KIND.test(kind)) return false;
    if (typeof name !== 'string' || name.length > 253 || !SUBDOMAIN.test(name)) return false;
    if (!isInt(row['pods'], MAX_PODS) || !isInt(row['gpus'], MAX_GPUS)) return false;
    if (!isInt(row['cpuUsage'], MAX_MILLICORES) || !isInt(row['cpuRequest'], MAX_MILLICORES)) return false;
    if (!isInt(row['memoryUsage'], MAX_BYTES) || !isInt(row['memoryRequest'], MAX_BYTES)) return false;
    const key = `${workspaceId ?? ''}\u0000${namespace}\u0000${kind}\u0000${name}`;
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

// The contract's bounds and patterns (schema/src/events/primitives.ts and cost.ts).
const MAX_MILLICORES = 100_000_000;
const MAX_BYTES = 2 ** 50;
const MAX_GPUS = 100_000;
const MAX_PODS = 1_000_000;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const UTC_SECOND = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function hasKeys(record: Record<string, unknown>, count: number): boolean {
  let n = 0;
  for (const key in record) if (Object.prototype.hasOwnProperty.call(record, key)) n++;
  return n === count;
}

const isId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= 128;
const isInt = (value: unknown, max: number): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

/** Epoch seconds of `2026-03-01T10:00:00Z`, or undefined unless it is that form and a real calendar instant (years 1000 to 9999). */
function utcSecond(text: string): number | undefined {
  const match = UTC_SECOND.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [match[1], match[2], match[3], match[4], match[5], match[6]].map(Number) as [number, number, number, number, number, number];
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

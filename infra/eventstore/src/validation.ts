import { randomUUID } from 'node:crypto';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { EventFilter, ExpectedRevision, JsonObject, JsonValue, NewEvent, ReadAllOptions, ReadStreamOptions, SubscribeOptions } from './event-store.js';

/** EventStoreDB's default maximum append size; every adapter enforces the same limit. */
export const DEFAULT_MAX_APPEND_BYTES = 1024 * 1024;
const MAX_NAME_LENGTH = 255;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event ready to be written: id assigned, data and metadata serialized once. */
export interface PreparedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** About how much room prepared events take (their data and metadata as text, in UTF-16 units): for bounding what is held in memory. */
export function preparedSize(events: readonly PreparedEvent[]): number {
  return events.reduce((size, event) => size + event.data.length + event.metadata.length, 0);
}

function badInput(field: string, message: string, details: Record<string, unknown> = {}): CanopyError {
  return new CanopyError(ErrorCode.BAD_USER_INPUT, message, { field, ...details });
}

function validateName(field: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw badInput(field, `${what} must be a non-empty string.`);
  if (value.length > MAX_NAME_LENGTH) throw badInput(field, `${what} is longer than ${MAX_NAME_LENGTH} characters.`);
  if (value.startsWith('$')) throw badInput(field, `${what} "${value}" starts with "$", which is reserved for system streams and events.`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw badInput(field, `${what} contains control characters.`);
  return value;
}

export function validateStreamName(stream: unknown): string {
  return validateName('stream', stream, 'Stream name');
}

export function validateExpectedRevision(expected: unknown): ExpectedRevision {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'bigint' && expected >= 0n) return expected;
  throw badInput('expectedRevision', `Expected revision must be 'any', 'no_stream', 'stream_exists' or a non-negative bigint, got ${String(expected)}.`);
}

/** Where `value` stops being plain JSON (a path), or undefined when it is JSON through and through. */
export function findNonJson(value: unknown): string | undefined {
  // Every append checks its payloads: the common answer (all JSON) is found without building a path per key.
  return isPlainJson(value) ? undefined : pathToNonJson(value, '$');
}

function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i])) return false;
    return true;
  }
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (Object.hasOwn(value, key) && !isPlainJson((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function pathToNonJson(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = pathToNonJson(value[i], `${path}[${i}]`);
      if (inner) return inner;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [key, inner] of Object.entries(value)) {
      const found = pathToNonJson(inner, `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return path;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks and serializes an append before anything is written: names, ids,
 * JSON-only data and metadata, no id twice, and the size limit. Throws a
 * CanopyError naming the offending field.
 */
export function prepareAppend(
  stream: unknown,
  events: readonly NewEvent[],
  maxAppendBytes: number = DEFAULT_MAX_APPEND_BYTES,
): { stream: string; events: PreparedEvent[] } {
  const name = validateStreamName(stream);
  if (!Array.isArray(events) || events.length === 0) throw badInput('events', 'An append needs at least one event.');
  const seen = new Set<string>();
  let bytes = 0;
  const prepared = events.map((event, index): PreparedEvent => {
    const field = `events[${index}]`;
    const type = validateName(`${field}.type`, event?.type, 'Event type');
    const id = event.id === undefined ? randomUUID() : event.id;
    if (typeof id !== 'string' || !UUID.test(id)) throw badInput(`${field}.id`, `Event id must be a UUID, got ${String(id)}.`);
    const normalizedId = id.toLowerCase();
    if (seen.has(normalizedId)) {
      throw new CanopyError(ErrorCode.DUPLICATE_EVENT_ID, `Event id ${normalizedId} appears twice in one append.`, { field: `${field}.id`, id: normalizedId });
    }
    seen.add(normalizedId);
    if (event.data === undefined) throw badInput(`${field}.data`, 'Event data is required (use null for none).');
    const nonJsonData = findNonJson(event.data);
    if (nonJsonData) throw badInput(`${field}.data`, `Event data must be plain JSON; ${nonJsonData} is not.`, { path: nonJsonData });
    const metadata = event.metadata ?? {};
    if (!isJsonObject(metadata)) throw badInput(`${field}.metadata`, 'Event metadata must be a JSON object.');
    const nonJsonMetadata = findNonJson(metadata);
    if (nonJsonMetadata) throw badInput(`${field}.metadata`, `Event metadata must be plain JSON; ${nonJsonMetadata} is not.`, { path: nonJsonMetadata });
    const data = JSON.stringify(event.data as JsonValue);
    const metadataText = JSON.stringify(metadata);
    bytes += Buffer.byteLength(data) + Buffer.byteLength(metadataText);
    return { id: normalizedId, type, data, metadata: metadataText };
  });
  if (bytes > maxAppendBytes) {
    throw new CanopyError(
      ErrorCode.EVENT_TOO_LARGE,
      `The append is ${bytes} bytes; the log accepts at most ${maxAppendBytes}. Store large payloads elsewhere and append a reference.`,
      { field: 'events', bytes, maxBytes: maxAppendBytes },
    );
  }
  return { stream: name, events: prepared };
}

export function wrongExpectedVersion(stream: string, expected: ExpectedRevision, actual: bigint | 'no_stream'): CanopyError {
  return new CanopyError(
    ErrorCode.WRONG_EXPECTED_VERSION,
    `Stream ${stream} is at ${actual === 'no_stream' ? 'no stream' : `revision ${actual}`}, but the append expected ${typeof expected === 'bigint' ? `revision ${expected}` : expected}. Reload the stream and decide again.`,
    { stream, expected, actual },
  );
}

function checkMaxCount(maxCount: unknown): void {
  if (maxCount !== undefined && (typeof maxCount !== 'number' || !Number.isInteger(maxCount) || maxCount < 0)) {
    throw badInput('maxCount', `maxCount must be a non-negative integer, got ${String(maxCount)}.`);
  }
}

function checkBigint(field: string, value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== 'bigint' || value < 0n)) {
    throw badInput(field, `${field} must be a non-negative bigint ${what}, got ${String(value)}.`);
  }
}

function checkDirection(direction: unknown): void {
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards') {
    throw badInput('direction', `direction must be 'forwards' or 'backwards', got ${String(direction)}.`);
  }
}

function checkFilter(filter: EventFilter | undefined): void {
  if (filter === undefined) return;
  for (const [field, list] of [['filter.streamPrefixes', filter.streamPrefixes], ['filter.eventTypes', filter.eventTypes]] as const) {
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))) {
      throw badInput(field, `${field} must be a list of strings.`);
    }
  }
}

/** The read options every adapter accepts; the same bad option gets the same error everywhere. */
export function validateReadStreamOptions(options: ReadStreamOptions): void {
  checkDirection(options.direction);
  checkBigint('fromRevision', options.fromRevision, 'revision');
  checkMaxCount(options.maxCount);
}

export function validateReadAllOptions(options: ReadAllOptions): void {
  checkDirection(options.direction);
  checkBigint('after', options.after, 'position');
  checkBigint('before', options.before, 'position');
  checkMaxCount(options.maxCount);
  checkFilter(options.filter);
}

export function validateSubscribeOptions(options: SubscribeOptions): void {
  if (options.after !== 'end') checkBigint('after', options.after, 'position');
  checkFilter(options.filter);
}

/**
 * The port's EventFilter on EventStoreDB: a server-side filter takes either
 * the stream name or the event type, not both, so one part goes to the server
 * and the rest (plus dropping system events) is checked here.
 */
import { eventTypeFilter, streamNameFilter, type Filter } from '@eventstore/db-client';
import type { EventFilter, RecordedEvent } from '../event-store.js';
import { isSystemEvent } from './convert.js';

export interface FilterPlan {
  /** Sent with the subscription. Always present: at minimum it excludes system event types, and it makes the server send checkpoints. */
  server: Filter;
  /** Whether an event the server sent belongs to the port's filter. */
  accepts(event: RecordedEvent): boolean;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\-/#\s]/g, (character) => `\\${character}`);
}

/** Exactly one of `types`, in a syntax .NET and JavaScript read alike; `(?!)` matches nothing. */
export function exactTypesRegex(types: readonly string[]): string {
  return types.length === 0 ? '(?!)' : `^(?:${types.map(escapeRegex).join('|')})$`;
}

export function matchesFilter(event: RecordedEvent, filter: EventFilter | undefined): boolean {
  if (isSystemEvent(event.stream, event.type)) return false;
  if (filter?.streamPrefixes && !filter.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) return false;
  if (filter?.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  return true;
}

export function planFilter(filter: EventFilter | undefined): FilterPlan {
  const accepts = (event: RecordedEvent): boolean => matchesFilter(event, filter);
  if (filter?.eventTypes) {
    return { server: eventTypeFilter({ regex: exactTypesRegex(filter.eventTypes) }), accepts };
  }
  if (filter?.streamPrefixes) {
    return { server: streamNameFilter({ prefixes: [...filter.streamPrefixes] }), accepts };
  }
  return { server: eventTypeFilter({ regex: '^[^$]' }), accepts };
}

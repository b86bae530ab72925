import type { EventFilter, RecordedEvent } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import type { OrganizationEvent, WorkspaceEvent } from '@canopy/workspaces';

/** The streams every read model of this package follows: organization registries and workspace streams. */
export const ORGANIZATION_PREFIX = 'organization-';
export const WORKSPACE_PREFIX = 'workspace-';
export const workspaceStreams: EventFilter = { streamPrefixes: [ORGANIZATION_PREFIX, WORKSPACE_PREFIX] };

/** An event of an organization or workspace stream, its payload lifted to the current contract. */
export type DecodedEvent =
  | (OrganizationEvent & { stream: 'organization'; id: string; revision: bigint })
  | (WorkspaceEvent & { stream: 'workspace'; id: string; revision: bigint });

const registry = canopyEventRegistry();

/**
 * Upcasts a recorded event to the current contract (as `EventLog.upcast`
 * does) and tells which stream kind it is on, with the stream's entity id.
 * Throws on an unknown event type or payload: a poison event stops the
 * projector rather than being skipped.
 */
export function decode(event: RecordedEvent): DecodedEvent {
  let decoded = decodedEvents.get(event);
  if (!decoded) {
    decoded = decodeOnce(event);
    decodedEvents.set(event, decoded);
  }
  return decoded;
}

/** Read models that share a read of the log share each event's decoding too (decoded events are never modified). */
const decodedEvents = new WeakMap<RecordedEvent, DecodedEvent>();

function decodeOnce(event: RecordedEvent): DecodedEvent {
  const metadata = event.metadata as { schemaVersion?: unknown };
  const schemaVersion = typeof metadata.schemaVersion === 'number' ? metadata.schemaVersion : 1;
  const data = registry.upcast(event.type, schemaVersion, event.data);
  if (event.stream.startsWith(ORGANIZATION_PREFIX)) {
    return { stream: 'organization', id: event.stream.slice(ORGANIZATION_PREFIX.length), revision: event.revision, type: event.type, data } as DecodedEvent;
  }
  if (event.stream.startsWith(WORKSPACE_PREFIX)) {
    return { stream: 'workspace', id: event.stream.slice(WORKSPACE_PREFIX.length), revision: event.revision, type: event.type, data } as DecodedEvent;
  }
  throw new Error(`Stream ${event.stream} is neither an organization nor a workspace stream`);
}

/** A limit as the events carry it (a number, or 'unlimited'), as the tables hold it (NULL for unlimited). */
export function limitColumn(limit: number | 'unlimited'): number | null {
  return limit === 'unlimited' ? null : limit;
}

/** A limit column read back (pg gives bigint as a string). */
export function limitValue(value: unknown): number | 'unlimited' {
  return value === null || value === undefined ? 'unlimited' : Number(value);
}

import type { EventLog, JsonValue, ReadDomainEvent } from '@canopy/eventstore';
import { ORGANIZATION_PREFIX, organizationStream, workspaceStream } from './streams.js';

/** One event as an auditor reads it: where it sits in the log, when and by whom it was recorded, and what it says. */
export interface HistoryEntry {
  position: bigint;
  stream: string;
  revision: bigint;
  type: string;
  recordedAt: Date;
  actor: string | undefined;
  data: JsonValue;
}

export interface HistoryFilter {
  /** Recorded at or after. */
  since?: Date;
  /** Recorded before. */
  until?: Date;
  actor?: string;
}

/** A stream's events, oldest first, filtered. */
export async function streamHistory(log: EventLog, stream: string, filter: HistoryFilter = {}): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const event of log.readStream(stream)) if (matches(event, filter)) entries.push(toEntry(event));
  return entries;
}

/**
 * A workspace's history: its own stream, and the events of its
 * organization's stream that concern it (created, renamed, deleted), in log
 * order. Empty when the log never had the workspace.
 */
export async function workspaceHistory(log: EventLog, workspaceId: string, filter: HistoryFilter = {}): Promise<HistoryEntry[]> {
  const organizationId = await organizationOf(log, workspaceId);
  const own = await streamHistory(log, workspaceStream(workspaceId), filter);
  if (organizationId === undefined) return own;
  const registry: HistoryEntry[] = [];
  for await (const event of log.readStream(organizationStream(organizationId))) {
    if (concerns(event.data, workspaceId) && matches(event, filter)) registry.push(toEntry(event));
  }
  return [...own, ...registry].sort((a, b) => (a.position < b.position ? -1 : 1));
}

/** Which organization created the workspace: the one registry event that names it first. */
async function organizationOf(log: EventLog, workspaceId: string): Promise<string | undefined> {
  const created = log.store.readAll({ filter: { streamPrefixes: [ORGANIZATION_PREFIX], eventTypes: ['OrganizationCreated', 'WorkspaceCreated'] } });
  for await (const event of created) if (concerns(event.data, workspaceId)) return event.stream.slice(ORGANIZATION_PREFIX.length);
  return undefined;
}

/** Whether an event's payload is about the workspace (on the organization stream: its creation, renames and deletion). */
export function concerns(data: JsonValue, workspaceId: string): boolean {
  const fields = data as { workspaceId?: unknown; defaultWorkspace?: { workspaceId?: unknown } } | null;
  return fields?.workspaceId === workspaceId || fields?.defaultWorkspace?.workspaceId === workspaceId;
}

function matches(event: ReadDomainEvent, filter: HistoryFilter): boolean {
  if (filter.since && event.createdAt < filter.since) return false;
  if (filter.until && event.createdAt >= filter.until) return false;
  if (filter.actor !== undefined && event.metadata.actor !== filter.actor) return false;
  return true;
}

function toEntry(event: ReadDomainEvent): HistoryEntry {
  return {
    position: event.position,
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    recordedAt: event.createdAt,
    actor: typeof event.metadata.actor === 'string' ? event.metadata.actor : undefined,
    data: redacted(event),
  };
}

/** Sealed secret values are ciphertext, but an audit trail has no use for them: only their keys are shown. */
export function redacted(event: Pick<ReadDomainEvent, 'type' | 'data'>): JsonValue {
  if (event.type !== 'SecretWritten') return event.data;
  const data = event.data as { values?: Record<string, unknown> };
  return { ...(event.data as Record<string, JsonValue>), values: Object.fromEntries(Object.keys(data.values ?? {}).map((key) => [key, '[sealed]'])) };
}

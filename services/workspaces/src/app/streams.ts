import { createHash, randomUUID } from 'node:crypto';

export const ORGANIZATION_PREFIX = 'organization-';
export const WORKSPACE_PREFIX = 'workspace-';
export const organizationStream = (organizationId: string): string => `${ORGANIZATION_PREFIX}${organizationId}`;
export const workspaceStream = (workspaceId: string): string => `${WORKSPACE_PREFIX}${workspaceId}`;

/**
 * A workspace's version counts the events of its stream (0: none yet); the
 * log's expected revision is the version minus one.
 */
export function versionOf(revision: bigint | undefined): number {
  return revision === undefined ? 0 : Number(revision) + 1;
}

/** A UUID derived from its parts, so a retried command writes the same ids (RFC 9562 version 8 layout). */
export function derivedUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The idempotency scope of a command: who sent it and with which key (absent: every attempt is new). */
export interface Idempotency {
  actor: string;
  key: string | undefined;
}

/** The id of a new entity (organization, workspace, cluster): derived from the idempotency key when there is one. */
export function newEntityId(idempotency: Idempotency, purpose: string): string {
  return idempotency.key === undefined ? randomUUID() : derivedUuid('entity', idempotency.actor, idempotency.key, purpose);
}

/** The id of the `index`-th event a command appends to `stream`. */
export function commandEventId(idempotency: Idempotency, stream: string, index: number): string | undefined {
  return idempotency.key === undefined ? undefined : derivedUuid('event', idempotency.actor, idempotency.key, stream, String(index));
}

/** A stable hash of a command, to tell a retry from a different command reusing the key. */
export function commandHash(command: unknown): string {
  return createHash('sha256').update(stableJson(command)).digest('base64url');
}

/** JSON with object keys sorted and undefined members left out: equal values give equal text (for hashes). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

import type { JsonValue, RecordedEvent } from '@canopy/eventstore';
import { BatchChanges, type Projector, type ReadModelTx, type TableSpec } from '@canopy/projections';
import { redacted, type HistoryRecord } from '@canopy/workspaces';
import { decode, workspaceStreams, type DecodedEvent } from './events.js';

/**
 * The audit trail: one row per event of every organization and workspace
 * stream, as an auditor pages through it. Each row names its organization
 * and, when the event concerns one, its workspace: the workspace stream's
 * events, and on the organization stream the creation (of the organization,
 * with its default workspace; of a workspace), renaming and deletion of a
 * workspace. Owner events concern the organization only (`workspace_id`
 * NULL). Rows outlive the workspaces they are about.
 *
 * Payloads are stored lifted to the current contract and as the CLI's
 * history shows them: sealed secret values are replaced by '[sealed]' (the
 * workspaces service's `redacted`), so no ciphertext reaches these tables.
 */
export const auditProjector: Projector = {
  name: 'audit',
  version: 1,
  filter: workspaceStreams,
  writesOnly: true,
  tables: (s) => `
    CREATE TABLE ${s}.workspaces (
      id text PRIMARY KEY,
      organization_id text NOT NULL
    );
    CREATE TABLE ${s}.entries (
      position bigint PRIMARY KEY,
      stream text NOT NULL,
      revision bigint NOT NULL,
      organization_id text NOT NULL,
      workspace_id text,
      type text NOT NULL,
      actor text,
      correlation_id text,
      recorded_at timestamptz NOT NULL,
      data jsonb NOT NULL
    );
  `,
  indexes: (s) => `
    CREATE INDEX IF NOT EXISTS entries_by_organization ON ${s}.entries (organization_id, position);
    CREATE INDEX IF NOT EXISTS entries_by_workspace ON ${s}.entries (workspace_id, position);
    CREATE INDEX IF NOT EXISTS entries_by_organization_actor ON ${s}.entries (organization_id, actor, position);
    CREATE INDEX IF NOT EXISTS entries_by_workspace_actor ON ${s}.entries (workspace_id, actor, position);
  `,
  async apply(tx, recorded, s) {
    await applyAudit(tx, [recorded], s);
  },
  applyBatch: (tx, events, s) => applyAudit(tx, events, s),
};

const tableSpecs = {
  workspaces: { table: 'workspaces', key: { id: 'text' }, columns: { organization_id: 'text' } },
} as const satisfies Record<string, TableSpec>;

/** Registers new workspaces' organizations, then inserts all entries in one statement (which looks those up). */
async function applyAudit(tx: ReadModelTx, events: readonly RecordedEvent[], s: string): Promise<void> {
  const changes = new BatchChanges(tx, s, tableSpecs);
  const entries = events.map((recorded) => entryOf(changes, recorded));
  await changes.flush();
  await insertEntries(tx, s, entries);
}

/** One row of `entries`, as the INSERT takes it (organization null: the workspace's, looked up by the INSERT). */
type EntryRow = [string, string, string, string | null, string | null, string, string | null, string | null, string, string];

function entryOf(changes: BatchChanges<'workspaces'>, recorded: RecordedEvent): EntryRow {
  const event = decode(recorded);
  const { organizationId, workspaceId } = concerns(changes, event);
  const metadata = recorded.metadata;
  return [
    recorded.position.toString(),
    recorded.stream,
    recorded.revision.toString(),
    organizationId ?? null,
    workspaceId,
    recorded.type,
    typeof metadata.actor === 'string' ? metadata.actor : null,
    typeof metadata.correlationId === 'string' ? metadata.correlationId : null,
    recorded.createdAt.toISOString(),
    JSON.stringify(redacted({ type: event.type, data: event.data as JsonValue })),
  ];
}

/**
 * One statement for any number of entries (arrays, one per column). A
 * workspace stream's events find their organization in `workspaces`; the log
 * records a workspace's creation on its organization's stream before any
 * event of its own, so a missing one (NULL: refused by NOT NULL) is a
 * poison event.
 */
async function insertEntries(tx: ReadModelTx, s: string, entries: readonly EntryRow[]): Promise<void> {
  const columns = entries[0]!.map((_, column) => entries.map((entry) => entry[column]));
  await tx.query(
    `INSERT INTO ${s}.entries (position, stream, revision, organization_id, workspace_id, type, actor, correlation_id, recorded_at, data)
     SELECT e.position, e.stream, e.revision, coalesce(e.organization_id, (SELECT w.organization_id FROM ${s}.workspaces w WHERE w.id = e.workspace_id)),
            e.workspace_id, e.type, e.actor, e.correlation_id, e.recorded_at, e.data
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::jsonb[])
         AS e(position, stream, revision, organization_id, workspace_id, type, actor, correlation_id, recorded_at, data)`,
    columns,
  );
}

/** The organization (undefined: the workspace's, looked up by the INSERT) and workspace an event concerns; registers new workspaces' organizations on the way. */
function concerns(changes: BatchChanges<'workspaces'>, event: DecodedEvent): { organizationId: string | undefined; workspaceId: string | null } {
  if (event.stream === 'workspace') return { organizationId: undefined, workspaceId: event.id };
  switch (event.type) {
    case 'OrganizationCreated': {
      const workspaceId = event.data.defaultWorkspace.workspaceId;
      changes.table('workspaces').upsert({ id: workspaceId }, { organization_id: event.id });
      return { organizationId: event.id, workspaceId };
    }
    case 'WorkspaceCreated':
      changes.table('workspaces').upsert({ id: event.data.workspaceId }, { organization_id: event.id });
      return { organizationId: event.id, workspaceId: event.data.workspaceId };
    case 'WorkspaceRenamed':
    case 'WorkspaceDeleted':
      return { organizationId: event.id, workspaceId: event.data.workspaceId };
    default:
      return { organizationId: event.id, workspaceId: null };
  }
}

/** One entry of the audit trail: the history record the API port defines. */
export type AuditEntry = HistoryRecord;

export interface AuditQuery {
  /** One workspace's history (its stream and the organization-stream events about it). Exactly one of `workspaceId` and `organizationId`. */
  workspaceId?: string;
  /** Every event of the organization's stream and of all its workspaces' streams, deleted workspaces included. */
  organizationId?: string;
  /** Recorded at or after. */
  since?: Date;
  /** Recorded before. */
  until?: Date;
  actor?: string;
  /** Only these event types (an empty list matches nothing). */
  types?: readonly string[];
  /** Cursor: the position of the last entry of the previous page (exclusive). With `newestFirst`, entries below it. */
  after?: bigint;
  /** Page size: a non-negative integer. */
  first: number;
  /** Newest first (descending positions); oldest first by default. */
  newestFirst?: boolean;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Whether more entries match beyond this page (in its direction). */
  hasNextPage: boolean;
}

/** One page of the audit trail, in one SQL statement (it fetches `first + 1` rows to tell whether a next page exists). */
export async function auditEntries(db: ReadModelTx, schema: string, query: AuditQuery): Promise<AuditPage> {
  if ((query.workspaceId === undefined) === (query.organizationId === undefined)) {
    throw new Error('An audit query names exactly one of workspaceId and organizationId');
  }
  if (!Number.isSafeInteger(query.first) || query.first < 0) throw new Error(`first must be a non-negative integer, got ${query.first}`);
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const where =
    query.workspaceId !== undefined ? [`workspace_id = ${param(query.workspaceId)}`] : [`organization_id = ${param(query.organizationId)}`];
  if (query.since !== undefined) where.push(`recorded_at >= ${param(query.since.toISOString())}::timestamptz`);
  if (query.until !== undefined) where.push(`recorded_at < ${param(query.until.toISOString())}::timestamptz`);
  if (query.actor !== undefined) where.push(`actor = ${param(query.actor)}`);
  if (query.types !== undefined) where.push(`type = ANY(${param([...query.types])}::text[])`);
  if (query.after !== undefined) where.push(`position ${query.newestFirst ? '<' : '>'} ${param(query.after.toString())}::bigint`);
  // (The text columns get names of their own: ORDER BY would otherwise sort by an output column named position, as text.)
  const rows = await db.query<{
    log_position: string;
    stream: string;
    stream_revision: string;
    organization_id: string;
    workspace_id: string | null;
    type: string;
    actor: string | null;
    correlation_id: string | null;
    recorded_at: Date | string;
    data: JsonValue;
  }>(
    `SELECT position::text AS log_position, stream, revision::text AS stream_revision, organization_id, workspace_id, type, actor, correlation_id, recorded_at, data
       FROM ${schema}.entries
      WHERE ${where.join(' AND ')}
      ORDER BY entries.position ${query.newestFirst ? 'DESC' : 'ASC'}
      LIMIT ${param(query.first + 1)}`,
    params,
  );
  return {
    entries: rows.slice(0, query.first).map((row) => ({
      position: BigInt(row.log_position),
      stream: row.stream,
      revision: BigInt(row.stream_revision),
      organizationId: row.organization_id,
      workspaceId: row.workspace_id,
      type: row.type,
      actor: row.actor,
      correlationId: row.correlation_id,
      recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
      data: row.data,
    })),
    hasNextPage: rows.length > query.first,
  };
}

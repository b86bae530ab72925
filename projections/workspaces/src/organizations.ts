import type { BatchChanges, ReadModelTx, TableSpec } from '@canopy/projections';
import type { DecodedEvent } from './events.js';

/**
 * The organizations, their owners and their auditors, as every read model of
 * this package keeps them (owners own every workspace; auditors read every
 * workspace's history, deleted ones too, and hold no role).
 */
export const organizationTables = (s: string): string => `
    CREATE TABLE ${s}.organizations (
      id text PRIMARY KEY,
      name text NOT NULL,
      kind text NOT NULL
    );
    CREATE TABLE ${s}.organization_owners (
      organization_id text NOT NULL,
      user_id text NOT NULL,
      PRIMARY KEY (organization_id, user_id)
    );
    CREATE TABLE ${s}.organization_auditors (
      organization_id text NOT NULL,
      user_id text NOT NULL,
      PRIMARY KEY (organization_id, user_id)
    );
`;

/** Their secondary indexes (see `Projector.indexes`). */
export const organizationIndexes = (s: string): string => `
    CREATE INDEX IF NOT EXISTS organization_owners_by_user ON ${s}.organization_owners (user_id, organization_id);
    CREATE INDEX IF NOT EXISTS organization_auditors_by_user ON ${s}.organization_auditors (user_id, organization_id);`;

/** The organization tables as a batch changes them. */
export const organizationTableSpecs = {
  organizations: { table: 'organizations', key: { id: 'text' }, columns: { name: 'text', kind: 'text' } },
  organization_owners: { table: 'organization_owners', key: { organization_id: 'text', user_id: 'text' } },
  organization_auditors: { table: 'organization_auditors', key: { organization_id: 'text', user_id: 'text' } },
} as const satisfies Record<string, TableSpec>;

type OrganizationTable = keyof typeof organizationTableSpecs;

/**
 * Records the organization, owner and (with `auditors`) auditor events in
 * those tables; answers the organization whose owners or auditors changed
 * (its workspaces' members may have), or undefined for any other event.
 */
export function recordOrganizationEvent(changes: BatchChanges<OrganizationTable>, event: DecodedEvent, { auditors }: { auditors: boolean }): string | undefined {
  switch (event.type) {
    case 'OrganizationCreated': {
      const { organizationId, name, kind, ownerId } = event.data;
      changes.table('organizations').upsert({ id: organizationId }, { name, kind });
      changes.table('organization_owners').upsert({ organization_id: organizationId, user_id: ownerId });
      return organizationId;
    }
    case 'OrganizationOwnerAdded':
      changes.table('organization_owners').upsert({ organization_id: event.data.organizationId, user_id: event.data.userId });
      return event.data.organizationId;
    case 'OrganizationOwnerRemoved':
      changes.table('organization_owners').delete({ organization_id: event.data.organizationId, user_id: event.data.userId });
      return event.data.organizationId;
    case 'OrganizationAuditorAdded':
      if (!auditors) return undefined;
      changes.table('organization_auditors').upsert({ organization_id: event.data.organizationId, user_id: event.data.userId });
      return event.data.organizationId;
    case 'OrganizationAuditorRemoved':
      if (!auditors) return undefined;
      changes.table('organization_auditors').delete({ organization_id: event.data.organizationId, user_id: event.data.userId });
      return event.data.organizationId;
    default:
      return undefined;
  }
}

/** The organizations the user audits, by id (bytewise), in one SQL statement. */
export async function auditedOrganizationIds(db: ReadModelTx, schema: string, userId: string): Promise<string[]> {
  const rows = await db.query<{ organization_id: string }>(
    `SELECT organization_id FROM ${schema}.organization_auditors WHERE user_id = $1 ORDER BY organization_id COLLATE "C"`,
    [userId],
  );
  return rows.map((row) => row.organization_id);
}

/**
 * Which of `organizationIds` the user audits, in one SQL statement (for a
 * DataLoader batching a request's checks). Unknown organizations are absent.
 */
export async function isAuditor(db: ReadModelTx, schema: string, userId: string, organizationIds: readonly string[]): Promise<Set<string>> {
  if (organizationIds.length === 0) return new Set();
  const rows = await db.query<{ organization_id: string }>(
    `SELECT organization_id FROM ${schema}.organization_auditors WHERE user_id = $1 AND organization_id = ANY($2::text[])`,
    [userId, [...new Set(organizationIds)]],
  );
  return new Set(rows.map((row) => row.organization_id));
}

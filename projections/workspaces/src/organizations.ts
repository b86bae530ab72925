import type { ReadModelTx } from '@canopy/projections';
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
    CREATE INDEX organization_owners_by_user ON ${s}.organization_owners (user_id, organization_id);
    CREATE TABLE ${s}.organization_auditors (
      organization_id text NOT NULL,
      user_id text NOT NULL,
      PRIMARY KEY (organization_id, user_id)
    );
    CREATE INDEX organization_auditors_by_user ON ${s}.organization_auditors (user_id, organization_id);`;

/**
 * Applies the organization, owner and auditor events to those tables;
 * answers the organization whose owners or auditors changed (its
 * workspaces' members may have), or undefined for any other event.
 */
export async function applyOrganizationEvent(tx: ReadModelTx, s: string, event: DecodedEvent): Promise<string | undefined> {
  switch (event.type) {
    case 'OrganizationCreated': {
      const { organizationId, name, kind, ownerId } = event.data;
      await tx.query(`INSERT INTO ${s}.organizations (id, name, kind) VALUES ($1, $2, $3)`, [organizationId, name, kind]);
      await tx.query(`INSERT INTO ${s}.organization_owners (organization_id, user_id) VALUES ($1, $2)`, [organizationId, ownerId]);
      return organizationId;
    }
    case 'OrganizationOwnerAdded':
      await tx.query(`INSERT INTO ${s}.organization_owners (organization_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [event.data.organizationId, event.data.userId]);
      return event.data.organizationId;
    case 'OrganizationOwnerRemoved':
      await tx.query(`DELETE FROM ${s}.organization_owners WHERE organization_id = $1 AND user_id = $2`, [event.data.organizationId, event.data.userId]);
      return event.data.organizationId;
    case 'OrganizationAuditorAdded':
      await tx.query(`INSERT INTO ${s}.organization_auditors (organization_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [event.data.organizationId, event.data.userId]);
      return event.data.organizationId;
    case 'OrganizationAuditorRemoved':
      await tx.query(`DELETE FROM ${s}.organization_auditors WHERE organization_id = $1 AND user_id = $2`, [event.data.organizationId, event.data.userId]);
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

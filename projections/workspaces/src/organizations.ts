import type { ReadModelTx } from '@canopy/projections';
import type { DecodedEvent } from './events.js';

/** The organizations and their owners, as every read model of this package keeps them (owners own every workspace). */
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
    CREATE INDEX organization_owners_by_user ON ${s}.organization_owners (user_id, organization_id);`;

/**
 * Applies the organization and owner events to those tables; answers the
 * organization whose owners changed (its workspaces' members may have),
 * or undefined for any other event.
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
    default:
      return undefined;
  }
}

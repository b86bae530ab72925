import type { Projector, ReadModelTx } from '@canopy/projections';
import { decode, workspaceStreams } from './events.js';
import { applyOrganizationEvent, organizationTables } from './organizations.js';

/**
 * What the console's list page shows per workspace. The counts are kept in
 * the `workspaces` row (recounted from the detail tables on each change) so
 * that listing reads one row per workspace. `member_count` counts the
 * organization's owners and the explicit members, each user once (as the
 * API's `memberCount`). `version` is the workspace stream's event count plus
 * its renames (as the domain's).
 */
export const workspaceSummaryProjector: Projector = {
  name: 'workspace_summary',
  version: 1,
  filter: workspaceStreams,
  tables: (s) => `
    ${organizationTables(s)}
    CREATE TABLE ${s}.workspaces (
      id text PRIMARY KEY,
      organization_id text NOT NULL,
      name text NOT NULL,
      kind text NOT NULL,
      stage text,
      description text NOT NULL,
      stream_events integer NOT NULL DEFAULT 0,
      renames integer NOT NULL DEFAULT 0,
      member_count integer NOT NULL DEFAULT 0,
      cluster_count integer NOT NULL DEFAULT 0,
      namespace_count integer NOT NULL DEFAULT 0,
      secret_count integer NOT NULL DEFAULT 0,
      role_binding_count integer NOT NULL DEFAULT 0,
      cluster_role_binding_count integer NOT NULL DEFAULT 0,
      restricted_image_count integer NOT NULL DEFAULT 0,
      deleted boolean NOT NULL DEFAULT false
    );
    CREATE INDEX workspaces_by_organization ON ${s}.workspaces (organization_id) WHERE NOT deleted;
    CREATE TABLE ${s}.members (workspace_id text NOT NULL, user_id text NOT NULL, PRIMARY KEY (workspace_id, user_id));
    CREATE TABLE ${s}.clusters (workspace_id text NOT NULL, cluster_id text NOT NULL, PRIMARY KEY (workspace_id, cluster_id));
    CREATE TABLE ${s}.namespaces (workspace_id text NOT NULL, namespace text NOT NULL, PRIMARY KEY (workspace_id, namespace));
    CREATE TABLE ${s}.secrets (workspace_id text NOT NULL, name text NOT NULL, PRIMARY KEY (workspace_id, name));
    CREATE TABLE ${s}.role_bindings (workspace_id text NOT NULL, name text NOT NULL, PRIMARY KEY (workspace_id, name));
    CREATE TABLE ${s}.cluster_role_bindings (workspace_id text NOT NULL, name text NOT NULL, PRIMARY KEY (workspace_id, name));
    CREATE TABLE ${s}.restricted_images (workspace_id text NOT NULL, namespace text NOT NULL, image text NOT NULL, PRIMARY KEY (workspace_id, namespace, image));
  `,
  async apply(tx, recorded, s) {
    const event = decode(recorded);
    if (event.stream === 'workspace') {
      // Every event of the workspace stream moves its version: the stream's event count is its revision + 1.
      await tx.query(`UPDATE ${s}.workspaces SET stream_events = $2 WHERE id = $1`, [event.id, Number(event.revision) + 1]);
    }
    switch (event.type) {
      case 'OrganizationCreated': {
        await applyOrganizationEvent(tx, s, event);
        const { organizationId, defaultWorkspace } = event.data;
        await tx.query(`INSERT INTO ${s}.workspaces (id, organization_id, name, kind, stage, description) VALUES ($1, $2, $3, 'default', NULL, '')`, [
          defaultWorkspace.workspaceId,
          organizationId,
          defaultWorkspace.name,
        ]);
        await recountMembers(tx, s, 'w.organization_id = $1', organizationId);
        return;
      }
      case 'OrganizationOwnerAdded':
      case 'OrganizationOwnerRemoved':
        await recountMembers(tx, s, 'w.organization_id = $1', (await applyOrganizationEvent(tx, s, event))!);
        return;
      case 'WorkspaceCreated': {
        const { organizationId, workspaceId, name, kind, stage, description } = event.data;
        await tx.query(`INSERT INTO ${s}.workspaces (id, organization_id, name, kind, stage, description) VALUES ($1, $2, $3, $4, $5, $6)`, [
          workspaceId,
          organizationId,
          name,
          kind,
          stage,
          description,
        ]);
        await recountMembers(tx, s, 'w.id = $1', workspaceId);
        return;
      }
      case 'WorkspaceRenamed':
        await tx.query(`UPDATE ${s}.workspaces SET name = $2, renames = renames + 1 WHERE id = $1`, [event.data.workspaceId, event.data.name]);
        return;
      case 'WorkspaceClosed':
      case 'WorkspaceDeleted':
        await tx.query(`UPDATE ${s}.workspaces SET deleted = true WHERE id = $1`, [event.data.workspaceId]);
        return;
      case 'WorkspaceDescribed':
        await tx.query(`UPDATE ${s}.workspaces SET description = $2 WHERE id = $1`, [event.data.workspaceId, event.data.description]);
        return;
      case 'MemberAdded':
      case 'MemberRoleChanged':
        await tx.query(`INSERT INTO ${s}.members (workspace_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [event.data.workspaceId, event.data.userId]);
        await recountMembers(tx, s, 'w.id = $1', event.data.workspaceId);
        return;
      case 'MemberRemoved':
        await tx.query(`DELETE FROM ${s}.members WHERE workspace_id = $1 AND user_id = $2`, [event.data.workspaceId, event.data.userId]);
        await recountMembers(tx, s, 'w.id = $1', event.data.workspaceId);
        return;
      case 'ClusterAttached':
        await setMember(tx, s, 'clusters', 'cluster_id', event.data.workspaceId, event.data.clusterId, true);
        return;
      case 'ClusterDetached':
        await setMember(tx, s, 'clusters', 'cluster_id', event.data.workspaceId, event.data.clusterId, false);
        return;
      case 'NamespaceAdded':
        await setMember(tx, s, 'namespaces', 'namespace', event.data.workspaceId, event.data.namespace, true);
        return;
      case 'NamespaceRemoved':
        // Removing a namespace lifts its image restrictions.
        await tx.query(`DELETE FROM ${s}.restricted_images WHERE workspace_id = $1 AND namespace = $2`, [event.data.workspaceId, event.data.namespace]);
        await setMember(tx, s, 'namespaces', 'namespace', event.data.workspaceId, event.data.namespace, false);
        return;
      case 'SecretWritten':
        await setMember(tx, s, 'secrets', 'name', event.data.workspaceId, event.data.name, true);
        return;
      case 'SecretDeleted':
        await setMember(tx, s, 'secrets', 'name', event.data.workspaceId, event.data.name, false);
        return;
      case 'RoleBindingAdded':
        await setMember(tx, s, 'role_bindings', 'name', event.data.workspaceId, event.data.name, true);
        return;
      case 'RoleBindingRemoved':
        await setMember(tx, s, 'role_bindings', 'name', event.data.workspaceId, event.data.name, false);
        return;
      case 'ClusterRoleBindingAdded':
        await setMember(tx, s, 'cluster_role_bindings', 'name', event.data.workspaceId, event.data.name, true);
        return;
      case 'ClusterRoleBindingRemoved':
        await setMember(tx, s, 'cluster_role_bindings', 'name', event.data.workspaceId, event.data.name, false);
        return;
      case 'ImageRestricted':
        await tx.query(`INSERT INTO ${s}.restricted_images (workspace_id, namespace, image) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
          event.data.workspaceId,
          event.data.namespace,
          event.data.image,
        ]);
        await recount(tx, s, event.data.workspaceId);
        return;
      case 'ImageRestrictionLifted':
        await tx.query(`DELETE FROM ${s}.restricted_images WHERE workspace_id = $1 AND namespace = $2 AND image = $3`, [
          event.data.workspaceId,
          event.data.namespace,
          event.data.image,
        ]);
        await recount(tx, s, event.data.workspaceId);
        return;
      default:
        return;
    }
  },
};

type SetTable = 'clusters' | 'namespaces' | 'secrets' | 'role_bindings' | 'cluster_role_bindings';

/** Adds or removes one entry of a workspace's set, then recounts the workspace's sets. */
async function setMember(tx: ReadModelTx, s: string, table: SetTable, column: string, workspaceId: string, key: string, present: boolean): Promise<void> {
  await tx.query(
    present
      ? `INSERT INTO ${s}.${table} (workspace_id, ${column}) VALUES ($1, $2) ON CONFLICT DO NOTHING`
      : `DELETE FROM ${s}.${table} WHERE workspace_id = $1 AND ${column} = $2`,
    [workspaceId, key],
  );
  await recount(tx, s, workspaceId);
}

async function recount(tx: ReadModelTx, s: string, workspaceId: string): Promise<void> {
  await tx.query(
    `UPDATE ${s}.workspaces SET
       cluster_count = (SELECT count(*) FROM ${s}.clusters WHERE workspace_id = $1),
       namespace_count = (SELECT count(*) FROM ${s}.namespaces WHERE workspace_id = $1),
       secret_count = (SELECT count(*) FROM ${s}.secrets WHERE workspace_id = $1),
       role_binding_count = (SELECT count(*) FROM ${s}.role_bindings WHERE workspace_id = $1),
       cluster_role_binding_count = (SELECT count(*) FROM ${s}.cluster_role_bindings WHERE workspace_id = $1),
       restricted_image_count = (SELECT count(*) FROM ${s}.restricted_images WHERE workspace_id = $1)
     WHERE id = $1`,
    [workspaceId],
  );
}

/** Organization owners and explicit members, each user once. */
async function recountMembers(tx: ReadModelTx, s: string, where: 'w.id = $1' | 'w.organization_id = $1', id: string): Promise<void> {
  await tx.query(
    `UPDATE ${s}.workspaces w SET member_count = (
       SELECT count(*) FROM (
         SELECT user_id FROM ${s}.organization_owners o WHERE o.organization_id = w.organization_id
         UNION
         SELECT user_id FROM ${s}.members m WHERE m.workspace_id = w.id
       ) users)
     WHERE ${where}`,
    [id],
  );
}

export interface WorkspaceSummary {
  workspaceId: string;
  organizationId: string;
  organizationName: string;
  name: string;
  kind: 'default' | 'project' | 'environment';
  stage: string | null;
  description: string;
  /** The version clients pass back as `expectedVersion`. */
  version: number;
  memberCount: number;
  clusterCount: number;
  namespaceCount: number;
  secretCount: number;
  roleBindingCount: number;
  clusterRoleBindingCount: number;
  restrictedImageCount: number;
}

/** The summaries of the live workspaces among `workspaceIds`, in one SQL statement, by organization id then name. */
export async function summaries(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<WorkspaceSummary[]> {
  if (workspaceIds.length === 0) return [];
  const rows = await db.query<Record<string, unknown>>(
    `SELECT w.*, o.name AS organization_name
       FROM ${schema}.workspaces w JOIN ${schema}.organizations o ON o.id = w.organization_id
      WHERE w.id = ANY($1::text[]) AND NOT w.deleted
      ORDER BY w.organization_id COLLATE "C", w.name COLLATE "C"`,
    [[...new Set(workspaceIds)]],
  );
  return rows.map((row) => ({
    workspaceId: row.id as string,
    organizationId: row.organization_id as string,
    organizationName: row.organization_name as string,
    name: row.name as string,
    kind: row.kind as WorkspaceSummary['kind'],
    stage: row.stage as string | null,
    description: row.description as string,
    version: Number(row.stream_events) + Number(row.renames),
    memberCount: Number(row.member_count),
    clusterCount: Number(row.cluster_count),
    namespaceCount: Number(row.namespace_count),
    secretCount: Number(row.secret_count),
    roleBindingCount: Number(row.role_binding_count),
    clusterRoleBindingCount: Number(row.cluster_role_binding_count),
    restrictedImageCount: Number(row.restricted_image_count),
  }));
}

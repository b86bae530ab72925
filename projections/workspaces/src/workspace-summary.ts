import type { RecordedEvent } from '@canopy/eventstore';
import { BatchChanges, type Projector, type ReadModelTx, type SqlType, type TableSpec } from '@canopy/projections';
import type { ClusterConnection, OrganizationKind, Subject } from '@canopy/schema';
import { decode, workspaceStreams } from './events.js';
import { organizationIndexes, organizationTables, organizationTableSpecs, recordOrganizationEvent } from './organizations.js';

/**
 * What the console's list page shows per workspace. The counts are counted
 * when read, from the detail tables' indexes (a page of workspaces is one
 * statement): keeping them in the row cost a recount per event, the
 * largest part of a rebuild. `memberCount` counts the organization's owners
 * and the explicit members, each user once (as the API's). `version` is the workspace stream's event count plus
 * its renames (as the domain's); an organization's is its stream's event
 * count. The detail tables hold what the API shows of each entry (secret key
 * names, never values).
 */
export const workspaceSummaryProjector: Projector = {
  name: 'workspace_summary',
  version: 3,
  filter: workspaceStreams,
  writesOnly: true,
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
      deleted boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ${s}.organization_streams (organization_id text PRIMARY KEY, stream_events integer NOT NULL);
    CREATE TABLE ${s}.members (workspace_id text NOT NULL, user_id text NOT NULL, PRIMARY KEY (workspace_id, user_id));
    CREATE TABLE ${s}.clusters (
      workspace_id text NOT NULL,
      cluster_id text NOT NULL,
      name text NOT NULL,
      connection jsonb NOT NULL,
      PRIMARY KEY (workspace_id, cluster_id)
    );
    CREATE TABLE ${s}.namespaces (workspace_id text NOT NULL, namespace text NOT NULL, PRIMARY KEY (workspace_id, namespace));
    -- keys: the sorted key names; written_at: occurredAt as the event's metadata spells it (the API shows it unchanged).
    CREATE TABLE ${s}.secrets (
      workspace_id text NOT NULL,
      name text NOT NULL,
      version integer NOT NULL,
      keys jsonb NOT NULL,
      written_by text NOT NULL,
      written_at text,
      PRIMARY KEY (workspace_id, name)
    );
    CREATE TABLE ${s}.role_bindings (
      workspace_id text NOT NULL,
      name text NOT NULL,
      namespaces jsonb NOT NULL,
      role_kind text NOT NULL,
      role_name text NOT NULL,
      subjects jsonb NOT NULL,
      PRIMARY KEY (workspace_id, name)
    );
    CREATE TABLE ${s}.cluster_role_bindings (
      workspace_id text NOT NULL,
      name text NOT NULL,
      cluster_role text NOT NULL,
      subjects jsonb NOT NULL,
      PRIMARY KEY (workspace_id, name)
    );
    CREATE TABLE ${s}.restricted_images (workspace_id text NOT NULL, namespace text NOT NULL, image text NOT NULL, PRIMARY KEY (workspace_id, namespace, image));
  `,
  indexes: (s) => `
    ${organizationIndexes(s)}
    CREATE INDEX IF NOT EXISTS workspaces_by_organization ON ${s}.workspaces (organization_id) WHERE NOT deleted;
  `,
  async apply(tx, recorded, s) {
    await applySummary(tx, [recorded], s);
  },
  applyBatch: (tx, events, s) => applySummary(tx, events, s),
};

const entry = (key: string, columns: Record<string, SqlType> = {}) => ({ key: { workspace_id: 'text', [key]: 'text' } as Record<string, SqlType>, columns });

const tableSpecs = {
  ...organizationTableSpecs,
  workspaces: {
    table: 'workspaces',
    key: { id: 'text' },
    columns: { organization_id: 'text', name: 'text', kind: 'text', stage: 'text', description: 'text', stream_events: 'integer', deleted: 'boolean' },
  },
  organization_streams: { table: 'organization_streams', key: { organization_id: 'text' }, columns: { stream_events: 'integer' } },
  members: { table: 'members', ...entry('user_id') },
  clusters: { table: 'clusters', ...entry('cluster_id', { name: 'text', connection: 'jsonb' }) },
  namespaces: { table: 'namespaces', ...entry('namespace') },
  secrets: { table: 'secrets', ...entry('name', { version: 'integer', keys: 'jsonb', written_by: 'text', written_at: 'text' }) },
  role_bindings: { table: 'role_bindings', ...entry('name', { namespaces: 'jsonb', role_kind: 'text', role_name: 'text', subjects: 'jsonb' }) },
  cluster_role_bindings: { table: 'cluster_role_bindings', ...entry('name', { cluster_role: 'text', subjects: 'jsonb' }) },
  restricted_images: { table: 'restricted_images', key: { workspace_id: 'text', namespace: 'text', image: 'text' } },
} as const satisfies Record<string, TableSpec>;

/** Applies events in log order, their writes netted per row (see `BatchChanges`). */
async function applySummary(tx: ReadModelTx, events: readonly RecordedEvent[], s: string): Promise<void> {
  const changes = new BatchChanges(tx, s, tableSpecs);
  const workspaces = changes.table('workspaces');
  const put = (table: 'clusters' | 'secrets' | 'role_bindings' | 'cluster_role_bindings', workspaceId: string, key: string, columns: Record<string, unknown>) =>
    changes.table(table).upsert({ workspace_id: workspaceId, [KEY_COLUMN[table]]: key }, columns);
  const remove = (table: keyof typeof KEY_COLUMN, workspaceId: string, key: string) => changes.table(table).delete({ workspace_id: workspaceId, [KEY_COLUMN[table]]: key });
  for (const recorded of events) {
    const event = decode(recorded);
    // Every event of a stream moves its version: the stream's event count is its revision + 1.
    if (event.stream === 'workspace') workspaces.update({ id: event.id }, { stream_events: Number(event.revision) + 1 });
    else changes.table('organization_streams').upsert({ organization_id: event.id }, { stream_events: Number(event.revision) + 1 });
    switch (event.type) {
      case 'OrganizationCreated': {
        recordOrganizationEvent(changes, event, { auditors: false });
        const { organizationId, defaultWorkspace } = event.data;
        workspaces.upsert({ id: defaultWorkspace.workspaceId }, { organization_id: organizationId, name: defaultWorkspace.name, kind: 'default', stage: null, description: '' });
        break;
      }
      case 'OrganizationOwnerAdded':
      case 'OrganizationOwnerRemoved':
        recordOrganizationEvent(changes, event, { auditors: false });
        break;
      case 'WorkspaceCreated': {
        const { organizationId, workspaceId, name, kind, stage, description } = event.data;
        workspaces.upsert({ id: workspaceId }, { organization_id: organizationId, name, kind, stage, description });
        break;
      }
      case 'WorkspaceRenamed':
        // An increment: not nettable, and rare.
        await changes.statement(`UPDATE ${s}.workspaces SET name = $2, renames = renames + 1 WHERE id = $1`, [event.data.workspaceId, event.data.name]);
        break;
      case 'WorkspaceClosed':
      case 'WorkspaceDeleted':
        workspaces.update({ id: event.data.workspaceId }, { deleted: true });
        break;
      case 'WorkspaceDescribed':
        workspaces.update({ id: event.data.workspaceId }, { description: event.data.description });
        break;
      case 'MemberAdded':
      case 'MemberRoleChanged':
        changes.table('members').upsert({ workspace_id: event.data.workspaceId, user_id: event.data.userId });
        break;
      case 'MemberRemoved':
        changes.table('members').delete({ workspace_id: event.data.workspaceId, user_id: event.data.userId });
        break;
      case 'ClusterAttached': {
        const { workspaceId, clusterId, name, connection } = event.data;
        put('clusters', workspaceId, clusterId, { name, connection: JSON.stringify(connection) });
        break;
      }
      case 'ClusterDetached':
        remove('clusters', event.data.workspaceId, event.data.clusterId);
        break;
      case 'NamespaceAdded':
        changes.table('namespaces').upsert({ workspace_id: event.data.workspaceId, namespace: event.data.namespace });
        break;
      case 'NamespaceRemoved':
        // Removing a namespace lifts its image restrictions.
        changes.table('restricted_images').deleteWhere({ workspace_id: event.data.workspaceId, namespace: event.data.namespace });
        remove('namespaces', event.data.workspaceId, event.data.namespace);
        break;
      case 'SecretWritten': {
        const { workspaceId, name, version, values, writtenBy } = event.data;
        put('secrets', workspaceId, name, {
          version,
          keys: JSON.stringify(Object.keys(values).sort()),
          written_by: writtenBy,
          written_at: occurredAt(recorded),
        });
        break;
      }
      case 'SecretDeleted':
        remove('secrets', event.data.workspaceId, event.data.name);
        break;
      case 'RoleBindingAdded': {
        const { workspaceId, name, namespaces, role, subjects } = event.data;
        put('role_bindings', workspaceId, name, {
          namespaces: JSON.stringify(namespaces),
          role_kind: role.kind,
          role_name: role.name,
          subjects: JSON.stringify(subjects),
        });
        break;
      }
      case 'RoleBindingRemoved':
        remove('role_bindings', event.data.workspaceId, event.data.name);
        break;
      case 'ClusterRoleBindingAdded': {
        const { workspaceId, name, clusterRole, subjects } = event.data;
        put('cluster_role_bindings', workspaceId, name, { cluster_role: clusterRole, subjects: JSON.stringify(subjects) });
        break;
      }
      case 'ClusterRoleBindingRemoved':
        remove('cluster_role_bindings', event.data.workspaceId, event.data.name);
        break;
      case 'ImageRestricted':
        changes.table('restricted_images').upsert({ workspace_id: event.data.workspaceId, namespace: event.data.namespace, image: event.data.image });
        break;
      case 'ImageRestrictionLifted':
        changes.table('restricted_images').delete({ workspace_id: event.data.workspaceId, namespace: event.data.namespace, image: event.data.image });
        break;
      default:
        break;
    }
  }
  await changes.flush();
}

/** The per-workspace sets, by the column naming an entry within its workspace. */
const KEY_COLUMN = {
  clusters: 'cluster_id',
  namespaces: 'namespace',
  secrets: 'name',
  role_bindings: 'name',
  cluster_role_bindings: 'name',
} as const;

/** When the event was recorded, from its metadata (as the directory folds `writtenAt`); null when absent. */
function occurredAt(recorded: RecordedEvent): string | null {
  const value = recorded.metadata.occurredAt;
  return typeof value === 'string' ? value : null;
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
    // Each count is one grouped scan over the page's workspaces, joined once (not a subquery per workspace).
    `WITH page AS (SELECT w.* FROM ${schema}.workspaces w WHERE w.id = ANY($1::text[]) AND NOT w.deleted),
          owners AS (SELECT p.id AS workspace_id, count(*) AS n FROM page p JOIN ${schema}.organization_owners o ON o.organization_id = p.organization_id GROUP BY p.id),
          explicit AS (SELECT m.workspace_id, count(*) AS n FROM page p JOIN ${schema}.members m ON m.workspace_id = p.id
                        WHERE NOT EXISTS (SELECT 1 FROM ${schema}.organization_owners o WHERE o.organization_id = p.organization_id AND o.user_id = m.user_id)
                        GROUP BY m.workspace_id),
          clusters AS (SELECT workspace_id, count(*) AS n FROM ${schema}.clusters WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id),
          namespaces AS (SELECT workspace_id, count(*) AS n FROM ${schema}.namespaces WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id),
          secrets AS (SELECT workspace_id, count(*) AS n FROM ${schema}.secrets WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id),
          role_bindings AS (SELECT workspace_id, count(*) AS n FROM ${schema}.role_bindings WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id),
          cluster_role_bindings AS (SELECT workspace_id, count(*) AS n FROM ${schema}.cluster_role_bindings WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id),
          restricted_images AS (SELECT workspace_id, count(*) AS n FROM ${schema}.restricted_images WHERE workspace_id = ANY($1::text[]) GROUP BY workspace_id)
     SELECT w.*, o.name AS organization_name,
            coalesce(ow.n, 0) + coalesce(ex.n, 0) AS member_count,
            coalesce(c.n, 0) AS cluster_count,
            coalesce(ns.n, 0) AS namespace_count,
            coalesce(se.n, 0) AS secret_count,
            coalesce(rb.n, 0) AS role_binding_count,
            coalesce(crb.n, 0) AS cluster_role_binding_count,
            coalesce(ri.n, 0) AS restricted_image_count
       FROM page w JOIN ${schema}.organizations o ON o.id = w.organization_id
       LEFT JOIN owners ow ON ow.workspace_id = w.id
       LEFT JOIN explicit ex ON ex.workspace_id = w.id
       LEFT JOIN clusters c ON c.workspace_id = w.id
       LEFT JOIN namespaces ns ON ns.workspace_id = w.id
       LEFT JOIN secrets se ON se.workspace_id = w.id
       LEFT JOIN role_bindings rb ON rb.workspace_id = w.id
       LEFT JOIN cluster_role_bindings crb ON crb.workspace_id = w.id
       LEFT JOIN restricted_images ri ON ri.workspace_id = w.id
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

export interface WorkspaceDetails {
  /** By name, then id. */
  clusters: { id: string; name: string; connection: ClusterConnection }[];
  namespaces: string[];
  /** By name, as are the cluster role bindings and the secrets. */
  roleBindings: { name: string; namespaces: string[]; role: { kind: 'Role' | 'ClusterRole'; name: string }; subjects: Subject[] }[];
  clusterRoleBindings: { name: string; clusterRole: string; subjects: Subject[] }[];
  /** By namespace, then image. */
  restrictedImages: { namespace: string; image: string }[];
  secrets: WorkspaceSecret[];
}

/** A secret as queries show it: its key names, never the values. */
export interface WorkspaceSecret {
  name: string;
  version: number;
  keys: string[];
  writtenBy: string;
  writtenAt: string | null;
}

/** A JSON array, in one subquery, of the rows of a detail table of workspace `w`. */
const listOf = (schema: string, table: string, element: string, order: string): string =>
  `(SELECT coalesce(json_agg(${element} ORDER BY ${order}), '[]') FROM ${schema}.${table} x WHERE x.workspace_id = w.id)`;

/**
 * What the workspace page shows of each live workspace among
 * `workspaceIds`, in one SQL statement (for a DataLoader). Unknown and
 * deleted workspaces are absent.
 */
export async function workspaceDetails(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<Map<string, WorkspaceDetails>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db.query<WorkspaceDetails & { id: string }>(
    `SELECT w.id,
            ${listOf(schema, 'clusters', `json_build_object('id', x.cluster_id, 'name', x.name, 'connection', x.connection)`, 'x.name COLLATE "C", x.cluster_id COLLATE "C"')} AS clusters,
            ${listOf(schema, 'namespaces', 'x.namespace', 'x.namespace COLLATE "C"')} AS namespaces,
            ${listOf(
              schema,
              'role_bindings',
              `json_build_object('name', x.name, 'namespaces', x.namespaces, 'role', json_build_object('kind', x.role_kind, 'name', x.role_name), 'subjects', x.subjects)`,
              'x.name COLLATE "C"',
            )} AS "roleBindings",
            ${listOf(schema, 'cluster_role_bindings', `json_build_object('name', x.name, 'clusterRole', x.cluster_role, 'subjects', x.subjects)`, 'x.name COLLATE "C"')} AS "clusterRoleBindings",
            ${listOf(schema, 'restricted_images', `json_build_object('namespace', x.namespace, 'image', x.image)`, 'x.namespace COLLATE "C", x.image COLLATE "C"')} AS "restrictedImages",
            ${listOf(
              schema,
              'secrets',
              `json_build_object('name', x.name, 'version', x.version, 'keys', x.keys, 'writtenBy', x.written_by, 'writtenAt', x.written_at)`,
              'x.name COLLATE "C"',
            )} AS secrets
       FROM ${schema}.workspaces w
      WHERE w.id = ANY($1::text[]) AND NOT w.deleted`,
    [[...new Set(workspaceIds)]],
  );
  return new Map(rows.map(({ id, ...details }) => [id, details]));
}

export interface OrganizationSummary {
  organizationId: string;
  name: string;
  kind: OrganizationKind;
  /** Sorted. */
  owners: string[];
  /** The organization stream's event count (the API's `Organization.version`). */
  version: number;
}

/** The organizations among `organizationIds`, in one SQL statement (for a DataLoader); unknown ones are absent. */
export async function organizationsById(db: ReadModelTx, schema: string, organizationIds: readonly string[]): Promise<Map<string, OrganizationSummary>> {
  if (organizationIds.length === 0) return new Map();
  const rows = await db.query<{ id: string; name: string; kind: OrganizationKind; owners: string[]; stream_events: number }>(
    `SELECT o.id, o.name, o.kind, v.stream_events,
            (SELECT coalesce(json_agg(x.user_id ORDER BY x.user_id COLLATE "C"), '[]') FROM ${schema}.organization_owners x WHERE x.organization_id = o.id) AS owners
       FROM ${schema}.organizations o
       JOIN ${schema}.organization_streams v ON v.organization_id = o.id
      WHERE o.id = ANY($1::text[])`,
    [[...new Set(organizationIds)]],
  );
  return new Map(rows.map((row) => [row.id, { organizationId: row.id, name: row.name, kind: row.kind, owners: row.owners, version: Number(row.stream_events) }]));
}

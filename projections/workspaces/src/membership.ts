import type { RecordedEvent } from '@canopy/eventstore';
import { BatchChanges, type Projector, type ReadModelTx, type TableSpec } from '@canopy/projections';
import type { WorkspaceRole } from '@canopy/schema';
import { decode, workspaceStreams } from './events.js';
import { organizationIndexes, organizationTables, organizationTableSpecs, recordOrganizationEvent } from './organizations.js';

/**
 * Who has which role in which workspace, per organization: the permission
 * checks' read model. A user's effective role in a workspace is `owner` when
 * they own its organization, else their explicit member role (as the
 * domain's `effectiveRole`). Deleted workspaces keep their row, flagged.
 */
export const membershipProjector: Projector = {
  name: 'membership',
  version: 2,
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
      deleted boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ${s}.members (
      workspace_id text NOT NULL,
      user_id text NOT NULL,
      role text NOT NULL,
      PRIMARY KEY (workspace_id, user_id)
    );
  `,
  indexes: (s) => `
    ${organizationIndexes(s)}
    CREATE INDEX IF NOT EXISTS workspaces_by_organization ON ${s}.workspaces (organization_id) WHERE NOT deleted;
    CREATE INDEX IF NOT EXISTS members_by_user ON ${s}.members (user_id, workspace_id);
  `,
  async apply(tx, recorded, s) {
    await applyMembership(tx, [recorded], s);
  },
  applyBatch: (tx, events, s) => applyMembership(tx, events, s),
};

const tableSpecs = {
  ...organizationTableSpecs,
  workspaces: { table: 'workspaces', key: { id: 'text' }, columns: { organization_id: 'text', name: 'text', kind: 'text', stage: 'text', deleted: 'boolean' } },
  members: { table: 'members', key: { workspace_id: 'text', user_id: 'text' }, columns: { role: 'text' } },
} as const satisfies Record<string, TableSpec>;

/** Applies events in log order, their writes netted per row (see `BatchChanges`). */
async function applyMembership(tx: ReadModelTx, events: readonly RecordedEvent[], s: string): Promise<void> {
  const changes = new BatchChanges(tx, s, tableSpecs);
  const workspaces = changes.table('workspaces');
  const members = changes.table('members');
  for (const recorded of events) {
    const event = decode(recorded);
    switch (event.type) {
      case 'OrganizationCreated': {
        recordOrganizationEvent(changes, event, { auditors: true });
        const { organizationId, defaultWorkspace } = event.data;
        workspaces.upsert({ id: defaultWorkspace.workspaceId }, { organization_id: organizationId, name: defaultWorkspace.name, kind: 'default', stage: null });
        break;
      }
      case 'OrganizationOwnerAdded':
      case 'OrganizationOwnerRemoved':
      case 'OrganizationAuditorAdded':
      case 'OrganizationAuditorRemoved':
        recordOrganizationEvent(changes, event, { auditors: true });
        break;
      case 'WorkspaceCreated': {
        const { organizationId, workspaceId, name, kind, stage } = event.data;
        workspaces.upsert({ id: workspaceId }, { organization_id: organizationId, name, kind, stage });
        break;
      }
      case 'WorkspaceRenamed':
        workspaces.update({ id: event.data.workspaceId }, { name: event.data.name });
        break;
      case 'WorkspaceClosed':
      case 'WorkspaceDeleted':
        // Closing (first step) and deleting (second step) both end every role in the workspace.
        workspaces.update({ id: event.data.workspaceId }, { deleted: true });
        members.deleteWhere({ workspace_id: event.data.workspaceId });
        break;
      case 'MemberAdded':
      case 'MemberRoleChanged':
        members.upsert({ workspace_id: event.data.workspaceId, user_id: event.data.userId }, { role: event.data.role });
        break;
      case 'MemberRemoved':
        members.delete({ workspace_id: event.data.workspaceId, user_id: event.data.userId });
        break;
      default:
        break;
    }
  }
  await changes.flush();
}

export interface MembershipWorkspace {
  workspaceId: string;
  organizationId: string;
  name: string;
  kind: 'default' | 'project' | 'environment';
  stage: string | null;
  role: WorkspaceRole;
  /** How the role is held: as an owner of the organization, or as an explicit member. */
  source: 'organization-owner' | 'explicit';
}

const ROLE = `CASE WHEN o.user_id IS NOT NULL THEN 'owner' ELSE m.role END`;

/**
 * The user's effective role in each of `workspaceIds` that is live and where
 * they hold one, in one SQL statement (for a DataLoader batching a request's
 * permission checks). Workspaces missing from the map: no role, or no such
 * live workspace.
 */
export async function effectiveRoles(db: ReadModelTx, schema: string, userId: string, workspaceIds: readonly string[]): Promise<Map<string, WorkspaceRole>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db.query<{ id: string; role: WorkspaceRole }>(
    `SELECT w.id, ${ROLE} AS role
       FROM ${schema}.workspaces w
       LEFT JOIN ${schema}.organization_owners o ON o.organization_id = w.organization_id AND o.user_id = $1
       LEFT JOIN ${schema}.members m ON m.workspace_id = w.id AND m.user_id = $1
      WHERE w.id = ANY($2::text[]) AND NOT w.deleted AND (o.user_id IS NOT NULL OR m.role IS NOT NULL)`,
    [userId, [...new Set(workspaceIds)]],
  );
  return new Map(rows.map((row) => [row.id, row.role]));
}

/** The live workspaces the user holds a role in, by organization id then name (as the GraphQL `workspaces` query lists them). */
export async function workspacesOf(db: ReadModelTx, schema: string, userId: string): Promise<MembershipWorkspace[]> {
  const rows = await db.query<{ id: string; organization_id: string; name: string; kind: MembershipWorkspace['kind']; stage: string | null; role: WorkspaceRole; owner: boolean }>(
    `SELECT w.id, w.organization_id, w.name, w.kind, w.stage, ${ROLE} AS role, o.user_id IS NOT NULL AS owner
       FROM ${schema}.workspaces w
       LEFT JOIN ${schema}.organization_owners o ON o.organization_id = w.organization_id AND o.user_id = $1
       LEFT JOIN ${schema}.members m ON m.workspace_id = w.id AND m.user_id = $1
      WHERE NOT w.deleted
        AND (w.organization_id IN (SELECT organization_id FROM ${schema}.organization_owners WHERE user_id = $1)
          OR w.id IN (SELECT workspace_id FROM ${schema}.members WHERE user_id = $1))
      ORDER BY w.organization_id COLLATE "C", w.name COLLATE "C"`,
    [userId],
  );
  return rows.map((row) => ({
    workspaceId: row.id,
    organizationId: row.organization_id,
    name: row.name,
    kind: row.kind,
    stage: row.stage,
    role: row.role,
    source: row.owner ? 'organization-owner' : 'explicit',
  }));
}

export interface WorkspaceMember {
  userId: string;
  role: WorkspaceRole;
  source: MembershipWorkspace['source'];
}

/**
 * The members of each live workspace among `workspaceIds`, in one SQL
 * statement (for a DataLoader), by user id: the organization's owners (as
 * owners), then the explicit members who are not owners, as the API's
 * `Workspace.members`. Unknown and deleted workspaces are absent.
 */
export async function membersOf(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<Map<string, WorkspaceMember[]>> {
  if (workspaceIds.length === 0) return new Map();
  // One flat join (not a subquery per workspace): the rows come ordered by workspace, then user, and are grouped here.
  const rows = await db.query<{ id: string; user_id: string | null; role: WorkspaceMember['role'] | null; source: WorkspaceMember['source'] | null }>(
    `SELECT w.id, u.user_id, u.role, u.source
       FROM ${schema}.workspaces w
       LEFT JOIN (SELECT w2.id AS workspace_id, o.user_id, 'owner' AS role, 'organization-owner' AS source
                    FROM ${schema}.workspaces w2 JOIN ${schema}.organization_owners o ON o.organization_id = w2.organization_id
                   WHERE w2.id = ANY($1::text[])
                  UNION ALL
                  SELECT m.workspace_id, m.user_id, m.role, 'explicit'
                    FROM ${schema}.members m JOIN ${schema}.workspaces w3 ON w3.id = m.workspace_id
                   WHERE m.workspace_id = ANY($1::text[])
                     AND NOT EXISTS (SELECT 1 FROM ${schema}.organization_owners o WHERE o.organization_id = w3.organization_id AND o.user_id = m.user_id)) u
              ON u.workspace_id = w.id
      WHERE w.id = ANY($1::text[]) AND NOT w.deleted
      ORDER BY w.id, u.user_id COLLATE "C"`,
    [[...new Set(workspaceIds)]],
  );
  const members = new Map<string, WorkspaceMember[]>();
  for (const row of rows) {
    let list = members.get(row.id);
    if (!list) members.set(row.id, (list = []));
    if (row.user_id !== null) list.push({ userId: row.user_id, role: row.role!, source: row.source! });
  }
  return members;
}

/** The organizations the user owns or holds a role in a live workspace of, by id (auditors are added from `auditedOrganizationIds`). */
export async function organizationIdsOf(db: ReadModelTx, schema: string, userId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM (
       SELECT organization_id AS id FROM ${schema}.organization_owners WHERE user_id = $1
       UNION
       SELECT w.organization_id FROM ${schema}.workspaces w JOIN ${schema}.members m ON m.workspace_id = w.id WHERE m.user_id = $1 AND NOT w.deleted
     ) ids
     ORDER BY id COLLATE "C"`,
    [userId],
  );
  return rows.map((row) => row.id);
}

/** The organization of each workspace, deleted ones included (their history outlives them), in one statement. */
export async function organizationsOfWorkspaces(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<Map<string, string>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db.query<{ id: string; organization_id: string }>(`SELECT id, organization_id FROM ${schema}.workspaces WHERE id = ANY($1::text[])`, [[...new Set(workspaceIds)]]);
  return new Map(rows.map((row) => [row.id, row.organization_id]));
}

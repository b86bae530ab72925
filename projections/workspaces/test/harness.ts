import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { EventLog, type EventStore } from '@canopy/eventstore';
import { openKeyStore, type OpenedKeyStore } from '@canopy/keystore';
import { ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry, type WorkspaceRole } from '@canopy/schema';
import {
  effectiveQuota,
  effectiveRole,
  startWorkspacesService,
  type CommandContext,
  type CommandResult,
  type WorkspaceCommand,
  type WorkspacesService,
  type WorkspaceState,
  type WorkspaceView,
} from '@canopy/workspaces';
import {
  desiredQuotas,
  effectiveRoles,
  membersOf,
  organizationIdsOf,
  organizationsById,
  quotaSettings,
  summaries,
  workspaceDetails,
  workspaceProjectors,
  workspacesOf,
  type DesiredQuota,
  type OrganizationSummary,
  type QuotaSettings,
  type WorkspaceDetails,
  type WorkspaceMember,
  type WorkspaceSummary,
} from '../src/index.js';

/** A log and a read-model database of their own, for one test. */
export interface Backend {
  open(): Promise<{ store: EventStore; db: ReadModelDb; close(): Promise<void> }>;
}

export interface Harness {
  store: EventStore;
  db: ReadModelDb;
  service: WorkspacesService;
  runner: ProjectionRunner;
  /** Runs one workspace command as `userId` at the workspace's current version. */
  ws(userId: string, workspaceId: string, command: WorkspaceCommand): Promise<CommandResult>;
  version(workspaceId: string): number;
  /** Waits until every read model reached the head of the log. */
  sync(): Promise<void>;
  schema(name: 'membership' | 'quotas' | 'workspace_summary'): string;
  close(): Promise<void>;
}

export const as = (userId: string): CommandContext => ({ userId });

/** One key store for the whole test file: data keys are per workspace id, and ids are fresh per run. */
let sharedKeys: Promise<OpenedKeyStore> | undefined;
export const keyStore = (): Promise<OpenedKeyStore> => (sharedKeys ??= openKeyStore({ kind: 'pglite' }, randomBytes(32)));
export async function closeKeyStore(): Promise<void> {
  const keys = sharedKeys;
  sharedKeys = undefined;
  await (await keys)?.close();
}

export async function startHarness(backend: Backend, options: { batchSize?: number } = {}): Promise<Harness> {
  const { store, db, close } = await backend.open();
  const log = new EventLog(store, canopyEventRegistry());
  const service = await startWorkspacesService({ log, keys: (await keyStore()).keys });
  const runner = new ProjectionRunner({ store, db, projectors: workspaceProjectors, batchSize: options.batchSize });
  await runner.start();
  const version = (workspaceId: string) => service.directory.workspace(workspaceId)?.version ?? 0;
  return {
    store,
    db,
    service,
    runner,
    version,
    ws: (userId, workspaceId, command) => service.commands.workspaceCommand(as(userId), workspaceId, version(workspaceId), command, () => command),
    async sync() {
      const head = await store.headPosition();
      if (head !== undefined) expect(await runner.waitFor('all', head, 20_000)).toBe(true);
    },
    schema: (name) => runner.activeSchema(name),
    async close() {
      await runner.stop();
      await service.close();
      await close();
    },
  };
}

/** Every workspace id the log registered (live or deleted), from the membership table. */
export async function allWorkspaceIds(h: Harness): Promise<string[]> {
  const rows = await h.db.query<{ id: string }>(`SELECT id FROM ${h.schema('membership')}.workspaces ORDER BY id`);
  return rows.map((row) => row.id);
}

/** What the domain says each read model should answer, from the workspaces service's in-memory directory. */
export function expectedFromDirectory(h: Harness, workspaceIds: readonly string[], users: readonly string[]) {
  const roles = new Map<string, Map<string, WorkspaceRole>>();
  const summaryRows: Omit<WorkspaceSummary, 'organizationName'>[] = [];
  const quotas = new Map<string, Omit<DesiredQuota, 'observed' | 'clusterName'>[]>();
  for (const user of users) roles.set(user, new Map());
  for (const workspaceId of workspaceIds) {
    const view = h.service.directory.workspace(workspaceId);
    if (!view) continue;
    for (const user of users) {
      const role = effectiveRole(view, user);
      if (role) roles.get(user)!.set(workspaceId, role);
    }
    const { state } = view;
    const members = new Set([...view.organization.owners, ...state.members.keys()]);
    summaryRows.push({
      workspaceId,
      organizationId: view.organizationId,
      name: view.name,
      kind: view.kind,
      stage: view.stage,
      description: state.description,
      version: view.version,
      memberCount: members.size,
      clusterCount: state.clusters.size,
      namespaceCount: state.namespaces.size,
      secretCount: state.secrets.size,
      roleBindingCount: state.roleBindings.size,
      clusterRoleBindingCount: state.clusterRoleBindings.size,
      restrictedImageCount: [...state.restrictedImages.values()].reduce((sum, images) => sum + images.size, 0),
    });
    const rows: Omit<DesiredQuota, 'observed' | 'clusterName'>[] = [];
    for (const namespace of [...state.namespaces].sort(byCodePoint)) {
      for (const clusterId of [...state.clusters.keys()].sort(byCodePoint)) {
        const quota = state.quotas.get(namespace);
        const limits = effectiveQuota(quota, clusterId);
        rows.push({
          namespace,
          clusterId,
          cpu: limits?.cpu ?? null,
          memory: limits?.memory ?? null,
          source: quota?.overrides.has(clusterId) ? 'override' : limits ? 'namespace' : null,
        });
      }
    }
    quotas.set(workspaceId, rows);
  }
  summaryRows.sort((a, b) => byCodePoint(a.organizationId, b.organizationId) || byCodePoint(a.name, b.name));
  return { roles, summaries: summaryRows, quotas };
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders by each key in turn, bytewise (as COLLATE "C"), null first. */
function byKeys<T>(...keys: ((item: T) => string | null)[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const key of keys) {
      const [x, y] = [key(a), key(b)];
      const order = x === y ? 0 : x === null ? -1 : y === null ? 1 : byCodePoint(x, y);
      if (order !== 0) return order;
    }
    return 0;
  };
}

const byName = byKeys<{ name: string }>((item) => item.name);

/** What `membersOf` should answer for a workspace: the API's `Workspace.members`, by user id. */
export function expectedMembers(view: WorkspaceView): WorkspaceMember[] {
  const owners = view.organization.owners;
  return [
    ...[...owners].map((userId): WorkspaceMember => ({ userId, role: 'owner', source: 'organization-owner' })),
    ...[...view.state.members].filter(([userId]) => !owners.has(userId)).map(([userId, role]): WorkspaceMember => ({ userId, role, source: 'explicit' })),
  ].sort(byKeys((member) => member.userId));
}

/** What `workspaceDetails` should answer for a workspace's state: the API's lists, in the read model's orders. */
export function expectedDetails(state: WorkspaceState): WorkspaceDetails {
  return {
    clusters: [...state.clusters].map(([id, { name, connection }]) => ({ id, name, connection })).sort(byKeys((c) => c.name, (c) => c.id)),
    namespaces: [...state.namespaces].sort(byCodePoint),
    roleBindings: [...state.roleBindings].map(([name, b]) => ({ name, namespaces: [...b.namespaces], role: b.role, subjects: [...b.subjects] })).sort(byName),
    clusterRoleBindings: [...state.clusterRoleBindings].map(([name, b]) => ({ name, clusterRole: b.clusterRole, subjects: [...b.subjects] })).sort(byName),
    restrictedImages: [...state.restrictedImages]
      .flatMap(([namespace, images]) => [...images].map((image) => ({ namespace, image })))
      .sort(byKeys((r) => r.namespace, (r) => r.image)),
    secrets: [...state.secrets]
      .map(([name, secret]) => ({ name, version: secret.version, keys: Object.keys(secret.values).sort(byCodePoint), writtenBy: secret.writtenBy, writtenAt: secret.writtenAt ?? null }))
      .sort(byName),
  };
}

/** What `quotaSettings` should answer for a workspace's state: its budget, and the quotas as configured (not resolved). */
export function expectedQuotaSettings(state: WorkspaceState): QuotaSettings {
  return {
    budget: state.budget,
    quotas: [...state.quotas]
      .flatMap(([namespace, quota]) => [
        ...(quota.default ? [{ namespace, clusterId: null, ...quota.default }] : []),
        ...[...quota.overrides].map(([clusterId, limits]) => ({ namespace, clusterId, ...limits })),
      ])
      .sort(byKeys((q) => q.namespace, (q) => q.clusterId)),
  };
}

/** Every organization of the directory as `organizationsById` should answer it (version: the organization stream's event count). */
export function expectedOrganizations(h: Harness): Map<string, OrganizationSummary> {
  const organizations = new Map<string, OrganizationSummary>();
  for (const { state, revision } of h.service.directory.allOrganizations()) {
    const organizationId = state.organizationId!;
    organizations.set(organizationId, {
      organizationId,
      name: state.name,
      kind: state.kind!,
      owners: [...state.owners].sort(byCodePoint),
      version: revision === undefined ? 0 : Number(revision) + 1,
    });
  }
  return organizations;
}

/** The organizations `userId` owns or holds a role in a live workspace of (auditing is answered elsewhere), by id. */
export function expectedOrganizationIds(h: Harness, userId: string): string[] {
  const { directory } = h.service;
  const belongs = ({ state }: { state: { owners: ReadonlySet<string>; workspaces: ReadonlyMap<string, unknown> } }) =>
    state.owners.has(userId) ||
    [...state.workspaces.keys()].some((workspaceId) => {
      const view = directory.workspace(workspaceId);
      return view !== undefined && effectiveRole(view, userId) !== undefined;
    });
  return [...directory.allOrganizations()].filter(belongs).map(({ state }) => state.organizationId!).sort(byCodePoint);
}

/** A map's entries as an object, for readable diffs. */
const entries = <V>(map: ReadonlyMap<string, V>): Record<string, V> => Object.fromEntries([...map].sort(([a], [b]) => byCodePoint(a, b)));

/** Asserts that all three read models answer what the directory (the domain's fold) says, for every workspace and user. */
export async function expectReadModelsMatchDirectory(h: Harness, users: readonly string[]): Promise<void> {
  await h.sync();
  const ids = await allWorkspaceIds(h);
  const expected = expectedFromDirectory(h, ids, users);
  for (const user of users) {
    const roles = await effectiveRoles(h.db, h.schema('membership'), user, ids);
    expect(Object.fromEntries([...roles].sort(([a], [b]) => byCodePoint(a, b)))).toEqual(Object.fromEntries([...expected.roles.get(user)!].sort(([a], [b]) => byCodePoint(a, b))));
    const listed = await workspacesOf(h.db, h.schema('membership'), user);
    expect(Object.fromEntries(listed.map((w) => [w.workspaceId, w.role]))).toEqual(Object.fromEntries(expected.roles.get(user)!));
  }
  const rows = await summaries(h.db, h.schema('workspace_summary'), ids);
  expect(rows.map(({ organizationName: _, ...row }) => row)).toEqual(expected.summaries);
  for (const id of ids) {
    const quotas = await desiredQuotas(h.db, h.schema('quotas'), id);
    expect(quotas.map(({ observed: _o, clusterName: _c, ...row }) => row)).toEqual(expected.quotas.get(id) ?? []);
  }
  await expectBatchQueriesMatchDirectory(h, ids, users);
}

/** The DataLoader batch queries, each asked once for every workspace (and an unknown one), against the directory. */
async function expectBatchQueriesMatchDirectory(h: Harness, ids: readonly string[], users: readonly string[]): Promise<void> {
  const asked = [...ids, 'no-such-workspace'];
  const views = ids.flatMap((id) => h.service.directory.workspace(id) ?? []);
  const expectedEach = <V>(of: (view: WorkspaceView) => V) => entries(new Map(views.map((view) => [view.workspaceId, of(view)])));
  expect(entries(await membersOf(h.db, h.schema('membership'), asked))).toEqual(expectedEach(expectedMembers));
  expect(entries(await workspaceDetails(h.db, h.schema('workspace_summary'), asked))).toEqual(expectedEach((view) => expectedDetails(view.state)));
  expect(entries(await quotaSettings(h.db, h.schema('quotas'), asked))).toEqual(expectedEach((view) => expectedQuotaSettings(view.state)));
  const organizations = expectedOrganizations(h);
  expect(entries(await organizationsById(h.db, h.schema('workspace_summary'), [...organizations.keys(), 'no-such-organization']))).toEqual(entries(organizations));
  for (const user of users) expect(await organizationIdsOf(h.db, h.schema('membership'), user)).toEqual(expectedOrganizationIds(h, user));
}

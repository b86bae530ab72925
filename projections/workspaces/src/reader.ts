import DataLoader from 'dataloader';
import type { ReadModelTx } from '@canopy/projections';
import type { WorkspaceRole } from '@canopy/schema';
import type { HistoryQuery, MemberRecord, OrganizationRecord, QuotaSettings, WorkspaceDetails, WorkspaceReads, WorkspaceRecord } from '@canopy/workspaces';
import { auditEntries } from './audit.js';
import { auditedOrganizationIds, isAuditor } from './organizations.js';
import { effectiveRoles, membersOf, organizationIdsOf, organizationsOfWorkspaces, workspacesOf } from './membership.js';
import { quotaSettings } from './quotas.js';
import { organizationsById, summaries, workspaceDetails } from './workspace-summary.js';

/** Where the reads go: the read models' database, and the schema each projector is served from right now (blue/green moves it). */
export interface ReadModelSource {
  db: ReadModelTx;
  schemaOf(projector: string): string;
  /** Awaited before every read (read-your-writes: until the read models reflect the caller's writes); cheap once they do. */
  ready?(): Promise<unknown>;
}

/**
 * The caller's reads for one request. Every lookup by id goes through a
 * DataLoader: the lookups of one tick become one statement, and a repeated
 * lookup is answered from the request's cache.
 */
export function workspaceReads(source: ReadModelSource, userId: string): WorkspaceReads {
  const { db } = source;
  const ready = async (): Promise<void> => {
    await source.ready?.();
  };
  /** A loader whose batches wait for `ready` first (and only then pick the schema, which a blue/green switch may change meanwhile). */
  const byId = <V>(batch: (ids: readonly string[]) => Promise<Map<string, V>>) => loader<V>(async (ids) => (await ready(), batch(ids)));
  const membership = () => source.schemaOf('membership');
  const summary = () => source.schemaOf('workspace_summary');

  const roles = byId<WorkspaceRole>((ids) => effectiveRoles(db, membership(), userId, ids));
  const records = byId<WorkspaceRecord>(async (ids) => new Map((await summaries(db, summary(), ids)).map((row) => [row.workspaceId, row])));
  const members = byId<MemberRecord[]>((ids) => membersOf(db, membership(), ids));
  const details = byId<WorkspaceDetails>((ids) => workspaceDetails(db, summary(), ids));
  const quotas = byId<QuotaSettings>((ids) => quotaSettings(db, source.schemaOf('quotas'), ids));
  const organizations = byId<OrganizationRecord>((ids) => organizationsById(db, summary(), ids));
  const audited = byId<true>(async (ids) => new Map([...(await isAuditor(db, membership(), userId, ids))].map((id) => [id, true as const])));
  const organizationOf = byId<string>((ids) => organizationsOfWorkspaces(db, membership(), ids));
  let belonging: Promise<Set<string>> | undefined;
  const belongingIds = () =>
    (belonging ??= (async () => {
      await ready();
      const [member, auditor] = await Promise.all([organizationIdsOf(db, membership(), userId), auditedOrganizationIds(db, membership(), userId)]);
      return new Set([...member, ...auditor]);
    })());

  return {
    roleIn: (workspaceId) => roles.load(workspaceId),
    workspace: (workspaceId) => records.load(workspaceId),
    async workspacesOf(organizationId) {
      await ready();
      const visible = (await workspacesOf(db, membership(), userId)).filter((w) => organizationId === undefined || w.organizationId === organizationId);
      for (const workspace of visible) roles.prime(workspace.workspaceId, workspace.role);
      const found = await records.loadMany(visible.map((w) => w.workspaceId));
      return visible.flatMap((w, index) => {
        const record = found[index];
        return record && !(record instanceof Error) ? [{ ...record, role: w.role }] : [];
      });
    },
    members: async (workspaceId) => (await members.load(workspaceId)) ?? [],
    details: async (workspaceId) => (await details.load(workspaceId)) ?? EMPTY_DETAILS,
    quotaSettings: async (workspaceId) => (await quotas.load(workspaceId)) ?? { budget: { cpu: 'unlimited', memory: 'unlimited' }, quotas: [] },
    organization: (organizationId) => organizations.load(organizationId),
    async organizations() {
      const ids = [...(await belongingIds())];
      const found = await organizations.loadMany(ids);
      return found.filter((o): o is OrganizationRecord => o !== undefined && !(o instanceof Error)).sort((a, b) => a.name.localeCompare(b.name));
    },
    belongsTo: async (organizationId) => (await belongingIds()).has(organizationId),
    audits: async (organizationId) => (await audited.load(organizationId)) === true,
    organizationOfWorkspace: (workspaceId) => organizationOf.load(workspaceId),
    history: async (query: HistoryQuery) => (await ready(), auditEntries(db, source.schemaOf('audit'), query)),
  };
}

const EMPTY_DETAILS: WorkspaceDetails = { clusters: [], namespaces: [], roleBindings: [], clusterRoleBindings: [], restrictedImages: [], secrets: [] };

/** A loader over a batch function answering a map by id; ids missing from the map load as undefined. */
function loader<V>(batch: (ids: readonly string[]) => Promise<Map<string, V>>): DataLoader<string, V | undefined> {
  return new DataLoader<string, V | undefined>(async (ids) => {
    const found = await batch(ids);
    return ids.map((id) => found.get(id));
  });
}

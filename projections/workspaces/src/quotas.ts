import type { RecordedEvent } from '@canopy/eventstore';
import { BatchChanges, type Projector, type ReadModelTx, type TableSpec } from '@canopy/projections';
import type { Limits } from '@canopy/workspaces';
import { decode, limitColumn, limitValue, workspaceStreams } from './events.js';

/**
 * Per workspace, namespace and cluster: the quota that should hold there.
 * Limits are stored as integers (millicores, bytes); NULL stands for
 * `unlimited`. A namespace's quota on a cluster is its override for that
 * cluster, else its quota for every cluster, else none (the domain's
 * `effectiveQuota`). `observed_quotas` is for what each cluster reports it
 * actually has; nothing fills it yet.
 */
export const quotasProjector: Projector = {
  name: 'quotas',
  version: 2,
  filter: workspaceStreams,
  writesOnly: true,
  tables: (s) => `
    CREATE TABLE ${s}.workspaces (
      id text PRIMARY KEY,
      organization_id text NOT NULL,
      budget_cpu bigint,
      budget_memory bigint,
      deleted boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ${s}.namespaces (
      workspace_id text NOT NULL,
      namespace text NOT NULL,
      PRIMARY KEY (workspace_id, namespace)
    );
    CREATE TABLE ${s}.clusters (
      workspace_id text NOT NULL,
      cluster_id text NOT NULL,
      name text NOT NULL,
      PRIMARY KEY (workspace_id, cluster_id)
    );
    -- cluster_id '': the namespace's quota on every cluster; else its override on that cluster.
    CREATE TABLE ${s}.namespace_quotas (
      workspace_id text NOT NULL,
      namespace text NOT NULL,
      cluster_id text NOT NULL,
      cpu bigint,
      memory bigint,
      PRIMARY KEY (workspace_id, namespace, cluster_id)
    );
    -- What a cluster reports it actually has (not filled yet: cluster reports come later).
    CREATE TABLE ${s}.observed_quotas (
      workspace_id text NOT NULL,
      namespace text NOT NULL,
      cluster_id text NOT NULL,
      cpu bigint,
      memory bigint,
      observed_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, namespace, cluster_id)
    );
  `,
  indexes: (s) => `CREATE INDEX IF NOT EXISTS namespace_quotas_by_cluster ON ${s}.namespace_quotas (workspace_id, cluster_id);`,
  async apply(tx, recorded, s) {
    await applyQuotas(tx, [recorded], s);
  },
  applyBatch: (tx, events, s) => applyQuotas(tx, events, s),
};

/** The cluster id of a namespace's quota for every cluster (a key column cannot be NULL). */
const EVERY_CLUSTER = '';

const tableSpecs = {
  workspaces: { table: 'workspaces', key: { id: 'text' }, columns: { organization_id: 'text', budget_cpu: 'bigint', budget_memory: 'bigint', deleted: 'boolean' } },
  namespaces: { table: 'namespaces', key: { workspace_id: 'text', namespace: 'text' } },
  clusters: { table: 'clusters', key: { workspace_id: 'text', cluster_id: 'text' }, columns: { name: 'text' } },
  namespace_quotas: { table: 'namespace_quotas', key: { workspace_id: 'text', namespace: 'text', cluster_id: 'text' }, columns: { cpu: 'bigint', memory: 'bigint' } },
} as const satisfies Record<string, TableSpec>;

/** Applies events in log order, their writes netted per row (see `BatchChanges`). */
async function applyQuotas(tx: ReadModelTx, events: readonly RecordedEvent[], s: string): Promise<void> {
  const changes = new BatchChanges(tx, s, tableSpecs);
  const workspaces = changes.table('workspaces');
  const namespaces = changes.table('namespaces');
  const clusters = changes.table('clusters');
  const quotas = changes.table('namespace_quotas');
  for (const recorded of events) {
    const event = decode(recorded);
    switch (event.type) {
      case 'OrganizationCreated':
        // A new workspace's budget is unlimited (NULL).
        workspaces.upsert({ id: event.data.defaultWorkspace.workspaceId }, { organization_id: event.data.organizationId });
        break;
      case 'WorkspaceCreated':
        workspaces.upsert({ id: event.data.workspaceId }, { organization_id: event.data.organizationId });
        break;
      case 'WorkspaceClosed':
      case 'WorkspaceDeleted': {
        const workspace = { workspace_id: event.data.workspaceId };
        workspaces.update({ id: event.data.workspaceId }, { deleted: true });
        for (const table of [namespaces, clusters, quotas]) table.deleteWhere(workspace);
        break;
      }
      case 'WorkspaceBudgetSet':
        workspaces.update({ id: event.data.workspaceId }, { budget_cpu: limitColumn(event.data.cpu), budget_memory: limitColumn(event.data.memory) });
        break;
      case 'ClusterAttached':
        clusters.upsert({ workspace_id: event.data.workspaceId, cluster_id: event.data.clusterId }, { name: event.data.name });
        break;
      case 'ClusterDetached':
        // Detaching drops the cluster's overrides too (as the domain's evolve does).
        clusters.delete({ workspace_id: event.data.workspaceId, cluster_id: event.data.clusterId });
        quotas.deleteWhere({ workspace_id: event.data.workspaceId, cluster_id: event.data.clusterId });
        break;
      case 'NamespaceAdded':
        namespaces.upsert({ workspace_id: event.data.workspaceId, namespace: event.data.namespace });
        break;
      case 'NamespaceRemoved':
        // Removing a namespace ends its quotas.
        namespaces.delete({ workspace_id: event.data.workspaceId, namespace: event.data.namespace });
        quotas.deleteWhere({ workspace_id: event.data.workspaceId, namespace: event.data.namespace });
        break;
      case 'NamespaceQuotaSet':
      case 'NamespaceQuotaRemoved': {
        const { workspaceId, namespace, clusterId } = event.data;
        const key = { workspace_id: workspaceId, namespace, cluster_id: clusterId ?? EVERY_CLUSTER };
        if (event.type === 'NamespaceQuotaSet') quotas.upsert(key, { cpu: limitColumn(event.data.cpu), memory: limitColumn(event.data.memory) });
        else quotas.delete(key);
        break;
      }
      default:
        break;
    }
  }
  await changes.flush();
}

export interface DesiredQuota {
  namespace: string;
  clusterId: string;
  clusterName: string;
  /** The quota that should hold there; null when none is set (no ResourceQuota on that cluster). */
  cpu: Limits['cpu'] | null;
  memory: Limits['memory'] | null;
  /** Where it comes from: the namespace's override for this cluster, its quota for every cluster, or none. */
  source: 'override' | 'namespace' | null;
  /** What the cluster reported it has; null until cluster reports are projected. */
  observed: Limits | null;
}

/** Every namespace × attached cluster of a live workspace, with the quota that should hold there, by namespace then cluster id. */
export async function desiredQuotas(db: ReadModelTx, schema: string, workspaceId: string): Promise<DesiredQuota[]> {
  const rows = await db.query<{
    namespace: string;
    cluster_id: string;
    cluster_name: string;
    source: 'override' | 'namespace' | null;
    cpu: string | number | null;
    memory: string | number | null;
    observed: boolean;
    observed_cpu: string | number | null;
    observed_memory: string | number | null;
  }>(
    `SELECT n.namespace, c.cluster_id, c.name AS cluster_name,
            CASE WHEN q.namespace IS NOT NULL THEN 'override' WHEN d.namespace IS NOT NULL THEN 'namespace' END AS source,
            CASE WHEN q.namespace IS NOT NULL THEN q.cpu ELSE d.cpu END AS cpu,
            CASE WHEN q.namespace IS NOT NULL THEN q.memory ELSE d.memory END AS memory,
            x.namespace IS NOT NULL AS observed, x.cpu AS observed_cpu, x.memory AS observed_memory
       FROM ${schema}.workspaces w
       JOIN ${schema}.namespaces n ON n.workspace_id = w.id
       JOIN ${schema}.clusters c ON c.workspace_id = w.id
       LEFT JOIN ${schema}.namespace_quotas q ON q.workspace_id = w.id AND q.namespace = n.namespace AND q.cluster_id = c.cluster_id
       LEFT JOIN ${schema}.namespace_quotas d ON d.workspace_id = w.id AND d.namespace = n.namespace AND d.cluster_id = ''
       LEFT JOIN ${schema}.observed_quotas x ON x.workspace_id = w.id AND x.namespace = n.namespace AND x.cluster_id = c.cluster_id
      WHERE w.id = $1 AND NOT w.deleted
      ORDER BY n.namespace COLLATE "C", c.cluster_id COLLATE "C"`,
    [workspaceId],
  );
  return rows.map((row) => ({
    namespace: row.namespace,
    clusterId: row.cluster_id,
    clusterName: row.cluster_name,
    source: row.source,
    cpu: row.source === null ? null : limitValue(row.cpu),
    memory: row.source === null ? null : limitValue(row.memory),
    observed: row.observed ? { cpu: limitValue(row.observed_cpu), memory: limitValue(row.observed_memory) } : null,
  }));
}

/** A live workspace's budget, or undefined when there is no such workspace. */
export async function workspaceBudget(db: ReadModelTx, schema: string, workspaceId: string): Promise<Limits | undefined> {
  const [row] = await db.query<{ budget_cpu: string | number | null; budget_memory: string | number | null }>(
    `SELECT budget_cpu, budget_memory FROM ${schema}.workspaces WHERE id = $1 AND NOT deleted`,
    [workspaceId],
  );
  return row && { cpu: limitValue(row.budget_cpu), memory: limitValue(row.budget_memory) };
}

/** A namespace's configured quota: on every cluster (`clusterId` null) or its override on one cluster. */
export interface QuotaSetting extends Limits {
  namespace: string;
  clusterId: string | null;
}

export interface QuotaSettings {
  budget: Limits;
  /** By namespace, its quota for every cluster first, then its overrides by cluster id. */
  quotas: QuotaSetting[];
}

/**
 * The budget and the configured quotas (not the resolved ones: see
 * `desiredQuotas`) of each live workspace among `workspaceIds`, in one SQL
 * statement (for a DataLoader). Unknown and deleted workspaces are absent.
 */
export async function quotaSettings(db: ReadModelTx, schema: string, workspaceIds: readonly string[]): Promise<Map<string, QuotaSettings>> {
  if (workspaceIds.length === 0) return new Map();
  // One flat join, ordered by workspace then quota, grouped here (not a subquery per workspace).
  const rows = await db.query<{
    id: string;
    budget_cpu: string | number | null;
    budget_memory: string | number | null;
    namespace: string | null;
    cluster_id: string | null;
    cpu: string | number | null;
    memory: string | number | null;
  }>(
    `SELECT w.id, w.budget_cpu, w.budget_memory, q.namespace, q.cluster_id, q.cpu, q.memory
       FROM ${schema}.workspaces w
       LEFT JOIN ${schema}.namespace_quotas q ON q.workspace_id = w.id
      WHERE w.id = ANY($1::text[]) AND NOT w.deleted
      ORDER BY w.id, q.namespace COLLATE "C", q.cluster_id <> '', q.cluster_id COLLATE "C"`,
    [[...new Set(workspaceIds)]],
  );
  const settings = new Map<string, QuotaSettings>();
  for (const row of rows) {
    let entry = settings.get(row.id);
    if (!entry) settings.set(row.id, (entry = { budget: { cpu: limitValue(row.budget_cpu), memory: limitValue(row.budget_memory) }, quotas: [] }));
    if (row.namespace !== null) entry.quotas.push({ namespace: row.namespace, clusterId: row.cluster_id || null, cpu: limitValue(row.cpu), memory: limitValue(row.memory) });
  }
  return settings;
}

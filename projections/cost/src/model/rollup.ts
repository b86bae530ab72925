import type { Bucket, ClusterMeasure, WorkloadKey, WorkloadMeasure } from './allocation.js';
import type { Amount } from './money.js';

/**
 * The roll-ups an allocation adds to, by table. Every measure is additive,
 * so a table's row is the sum of what every sample added to its key:
 * - `workload_hourly`, `workload_daily`: per workspace, cluster, namespace,
 *   workload and currency (the breakdowns, top-N, the finance export);
 * - `workspace_hourly`, `workspace_daily`: per workspace, cluster and
 *   currency (the daily series and trends of a workspace read tens of rows,
 *   not one per workload);
 * - `cluster_hourly`, `cluster_daily`: per cluster and currency (capacity,
 *   allocation, idle).
 * Hours and days are UTC.
 */
export type RollupTable = 'workload_hourly' | 'workload_daily' | 'workspace_hourly' | 'workspace_daily' | 'cluster_hourly' | 'cluster_daily';

export type RollupKey = Readonly<Record<string, string>>;

/** Receives each addition; it must not keep or change `measures` (they are shared between tables). */
export type RollupSink = (table: RollupTable, key: RollupKey, measures: Readonly<Record<WorkloadMeasure, Amount>> | Readonly<Record<ClusterMeasure, Amount>>) => void;

/** What rolls up: an `Allocation` (bigint measures) or a `UsageSum`'s totals. */
export interface RollupInput {
  workloads: readonly (WorkloadKey & Bucket & { measures: Readonly<Record<WorkloadMeasure, Amount>> })[];
  clusters: readonly (Bucket & { clusterId: string; measures: Readonly<Record<ClusterMeasure, Amount>> })[];
}

/** `2026-03-01T10:00:00.000Z` and `2026-03-01` of an hour's epoch seconds. */
function bucketNames(cache: Map<number, { hour: string; day: string }>, hour: number): { hour: string; day: string } {
  let names = cache.get(hour);
  if (!names) {
    const iso = new Date(hour * 1000).toISOString();
    cache.set(hour, (names = { hour: iso, day: iso.slice(0, 10) }));
  }
  return names;
}

/** Hands every roll-up row an allocation adds to, with what it adds, to `sink`. */
export function rollUp(allocation: RollupInput, sink: RollupSink): void {
  const names = new Map<number, { hour: string; day: string }>();
  for (const w of allocation.workloads) {
    const { hour, day } = bucketNames(names, w.hour);
    const workload = { workspace_id: w.workspaceId, cluster_id: w.clusterId, namespace: w.namespace, workload_kind: w.kind, workload_name: w.name, currency: w.currency };
    sink('workload_hourly', { ...workload, hour }, w.measures);
    sink('workload_daily', { ...workload, day }, w.measures);
    sink('workspace_hourly', { workspace_id: w.workspaceId, hour, cluster_id: w.clusterId, currency: w.currency }, w.measures);
    sink('workspace_daily', { workspace_id: w.workspaceId, day, cluster_id: w.clusterId, currency: w.currency }, w.measures);
  }
  for (const c of allocation.clusters) {
    const { hour, day } = bucketNames(names, c.hour);
    sink('cluster_hourly', { cluster_id: c.clusterId, hour, currency: c.currency }, c.measures);
    sink('cluster_daily', { cluster_id: c.clusterId, day, currency: c.currency }, c.measures);
  }
}

/**
 * The roll-up tables as plain maps, summed in memory: what the read model
 * must hold after the same allocations (the recomputation an auditor, or a
 * test, compares it with), each row under its key columns' values.
 */
export class RollupTotals {
  readonly tables = new Map<RollupTable, Map<string, { key: RollupKey; measures: Record<string, bigint> }>>();

  add: RollupSink = (table, key, measures) => {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map()));
    const id = Object.keys(key)
      .sort()
      .map((column) => `${column}=${key[column]}`)
      .join('|');
    const row = rows.get(id);
    if (!row) rows.set(id, { key, measures: Object.fromEntries(Object.entries(measures).map(([measure, amount]) => [measure, BigInt(amount)])) });
    else for (const [measure, amount] of Object.entries(measures)) row.measures[measure] = (row.measures[measure] ?? 0n) + BigInt(amount);
  };
}

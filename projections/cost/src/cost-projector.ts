import type { RecordedEvent } from '@canopy/eventstore';
import { BatchChanges, type CounterType, type Projector, type ReadModelTx, type TableSpec } from '@canopy/projections';
import { costStreams, decode } from './events.js';
import { CLUSTER_MEASURES, epochSeconds, WORKLOAD_MEASURES } from './model/allocation.js';
import { CostLedger } from './model/ledger.js';
import { rollUp, type RollupTable } from './model/rollup.js';
import { ClusterSettings } from './model/settings.js';
import { UsageSum } from './model/usage-sum.js';
import { priceBookOf } from './model/timeline.js';

const counters = (measures: readonly string[]): Record<string, CounterType> => Object.fromEntries(measures.map((m) => [m, 'numeric' as const]));
const workloadCounters = counters(WORKLOAD_MEASURES);
const clusterCounters = counters(CLUSTER_MEASURES);

const workload = { cluster_id: 'text', namespace: 'text', workload_kind: 'text', workload_name: 'text', currency: 'text' } as const;

/** Key columns in primary-key order: the workspace and the time first, the order of the queries' range scans. */
const tableSpecs = {
  workload_hourly: { table: 'workload_hourly', key: { workspace_id: 'text', hour: 'timestamptz', ...workload }, counters: workloadCounters },
  workload_daily: { table: 'workload_daily', key: { workspace_id: 'text', day: 'date', ...workload }, counters: workloadCounters },
  workspace_hourly: { table: 'workspace_hourly', key: { workspace_id: 'text', hour: 'timestamptz', cluster_id: 'text', currency: 'text' }, counters: workloadCounters },
  workspace_daily: { table: 'workspace_daily', key: { workspace_id: 'text', day: 'date', cluster_id: 'text', currency: 'text' }, counters: workloadCounters },
  cluster_hourly: { table: 'cluster_hourly', key: { cluster_id: 'text', hour: 'timestamptz', currency: 'text' }, counters: clusterCounters },
  cluster_daily: { table: 'cluster_daily', key: { cluster_id: 'text', day: 'date', currency: 'text' }, counters: clusterCounters },
  price_books: {
    table: 'price_books',
    key: { cluster_id: 'text', effective_from: 'timestamptz' },
    columns: { currency: 'text', cpu_core_hour: 'numeric', memory_gib_hour: 'numeric', gpu_hour: 'numeric' },
  },
  idle_sharing: { table: 'idle_sharing', key: { cluster_id: 'text', effective_from: 'timestamptz' }, columns: { shared: 'boolean' } },
} as const satisfies Record<RollupTable | 'price_books' | 'idle_sharing', TableSpec>;

/** CREATE TABLE of a spec: key columns, then counters `numeric NOT NULL DEFAULT 0` (exact at any size, so no sum overflows). */
function rollupTable(s: string, spec: TableSpec): string {
  const keys = Object.entries(spec.key).map(([column, type]) => `${column} ${type} NOT NULL`);
  const amounts = Object.keys(spec.counters ?? {}).map((column) => `${column} numeric NOT NULL DEFAULT 0`);
  return `CREATE TABLE ${s}.${spec.table} (${[...keys, ...amounts].join(', ')}, PRIMARY KEY (${Object.keys(spec.key).join(', ')}));`;
}

/**
 * The cost read model: usage and cost per workload, workspace and cluster,
 * by UTC hour and day, and each cluster's price books and idle-sharing
 * settings (which later usage is costed with). See `model/allocation.ts`
 * for the allocation model and its rounding rule.
 *
 * Not `writesOnly`: a batch reads the price books and sharing settings of
 * the clusters it has usage of (one statement), because the cost of usage
 * depends on them and a runner keeps nothing between batches (another
 * runner on the same database may have projected the last price change).
 */
export const costProjector: Projector = {
  name: 'cost',
  version: 1,
  filter: costStreams,
  tables: (s) => `
    ${rollupTable(s, tableSpecs.workload_hourly)}
    ${rollupTable(s, tableSpecs.workload_daily)}
    ${rollupTable(s, tableSpecs.workspace_hourly)}
    ${rollupTable(s, tableSpecs.workspace_daily)}
    ${rollupTable(s, tableSpecs.cluster_hourly)}
    ${rollupTable(s, tableSpecs.cluster_daily)}
    CREATE TABLE ${s}.price_books (
      cluster_id text NOT NULL,
      effective_from timestamptz NOT NULL,
      currency text NOT NULL,
      cpu_core_hour numeric NOT NULL,
      memory_gib_hour numeric NOT NULL,
      gpu_hour numeric,
      PRIMARY KEY (cluster_id, effective_from)
    );
    CREATE TABLE ${s}.idle_sharing (
      cluster_id text NOT NULL,
      effective_from timestamptz NOT NULL,
      shared boolean NOT NULL,
      PRIMARY KEY (cluster_id, effective_from)
    );
  `,
  // A workload's or a namespace's trend and totals: its rows in time order, without the workspace's other workloads.
  indexes: (s) => `
    CREATE INDEX IF NOT EXISTS workload_hourly_by_workload ON ${s}.workload_hourly (workspace_id, namespace, workload_kind, workload_name, hour);
    CREATE INDEX IF NOT EXISTS workload_daily_by_workload ON ${s}.workload_daily (workspace_id, namespace, workload_kind, workload_name, day);
  `,
  apply: (tx, event, s) => applyCost(tx, [event], s),
  applyBatch: (tx, events, s) => applyCost(tx, events, s),
};

/** The price books and sharing settings of `clusterIds`, as projected so far. */
async function loadSettings(tx: ReadModelTx, s: string, clusterIds: readonly string[]): Promise<ClusterSettings> {
  const settings = new ClusterSettings();
  if (clusterIds.length === 0) return settings;
  const rows = await tx.query<{
    cluster_id: string;
    at: string;
    currency: string | null;
    cpu_core_hour: string | null;
    memory_gib_hour: string | null;
    gpu_hour: string | null;
    shared: boolean | null;
  }>(
    `SELECT cluster_id, extract(epoch FROM effective_from)::bigint::text AS at, currency, cpu_core_hour::text, memory_gib_hour::text, gpu_hour::text, NULL::boolean AS shared
       FROM ${s}.price_books WHERE cluster_id = ANY($1::text[])
     UNION ALL
     SELECT cluster_id, extract(epoch FROM effective_from)::bigint::text, NULL, NULL, NULL, NULL, shared
       FROM ${s}.idle_sharing WHERE cluster_id = ANY($1::text[])`,
    [clusterIds],
  );
  for (const row of rows) {
    if (row.shared === null) {
      settings.setPriceBook(row.cluster_id, Number(row.at), priceBookOf({ currency: row.currency!, cpuCoreHour: row.cpu_core_hour!, memoryGiBHour: row.memory_gib_hour!, gpuHour: row.gpu_hour }));
    } else settings.setSharing(row.cluster_id, Number(row.at), row.shared);
  }
  return settings;
}

/** Applies events in log order: price books and settings as rows, usage as additions to the roll-ups, netted per row (see `BatchChanges`). */
async function applyCost(tx: ReadModelTx, recorded: readonly RecordedEvent[], s: string): Promise<void> {
  const events = recorded.map(decode);
  const usedClusters = new Set<string>();
  for (const event of events) if (event.type === 'UsageSampled') usedClusters.add(event.data.clusterId);
  const settings = await loadSettings(tx, s, [...usedClusters]);
  const ledger = new CostLedger(settings);
  const changes = new BatchChanges(tx, s, tableSpecs);
  // Roll-ups are sums: the batch's usage is summed per workload-hour first, then rolled up once.
  const usage = new UsageSum();
  for (const event of events) {
    if (event.type === 'UsageSampled') {
      usage.addSample(event.data, settings.prices(event.data.clusterId), settings.sharing(event.data.clusterId));
      continue;
    }
    // Settings take effect for the usage after them in the log (and are stored for later batches).
    ledger.apply(event);
    if (event.type === 'PriceBookSet') {
      const { clusterId, effectiveFrom, currency, cpuCoreHour, memoryGiBHour, gpuHour } = event.data;
      changes
        .table('price_books')
        .upsert({ cluster_id: clusterId, effective_from: new Date(epochSeconds(effectiveFrom) * 1000).toISOString() }, { currency, cpu_core_hour: cpuCoreHour, memory_gib_hour: memoryGiBHour, gpu_hour: gpuHour });
    } else {
      const { clusterId, effectiveFrom, shared } = event.data;
      changes.table('idle_sharing').upsert({ cluster_id: clusterId, effective_from: new Date(epochSeconds(effectiveFrom) * 1000).toISOString() }, { shared });
    }
  }
  rollUp(usage.totals(), (table, key, measures) => changes.table(table).add(key, measures));
  await changes.flush();
}

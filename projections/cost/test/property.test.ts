import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EventLog, pgliteSqlClient, SqlEventStore, type EventStore, type SqlClient } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb, type ReadModelTx } from '@canopy/projections';
import { canopyEventRegistry } from '@canopy/schema';
import { costProjector, decode, nanosToPrice, recompute, RollupTotals, type CostEvent, type RollupTable } from '../src/index.js';
import { streamOf } from './harness.js';

const BASE = Date.parse('2026-03-01T00:00:00Z') / 1000;
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const cluster = fc.constantFrom('c1', 'c2');
const offset = fc.integer({ min: -3600, max: 2 * 86_400 });

const event: fc.Arbitrary<CostEvent> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        clusterId: cluster,
        start: fc.integer({ min: 0, max: 2 * 86_400 }),
        length: fc.integer({ min: 1, max: 3600 }),
        capacity: fc.record({ cpu: fc.integer({ min: 0, max: 20_000 }), memory: fc.integer({ min: 0, max: 2 ** 37 }), gpus: fc.integer({ min: 0, max: 4 }) }),
        rows: fc.uniqueArray(
          fc.record({
            workspaceId: fc.constantFrom('ws-a', 'ws-b', null),
            namespace: fc.constantFrom('shop', 'ops'),
            name: fc.constantFrom('api', 'web', 'db'),
            cpuUsage: fc.integer({ min: 0, max: 8000 }),
            cpuRequest: fc.integer({ min: 0, max: 8000 }),
            memoryUsage: fc.integer({ min: 0, max: 2 ** 35 }),
            memoryRequest: fc.integer({ min: 0, max: 2 ** 35 }),
            gpus: fc.integer({ min: 0, max: 2 }),
          }),
          { maxLength: 4, selector: (r) => `${r.workspaceId}/${r.namespace}/${r.name}` },
        ),
      })
      .map(({ clusterId, start, length, capacity, rows }): CostEvent => ({
        type: 'UsageSampled',
        data: { clusterId, start: iso(BASE + start), end: iso(BASE + start + length), capacity, rows: rows.map((r) => ({ ...r, kind: 'Deployment', pods: 1 })) },
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ clusterId: cluster, at: offset, currency: fc.constantFrom('USD', 'EUR'), cpu: fc.bigInt({ min: 0n, max: 10n ** 9n }), memory: fc.bigInt({ min: 0n, max: 10n ** 8n }), gpu: fc.option(fc.bigInt({ min: 0n, max: 2n * 10n ** 9n }), { nil: null }) })
      .map(({ clusterId, at, currency, cpu, memory, gpu }): CostEvent => ({
        type: 'PriceBookSet',
        data: { clusterId, effectiveFrom: iso(BASE + at), currency, cpuCoreHour: nanosToPrice(cpu), memoryGiBHour: nanosToPrice(memory), gpuHour: gpu === null ? null : nanosToPrice(gpu) },
      })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ clusterId: cluster, at: offset, shared: fc.boolean() }).map(({ clusterId, at, shared }): CostEvent => ({ type: 'IdleSharingSet', data: { clusterId, effectiveFrom: iso(BASE + at), shared } })),
  },
);

/** Append the next `events` events (runs of one stream in one append), restart the runner with another batch size, or wait for it to catch up. */
type Step = { kind: 'append'; events: number } | { kind: 'restart'; batchSize: number } | { kind: 'settle' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), events: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), batchSize: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
);

const TABLES: RollupTable[] = ['workload_hourly', 'workload_daily', 'workspace_hourly', 'workspace_daily', 'cluster_hourly', 'cluster_daily'];

/** A roll-up table as `RollupTotals` holds it: rows by their key, every measure a bigint. */
async function tableRows(db: ReadModelTx, schema: string, table: RollupTable) {
  const rows = await db.query<Record<string, string>>(
    `SELECT to_jsonb(r) - 'hour' - 'day' AS row,
            ${table.endsWith('hourly') ? `to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"')` : `to_char(day, 'YYYY-MM-DD')`} AS bucket
       FROM ${schema}.${table} AS r`,
  );
  const totals = new RollupTotals();
  const keyColumns = ['workspace_id', 'cluster_id', 'namespace', 'workload_kind', 'workload_name', 'currency'];
  for (const { row, bucket } of rows as unknown as { row: Record<string, string | number>; bucket: string }[]) {
    const key = Object.fromEntries([...Object.entries(row).filter(([column]) => keyColumns.includes(column)), [table.endsWith('hourly') ? 'hour' : 'day', bucket]]) as Record<string, string>;
    const measures = Object.fromEntries(Object.entries(row).flatMap(([column, value]) => (keyColumns.includes(column) ? [] : [[column, BigInt(value)]])));
    totals.add(table, key, measures as never);
  }
  return Object.fromEntries(totals.tables.get(table) ?? []);
}

describe('property: any usage and price events, projected live in random batches, equal a rebuild and a recomputation with the model', () => {
  let logClient: SqlClient;
  let readModels: ReadModelDb;
  let run = 0;
  beforeAll(async () => {
    [logClient, readModels] = await Promise.all([pgliteSqlClient(), openReadModelDb({ kind: 'pglite' })]);
  }, 120_000);
  afterAll(async () => {
    await logClient?.close();
    await readModels?.close();
  });

  it('holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 30 }), fc.array(step, { maxLength: 12 }), async (events, steps) => {
        const n = run++;
        const store: EventStore = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `plog_${n}` });
        const log = new EventLog(store, canopyEventRegistry());
        const db = readModels.withSchemaPrefix(`p${n}_`);
        let runner = new ProjectionRunner({ store, db, projectors: [costProjector], batchSize: 7 });
        const settle = async () => {
          const head = await store.headPosition();
          if (head !== undefined) expect(await runner.waitFor(['cost'], head, 20_000)).toBe(true);
        };
        let next = 0;
        const appendNext = async (count: number) => {
          const chunk = events.slice(next, next + count);
          next += chunk.length;
          while (chunk.length > 0) {
            const stream = streamOf(chunk[0]!);
            const run = chunk.splice(0, chunk.findIndex((e) => streamOf(e) !== stream) === -1 ? chunk.length : chunk.findIndex((e) => streamOf(e) !== stream));
            await log.append(
              stream,
              run.map((e) => ({ type: e.type, data: e.data })),
            );
          }
        };
        try {
          await runner.start();
          for (const s of steps) {
            if (s.kind === 'append') await appendNext(s.events);
            else if (s.kind === 'restart') {
              await runner.stop();
              runner = new ProjectionRunner({ store, db, projectors: [costProjector], batchSize: s.batchSize });
              await runner.start();
            } else await settle();
          }
          await appendNext(events.length);
          await settle();

          // The model, over the log as recorded (its order is the order prices take effect in).
          const recorded: CostEvent[] = [];
          for await (const e of store.readAll()) recorded.push(decode(e));
          expect(recorded.map((e) => e.type)).toEqual(events.map((e) => e.type));
          const expected = recompute(recorded);
          for (const table of TABLES) expect(await tableRows(db, runner.activeSchema('cost'), table)).toEqual(Object.fromEntries(expected.tables.get(table) ?? []));

          const live = await runner.checksum('cost');
          const scratch = new ProjectionRunner({ store, db: db.withSchemaPrefix(`p${n}_clean_`), projectors: [costProjector] });
          await scratch.rebuild();
          const rebuilt = await scratch.checksum('cost');
          expect([rebuilt.checksum, rebuilt.position]).toEqual([live.checksum, live.position]);
        } finally {
          await runner.stop();
          await store.close();
        }
      }),
      { numRuns: 20 },
    );
  }, 300_000);
});

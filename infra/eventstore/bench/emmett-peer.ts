/**
 * The peer baseline: @event-driven-io/emmett-postgresql on the same server,
 * in a schema of its own (emmett does not qualify its table names, so its
 * connections get `search_path` = that schema).
 *
 * - appends: `store.appendToStream(stream, events, { expectedStreamVersion })`
 *   (emmett's versions count events, so "n events in the stream" is version n);
 * - read-all: emmett's event store has no read-all; its equivalent is
 *   `readMessagesBatch` — the query its consumers poll with — paged over all
 *   messages 1,000 at a time, as the SQL adapters page;
 * - catch-up: `postgreSQLEventStoreMessageBatchPuller`, the puller under
 *   `store.consumer()`, from BEGINNING with batchSize 1,000 and
 *   pullingFrequencyInMs 0, stopped when the last event is delivered (the
 *   consumer's defaults — 100 per batch, 50 ms between batches — would cap it
 *   near 2,000 events/s; its reactors also store a checkpoint per message,
 *   which the port's subscription does not, so no reactor is attached).
 */
import {
  getPostgreSQLEventStore,
  postgreSQLEventStoreMessageBatchPuller,
  readMessagesBatch,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { SIZES, packageVersion } from './config.js';
import { freshSchema, run, withSearchPath } from './postgres-server.js';
import type { BenchTarget, OpenedTarget } from './target.js';

type Executor = Parameters<typeof readMessagesBatch>[0];

export async function openEmmettPeer(url: string): Promise<OpenedTarget> {
  const clash = await run<{ schema: string }>(
    url,
    `SELECT n.nspname AS schema FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'emt_append_to_stream'`,
  );
  if (clash.length > 0) {
    // Emmett's migration skips creating a function that exists by name in any schema, so it would not install into ours.
    throw new Error(`emmett's functions already exist in schema ${clash.map((c) => c.schema).join(', ')} of this database; the peer needs a database without them.`);
  }
  const schema = await freshSchema(url, 'canopy_bench_emmett');
  const scopedUrl = withSearchPath(url, schema.name);
  const store = getPostgreSQLEventStore(scopedUrl);
  // Emmett's pool sets pg's global type parsers (int8 as bigint, json through its serializer); reads below use
  // the same `pg`, so they parse exactly as emmett's own executor does.
  const pool = new pg.Pool({ connectionString: scopedUrl, max: 2 });
  pool.on('error', () => {});
  const executor = pgExecutor(pool);
  try {
    await store.schema.migrate();
  } catch (error) {
    await Promise.allSettled([store.close(), pool.end()]);
    await schema.drop();
    throw error;
  }

  const target: BenchTarget = {
    async append(stream, events, eventsInStream) {
      await store.appendToStream(stream, [...events], { expectedStreamVersion: BigInt(eventsInStream) });
    },

    async readAll(limit = Number.POSITIVE_INFINITY) {
      let count = 0;
      let after = 0n;
      for (;;) {
        const batch = await readMessagesBatch(executor, { after, batchSize: SIZES.pageSize });
        count += batch.messages.length;
        after = batch.currentGlobalPosition;
        if (!batch.areMessagesLeft || count >= limit) return count;
      }
    },

    async catchUp(expected) {
      let count = 0;
      const puller = postgreSQLEventStoreMessageBatchPuller({
        executor,
        batchSize: SIZES.pageSize,
        pullingFrequencyInMs: 0,
        signal: new AbortController().signal,
        stopWhen: { noMessagesLeft: true },
        eachBatch: async (messages) => {
          count += messages.length;
          return count >= expected ? { type: 'STOP' } : undefined;
        },
      });
      await puller.start({ startFrom: 'BEGINNING' });
      return count;
    },
  };

  return {
    target,
    notes: [
      `@event-driven-io/emmett-postgresql ${packageVersion('@event-driven-io/emmett-postgresql')} in its own schema ${schema.name} (dropped afterwards)`,
    ],
    async close() {
      await Promise.allSettled([store.close(), pool.end()]);
      await schema.drop();
    },
  };
}

/** An SQLExecutor like dumbo's node-postgres one (a pooled `client.query` per statement). */
function pgExecutor(pool: pg.Pool): Executor {
  const one = async (sql: string) => {
    const result = await pool.query(sql);
    return { rowCount: result.rowCount, rows: result.rows };
  };
  const many = async (sqls: string[]) => {
    const results = [];
    for (const sql of sqls) results.push(await one(sql));
    return results;
  };
  return { query: one, command: one, batchQuery: many, batchCommand: many } as unknown as Executor;
}

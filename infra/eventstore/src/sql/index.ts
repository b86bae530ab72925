import type { EventStore } from '../event-store.js';
import { pgliteSqlClient } from './pglite-client.js';
import { pgSqlClient } from './pg-client.js';
import { SqlEventStore, type SqlEventStoreOptions } from './sql-event-store.js';

export { SqlEventStore, type SqlEventStoreOptions } from './sql-event-store.js';
export type { SqlClient } from './sql-client.js';
export { pgSqlClient } from './pg-client.js';
export { pgliteSqlClient } from './pglite-client.js';
export { openPGlite } from './pglite-open.js';

/** The embedded log: PGlite in memory, or persisted under `dataDir`. */
export async function openPgliteEventStore(options: SqlEventStoreOptions & { dataDir?: string } = {}): Promise<EventStore> {
  return SqlEventStore.open(await pgliteSqlClient({ dataDir: options.dataDir }), { autoAnalyze: true, ...options });
}

/**
 * The log on a PostgreSQL server. It analyzes its table as autovacuum would
 * (`autoAnalyze`): a server with autovacuum off, or a log filled within
 * autovacuum's nap, would otherwise be read with plans made without
 * statistics (a catch-up page sorting the whole rest of the log).
 */
export async function openPostgresEventStore(connectionString: string, options: SqlEventStoreOptions & { poolSize?: number } = {}): Promise<EventStore> {
  return SqlEventStore.open(pgSqlClient({ connectionString, max: options.poolSize }), { autoAnalyze: true, ...options });
}

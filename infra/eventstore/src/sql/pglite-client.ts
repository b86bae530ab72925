import { openPGlite } from './pglite-open.js';
import type { SqlClient } from './sql-client.js';

/**
 * A SqlClient over an embedded PGlite database: in memory when `dataDir` is
 * absent, else persisted in that directory.
 */
export async function pgliteSqlClient(options: { dataDir?: string } = {}): Promise<SqlClient> {
  const db = await openPGlite(options.dataDir);
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await db.query<Row>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, (payload) => onNotify(payload));
      return async () => unlisten();
    },
    async close() {
      await db.close();
    },
  };
}

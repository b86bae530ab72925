import pg from 'pg';
import type { SqlClient } from './sql-client.js';

export interface PgClientOptions {
  connectionString: string;
  /** Pool size; defaults to 10. */
  max?: number;
}

/** A SqlClient over a `pg` pool; LISTEN uses one dedicated connection. */
export function pgSqlClient(options: PgClientOptions): SqlClient {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
  // An idle client losing its server connection must not crash the process;
  // the next query reports the failure to its caller.
  pool.on('error', () => {});
  const listeners = new Set<pg.Client>();

  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await pool.query(sql, params as unknown[]);
      return result.rows as Row[];
    },
    async exec(sql: string): Promise<void> {
      await pool.query(sql);
    },
    async listen(channel, onNotify) {
      const client = new pg.Client({ connectionString: options.connectionString });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload);
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.add(client);
      return async () => {
        listeners.delete(client);
        await client.end().catch(() => {});
      };
    },
    async close() {
      await Promise.all([...listeners].map((client) => client.end().catch(() => {})));
      listeners.clear();
      await pool.end();
    },
  };
}

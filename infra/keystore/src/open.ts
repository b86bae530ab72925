import { pgliteSqlClient, pgSqlClient, redactUrl } from '@canopy/eventstore';
import { KeyStore } from './key-store.js';

/**
 * Where the data keys live. Keep them apart from the log: PGlite in its own
 * `dataDir` (never the log's; one PGlite directory serves one instance), or a
 * PostgreSQL schema (ideally a database whose backups are not the log's).
 */
export type KeyStoreConfig = { kind: 'pglite'; dataDir?: string } | { kind: 'postgres'; url: string; schema?: string };

export interface OpenedKeyStore {
  keys: KeyStore;
  /** Where the keys live, for the startup log line (no password). */
  description: string;
  /** Closes the database connection(s) the key store opened. */
  close(): Promise<void>;
}

/** Opens the key store and its own database connection; `close()` releases it. */
export async function openKeyStore(config: KeyStoreConfig, masterKey: Buffer): Promise<OpenedKeyStore> {
  const sql =
    config.kind === 'pglite' ? await pgliteSqlClient({ dataDir: config.dataDir }) : pgSqlClient({ connectionString: config.url, max: 4 });
  const description =
    config.kind === 'pglite'
      ? `embedded PGlite ${config.dataDir ? `in ${config.dataDir}` : 'in memory'}`
      : `PostgreSQL at ${redactUrl(config.url)}, schema ${config.schema ?? 'public'}`;
  try {
    const keys = await KeyStore.open(sql, { masterKey, schema: config.kind === 'postgres' ? config.schema : undefined });
    return { keys, description, close: () => sql.close() };
  } catch (error) {
    await sql.close().catch(() => {});
    throw error;
  }
}

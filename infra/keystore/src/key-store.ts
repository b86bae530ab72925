import { randomBytes } from 'node:crypto';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { SqlClient } from '@canopy/eventstore';
import { MASTER_KEY_BYTES } from './master-key.js';
import { unwrapKey, wrapKey } from './wrap.js';

export interface KeyStoreOptions {
  /** The 32-byte key that wraps every data key (see `parseMasterKey`). */
  masterKey: Buffer;
  /** PostgreSQL schema holding `canopy_data_keys`; defaults to `public`. */
  schema?: string;
}

/**
 * Version of the master key a data key is wrapped with. Always 1 until
 * master-key rotation exists; then rows say which master key to unwrap with.
 */
const MASTER_KEY_VERSION = 1;

interface KeyRow {
  wrapped_key: string | null;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function migration(schema: string, table: string): string {
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext(${literal(`canopy-keystore-migrate:${schema}`)}));
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};
CREATE TABLE IF NOT EXISTS ${table} (
  workspace_id text PRIMARY KEY,
  wrapped_key text NULL,
  key_version int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  destroyed_at timestamptz NULL,
  CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);
COMMIT;
`;
}

function destroyed(workspaceId: string): CanopyError {
  return new CanopyError(
    ErrorCode.SECRET_KEY_DESTROYED,
    `The data key of workspace ${workspaceId} was destroyed with the workspace: its secret values can no longer be decrypted.`,
    { workspaceId },
  );
}

function checkWorkspaceId(workspaceId: string): void {
  if (typeof workspaceId !== 'string' || workspaceId.length === 0) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'A workspace id is required to find its data key.', { field: 'workspaceId' });
  }
}

/**
 * Per-workspace data keys, kept outside the log in `canopy_data_keys`, each
 * wrapped by the master key. Destroying a workspace's key (crypto-shredding)
 * makes every secret sealed with it unreadable, for good, while the events
 * that carry them stay in the log.
 *
 * No cache, on purpose: every `dataKey` call reads the row. Measured, that
 * costs about 0.3-0.7 ms (one primary-key lookup on PGlite or a local
 * PostgreSQL; the AES part is ~20 µs), which secrets, written by commands
 * and read by reconcilers, can afford. In exchange `destroy` takes effect
 * at once in every process sharing the table (a cache would keep shredded
 * keys usable elsewhere until evicted) and unwrapped keys do not linger in
 * memory.
 */
export class KeyStore {
  private readonly table: string;

  private constructor(
    private readonly sql: SqlClient,
    private readonly masterKey: Buffer,
    schema: string,
  ) {
    this.table = `${quoteIdent(schema)}.canopy_data_keys`;
  }

  /**
   * Creates the table when missing (idempotent, safe for concurrent
   * processes) and checks the master key against a stored data key, so a
   * wrong CANOPY_MASTER_KEY fails at start rather than at the first secret.
   * The caller keeps ownership of `sql` and closes it.
   */
  static async open(sql: SqlClient, options: KeyStoreOptions): Promise<KeyStore> {
    if (!Buffer.isBuffer(options.masterKey) || options.masterKey.length !== MASTER_KEY_BYTES) {
      throw new CanopyError(ErrorCode.BAD_USER_INPUT, `The master key must be ${MASTER_KEY_BYTES} bytes (see CANOPY_MASTER_KEY).`, { field: 'CANOPY_MASTER_KEY' });
    }
    const schema = options.schema ?? 'public';
    const store = new KeyStore(sql, Buffer.from(options.masterKey), schema);
    await sql.exec(migration(schema, store.table));
    const [sample] = await sql.query<{ workspace_id: string; wrapped_key: string }>(
      `SELECT workspace_id, wrapped_key FROM ${store.table} WHERE wrapped_key IS NOT NULL LIMIT 1`,
    );
    if (sample) unwrapKey(store.masterKey, sample.workspace_id, sample.wrapped_key);
    return store;
  }

  /**
   * The workspace's 32-byte data key, created on first use. Concurrent first
   * calls, in one process or several, all get the same key: the first insert
   * wins and everyone reads the winner's row. A destroyed key throws
   * SECRET_KEY_DESTROYED and is never replaced. With `create: false` a
   * workspace that has no key yet is an INTERNAL error instead.
   */
  async dataKey(workspaceId: string, options: { create?: boolean } = {}): Promise<Buffer> {
    checkWorkspaceId(workspaceId);
    let row = await this.read(workspaceId);
    if (!row) {
      if (options.create === false) {
        throw new CanopyError(ErrorCode.INTERNAL, `Workspace ${workspaceId} has no data key, so nothing was ever sealed for it with this key store.`, { workspaceId });
      }
      const wrapped = wrapKey(this.masterKey, workspaceId, randomBytes(32));
      await this.sql.query(
        `INSERT INTO ${this.table} (workspace_id, wrapped_key, key_version) VALUES ($1, $2, $3) ON CONFLICT (workspace_id) DO NOTHING`,
        [workspaceId, wrapped, MASTER_KEY_VERSION],
      );
      // A separate statement, so its snapshot includes a row a concurrent caller committed first.
      row = await this.read(workspaceId);
      if (!row) throw new CanopyError(ErrorCode.INTERNAL, `The data key of workspace ${workspaceId} vanished while it was being created.`, { workspaceId });
    }
    if (row.wrapped_key === null) throw destroyed(workspaceId);
    return unwrapKey(this.masterKey, workspaceId, row.wrapped_key);
  }

  /**
   * Destroys the workspace's data key: every value sealed with it becomes
   * unrecoverable. Idempotent; for a workspace that never had a key it
   * leaves a tombstone so none is ever created.
   */
  async destroy(workspaceId: string): Promise<void> {
    checkWorkspaceId(workspaceId);
    await this.sql.query(
      `INSERT INTO ${this.table} AS k (workspace_id, wrapped_key, key_version, destroyed_at) VALUES ($1, NULL, $2, now())
       ON CONFLICT (workspace_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = coalesce(k.destroyed_at, excluded.destroyed_at)`,
      [workspaceId, MASTER_KEY_VERSION],
    );
  }

  async isDestroyed(workspaceId: string): Promise<boolean> {
    checkWorkspaceId(workspaceId);
    const row = await this.read(workspaceId);
    return row !== undefined && row.wrapped_key === null;
  }

  private async read(workspaceId: string): Promise<KeyRow | undefined> {
    const [row] = await this.sql.query<KeyRow>(`SELECT wrapped_key FROM ${this.table} WHERE workspace_id = $1`, [workspaceId]);
    return row;
  }
}

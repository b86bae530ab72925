import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openPGlite, redactUrl } from '@canopy/eventstore';

/** What a projector (and the runtime) may run: statements with parameters, and scripts. */
export interface ReadModelTx {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements, without parameters. */
  exec(script: string): Promise<void>;
}

/**
 * Scripts joined into one, in order. Each separator starts on a line of its
 * own, so that a script ending in a comment does not swallow the next one.
 */
export function joinScripts(scripts: readonly string[]): string {
  return scripts.map((script) => script.trim().replace(/;$/, '')).join('\n;\n');
}

/** The read models' database: embedded PGlite or a PostgreSQL server. */
export interface ReadModelDb extends ReadModelTx {
  /** Where the read models live, for log lines (no password). */
  readonly description: string;
  /** Put in front of every SQL schema the runtime creates ('' for none). */
  readonly schemaPrefix: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: ReadModelTx) => Promise<T>): Promise<T>;
  /**
   * The same database and connection(s) under another schema prefix: a
   * second set of read models beside the first (a scratch rebuild to compare
   * checksums with, a test of its own). Its `close()` does nothing; close
   * the original.
   */
  withSchemaPrefix(schemaPrefix: string): ReadModelDb;
  close(): Promise<void>;
}

export type ReadModelDbConfig =
  | { kind: 'pglite'; dataDir?: string; schemaPrefix?: string }
  | { kind: 'postgres'; url: string; schemaPrefix?: string; poolSize?: number };

const PREFIX = /^([a-z_][a-z0-9_]{0,27})?$/;

function checkPrefix(prefix: string | undefined): string {
  const value = prefix ?? '';
  if (!PREFIX.test(value)) throw new Error(`schemaPrefix must be lower-case letters, digits and underscores (at most 28: schema names have at most 63), got ${JSON.stringify(value)}`);
  return value;
}

/** Opens the read models' database; `close()` releases it. */
export async function openReadModelDb(config: ReadModelDbConfig): Promise<ReadModelDb> {
  const schemaPrefix = checkPrefix(config.schemaPrefix);
  return withPrefixes(config.kind === 'pglite' ? await openPglite(config.dataDir) : openPostgres(config.url, config.poolSize ?? 10), schemaPrefix);
}

type Connection = Omit<ReadModelDb, 'schemaPrefix' | 'withSchemaPrefix'>;

function withPrefixes(connection: Connection, schemaPrefix: string): ReadModelDb {
  return {
    ...connection,
    schemaPrefix,
    withSchemaPrefix: (prefix) => withPrefixes({ ...connection, close: async () => {} }, checkPrefix(prefix)),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Connection> {
  const db = await openPGlite(dataDir);
  const over = (target: Pick<PGlite, 'query' | 'exec'>): ReadModelTx => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await target.query<Row>(sql, params as unknown[])).rows;
    },
    async exec(script: string) {
      await target.exec(script);
    },
  });
  return {
    description: `embedded PGlite ${dataDir ? `in ${dataDir}` : 'in memory'}`,
    ...over(db),
    // PGlite has one connection: a transaction holds it, and other queries wait for it to end.
    transaction: (fn) => db.transaction((tx) => fn(over(tx))),
    close: () => db.close(),
  };
}

function openPostgres(url: string, poolSize: number): Connection {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its server connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const over = (target: pg.Pool | pg.PoolClient): ReadModelTx => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await target.query(sql, params as unknown[])).rows as Row[];
    },
    async exec(script: string) {
      await target.query(script);
    },
  });
  return {
    description: `PostgreSQL at ${redactUrl(url)}`,
    ...over(pool),
    async transaction(fn) {
      const client = await pool.connect();
      const tx = new BatchedTransaction(client);
      let broken = false;
      try {
        const result = await fn(tx);
        await tx.commit();
        return result;
      } catch (error) {
        if (tx.begun) await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * A transaction on one PostgreSQL connection that costs as few round trips
 * as its work allows: BEGIN goes out with the first statement, and scripts
 * wait until a query needs the database or the commit, so a transaction of
 * scripts only (a projector's batch) is one message, `BEGIN; …; COMMIT`.
 * Every message is a write to the server's socket, which on a virtual
 * machine costs more than the statement. An error in a script surfaces at
 * the query or the commit that sent it: the transaction fails either way.
 */
class BatchedTransaction implements ReadModelTx {
  /** Whether BEGIN has gone to the server (a rollback is then owed if the work fails). */
  begun = false;
  private scripts: string[] = [];

  constructor(private readonly client: pg.PoolClient) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    await this.send();
    return (await this.client.query(sql, params as unknown[])).rows as Row[];
  }

  async exec(script: string): Promise<void> {
    this.scripts.push(script);
  }

  async commit(): Promise<void> {
    if (!this.begun && this.scripts.length === 0) return;
    this.scripts.push('COMMIT');
    await this.send();
  }

  /** Sends BEGIN (once) and the waiting scripts, as one message. */
  private async send(): Promise<void> {
    if (this.begun && this.scripts.length === 0) return;
    const parts = this.begun ? this.scripts : ['BEGIN', ...this.scripts];
    this.scripts = [];
    this.begun = true;
    await this.client.query(joinScripts(parts));
  }
}

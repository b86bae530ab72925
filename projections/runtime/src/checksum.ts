import type { ReadModelDb, ReadModelTx } from './read-model-db.js';

export interface TableChecksum {
  table: string;
  rows: number;
  /** md5 of the table's rows as text, sorted bytewise, one per line. */
  md5: string;
}

export interface SchemaChecksum {
  /** md5 over every table's name and md5, in table-name order: equal checksums mean equal contents. */
  checksum: string;
  tables: TableChecksum[];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A checksum of every table of `schema`, computed in SQL from one snapshot.
 * It covers contents only (not the schema's name), so two schemas built the
 * same way from the same events compare equal, on one database or two.
 */
export async function checksumSchema(db: ReadModelDb, schema: string): Promise<SchemaChecksum> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    return checksumInTransaction(tx, schema);
  });
}

/** As `checksumSchema`, inside a transaction the caller opened (REPEATABLE READ, for one snapshot on PostgreSQL). */
export async function checksumInTransaction(tx: ReadModelTx, schema: string): Promise<SchemaChecksum> {
  const names = await tx.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE "C"`,
    [schema],
  );
  const tables: TableChecksum[] = [];
  for (const { table_name: table } of names) {
    const [row] = await tx.query<{ rows: string; md5: string }>(
      `SELECT count(*)::text AS rows, md5(coalesce(string_agg(r, E'\\n' ORDER BY r COLLATE "C"), '')) AS md5
       FROM (SELECT t::text AS r FROM ${quoteIdent(schema)}.${quoteIdent(table)} AS t) AS rows_as_text`,
    );
    tables.push({ table, rows: Number(row!.rows), md5: row!.md5 });
  }
  const [total] = await tx.query<{ md5: string }>(`SELECT md5($1) AS md5`, [tables.map((t) => `${t.table}:${t.md5}`).join('\n')]);
  return { checksum: total!.md5, tables };
}

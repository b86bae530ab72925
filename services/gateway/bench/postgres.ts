/** The PostgreSQL server both sides share: probe it, and give the run a schema of its own. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Probe = { ok: true; version: string } | { ok: false; reason: string };

/** Whether a server answers at `url`, and its version. */
export async function probePostgres(url: string): Promise<Probe> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const rows = (await client.query<{ server_version: string }>('SHOW server_version')).rows;
    return { ok: true, version: `PostgreSQL ${rows[0]!.server_version}` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message || error.name : String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh, uniquely named schema (a lower-case identifier, as CANOPY_POSTGRES_SCHEMA requires); `drop()` removes it and everything in it. */
export async function freshSchema(url: string, prefix: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await run(url, `CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
  return {
    name,
    async drop() {
      await run(url, `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
    },
  };
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

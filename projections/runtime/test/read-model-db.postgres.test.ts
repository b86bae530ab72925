import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';
import { openReadModelDb, type ReadModelDb } from '../src/index.js';

describe('read model transactions on PostgreSQL (BEGIN with the first statement, scripts with the commit)', () => {
  const url = requirePostgresUrl();
  const schema = uniqueSchema('rmtx');
  const table = `${schema}.t`;
  let db: ReadModelDb;
  const rows = async () => (await db.query<{ k: string }>(`SELECT k FROM ${table} ORDER BY k`)).map((row) => row.k);

  beforeAll(async () => {
    db = await openReadModelDb({ kind: 'postgres', url, poolSize: 2 });
    await db.exec(`CREATE SCHEMA ${schema}; CREATE TABLE ${table} (k text PRIMARY KEY)`);
  });
  afterAll(async () => {
    await db?.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db?.close();
  });

  it('commits scripts only as one transaction, even one that ends in a comment', async () => {
    await db.transaction(async (tx) => {
      await tx.exec(`INSERT INTO ${table} VALUES ('a'); -- the first`);
      await tx.exec(`INSERT INTO ${table} VALUES ('b') -- no semicolon`);
    });
    expect(await rows()).toEqual(['a', 'b']);
  });

  it('lets a query see the scripts before it, in the same transaction', async () => {
    const seen = await db.transaction(async (tx) => {
      await tx.exec(`INSERT INTO ${table} VALUES ('c')`);
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE k = $1`, ['c']))[0]!.n;
    });
    expect(seen).toBe(1);
  });

  it('applies nothing when a script fails, and leaves the connections usable', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ($1)`, ['d']);
        await tx.exec(`INSERT INTO ${table} VALUES ('e')`);
        await tx.exec(`INSERT INTO ${table} VALUES ('a')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      db.transaction(async (tx) => {
        await tx.exec(`INSERT INTO ${table} VALUES ('f')`);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    // Both pooled connections serve again, outside any transaction.
    await Promise.all([db.transaction(async (tx) => tx.exec(`INSERT INTO ${table} VALUES ('g')`)), db.transaction(async (tx) => tx.exec(`INSERT INTO ${table} VALUES ('h')`))]);
    expect(await rows()).toEqual(['a', 'b', 'c', 'g', 'h']);
  });
});

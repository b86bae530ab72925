import { expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BatchChanges, checksumSchema, type ReadModelDb, type ReadModelTx, type TableSpec } from '../src/index.js';

/**
 * TableChanges nets a batch's changes per row and writes them as a few
 * multi-row statements; its one promise is that the result equals applying
 * every change in order, one statement each. These cases check that promise
 * on random batches against a table that already holds rows.
 */
const spec = {
  table: 'items',
  key: { owner: 'text', name: 'text' },
  columns: { size: 'integer', label: 'text', tags: 'jsonb' },
  counters: { hits: 'bigint', total: 'numeric' },
} as const satisfies TableSpec;

const TABLE = `
  CREATE TABLE {s}.items (
    owner text NOT NULL,
    name text NOT NULL,
    size integer,
    label text NOT NULL DEFAULT 'fresh',
    tags jsonb,
    hits bigint NOT NULL DEFAULT 0,
    total numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, name)
  );`;

type Op =
  | { kind: 'upsert'; owner: string; name: string; values: { size?: number | null; label?: string; tags?: string } }
  | { kind: 'update'; owner: string; name: string; values: { size?: number | null; label?: string } }
  | { kind: 'add'; owner: string; name: string; amounts: { hits?: number; total?: bigint } }
  | { kind: 'delete'; owner: string; name: string }
  | { kind: 'deleteWhere'; owner: string };

const owner = fc.constantFrom('a', "o'q");
const name = fc.constantFrom('x', 'quote"d', 'z');
const someValues = fc.record(
  { size: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }), label: fc.string({ maxLength: 4 }), tags: fc.json({ maxDepth: 1 }) },
  { requiredKeys: [] },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('upsert' as const), owner, name, values: someValues }),
  fc.record({ kind: fc.constant('update' as const), owner, name, values: fc.record({ size: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }), label: fc.string({ maxLength: 4 }) }, { requiredKeys: [] }) }),
  fc.record({
    kind: fc.constant('add' as const),
    owner,
    name,
    // Beyond what a JavaScript number holds exactly: amounts are summed as bigints.
    amounts: fc.record({ hits: fc.integer({ min: -3, max: 3 }), total: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }) }, { requiredKeys: [] }),
  }),
  fc.record({ kind: fc.constant('delete' as const), owner, name }),
  fc.record({ kind: fc.constant('deleteWhere' as const), owner }),
);

/** What each change means, as one plain statement. */
async function applyOneByOne(db: ReadModelDb, s: string, ops: readonly Op[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const o of ops) {
      if (o.kind === 'deleteWhere') await tx.query(`DELETE FROM ${s}.items WHERE owner = $1`, [o.owner]);
      else if (o.kind === 'delete') await tx.query(`DELETE FROM ${s}.items WHERE owner = $1 AND name = $2`, [o.owner, o.name]);
      else if (o.kind === 'add') {
        const columns = Object.keys(o.amounts);
        const onConflict = columns.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${columns.map((c) => `${c} = t.${c} + EXCLUDED.${c}`).join(', ')}`;
        await tx.query(
          `INSERT INTO ${s}.items AS t (owner, name${columns.map((c) => `, ${c}`).join('')}) VALUES ($1, $2${columns.map((_, i) => `, $${i + 3}`).join('')}) ON CONFLICT (owner, name) ${onConflict}`,
          [o.owner, o.name, ...Object.values(o.amounts).map(String)],
        );
      } else {
        const columns = Object.keys(o.values);
        const values = Object.values(o.values);
        if (o.kind === 'update') {
          if (columns.length > 0) {
            await tx.query(`UPDATE ${s}.items SET ${columns.map((c, i) => `${c} = $${i + 3}`).join(', ')} WHERE owner = $1 AND name = $2`, [o.owner, o.name, ...values]);
          }
        } else {
          const placeholders = ['$1', '$2', ...columns.map((_, i) => `$${i + 3}`)].join(', ');
          const onConflict = columns.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
          await tx.query(`INSERT INTO ${s}.items (owner, name${columns.map((c) => `, ${c}`).join('')}) VALUES (${placeholders}) ON CONFLICT (owner, name) ${onConflict}`, [
            o.owner,
            o.name,
            ...values,
          ]);
        }
      }
    }
  });
}

async function applyNetted(db: ReadModelDb, s: string, ops: readonly Op[]): Promise<void> {
  await db.transaction(async (tx) => {
    const changes = new BatchChanges(tx, s, { items: spec });
    const items = changes.table('items');
    for (const o of ops) {
      if (o.kind === 'deleteWhere') items.deleteWhere({ owner: o.owner });
      else if (o.kind === 'delete') items.delete({ owner: o.owner, name: o.name });
      else if (o.kind === 'add') items.add({ owner: o.owner, name: o.name }, o.amounts);
      else if (o.kind === 'update') {
        if (Object.keys(o.values).length > 0) items.update({ owner: o.owner, name: o.name }, o.values);
      } else items.upsert({ owner: o.owner, name: o.name }, o.values);
    }
    await changes.flush();
  });
}

/** `prefix`: put in front of every schema the cases create (a server is shared). */
export function rowChangesCases(database: () => ReadModelDb, prefix = ''): void {
  it('nets any batch of upserts, updates, additions and deletes to what applying them one by one gives', async () => {
    const db = database();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), fc.array(op, { maxLength: 30 }), async (before, batch) => {
        const schemas = [`${prefix}rc${run}_plain`, `${prefix}rc${run}_netted`];
        run++;
        for (const s of schemas) {
          await db.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s}; ${TABLE.replace('{s}', s)}`);
          // The same rows to start from, then the batch.
          await applyOneByOne(db, s, before);
        }
        await applyOneByOne(db, schemas[0]!, batch);
        await applyNetted(db, schemas[1]!, batch);
        const [plain, netted] = await Promise.all(schemas.map((s) => checksumSchema(db, s)));
        expect(netted).toEqual(plain);
        for (const s of schemas) await db.exec(`DROP SCHEMA ${s} CASCADE`);
      }),
      { numRuns: 150 },
    );
  });

  it('writes a batch in a few statements, however many changes it holds', async () => {
    const db = database();
    const s = `${prefix}rc_count`;
    await db.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s}; ${TABLE.replace('{s}', s)}`);
    let statements = 0;
    await db.transaction(async (tx) => {
      const counting: ReadModelTx = {
        query: <Row>(sql: string, params?: readonly unknown[]) => (statements++, tx.query<Row>(sql, params)),
        exec: (script: string) => tx.exec(script),
      };
      const changes = new BatchChanges(counting, s, { items: spec });
      for (let i = 0; i < 500; i++) changes.table('items').upsert({ owner: `o${i % 7}`, name: `n${i}` }, { size: i, label: 'x' });
      for (let i = 0; i < 100; i++) changes.table('items').delete({ owner: `o${i % 7}`, name: `gone${i}` });
      for (let i = 0; i < 1000; i++) changes.table('items').add({ owner: 'counted', name: `n${i % 50}` }, { hits: 1, total: 2n ** 60n });
      await changes.flush();
    });
    expect(statements).toBe(3);
    const [row] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${s}.items`);
    expect(row!.n).toBe('550');
    const [counted] = await db.query<{ hits: string; total: string }>(`SELECT sum(hits)::text AS hits, sum(total)::text AS total FROM ${s}.items WHERE owner = 'counted'`);
    expect(counted).toEqual({ hits: '1000', total: String(1000n * 2n ** 60n) });
    await db.exec(`DROP SCHEMA ${s} CASCADE`);
  });

  it('refuses a partial delete on a column outside the key, and a key with a column missing', () => {
    const db = database();
    const changes = new BatchChanges(db, 'unused', { items: spec });
    expect(() => changes.table('items').deleteWhere({ label: 'x' })).toThrow(/key columns only/);
    expect(() => changes.table('items').upsert({ owner: 'a' })).toThrow(/key column name is missing/);
  });

  it('adds to counter columns only, integers only, and never sets a counter', () => {
    const db = database();
    const items = new BatchChanges(db, 'unused', { items: spec }).table('items');
    expect(() => items.add({ owner: 'a', name: 'x' }, { size: 1 })).toThrow(/counter columns only, not size/);
    expect(() => items.add({ owner: 'a', name: 'x' }, { hits: 0.5 })).toThrow(/must be added an integer/);
    expect(() => items.upsert({ owner: 'a', name: 'x' }, { hits: 1 })).toThrow(/hits is a counter/);
    expect(() => items.update({ owner: 'a', name: 'x' }, { total: 1 })).toThrow(/total is a counter/);
  });
}

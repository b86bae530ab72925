import pg from 'pg';
import { describeEventStoreContract } from './contract/index.js';
import { describeSharedLog } from './contract/shared-log.js';
import { openPostgresEventStore } from '../src/sql/index.js';
import { requirePostgresUrl, uniqueSchema } from '../testing/index.js';

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}

describeEventStoreContract('PostgreSQL (server)', async () => {
  const url = requirePostgresUrl();
  const schema = uniqueSchema('contract');
  const store = await openPostgresEventStore(url, { schema });
  return {
    store,
    async close() {
      await store.close();
      await dropSchema(url, schema);
    },
  };
});

describeSharedLog('two stores (pools) on one PostgreSQL schema', async () => {
  const url = requirePostgresUrl();
  const schema = uniqueSchema('shared');
  const stores = [await openPostgresEventStore(url, { schema }), await openPostgresEventStore(url, { schema })] as const;
  return {
    stores: [stores[0], stores[1]],
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(url, schema);
    },
  };
});

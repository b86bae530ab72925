import pg from 'pg';
import { describeEventStoreContract } from './contract/index.js';
import { openPostgresEventStore } from '../src/sql/index.js';
import { requirePostgresUrl, uniqueSchema } from './postgres-url.js';

describeEventStoreContract('PostgreSQL (server)', async () => {
  const url = requirePostgresUrl();
  const schema = uniqueSchema('contract');
  const store = await openPostgresEventStore(url, { schema });
  return {
    store,
    async close() {
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
});

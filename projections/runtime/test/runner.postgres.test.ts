import { describe } from '@jest/globals';
import { openPostgresEventStore } from '@canopy/eventstore';
import { openReadModelDb } from '../src/index.js';
import { runtimeCases } from './cases.js';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';

describe('ProjectionRunner on PostgreSQL (log and read models on the server)', () => {
  const url = requirePostgresUrl();
  let n = 0;
  runtimeCases({
    async open() {
      const prefix = `${uniqueSchema('rmtest')}_${n++}_`;
      const logSchema = `${prefix}log`;
      const [store, db] = await Promise.all([openPostgresEventStore(url, { schema: logSchema }), openReadModelDb({ kind: 'postgres', url, schemaPrefix: prefix })]);
      return {
        store,
        db,
        close: async () => {
          await store.close();
          const schemas = await db.query<{ schema_name: string }>(`SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, $1)`, [prefix]);
          for (const { schema_name: schema } of schemas) await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
          await db.close();
        },
      };
    },
  });
});

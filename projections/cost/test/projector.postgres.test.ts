import { describe } from '@jest/globals';
import { openPostgresEventStore } from '@canopy/eventstore';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';
import { openReadModelDb } from '@canopy/projections';
import { projectorCases } from './projector-cases.js';

describe('the cost read model on PostgreSQL (log and read models on the server)', () => {
  const url = requirePostgresUrl();
  let n = 0;
  projectorCases({
    async open() {
      const prefix = `${uniqueSchema('cost')}_${n++}_`;
      const [store, db] = await Promise.all([openPostgresEventStore(url, { schema: `${prefix}log` }), openReadModelDb({ kind: 'postgres', url, schemaPrefix: prefix })]);
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

import { afterAll, beforeAll, describe } from '@jest/globals';
import { pgliteSqlClient, SqlEventStore, type SqlClient } from '@canopy/eventstore';
import { openReadModelDb, type ReadModelDb } from '../src/index.js';
import { runtimeCases } from './cases.js';
import { propertyCases } from './property.js';

describe('ProjectionRunner on PGlite (log and read models in memory)', () => {
  // Starting a PGlite instance takes seconds, so the suite starts two (the
  // log's, the read models') and gives each test a log schema and a schema
  // prefix of its own in them.
  let logClient: SqlClient;
  let readModels: ReadModelDb;
  let n = 0;
  beforeAll(async () => {
    [logClient, readModels] = await Promise.all([pgliteSqlClient(), openReadModelDb({ kind: 'pglite' })]);
  });
  afterAll(async () => {
    await logClient?.close();
    await readModels?.close();
  });

  runtimeCases({
    async open() {
      const test = n++;
      const store = await SqlEventStore.open({ ...logClient, close: async () => {} }, { schema: `log_${test}`, autoAnalyze: true });
      const db = readModels.withSchemaPrefix(`t${test}_`);
      return { store, db, close: () => store.close() };
    },
  });
  propertyCases(() => ({ logClient, readModels }));
});

import { afterAll, beforeAll, describe } from '@jest/globals';
import { openReadModelDb, type ReadModelDb } from '../src/index.js';
import { rowChangesCases } from './row-changes-cases.js';

describe('TableChanges on PGlite', () => {
  let db: ReadModelDb;
  beforeAll(async () => {
    db = await openReadModelDb({ kind: 'pglite' });
  });
  afterAll(async () => {
    await db?.close();
  });
  rowChangesCases(() => db);
});

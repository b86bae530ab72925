import { afterAll, beforeAll, describe } from '@jest/globals';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';
import { openReadModelDb, type ReadModelDb } from '../src/index.js';
import { rowChangesCases } from './row-changes-cases.js';

describe('TableChanges on PostgreSQL', () => {
  const url = requirePostgresUrl();
  let db: ReadModelDb;
  beforeAll(async () => {
    db = await openReadModelDb({ kind: 'postgres', url });
  });
  afterAll(async () => {
    await db?.close();
  });
  rowChangesCases(() => db, `${uniqueSchema('rc')}_`);
});

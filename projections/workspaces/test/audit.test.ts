import { afterAll, describe } from '@jest/globals';
import { auditCases } from './audit-cases.js';
import { sharedPgliteBackend } from './pglite-backend.js';

describe('audit read model on PGlite (log and read models in memory)', () => {
  const backend = sharedPgliteBackend();
  afterAll(() => backend.teardown());
  auditCases(backend);
});

import { afterAll, describe } from '@jest/globals';
import { sharedPgliteBackend } from './pglite-backend.js';
import { scenarioCases } from './scenarios.js';

describe('workspace read models on PGlite (log and read models in memory)', () => {
  const backend = sharedPgliteBackend();
  afterAll(() => backend.teardown());
  scenarioCases(backend);
});

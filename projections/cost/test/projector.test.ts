import { afterAll, beforeAll, describe } from '@jest/globals';
import { sharedPgliteBackend } from './harness.js';
import { projectorCases } from './projector-cases.js';

describe('the cost read model on PGlite (log and read models in memory)', () => {
  const backend = sharedPgliteBackend();
  beforeAll(() => backend.ready(), 120_000);
  afterAll(() => backend.teardown());
  projectorCases(backend);
});

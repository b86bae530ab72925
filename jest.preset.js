// Shared Jest settings: TypeScript sources run as native ESM through ts-jest
// (transpile only; `npm run typecheck` does the type checking).
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// New PGlite databases restore a pristine copy kept here instead of running
// initdb each time (see openPGlite in @canopy/eventstore); inherited by the
// processes the tests start.
process.env.CANOPY_PGLITE_TEMPLATE_DIR ??= join(tmpdir(), 'canopy-test-pglite');

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30_000,
};

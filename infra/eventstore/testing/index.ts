export { requirePostgresUrl, uniqueSchema } from './postgres.js';
export { runFixture, type FixtureRun } from './child-process.js';

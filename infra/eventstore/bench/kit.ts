/** What other packages' benchmarks share with the log's: the PostgreSQL server, the machine, the repository. */
export { freshSchema, probePostgres, type Probe } from './postgres-server.js';
export { machine, type Machine } from './machine.js';
export { DEFAULT_POSTGRES_URL, packageVersion, postgresUrl, redact, repoRoot } from './config.js';

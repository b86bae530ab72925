export * from './event-store.js';
export { DEFAULT_MAX_APPEND_BYTES, findNonJson, prepareAppend, validateExpectedRevision, validateStreamName } from './validation.js';
export { openPgliteEventStore, openPostgresEventStore, SqlEventStore, pgSqlClient, pgliteSqlClient, type SqlClient, type SqlEventStoreOptions } from './sql/index.js';

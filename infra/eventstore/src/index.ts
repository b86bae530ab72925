export * from './event-store.js';
export { DEFAULT_MAX_APPEND_BYTES, findNonJson, prepareAppend, validateExpectedRevision, validateStreamName } from './validation.js';
export { openPgliteEventStore, openPostgresEventStore, SqlEventStore, pgSqlClient, pgliteSqlClient, openPGlite, type SqlClient, type SqlEventStoreOptions } from './sql/index.js';
export { EventLog, type AppendContext, type DomainEvent, type ReadDomainEvent } from './event-log.js';
export { openEventStore, redactUrl, type EventStoreConfig, type OpenedEventStore } from './open.js';
export { EventStoreDbEventStore, openEventStoreDbEventStore } from './esdb/index.js';

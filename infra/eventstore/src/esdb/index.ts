export { EventStoreDbEventStore, openEventStoreDbEventStore, type EventStoreDbOptions } from './event-store-db.js';

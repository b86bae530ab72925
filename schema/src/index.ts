export { CanopyError, ErrorCode, isCanopyError, type ErrorDetails } from './errors.js';
export { defineEvent, describeIssues, EventRegistry, type EventContract, type EventOf, type PayloadOf, type Upcaster } from './event-contract.js';
export { EventMetadata } from './event-metadata.js';
export * from './events/index.js';

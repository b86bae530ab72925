export { CanopyError, ErrorCode, isCanopyError, type ErrorDetails } from './errors.js';
export { checkOf, defineEvent, describeIssues, markCopy, EventRegistry, type EventContract, type EventOf, type PayloadCheck, type PayloadOf, type Upcaster } from './event-contract.js';
export { EventMetadata } from './event-metadata.js';
export * from './events/index.js';

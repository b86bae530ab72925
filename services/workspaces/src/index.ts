export { atLeast, authorize, can, type Actor, type WorkspaceAction } from './domain/access.js';
export * from './domain/organization.js';
export * from './domain/workspace.js';

export { composeSupergraph, CompositionError, type ComposedSchema, type SubgraphDefinition } from './compose.js';
export {
  BREAKING_CHANGE_INTENDED,
  BREAKING_CHANGE_TRAILER,
  breakingChanges,
  breakingCommits,
  checkSchema,
  staleFiles,
  uncommittedBreakingChanges,
  type BreakingChange,
  type BreakingCommit,
  type SchemaCheckReport,
} from './compatibility.js';

export { openReadModelDb, type ReadModelDb, type ReadModelDbConfig, type ReadModelTx } from './read-model-db.js';
export { projectorSchema, stateSchema, validateProjector, type Projector } from './projector.js';
export {
  ProjectionRunner,
  type BatchInfo,
  type ProjectionChecksum,
  type ProjectionHealth,
  type ProjectionRunnerOptions,
  type RebuildProgress,
  type RebuildResult,
} from './runner.js';
export { readActiveSchema, type ProjectionStatus } from './state.js';
export { checksumSchema, type SchemaChecksum, type TableChecksum } from './checksum.js';
export { PoisonEventError, type ProjectionError } from './projection-error.js';
export { WriteBatch, inlineParameters } from './write-batch.js';
export { BatchChanges, TableChanges, type Amount, type CounterType, type SqlType, type TableSpec } from './row-changes.js';

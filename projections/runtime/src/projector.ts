import type { EventFilter, RecordedEvent } from '@canopy/eventstore';
import type { ReadModelTx } from './read-model-db.js';

/**
 * What a read model provides to the runtime. Each (name, version) owns one
 * SQL schema (see `projectorSchema`); the runtime creates it, runs `tables`
 * in it once, then calls `apply` for every event in log order, inside the
 * transaction that also stores the checkpoint.
 *
 * `apply` must be deterministic (a rebuild from zero gives the same rows)
 * and must touch only its own schema. Bump `version` whenever `tables` or
 * `apply` change what the tables hold: the runtime rebuilds the new version
 * next to the old one and switches when it has caught up.
 */
export interface Projector {
  /** Lower-case letters, digits and underscores; starts with a letter. */
  name: string;
  /** A positive integer. */
  version: number;
  /** Only these events are given to `apply`; the checkpoint still moves past the others. */
  filter?: EventFilter;
  /** DDL creating the read model's tables inside `schema` (a plain identifier, safe to interpolate), with the keys its writes need. */
  tables(schema: string): string;
  /**
   * Optional: DDL of the secondary indexes its queries need, run when the
   * projector first reaches the head of the log in a process (after a
   * catch-up from zero, each index is built in one pass instead of row by
   * row). It must be idempotent: `CREATE INDEX IF NOT EXISTS`.
   */
  indexes?(schema: string): string;
  /**
   * Declares that `apply` (and `applyBatch`) only write: they never use
   * what their queries return. Live, the runtime then sends a batch's
   * statements and the checkpoint's move as one script (parameters written
   * in as escaped literals), one call instead of one per statement; on
   * embedded PGlite, the scripts of all projectors go together with one
   * commit. A batch that fails is applied again one statement at a time to
   * name the failing event.
   */
  writesOnly?: boolean;
  /**
   * Optional: applies several events (in log order) at once, to the same
   * effect as `apply` on each in turn, e.g. as one multi-row statement. The
   * runtime uses it for batches of more than one event; when it throws, the
   * batch is applied again event by event, so a failing event is still
   * found and named.
   */
  applyBatch?(tx: ReadModelTx, events: readonly RecordedEvent[], schema: string): Promise<void>;
  /** Applies one event; throwing stops this projector (a poison event) and rolls its batch back. */
  apply(tx: ReadModelTx, event: RecordedEvent, schema: string): Promise<void>;
}

const NAME = /^[a-z][a-z0-9_]{0,23}$/;

export function validateProjector(projector: Projector): void {
  if (!NAME.test(projector.name)) {
    throw new Error(`A projector name is lower-case letters, digits and underscores, starting with a letter, at most 24 characters: ${JSON.stringify(projector.name)}`);
  }
  if (!Number.isSafeInteger(projector.version) || projector.version < 1 || projector.version > 999_999) {
    throw new Error(`Projector ${projector.name}: the version must be an integer from 1 to 999999, got ${projector.version}`);
  }
}

/** The SQL schema holding version `version` of projector `name`: `<prefix>rm_<name>_v<version>`. */
export function projectorSchema(schemaPrefix: string, name: string, version: number): string {
  return `${schemaPrefix}rm_${name}_v${version}`;
}

/** The SQL schema holding the runtime's own tables. */
export function stateSchema(schemaPrefix: string): string {
  return `${schemaPrefix}canopy_projections`;
}

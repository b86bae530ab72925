import type { ProjectionError } from './projection-error.js';
import { projectorSchema, stateSchema } from './projector.js';
import type { ReadModelDb, ReadModelTx } from './read-model-db.js';

export type ProjectionStatus = 'catching-up' | 'live' | 'failed' | 'building';

export interface StateRow {
  name: string;
  version: number;
  /** Every event up to here is applied (or skipped by the filter); undefined before the first. */
  position: bigint | undefined;
  status: ProjectionStatus;
  error: ProjectionError | undefined;
  updatedAt: Date;
}

interface RawStateRow {
  name: string;
  version: number;
  position: string | null;
  status: ProjectionStatus;
  error: ProjectionError | null;
  updated_at: Date;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The runtime's own tables, in schema `<prefix>canopy_projections`:
 * `projection_state` (one row per (name, version) being kept: its checkpoint
 * and status) and `projection_active` (the version queries read, per name).
 */
const CHECKPOINT_MOVED = 'canopy: the checkpoint moved';

/** Whether a database error is the one `advanceStatement` raises. */
export function isCheckpointMoved(error: unknown): boolean {
  return error instanceof Error && error.message.includes(CHECKPOINT_MOVED);
}

export class StateTables {
  readonly schema: string;
  private readonly state: string;
  private readonly active: string;

  constructor(private readonly db: ReadModelDb) {
    this.schema = stateSchema(db.schemaPrefix);
    this.state = `${this.schema}.projection_state`;
    this.active = `${this.schema}.projection_active`;
  }

  async migrate(): Promise<void> {
    // The lock serializes concurrent first starts (CREATE ... IF NOT EXISTS races on PostgreSQL).
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(${literal(`canopy-projections-migrate:${this.schema}`)}))`);
      await tx.exec(`
CREATE SCHEMA IF NOT EXISTS ${this.schema};
CREATE TABLE IF NOT EXISTS ${this.state} (
  name text NOT NULL,
  version int NOT NULL,
  position bigint NULL,
  status text NOT NULL CHECK (status IN ('catching-up', 'live', 'failed', 'building')),
  error jsonb NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS ${this.active} (
  name text PRIMARY KEY,
  version int NOT NULL,
  switched_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION ${this.schema}.advance(p_name text, p_version int, p_from bigint, p_to bigint, p_status text) RETURNS void LANGUAGE plpgsql AS $advance$
BEGIN
  UPDATE ${this.state} SET position = p_to, status = p_status, error = NULL, updated_at = now()
   WHERE name = p_name AND version = p_version AND position IS NOT DISTINCT FROM p_from;
  IF NOT FOUND THEN RAISE EXCEPTION '${CHECKPOINT_MOVED}: % v%', p_name, p_version; END IF;
END
$advance$;`);
    });
  }

  async load(names: readonly string[]): Promise<{ rows: StateRow[]; active: Map<string, number> }> {
    const raw = await this.db.query<RawStateRow>(
      `SELECT name, version, position::text AS position, status, error, updated_at FROM ${this.state} WHERE name = ANY ($1::text[]) ORDER BY name, version`,
      [names],
    );
    const active = await this.db.query<{ name: string; version: number }>(`SELECT name, version FROM ${this.active} WHERE name = ANY ($1::text[])`, [names]);
    return {
      rows: raw.map((row) => ({
        name: row.name,
        version: Number(row.version),
        position: row.position === null ? undefined : BigInt(row.position),
        status: row.status,
        error: row.error ?? undefined,
        updatedAt: row.updated_at,
      })),
      active: new Map(active.map((row) => [row.name, Number(row.version)])),
    };
  }

  /**
   * Serializes the creation of a projector version's tables between runners
   * starting at once, and answers the stored checkpoint when another runner
   * created them first (`found: false` when this one must).
   */
  async lockCreation(tx: ReadModelTx, name: string, version: number): Promise<{ found: false } | { found: true; position: bigint | undefined }> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext(${literal(`canopy-projections-create:${this.schema}`)}))`);
    const [row] = await tx.query<{ position: string | null }>(`SELECT position::text AS position FROM ${this.state} WHERE name = $1 AND version = $2`, [name, version]);
    if (!row) return { found: false };
    return { found: true, position: row.position === null ? undefined : BigInt(row.position) };
  }

  /**
   * Moves the checkpoint from `from` to `to`, in the transaction of the batch
   * between them, if it is still at `from`: one statement that needs no
   * answer (it can go in a script). When another runner moved the checkpoint
   * it raises an error `isCheckpointMoved` recognizes, which rolls the
   * transaction back. The row stays locked until the transaction ends, so a
   * second runner's advance waits and then finds it moved.
   */
  advanceStatement(name: string, version: number, from: bigint | undefined, to: bigint | undefined, status: ProjectionStatus): string {
    const position = (value: bigint | undefined) => (value === undefined ? 'NULL' : `${value}`);
    return `SELECT ${this.schema}.advance(${literal(name)}, ${version}, ${position(from)}, ${position(to)}, ${literal(status)})`;
  }

  /** A fresh row: position none. */
  async reset(tx: ReadModelTx, name: string, version: number, status: ProjectionStatus): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.state} (name, version, position, status, error, updated_at) VALUES ($1, $2, NULL, $3, NULL, now())
       ON CONFLICT (name, version) DO UPDATE SET position = NULL, status = EXCLUDED.status, error = NULL, updated_at = now()`,
      [name, version, status],
    );
  }

  async setStatus(tx: ReadModelTx, name: string, version: number, status: ProjectionStatus, error?: ProjectionError): Promise<void> {
    await tx.query(`UPDATE ${this.state} SET status = $3, error = $4::jsonb, updated_at = now() WHERE name = $1 AND version = $2`, [
      name,
      version,
      status,
      error === undefined ? null : JSON.stringify(error),
    ]);
  }

  async activate(tx: ReadModelTx, name: string, version: number): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.active} (name, version, switched_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, switched_at = now()`,
      [name, version],
    );
  }

  async remove(tx: ReadModelTx, name: string, version: number): Promise<void> {
    await tx.query(`DELETE FROM ${this.state} WHERE name = $1 AND version = $2`, [name, version]);
  }
}

/**
 * The schema queries of projector `name` must read now, for a process that
 * does not run the projectors itself; undefined before its first start.
 */
export async function readActiveSchema(db: ReadModelDb, name: string): Promise<string | undefined> {
  const rows = await db.query<{ version: number }>(`SELECT version FROM ${stateSchema(db.schemaPrefix)}.projection_active WHERE name = $1`, [name]).catch((error: unknown) => {
    // Before the runtime's first start the table does not exist (SQLSTATE 42P01).
    if ((error as { code?: string }).code === '42P01') return [];
    throw error;
  });
  return rows[0] === undefined ? undefined : projectorSchema(db.schemaPrefix, name, Number(rows[0].version));
}

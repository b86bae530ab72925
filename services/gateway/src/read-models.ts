import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStore } from '@canopy/eventstore';
import { Counter } from 'prom-client';
import { openReadModelDb, ProjectionRunner, type Projector, type ReadModelTx } from '@canopy/projections';
import { backupsProjector } from '@canopy/backups';
import { costProjector } from '@canopy/cost';
import { workloadsProjector } from '@canopy/workloads';
import { membershipProjector, workspaceProjectors, workspaceReads, workspaceSummaryProjector } from '@canopy/workspace-read-models';
import type { ReadModelConsistency, WorkspaceReads } from '@canopy/workspaces';
import type { Config } from './config.js';

export interface ReadModels {
  runner: ProjectionRunner;
  /**
   * The reads of one request for one caller (fresh loaders each time). They
   * wait until the read models reflect the caller's last write through this
   * server, and `readAfter` (a log position the client passes), if later.
   */
  readsFor(userId: string, readAfter?: bigint): WorkspaceReads;
  /** What reads of one request await first: the read models reflect the caller's last write through this server, and `readAfter`. */
  readyFor(userId: string, readAfter?: bigint): () => Promise<boolean>;
  /** The read models' database as queries use it (statements counted). */
  db: ReadModelTx;
  /** The same database for the server's own background reads (not counted as query statements). */
  backgroundDb: ReadModelTx;
  consistency: ReadModelConsistency;
  /** Runs a query on the read models' database (readiness). */
  ping(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Opens the read models' database and starts projecting into it in the
 * background: queries are served at once, from what the tables hold, while
 * a new or rebuilt projector catches up.
 */
/** Every read model the process projects: the workspaces' four, backups, workloads and cost (`canopy replay` rebuilds the same). */
export const PROJECTORS: readonly Projector[] = [...workspaceProjectors, backupsProjector, workloadsProjector, costProjector];

/** What access checks read: roles and organizations (membership), and whether a workspace is live (its summary). */
const ACCESS_READ_MODELS = [membershipProjector.name, workspaceSummaryProjector.name];

export async function startReadModels(config: Config, store: EventStore, registry: Registry, logger: Logger): Promise<ReadModels> {
  const db = await openReadModelDb(config.readModels);
  logger.info({ readModels: db.description }, 'read models open');
  const runner = new ProjectionRunner({ store, db, projectors: [...PROJECTORS], registry, logger: logger.child({ component: 'projections' }) });
  try {
    await runner.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const source = { db: countingStatements(db, registry), schemaOf: (name: string) => runner.activeSchema(name) };
  const timeoutMs = config.readYourWritesTimeoutMs;
  const waitFor = async (position: bigint, readModels: 'all' | string[] = 'all') => {
    const reached = await runner.waitFor(readModels, position, timeoutMs);
    if (!reached) logger.warn({ position: position.toString(), timeoutMs, readModels }, 'the read models did not reach a change in time: reads may not show it yet');
    return reached;
  };
  // Per caller, the position of their last write through this server (bounded: the oldest callers are forgotten, their writes long projected).
  const lastWrites = new LRUCache<string, bigint>({ max: 100_000 });
  const readyFor = (userId: string, readAfter?: bigint) => {
    let waited: { position: bigint; reached: Promise<boolean> } | undefined;
    return () => {
      const written = lastWrites.get(userId);
      const position = written === undefined || (readAfter !== undefined && readAfter > written) ? readAfter : written;
      if (position === undefined) return Promise.resolve(true);
      if (waited?.position !== position) waited = { position, reached: waitFor(position) };
      return waited.reached;
    };
  };
  return {
    runner,
    db: source.db,
    backgroundDb: db,
    readyFor,
    readsFor: (userId, readAfter) => workspaceReads({ ...source, ready: readyFor(userId, readAfter) }, userId),
    consistency: {
      waitFor: async (position) => (position === undefined ? true : waitFor(position)),
      waitForAccess: async (position) => (position === undefined ? true : waitFor(position, ACCESS_READ_MODELS)),
      wrote(userId, position) {
        const before = lastWrites.get(userId);
        if (position !== undefined && (before === undefined || position > before)) lastWrites.set(userId, position);
      },
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async stop() {
      await runner.stop();
      await db.close();
    },
  };
}

/**
 * The database as queries see it, counting their statements: what the
 * DataLoaders batch shows in `canopy_read_model_query_statements_total`
 * (a page of N workspaces should cost a few statements, not N).
 */
function countingStatements(db: ReadModelTx, registry: Registry): ReadModelTx {
  const statements = new Counter({ name: 'canopy_read_model_query_statements_total', help: 'SQL statements that queries sent to the read models.', registers: [registry] });
  return {
    query(sql, params) {
      statements.inc();
      return db.query(sql, params);
    },
    exec(script) {
      statements.inc();
      return db.exec(script);
    },
  };
}

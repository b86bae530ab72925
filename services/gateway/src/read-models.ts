import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStore } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner } from '@canopy/projections';
import { workspaceProjectors, workspaceReads } from '@canopy/workspace-read-models';
import type { ReadModelConsistency, WorkspaceReads } from '@canopy/workspaces';
import type { Config } from './config.js';

export interface ReadModels {
  runner: ProjectionRunner;
  /** The reads of one request for one caller (fresh loaders each time). */
  readsFor(userId: string): WorkspaceReads;
  consistency: ReadModelConsistency;
  stop(): Promise<void>;
}

/**
 * Opens the read models' database and starts projecting into it in the
 * background: queries are served at once, from what the tables hold, while
 * a new or rebuilt projector catches up.
 */
export async function startReadModels(config: Config, store: EventStore, registry: Registry, logger: Logger): Promise<ReadModels> {
  const db = await openReadModelDb(config.readModels);
  logger.info({ readModels: db.description }, 'read models open');
  const runner = new ProjectionRunner({ store, db, projectors: workspaceProjectors, registry, logger: logger.child({ component: 'projections' }) });
  try {
    await runner.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const source = { db, schemaOf: (name: string) => runner.activeSchema(name) };
  const timeoutMs = config.readYourWritesTimeoutMs;
  return {
    runner,
    readsFor: (userId) => workspaceReads(source, userId),
    consistency: {
      async waitFor(position) {
        if (position === undefined) return true;
        const reached = await runner.waitFor('all', position, timeoutMs);
        if (!reached) logger.warn({ position: position.toString(), timeoutMs }, 'the read models did not reach a change in time: its answer may not show it yet');
        return reached;
      },
    },
    async stop() {
      await runner.stop();
      await db.close();
    },
  };
}

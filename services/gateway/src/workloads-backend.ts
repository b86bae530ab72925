import type { Logger } from 'pino';
import type { EventLog, EventStore } from '@canopy/eventstore';
import type { ClusterConnector } from '@canopy/kube';
import { knownWorkloads, startWorkloadWatcher, workloadReads, type WorkloadsContext, type WorkloadWatcher } from '@canopy/workloads';
import type { Directory, EventFeed, WorkspaceReads } from '@canopy/workspaces';
import type { ReadModels } from './read-models.js';

/** The workload watcher of this process, and what the workloads subgraph's resolvers get. */
export interface WorkloadsBackend {
  watcher: WorkloadWatcher;
  /** The context of one request; roles come from the same request's workspace reads. */
  contextFor(workspaceReads: WorkspaceReads, userId: string): WorkloadsContext;
  subscriptionContext(userId: string, workspaceReads: () => WorkspaceReads, events: EventFeed): WorkloadsContext;
  close(): Promise<void>;
}

/** How long the watcher waits at start for the workloads read model to reach the log's head (its last known state). */
const KNOWN_STATE_WAIT_MS = 60_000;

/**
 * Starts watching the workloads of every workspace's clusters (one watcher
 * per deployment: it records each change once). At start it takes the last
 * known state from the workloads read model, once that has caught up with
 * the log, so that a restart records only what changed while it was away.
 */
export async function openWorkloadsBackend(deps: { log: EventLog; store: EventStore; workspaces: Directory; connector: ClusterConnector; readModels: ReadModels; logger: Logger }): Promise<WorkloadsBackend> {
  const { readModels } = deps;
  const schema = () => readModels.runner.activeSchema('workloads');
  const head = await deps.store.headPosition();
  const watcher = await startWorkloadWatcher({
    log: deps.log,
    directory: deps.workspaces,
    connector: deps.connector,
    logger: deps.logger.child({ component: 'workloads' }),
    known: async (workspaceId) => {
      if (head !== undefined) await readModels.runner.waitFor(['workloads'], head, KNOWN_STATE_WAIT_MS);
      return knownWorkloads(readModels.backgroundDb, schema(), workspaceId);
    },
  });
  const reads = (roleIn: WorkspaceReads['roleIn']) => workloadReads({ db: readModels.db, schema, roleIn });
  return {
    watcher,
    contextFor: (workspaceReads, userId) => ({ caller: { userId }, reads: reads((id) => workspaceReads.roleIn(id)) }),
    subscriptionContext: (userId, workspaceReads, events) => ({
      caller: { userId },
      reads: reads((id) => workspaceReads().roleIn(id)),
      live: {
        events,
        reads: () => {
          const fresh = workspaceReads();
          return { roleIn: (id) => fresh.roleIn(id), organizationOf: (id) => fresh.organizationOfWorkspace(id) };
        },
        waitFor: (position) => readModels.consistency.waitFor(position),
      },
    }),
    close: () => watcher.stop(),
  };
}

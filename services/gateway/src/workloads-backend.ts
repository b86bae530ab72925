import type { Logger } from 'pino';
import type { EventLog, EventStore } from '@canopy/eventstore';
import type { ClusterConnector } from '@canopy/kube';
import { knownWorkloads, startWorkloadWatcher, workloadReads, type WorkloadsContext, type WorkloadWatcher } from '@canopy/workloads';
import type { Directory, EventFeed, WorkspaceReads } from '@canopy/workspaces';
import type { ClusterWorkPart } from './cluster-work.js';
import type { ReadModels } from './read-models.js';

/** What the workloads subgraph's resolvers get, and the workload watcher (cluster work). */
export interface WorkloadsBackend {
  /** The watcher, run by the process that leads (a watcher per deployment: it records each change once). */
  clusterWork: ClusterWorkPart<WorkloadWatcher>;
  /** The context of one request; roles come from the same request's workspace reads. */
  contextFor(workspaceReads: WorkspaceReads, userId: string): WorkloadsContext;
  subscriptionContext(userId: string, workspaceReads: () => WorkspaceReads, events: EventFeed): WorkloadsContext;
}

/** How long the watcher waits at start for the workloads read model to reach the log's head (its last known state). */
const KNOWN_STATE_WAIT_MS = 60_000;

/**
 * The workloads reads, and the watcher of every workspace's clusters as a
 * part of the cluster work. When it starts it takes the last known state
 * from the workloads read model, once that has caught up with the log, so
 * that a restart, or another process taking over, records only what
 * changed while no watcher ran.
 */
export function openWorkloadsBackend(deps: { log: EventLog; store: EventStore; workspaces: Directory; connector: ClusterConnector; readModels: ReadModels; logger: Logger }): WorkloadsBackend {
  const { readModels } = deps;
  const schema = () => readModels.runner.activeSchema('workloads');
  const watch = async () => {
    const head = await deps.store.headPosition();
    return startWorkloadWatcher({
      log: deps.log,
      directory: deps.workspaces,
      connector: deps.connector,
      logger: deps.logger.child({ component: 'workloads' }),
      known: async (workspaceId) => {
        if (head !== undefined) await readModels.runner.waitFor(['workloads'], head, KNOWN_STATE_WAIT_MS);
        return knownWorkloads(readModels.backgroundDb, schema(), workspaceId);
      },
    });
  };
  const reads = (roleIn: WorkspaceReads['roleIn']) => workloadReads({ db: readModels.db, schema, roleIn });
  return {
    clusterWork: { name: 'workload-watcher', start: watch },
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
        waitFor: (position) => readModels.consistency.waitForAccess(position),
      },
    }),
  };
}

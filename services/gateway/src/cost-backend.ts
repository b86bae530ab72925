import type { Logger } from 'pino';
import type { EventLog } from '@canopy/eventstore';
import { CostCommands, costReads, type CostContext } from '@canopy/cost-api';
import type { ClusterConnector } from '@canopy/kube';
import { startUsageCollector, type UsageCollector } from '@canopy/usage';
import type { Directory, WorkspaceReads } from '@canopy/workspaces';
import type { ReadModels } from './read-models.js';
import type { CallerRequest } from './request-context.js';

/** The usage collector of this process, and what the cost subgraph's resolvers get. */
export interface CostBackend {
  collector: UsageCollector;
  /** The context of one request; `roleIn` comes from the same request's workspace reads (same read-your-writes). */
  contextFor(request: CallerRequest, workspaceReads: WorkspaceReads): CostContext;
  close(): Promise<void>;
}

/**
 * Starts sampling the usage of every workspace's clusters every
 * `usageIntervalMs` (one `UsageSampled` per cluster and interval; one
 * collector per deployment), and serves the cost commands and reads.
 */
export function openCostBackend(deps: { log: EventLog; workspaces: Directory; connector: ClusterConnector; readModels: ReadModels; usageIntervalMs: number; logger: Logger }): CostBackend {
  const { log, workspaces, readModels } = deps;
  const logger = deps.logger.child({ component: 'usage' });
  const collector = startUsageCollector({ log, directory: workspaces, connector: deps.connector, intervalMs: deps.usageIntervalMs, logger });
  const commands = new CostCommands({ log, workspaces });
  return {
    collector,
    contextFor: (request, workspaceReads) => ({
      caller: request.caller,
      correlationId: request.correlationId,
      commands,
      consistency: readModels.consistency,
      reads: costReads(
        {
          db: readModels.db,
          schema: () => readModels.runner.activeSchema('cost'),
          quotasSchema: () => readModels.runner.activeSchema('quotas'),
          workspaces,
          roleIn: (id) => workspaceReads.roleIn(id),
          ready: readModels.readyFor(request.caller.userId, request.readAfter),
        },
        request.caller.userId,
      ),
    }),
    close: () => collector.close(),
  };
}

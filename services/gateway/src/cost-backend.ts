import type { Logger } from 'pino';
import type { EventLog } from '@canopy/eventstore';
import { CostCommands, costReads, type CostContext } from '@canopy/cost-api';
import type { ClusterConnector } from '@canopy/kube';
import { startUsageCollector, type UsageCollector } from '@canopy/usage';
import type { Directory, WorkspaceReads } from '@canopy/workspaces';
import type { ClusterWorkPart } from './cluster-work.js';
import type { ReadModels } from './read-models.js';
import type { CallerRequest } from './request-context.js';

/** What the cost subgraph's resolvers get, and the usage collector (cluster work). */
export interface CostBackend {
  /** Run by the process that leads: one collector per deployment, or usage would be counted twice. */
  clusterWork: ClusterWorkPart;
  /** The context of one request; `roleIn` comes from the same request's workspace reads (same read-your-writes). */
  contextFor(request: CallerRequest, workspaceReads: WorkspaceReads): CostContext;
}

/**
 * Serves the cost commands and reads; its cluster work samples the usage of
 * every workspace's clusters every `usageIntervalMs` (one `UsageSampled`
 * per cluster and interval).
 */
export function openCostBackend(deps: { log: EventLog; workspaces: Directory; connector: ClusterConnector; readModels: ReadModels; usageIntervalMs: number; logger: Logger }): CostBackend {
  const { log, workspaces, readModels } = deps;
  const logger = deps.logger.child({ component: 'usage' });
  const collect: ClusterWorkPart = {
    name: 'usage-collector',
    start: async () => {
      const collector: UsageCollector = startUsageCollector({ log, directory: workspaces, connector: deps.connector, intervalMs: deps.usageIntervalMs, logger });
      return { stop: () => collector.close() };
    },
  };
  const commands = new CostCommands({ log, workspaces });
  return {
    clusterWork: collect,
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
  };
}

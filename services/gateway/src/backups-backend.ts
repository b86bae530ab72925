import type { Logger } from 'pino';
import type { EventLog } from '@canopy/eventstore';
import { backupsReads, probingHealthCheck, startBackupsService, startVeleroDriver, type BackupsContext, type BackupsService, type VeleroDriver } from '@canopy/backups';
import type { ClusterConnector } from '@canopy/kube';
import type { Directory, EventFeed, WorkspaceReads } from '@canopy/workspaces';
import type { ClusterWorkPart } from './cluster-work.js';
import type { ReadModels } from './read-models.js';
import type { CallerRequest } from './request-context.js';

/** The backups service, what the backups subgraph's resolvers get, and its part of the cluster work. */
export interface BackupsBackend {
  service: BackupsService;
  /** The schedules and expiry sweep (every `tickMs`), and the Velero driver: run by the process that leads. */
  clusterWork: ClusterWorkPart[];
  /** The context of one request; `roleIn` comes from the same request's workspace reads (same read-your-writes). */
  contextFor(request: CallerRequest, workspaceReads: WorkspaceReads): BackupsContext;
  /** The context of one subscription. */
  subscriptionContext(request: CallerRequest, workspaceReads: () => WorkspaceReads, events: EventFeed): BackupsContext;
  close(): Promise<void>;
}

/**
 * Starts the backups service on the log and its cluster health check
 * through the cluster connector. Its cluster work — schedules run and expiry
 * sweeps every `tickMs`, and the Velero driver that carries each backup and
 * restore to the clusters and reports their progress back into the log —
 * starts when this process leads.
 */
export async function openBackupsBackend(deps: { log: EventLog; workspaces: Directory; connector: ClusterConnector; readModels: ReadModels; tickMs: number; logger: Logger }): Promise<BackupsBackend> {
  const { log, workspaces, connector, readModels } = deps;
  const logger = deps.logger.child({ component: 'backups' });
  const service = await startBackupsService({
    log,
    workspaces,
    health: probingHealthCheck({ workspaces, connector }),
    onError: (error) => logger.error({ err: error }, 'a backup schedule or expiry sweep failed'),
  });
  const reads = (request: CallerRequest, roleIn: WorkspaceReads['roleIn']) =>
    backupsReads(
      {
        db: readModels.db,
        schema: () => readModels.runner.activeSchema('backups'),
        directory: service.directory,
        workspaces,
        ready: readModels.readyFor(request.caller.userId, request.readAfter),
        roleIn,
      },
      request.caller.userId,
    );
  const base = (request: CallerRequest) => ({ caller: request.caller, correlationId: request.correlationId, commands: service.commands, consistency: readModels.consistency });
  const velero: ClusterWorkPart = {
    name: 'velero-driver',
    start: async () => {
      const driver: VeleroDriver = startVeleroDriver({ log, backups: service, workspaces, connector, logger: logger.child({ component: 'velero' }) });
      return { stop: () => driver.close() };
    },
  };
  const schedules: ClusterWorkPart = { name: 'backup-schedules', start: async () => service.tickEvery(deps.tickMs) };
  return {
    service,
    clusterWork: [velero, schedules],
    contextFor: (request, workspaceReads) => ({ ...base(request), reads: reads(request, (id) => workspaceReads.roleIn(id)) }),
    subscriptionContext: (request, workspaceReads, events) => ({
      ...base(request),
      reads: reads(request, (id) => workspaceReads().roleIn(id)),
      live: { events, log, reads: () => reads(request, (id) => workspaceReads().roleIn(id)) },
    }),
    async close() {
      await service.close();
    },
  };
}

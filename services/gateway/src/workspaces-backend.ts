import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EventLog, openEventStore, type EventStore } from '@canopy/eventstore';
import { loadOrCreateDevMasterKey, openKeyStore, parseMasterKey } from '@canopy/keystore';
import type { ProjectionRunner } from '@canopy/projections';
import { canopyEventRegistry } from '@canopy/schema';
import type { BackupsContext } from '@canopy/backups';
import { startWorkspacesService, type EventFeed, type WorkspacesContext } from '@canopy/workspaces';
import { openBackupsBackend } from './backups-backend.js';
import { openClusterAccess, type ClusterAccess } from './clusters.js';
import { startClusterWork, type ClusterWork } from './cluster-work.js';
import { leadershipFor } from './leadership.js';
import { startReconciler, startSyncView, type Reconciler } from '@canopy/reconciler';
import type { WorkloadsContext } from '@canopy/workloads';
import type { CostContext } from '@canopy/cost-api';
import { openCostBackend } from './cost-backend.js';
import { openWorkloadsBackend } from './workloads-backend.js';
import type { Config } from './config.js';
import { logHealth, type HealthAnswer } from './http-server.js';
import { createMetrics } from './metrics.js';
import { checkReadiness } from './observability/readiness.js';
import { startReadModels } from './read-models.js';
import type { CallerRequest } from './request-context.js';

export const DEV_MASTER_KEY_FILE = 'dev-master-key';

/** What the workspaces subgraph's resolvers run on: the log, the key store, the read models and the command side, open in this process. */
export interface WorkspacesBackend {
  store: EventStore;
  projections: ProjectionRunner;
  metrics: Registry;
  /** The resolvers' context for one request: fresh read loaders, waiting for the caller's last write; the backups subgraph's under `backups`. */
  contextFor(request: CallerRequest): BackendContext;
  /** The backups subgraph's context of one subscription. */
  backupsSubscriptionContext(request: CallerRequest, events: EventFeed): BackupsContext;
  /** The workloads subgraph's context of one subscription. */
  workloadsSubscriptionContext(request: CallerRequest, events: EventFeed): WorkloadsContext;
  /** The clusters this process reaches (and the simulated ones it runs). */
  clusters: ClusterAccess;
  /** The reconciler, the workload watcher, the backup schedules, the Velero driver and the usage collector: running while this process leads. */
  clusterWork: ClusterWork;
  /** `/healthz`: the log answers, and how each projector is doing. */
  health(): Promise<HealthAnswer>;
  /** `/readyz`: the log and the read models' database answer, and the projectors are live. */
  readiness(): Promise<HealthAnswer>;
  close(): Promise<void>;
}

/** A request's context: the workspaces subgraph's, with the backups, workloads and cost subgraphs' under `backups`, `workloads` and `cost`. */
export type BackendContext = CallerRequest & WorkspacesContext & { backups: BackupsContext; workloads: WorkloadsContext; cost: CostContext };

/**
 * Opens the log and the key store, projects the read models, folds the
 * workspaces, opens the cluster access and the backups service, and runs the
 * cluster work (reconciler, workload watcher, backup schedules, Velero
 * driver, usage collector) while this process leads.
 */
export async function openWorkspacesBackend(config: Config, logger: Logger): Promise<WorkspacesBackend> {
  const masterKey = await resolveMasterKey(config, logger);
  const log = await openEventStore(config.eventStore);
  logger.info({ store: log.description }, 'event log open');
  const keys = await openKeyStore(config.keyStore, masterKey);
  logger.info({ keys: keys.description }, 'key store open');
  const metrics = createMetrics(log.store);
  const readModels = await startReadModels(config, log.store, metrics, logger);
  const eventLog = new EventLog(log.store, canopyEventRegistry());
  const service = await startWorkspacesService({ log: eventLog, keys: keys.keys, onError: (error) => logger.error({ err: error }, 'the directory feed stopped') });
  const clusters = await openClusterAccess({ simulated: config.simulatedClusters, dataDir: config.dataDir, logger });
  const backups = await openBackupsBackend({ log: eventLog, workspaces: service.directory, connector: clusters.connector, readModels, tickMs: config.backupTickMs, logger });
  const workloads = openWorkloadsBackend({ log: eventLog, store: log.store, workspaces: service.directory, connector: clusters.connector, readModels, logger });
  const cost = openCostBackend({ log: eventLog, workspaces: service.directory, connector: clusters.connector, readModels, usageIntervalMs: config.usageIntervalMs, logger });
  const reconcile = {
    name: 'reconciler',
    start: () => startReconciler({ log: eventLog, keys: keys.keys, connector: clusters.connector, resyncIntervalMs: config.resyncIntervalMs, logger: logger.child({ component: 'reconciler' }) }),
  };
  // What a standby shows of each cluster's sync: the outcomes the leader's reconciler recorded.
  const syncView = await startSyncView(eventLog);
  const clusterWork = await startClusterWork({
    leadership: await leadershipFor(config.clusterWork, logger.child({ component: 'leadership' })),
    parts: [reconcile, workloads.clusterWork, ...backups.clusterWork, cost.clusterWork],
    registry: metrics,
    logger: logger.child({ component: 'cluster-work' }),
  });
  const workspaceReads = (request: CallerRequest) => readModels.readsFor(request.caller.userId, request.readAfter);
  return {
    store: log.store,
    projections: readModels.runner,
    metrics,
    clusters,
    clusterWork,
    contextFor: (request) => {
      const reads = workspaceReads(request);
      return {
        caller: request.caller,
        correlationId: request.correlationId,
        readAfter: request.readAfter,
        authorization: request.authorization,
        commands: service.commands,
        reads,
        consistency: readModels.consistency,
        clusterSync: (clusterId: string) => (clusterWork.running<Reconciler>('reconciler') ?? syncView).clusterStatus(clusterId),
        backups: backups.contextFor(request, reads),
        workloads: workloads.contextFor(reads, request.caller.userId),
        cost: cost.contextFor(request, reads),
      };
    },
    backupsSubscriptionContext: (request, events) => backups.subscriptionContext(request, () => workspaceReads(request), events),
    workloadsSubscriptionContext: (request, events) => workloads.subscriptionContext(request.caller.userId, () => workspaceReads(request), events),
    health: () => logHealth({ store: log.store, projections: readModels.runner, logger, logDescription: log.description, clusterWork: () => clusterWork.describe() }),
    readiness: () => checkReadiness({ log: log.store, readStore: readModels, projections: readModels.runner, logger }),
    async close() {
      await clusterWork.stop();
      await syncView.stop();
      await backups.close();
      await clusters.stop();
      await readModels.stop();
      await service.close();
      await keys.close();
      await log.close();
    },
  };
}

async function resolveMasterKey(config: Config, logger: Logger): Promise<Buffer> {
  if (config.masterKey !== undefined) return parseMasterKey(config.masterKey);
  const file = join(config.dataDir, DEV_MASTER_KEY_FILE);
  const { key, created } = await loadOrCreateDevMasterKey(file);
  logger.warn(
    { devMasterKeyFile: file, created },
    'SECRETS ARE ENCRYPTED WITH A DEVELOPMENT MASTER KEY kept next to the data: whoever can read the data directory can read every secret. ' +
      'Set CANOPY_MASTER_KEY (32 random bytes, base64: openssl rand -base64 32) for any shared or production deployment.',
  );
  return key;
}

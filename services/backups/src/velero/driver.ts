import type { EventLog } from '@canopy/eventstore';
import { addressKey, applyVeleroObject, httpStatusOf, VELERO_NAMESPACE, veleroInformer, type ClusterAddress, type ClusterConnection, type VeleroObject } from '@canopy/kube';
import { isCanopyError } from '@canopy/schema';
import { SYSTEM_ACTOR, type BackupCommands } from '../app/commands.js';
import type { BackupsDirectory } from '../app/directory.js';
import { BACKUP_PREFIX, RESTORE_PREFIX, streamOf } from '../app/streams.js';
import type { BackupRequest } from '../domain/backup.js';
import { isFinished } from '../domain/progress.js';
import type { ClusterReport } from '../domain/reports.js';
import type { RestoreRequest } from '../domain/restore.js';
import type { ClusterConnections, ClusterDirectory } from './health.js';
import { backupObject, deleteRequestObject, FIELD_MANAGER, idsOf, isOurs, LABELS, MANAGED_SELECTOR, reportKey, reportOf, restoreObject, storageLocationObject } from './objects.js';

/** Where the driver writes what it does; pino's logger fits. */
export interface DriverLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface VeleroDriverOptions {
  log: EventLog;
  /** The backups service (its commands record the reports, its directory says what is finished). */
  backups: { commands: BackupCommands; directory: BackupsDirectory };
  /** Who has which cluster, and how each is reached: the workspaces service's directory. */
  workspaces: ClusterDirectory;
  /** `ClusterConnector` from `@canopy/kube`. */
  connector: ClusterConnections;
  clock?: () => Date;
  logger?: DriverLogger;
  /** Velero's namespace on the clusters; default `velero`. */
  namespace?: string;
  /** First wait before a cluster operation that failed is tried again (doubling up to 60 s); default 2000 ms. */
  retryMs?: number;
}

export interface VeleroDriver {
  /** Resolves once the driver has read the log as it was at start (and started what it calls for). */
  caughtUp: Promise<void>;
  /** Resolves once no cluster operation is under way (creations, deletions, reports). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

type RunKind = 'Backup' | 'Restore';

/** A failure that trying again will not cure (a refusal of the cluster's API other than a conflict or throttling). */
class Permanent extends Error {}

const silent: DriverLogger = { info() {}, warn() {} };

/**
 * Velero on the clusters: follows the backup and restore streams; for each
 * planned cluster applies the BackupStorageLocation and creates the Backup or
 * Restore (adopting one already there, so a restart duplicates nothing);
 * watches Velero's Backups and Restores on every cluster it wrote to and
 * reports their phase and progress, only when they change; on a backup's
 * expiry or deletion, asks each cluster's Velero to delete it (a
 * DeleteBackupRequest, which deletes the files too).
 */
export function startVeleroDriver(options: VeleroDriverOptions): VeleroDriver {
  const { log, backups, workspaces, connector } = options;
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? silent;
  const namespace = options.namespace ?? VELERO_NAMESPACE;
  const retryMs = options.retryMs ?? 2000;

  let closed = false;
  const pending = new Set<Promise<void>>();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const watches = new Map<string, ClusterWatch>();
  const lastReports = new Map<string, string>();
  const chains = new Map<string, Promise<void>>();
  const appliedLocations = new Map<string, string>();

  /** Runs `task` in the background, tracked by `idle()`. */
  const track = (task: () => Promise<void>): void => {
    const promise: Promise<void> = task()
      .catch((error) => logger.warn({ err: error }, 'velero driver: task failed'))
      .finally(() => pending.delete(promise));
    pending.add(promise);
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = { timer: setTimeout(() => (timers.delete(entry), resolve()), ms), resolve };
      timers.add(entry);
    });

  /** Tries `operation` until it succeeds, fails for good (then `onPermanent`), or the driver closes. */
  async function retrying(what: object, operation: () => Promise<void>, onPermanent: (message: string) => Promise<void>): Promise<void> {
    for (let delay = retryMs; !closed; delay = Math.min(delay * 2, 60_000)) {
      try {
        await operation();
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof Permanent) {
          logger.warn({ ...what, message }, 'velero driver: the cluster refused the operation');
          await onPermanent(message);
          return;
        }
        logger.info({ ...what, message, retryInMs: delay }, 'velero driver: cluster operation failed, trying again');
        await sleep(delay);
      }
    }
  }

  function permanentOf(error: unknown, what: string): never {
    const status = httpStatusOf(error);
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
      const detail = status === 404 ? 'Velero is not installed on the cluster (velero.io/v1 is not served)' : error instanceof Error ? error.message : String(error);
      throw new Permanent(`${what}: ${detail}`);
    }
    throw error;
  }

  function addressOf(workspaceId: string, clusterId: string): ClusterAddress | undefined {
    return workspaces.workspace(workspaceId)?.state.clusters.get(clusterId)?.connection;
  }

  function connectionOf(address: ClusterAddress): ClusterConnection {
    try {
      return connector.connect(address);
    } catch (error) {
      throw new Permanent(`the cluster's connection cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Applies a BackupStorageLocation, unless this process applied the same one to the cluster already (one request less per backup). */
  async function applyLocation(address: ClusterAddress, connection: ClusterConnection, bsl: VeleroObject): Promise<void> {
    const key = `${addressKey(address)}\u0000${bsl.metadata!.name}`;
    const signature = JSON.stringify(bsl);
    if (appliedLocations.get(key) === signature) return;
    try {
      await applyVeleroObject(connection, bsl, FIELD_MANAGER);
    } catch (error) {
      permanentOf(error, 'applying the BackupStorageLocation');
    }
    appliedLocations.set(key, signature);
  }

  /** Creates `obj`, or adopts the one of that name if it is ours; another object of that name is a permanent failure. */
  async function createOrAdopt(connection: ClusterConnection, obj: VeleroObject, label: string, id: string): Promise<void> {
    try {
      await connection.objects.create(obj);
    } catch (error) {
      if (httpStatusOf(error) !== 409) permanentOf(error, `creating ${obj.kind} ${obj.metadata!.name}`);
      const existing = (await connection.objects.read({ apiVersion: obj.apiVersion!, kind: obj.kind!, metadata: { name: obj.metadata!.name!, namespace } })) as VeleroObject;
      if (!isOurs(existing, label, id)) throw new Permanent(`a Velero ${obj.kind} named ${obj.metadata!.name} already exists on the cluster and is not Canopy's`);
    }
  }

  // Reports, one stream at a time in the order read, each only when it differs from the last one sent.
  function report(kind: RunKind, obj: VeleroObject): void {
    const ids = idsOf(obj, kind);
    if (!ids) return;
    const r = reportOf(obj, kind, ids.clusterId, clock());
    if (r) send(kind, ids.id, r);
  }

  function send(kind: RunKind, id: string, r: ClusterReport): void {
    const key = `${kind}:${id}:${r.clusterId}`;
    const signature = reportKey(r);
    if (lastReports.get(key) === signature) return;
    lastReports.set(key, signature);
    const previous = chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (closed) return;
      try {
        if (kind === 'Backup') await backups.commands.recordBackupReport({ userId: SYSTEM_ACTOR }, id, r);
        else await backups.commands.recordRestoreReport({ userId: SYSTEM_ACTOR }, id, r);
      } catch (error) {
        lastReports.delete(key);
        if (isCanopyError(error)) logger.warn({ kind, id, clusterId: r.clusterId, code: error.code, message: error.message }, 'velero driver: report refused');
        else throw error;
      }
    });
    const tracked = next.finally(() => {
      if (chains.get(id) === tracked) chains.delete(id);
    });
    chains.set(id, tracked);
    track(() => tracked);
  }

  function watchCluster(address: ClusterAddress, connection: ClusterConnection): void {
    const key = addressKey(address);
    if (watches.has(key)) return;
    const watch = new ClusterWatch(connection, namespace, retryMs, report, () => closed, logger);
    watches.set(key, watch);
    watch.start();
  }

  function failRun(kind: RunKind, id: string, clusterId: string, message: string): Promise<void> {
    const now = clock().toISOString();
    send(kind, id, { clusterId, phase: 'Failed', itemsDone: 0, totalItems: 0, warnings: 0, errors: 0, startedAt: null, completedAt: now, observedAt: now, message: message.slice(0, 2048) });
    return Promise.resolve();
  }

  function startBackup(request: BackupRequest): void {
    const state = backups.directory.backup(request.backupId).state;
    if (state.gone) return;
    for (const planned of request.planned) {
      const run = state.runs.get(planned.clusterId);
      if (run && isFinished(run.phase)) continue;
      const what = { backupId: request.backupId, clusterId: planned.clusterId, name: request.name };
      track(() =>
        retrying(
          what,
          async () => {
            const address = addressOf(request.workspaceId, planned.clusterId);
            if (!address) throw new Permanent('the cluster left the workspace before its backup was made');
            const connection = connectionOf(address);
            watchCluster(address, connection);
            const credentials = backups.directory.locationsOf(request.organizationId).state.locations.get(request.location.locationId)?.credentials;
            await applyLocation(address, connection, storageLocationObject(request, planned.storagePrefix, credentials, namespace));
            await createOrAdopt(connection, backupObject(request, planned, clock(), namespace), LABELS.backupId, request.backupId);
          },
          (message) => failRun('Backup', request.backupId, planned.clusterId, message),
        ),
      );
    }
  }

  function startRestore(request: RestoreRequest): void {
    const state = backups.directory.restore(request.restoreId).state;
    const backup = backups.directory.backup(request.backupId).state.request;
    if (!backup) {
      logger.warn({ restoreId: request.restoreId, backupId: request.backupId }, 'velero driver: restore of an unknown backup');
      return;
    }
    for (const planned of request.planned) {
      const run = state.runs.get(planned.clusterId);
      if (run && isFinished(run.phase)) continue;
      const source = backup.planned.find((p) => p.clusterId === planned.clusterId);
      track(() =>
        retrying(
          { restoreId: request.restoreId, clusterId: planned.clusterId, name: request.name },
          async () => {
            const address = addressOf(request.workspaceId, planned.clusterId);
            if (!address) throw new Permanent('the cluster left the workspace before its restore was made');
            const connection = connectionOf(address);
            watchCluster(address, connection);
            if (source) {
              // The location the backup was written to: Velero finds the backup there (a rebuilt cluster syncs it back).
              const credentials = backups.directory.locationsOf(backup.organizationId).state.locations.get(backup.location.locationId)?.credentials;
              await applyLocation(address, connection, storageLocationObject(backup, source.storagePrefix, credentials, namespace));
            }
            await createOrAdopt(connection, restoreObject(request, backup, planned.clusterId, namespace), LABELS.restoreId, request.restoreId);
          },
          (message) => failRun('Restore', request.restoreId, planned.clusterId, message),
        ),
      );
    }
  }

  /** Expired or deleted: each cluster's Velero deletes the backup and its files (a DeleteBackupRequest); nothing to do where it is gone already. */
  function deleteBackup(backupId: string): void {
    const request = backups.directory.backup(backupId).state.request;
    if (!request) return;
    for (const planned of request.planned) {
      const address = addressOf(request.workspaceId, planned.clusterId);
      if (!address) {
        logger.warn({ backupId, clusterId: planned.clusterId }, 'velero driver: the cluster left the workspace; its copy of the backup is left to Velero’s own expiry');
        continue;
      }
      track(() =>
        retrying(
          { backupId, clusterId: planned.clusterId, name: request.name, deleting: true },
          async () => {
            const connection = connectionOf(address);
            let backup: VeleroObject;
            try {
              backup = (await connection.objects.read({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: request.name, namespace } })) as VeleroObject;
            } catch (error) {
              if (httpStatusOf(error) === 404) return;
              permanentOf(error, 'reading the Backup');
            }
            if (!isOurs(backup, LABELS.backupId, backupId)) return;
            try {
              await connection.objects.create(deleteRequestObject(backup, request, planned.clusterId, namespace));
            } catch (error) {
              if (httpStatusOf(error) !== 409) permanentOf(error, 'creating the DeleteBackupRequest');
            }
          },
          async () => {},
        ),
      );
    }
  }

  const subscription = log.store.subscribeToAll({ filter: { streamPrefixes: [BACKUP_PREFIX, RESTORE_PREFIX] } });
  let markCaughtUp!: () => void;
  let failCaughtUp!: (error: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    markCaughtUp = resolve;
    failCaughtUp = reject;
  });
  caughtUp.catch(() => {});
  const running = (async () => {
    try {
      for await (const message of subscription) {
        if (message.kind === 'caught-up') {
          markCaughtUp();
          continue;
        }
        if (message.kind !== 'event') continue;
        const kind = streamOf(message.event.stream)?.kind;
        if (kind !== 'backup' && kind !== 'restore') continue;
        const event = log.upcast(message.event);
        // The backups directory decides what is finished: make sure it holds this event too.
        if (!backups.directory.holds(event.stream, event.revision)) await backups.directory.catchUp(log, event.stream);
        switch (event.type) {
          case 'BackupRequested':
            startBackup(event.data as BackupRequest);
            break;
          case 'BackupExpired':
          case 'BackupDeleted':
            deleteBackup((event.data as { backupId: string }).backupId);
            break;
          case 'RestoreRequested':
            startRestore(event.data as RestoreRequest);
            break;
        }
      }
    } catch (error) {
      failCaughtUp(error);
      if (!closed) logger.warn({ err: error }, 'velero driver: the log subscription failed');
    }
  })();

  return {
    caughtUp,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      closed = true;
      await subscription.close();
      await running;
      for (const entry of timers) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      timers.clear();
      await Promise.all([...watches.values()].map((watch) => watch.stop()));
      await Promise.allSettled([...pending]);
    },
  };
}

/**
 * The watch on one cluster's Velero Backups and Restores made by Canopy
 * (informers: list, then watch, relisting after 410 Gone); an informer that
 * fails is started again after `retryMs`.
 */
class ClusterWatch {
  private readonly informers;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    connection: ClusterConnection,
    namespace: string,
    private readonly retryMs: number,
    onObject: (kind: RunKind, obj: VeleroObject) => void,
    private readonly closed: () => boolean,
    private readonly logger: DriverLogger,
  ) {
    this.informers = (['Backup', 'Restore'] as const).map((kind) => {
      const informer = veleroInformer(connection, kind === 'Backup' ? 'backups' : 'restores', { namespace, labelSelector: MANAGED_SELECTOR });
      informer.on('add', (obj) => onObject(kind, obj));
      informer.on('update', (obj) => onObject(kind, obj));
      informer.on('error', (error) => {
        if (this.closed()) return;
        this.logger.info({ kind, server: connection.server, message: error instanceof Error ? error.message : String(error) }, 'velero driver: watch failed, watching again');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!this.closed()) void informer.start().catch(() => {});
        }, this.retryMs);
        this.timers.add(timer);
      });
      return informer;
    });
  }

  start(): void {
    for (const informer of this.informers) void informer.start().catch(() => {});
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}

import { randomUUID } from 'node:crypto';
import type { DomainEvent, EventLog } from '@canopy/eventstore';
import { addressKey, type ClusterConnection, type ClusterConnector } from '@canopy/kube';
import { ErrorCode, isCanopyError, type ClusterConnection as ClusterAddress, type WatchedWorkloadKind } from '@canopy/schema';
import type { Directory } from '@canopy/workspaces';
import { statusOf, type KubeObject } from '../status/status-of.js';
import { workloadsStream } from '../streams.js';
import { WorkloadChanges, type KnownWorkload } from './changes.js';
import { collectionPath, WATCHED_KINDS } from './kinds.js';
import { DEFAULT_RETRY, ResourceWatch, type RetryOptions } from './resource-watch.js';

/** The logger calls used (pino's signature). */
export interface WatcherLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** What the log last recorded about a workspace's workloads (the read model's rows), read when watching the workspace starts. */
export type KnownWorkloads = (workspaceId: string) => Promise<readonly KnownWorkload[]>;

export interface WorkloadWatcherOptions {
  log: EventLog;
  /** The workspaces, their clusters and namespaces (kept folded from the log by the workspaces service). */
  directory: Directory;
  connector: ClusterConnector;
  /**
   * The last known state, for dedupe across restarts and for what was
   * removed while no watcher ran. Without it every workload is recorded
   * again when watching starts, and nothing is found removed.
   */
  known?: KnownWorkloads;
  logger?: WatcherLogger;
  /** How often observed changes are appended (one append per workspace per tick). Default 20 ms: the wait a change adds before it is in the log. */
  flushIntervalMs?: number;
  /** How often the directory is looked at for clusters and namespaces added or removed. Default 1000 ms. */
  syncIntervalMs?: number;
  retry?: Partial<RetryOptions>;
  /** Stamps observations; default the system clock. */
  now?: () => Date;
}

/** How the watches of one cluster of one workspace are doing. */
export interface ClusterWatchHealth {
  workspaceId: string;
  clusterId: string;
  /** `starting`: not every collection listed yet; `watching`: all listed and watched; `failing`: some collection fails and is retried (see `message`). */
  state: 'starting' | 'watching' | 'failing';
  message: string | null;
  /** Collections (kind × namespace) watched. */
  collections: number;
  /** When the state last changed. */
  since: string;
}

export interface WorkloadWatcher {
  /** Appends what is pending now (tests, shutdown). */
  flush(): Promise<void>;
  /** Looks at the directory now (tests). */
  sync(): Promise<void>;
  health(): ClusterWatchHealth[];
  /** Observed changes not appended yet. */
  pending(): number;
  /** Totals since start: objects observed (listed or changed) and events appended. */
  stats(): { observed: number; appended: number };
  stop(): Promise<void>;
}

/** At most this many events per append (well under the log's 1 MiB per append). */
const MAX_EVENTS_PER_APPEND = 500;
export const WATCHER_ACTOR = 'canopy:workload-watcher';

interface CollectionState {
  watch: ResourceWatch;
  state: 'starting' | 'healthy' | 'failing';
  message: string | null;
}

interface ClusterWatch {
  clusterId: string;
  address: string;
  connection: ClusterConnection | undefined;
  connectError: string | null;
  collections: Map<string, CollectionState>;
  state: ClusterWatchHealth['state'];
  since: string;
}

interface WorkspaceWatch {
  workspaceId: string;
  changes: WorkloadChanges;
  clusters: Map<string, ClusterWatch>;
  /** Batches built but not appended yet (an append failed): sent first, with the same event ids. */
  outbox: DomainEvent[][];
  /** The flush in flight, if any. */
  flushing: Promise<void> | undefined;
}

/**
 * Watches every cluster of every workspace, in the workspace's namespaces,
 * for the six workload kinds, and appends their status changes to the
 * workspace's `workloads-{id}` stream: batched per tick, one append of many
 * events per workspace. Runs in one process of a deployment.
 */
export async function startWorkloadWatcher(options: WorkloadWatcherOptions): Promise<WorkloadWatcher> {
  const { log, directory, connector, known, logger } = options;
  const now = options.now ?? (() => new Date());
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const workspaces = new Map<string, WorkspaceWatch>();
  let stopped = false;
  let observed = 0;
  let appended = 0;

  const collectionKey = (namespace: string, kind: WatchedWorkloadKind) => `${namespace}\u0000${kind}`;

  function refreshHealth(cluster: ClusterWatch): void {
    let state: ClusterWatchHealth['state'] = 'watching';
    let message: string | null = null;
    if (cluster.connectError !== null) {
      state = 'failing';
      message = cluster.connectError;
    } else {
      for (const collection of cluster.collections.values()) {
        if (collection.state === 'failing') {
          state = 'failing';
          message = collection.message;
          break;
        }
        if (collection.state === 'starting') state = 'starting';
      }
    }
    if (state !== cluster.state) {
      if (state === 'failing') logger?.warn({ clusterId: cluster.clusterId, reason: message }, 'workload watch failing; retrying');
      else if (cluster.state === 'failing') logger?.info({ clusterId: cluster.clusterId }, 'workload watch recovered');
      cluster.state = state;
      cluster.since = now().toISOString();
    }
  }

  function watchCollection(ws: WorkspaceWatch, cluster: ClusterWatch, connection: ClusterConnection, namespace: string, kind: WatchedWorkloadKind): CollectionState {
    const { changes } = ws;
    const clusterId = cluster.clusterId;
    const collection: CollectionState = { state: 'starting', message: null, watch: undefined as unknown as ResourceWatch };
    collection.watch = new ResourceWatch(
      connection,
      collectionPath(kind, namespace),
      {
        listed(items: readonly KubeObject[]) {
          const at = now().toISOString();
          const names = new Set<string>();
          observed += items.length;
          for (const item of items) {
            const name = item.metadata?.name;
            if (!name) continue;
            names.add(name);
            changes.observe({ clusterId, namespace, kind, name }, statusOf(kind, item), at);
          }
          for (const ref of changes.existing(clusterId, namespace, kind)) if (!names.has(ref.name)) changes.remove(ref, 'Deleted', at);
        },
        changed(type, object) {
          const name = object.metadata?.name;
          if (!name) return;
          observed += 1;
          const ref = { clusterId, namespace, kind, name };
          if (type === 'DELETED') changes.remove(ref, 'Deleted', now().toISOString());
          else changes.observe(ref, statusOf(kind, object), now().toISOString());
        },
        state(state) {
          collection.state = state.healthy ? 'healthy' : 'failing';
          collection.message = state.healthy ? null : state.message;
          refreshHealth(cluster);
        },
      },
      retry,
    );
    return collection;
  }

  async function stopCollections(cluster: ClusterWatch, keep: (key: string) => boolean): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const [key, collection] of cluster.collections) {
      if (keep(key)) continue;
      cluster.collections.delete(key);
      stopping.push(collection.watch.stop());
    }
    await Promise.all(stopping);
  }

  function syncCluster(ws: WorkspaceWatch, cluster: ClusterWatch, address: ClusterAddress, namespaces: ReadonlySet<string>): void {
    if (!cluster.connection) {
      try {
        cluster.connection = connector.connect(address);
        cluster.connectError = null;
      } catch (error) {
        cluster.connectError = error instanceof Error ? error.message : String(error);
        refreshHealth(cluster);
        return;
      }
    }
    for (const namespace of namespaces) {
      for (const kind of WATCHED_KINDS) {
        const key = collectionKey(namespace, kind);
        if (!cluster.collections.has(key)) cluster.collections.set(key, watchCollection(ws, cluster, cluster.connection, namespace, kind));
      }
    }
    refreshHealth(cluster);
  }

  async function startWorkspace(workspaceId: string): Promise<WorkspaceWatch> {
    const changes = new WorkloadChanges(workspaceId);
    if (known) changes.seed(await known(workspaceId));
    const ws: WorkspaceWatch = { workspaceId, changes, clusters: new Map(), outbox: [], flushing: undefined };
    workspaces.set(workspaceId, ws);
    return ws;
  }

  async function sync(): Promise<void> {
    const live = new Set<string>();
    for (const organization of directory.allOrganizations()) {
      for (const workspaceId of organization.state.workspaces.keys()) {
        if (stopped) return;
        const view = directory.workspace(workspaceId);
        if (!view) continue;
        live.add(workspaceId);
        const ws = workspaces.get(workspaceId) ?? (await startWorkspace(workspaceId));
        const at = now().toISOString();
        const { clusters, namespaces } = view.state;
        for (const [clusterId, entry] of clusters) {
          const address = addressKey(entry.connection);
          let cluster = ws.clusters.get(clusterId);
          if (cluster && cluster.address !== address) {
            await stopCollections(cluster, () => false);
            cluster = undefined;
          }
          if (!cluster) {
            cluster = { clusterId, address, connection: undefined, connectError: null, collections: new Map(), state: 'starting', since: at };
            ws.clusters.set(clusterId, cluster);
          }
          await stopCollections(cluster, (key) => namespaces.has(key.slice(0, key.indexOf('\u0000'))));
          syncCluster(ws, cluster, entry.connection, namespaces);
        }
        for (const [clusterId, cluster] of ws.clusters) {
          if (clusters.has(clusterId)) continue;
          ws.clusters.delete(clusterId);
          await stopCollections(cluster, () => false);
        }
        // What the workspace no longer covers leaves its view, whether the watcher saw it go or finds it gone at start.
        for (const ref of ws.changes.existing()) {
          if (!clusters.has(ref.clusterId)) ws.changes.remove(ref, 'ClusterDetached', at);
          else if (!namespaces.has(ref.namespace)) ws.changes.remove(ref, 'NamespaceRemoved', at);
        }
      }
    }
    for (const [workspaceId, ws] of workspaces) {
      if (live.has(workspaceId)) continue;
      workspaces.delete(workspaceId);
      for (const cluster of ws.clusters.values()) await stopCollections(cluster, () => false);
    }
  }

  async function flushWorkspace(ws: WorkspaceWatch): Promise<void> {
    if (ws.changes.pendingCount > 0) {
      const changes = ws.changes.drain();
      for (let start = 0; start < changes.length; start += MAX_EVENTS_PER_APPEND) {
        ws.outbox.push(changes.slice(start, start + MAX_EVENTS_PER_APPEND).map((change) => ({ id: randomUUID(), type: change.type, data: change.data })));
      }
    }
    while (ws.outbox.length > 0) {
      const batch = ws.outbox[0]!;
      try {
        await log.append(workloadsStream(ws.workspaceId), batch, { context: { actor: WATCHER_ACTOR } });
        ws.outbox.shift();
        appended += batch.length;
      } catch (error) {
        if (isCanopyError(error) && (error.code === ErrorCode.INVALID_EVENT_PAYLOAD || error.code === ErrorCode.EVENT_TOO_LARGE || error.code === ErrorCode.BAD_USER_INPUT)) {
          logger?.error({ workspaceId: ws.workspaceId, code: error.code, events: batch.length, err: error.message }, 'workload status batch refused by the log; dropped');
          ws.outbox.shift();
          continue;
        }
        logger?.warn({ workspaceId: ws.workspaceId, events: batch.length, err: error instanceof Error ? error.message : String(error) }, 'appending workload status failed; retrying next tick');
        return;
      }
    }
  }

  /** Each workspace flushes on its own: one whose append is still running skips the tick (its changes wait, coalesced, for the next), the others go on. */
  function flush(): Promise<void> {
    const running: Promise<void>[] = [];
    for (const ws of workspaces.values()) {
      if (!ws.flushing && (ws.changes.pendingCount > 0 || ws.outbox.length > 0)) {
        ws.flushing = flushWorkspace(ws).finally(() => {
          ws.flushing = undefined;
        });
      }
      if (ws.flushing) running.push(ws.flushing);
    }
    return Promise.all(running).then(() => undefined);
  }

  let syncing: Promise<void> | undefined;
  function syncOnce(): Promise<void> {
    if (!syncing) {
      syncing = sync()
        .catch((error: unknown) => logger?.error({ err: error instanceof Error ? error.message : String(error) }, 'workload watcher: looking at the workspaces failed'))
        .finally(() => {
          syncing = undefined;
        });
    }
    return syncing;
  }

  await syncOnce();
  const flushTimer = setInterval(() => void flush(), options.flushIntervalMs ?? 20);
  const syncTimer = setInterval(() => void syncOnce(), options.syncIntervalMs ?? 1000);

  return {
    flush: async () => {
      await flush();
      await flush();
    },
    sync: async () => {
      await syncing;
      await syncOnce();
    },
    health() {
      const health: ClusterWatchHealth[] = [];
      for (const ws of workspaces.values()) {
        for (const cluster of ws.clusters.values()) {
          health.push({ workspaceId: ws.workspaceId, clusterId: cluster.clusterId, state: cluster.state, message: cluster.state === 'failing' ? cluster.connectError ?? firstFailure(cluster) : null, collections: cluster.collections.size, since: cluster.since });
        }
      }
      return health;
    },
    stats: () => ({ observed, appended }),
    pending() {
      let count = 0;
      for (const ws of workspaces.values()) count += ws.changes.pendingCount + ws.outbox.reduce((sum, batch) => sum + batch.length, 0);
      return count;
    },
    async stop() {
      stopped = true;
      clearInterval(flushTimer);
      clearInterval(syncTimer);
      await syncing;
      for (const ws of workspaces.values()) for (const cluster of ws.clusters.values()) await stopCollections(cluster, () => false);
      await flush();
      await flush();
    },
  };
}

function firstFailure(cluster: ClusterWatch): string | null {
  for (const collection of cluster.collections.values()) if (collection.state === 'failing') return collection.message;
  return null;
}

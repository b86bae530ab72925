import type { EventLog, ReadDomainEvent } from '@canopy/eventstore';
import { SecretCipher, type KeyStore } from '@canopy/keystore';
import { systemClock, type Clock, type ClusterConnector, type TimerHandle } from '@canopy/kube';
import { CLUSTER_STREAM_PREFIX, clusterStream, ErrorCode, isCanopyError } from '@canopy/schema';
import { secretAad, type WorkspaceState } from '@canopy/workspaces';
import { releaseCluster, syncChanges, syncCluster, type Applied, type CallOptions, type ReleaseReport, type SyncReport } from './apply/cluster-sync.js';
import { classify, SyncError, type SyncFailure } from './apply/failure.js';
import { Scheduler, type RetryPolicy } from './apply/scheduler.js';
import { desiredHash } from './desired/hash.js';
import { workspaceIdentity, type WorkspaceIdentity } from './desired/identity.js';
import { desiredObjects, type OpenedSecret } from './desired/objects.js';
import { ReconcilerFold, WORKSPACE_PREFIX, type Attachment, type RecordedOutcome } from './fold.js';
import { stateOf, type ClusterSyncStatus } from './status.js';

/** What the reconciler logs through (pino's signature); never given secret values. */
export interface ReconcilerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ReconcilerOptions {
  log: EventLog;
  /** Opens the workspaces' secrets (their data keys). */
  keys: KeyStore;
  connector: ClusterConnector;
  /** How often every cluster is checked again to repair drift. Default 3 minutes. */
  resyncIntervalMs?: number;
  /** Clusters worked on at once. Default 16. */
  concurrency?: number;
  /** Calls in flight at once on one cluster. Default 8. */
  parallelism?: number;
  /** One call's deadline. Default 10 s. */
  callTimeoutMs?: number;
  /** Retries after a failure. Default: from 1 s, doubling, up to 1 minute, with jitter. */
  retry?: RetryPolicy;
  /** Timers for resyncs and retries. Default: the system clock. */
  clock?: Clock;
  logger?: ReconcilerLogger;
  /** The actor stamped on the outcome events. Default `canopy-reconciler`. */
  actor?: string;
}

export interface Reconciler {
  /** The log position of the last workspace or cluster event folded (undefined: none yet). */
  readonly position: bigint | undefined;
  /** Resolves once the reconciler has folded the log up to `position` (a command's answer), so that `status` reflects that change. */
  reached(position: bigint | undefined): Promise<void>;
  /** Every cluster of the workspace (and detached ones not cleaned up yet), by name. */
  status(workspaceId: string): ClusterSyncStatus[];
  clusterStatus(clusterId: string): ClusterSyncStatus | undefined;
  /** Checks every cluster now, as the periodic resync does. */
  resync(): void;
  /** Resolves once nothing runs or waits to run (clusters waiting out a retry aside). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const noLogger: ReconcilerLogger = { info() {}, warn() {}, error() {} };

const DEFAULTS = { resyncIntervalMs: 180_000, concurrency: 16, parallelism: 8, callTimeoutMs: 10_000, retry: { initialMs: 1000, maxMs: 60_000 } };

/**
 * Starts the reconciler: follows the log (workspace and cluster streams)
 * from its start, and once caught up applies every workspace to each of its
 * clusters, then again on every change of the workspace and every
 * `resyncIntervalMs`. Resolves once caught up.
 */
export async function startReconciler(options: ReconcilerOptions): Promise<Reconciler> {
  const reconciler = new ReconcilerProcess(options);
  await reconciler.start();
  return reconciler;
}

class ReconcilerProcess implements Reconciler {
  private readonly fold = new ReconcilerFold();
  private readonly statuses = new Map<string, ClusterSyncStatus>();
  private readonly identities = new Map<string, WorkspaceIdentity>();
  private readonly openedSecrets = new Map<string, Map<string, OpenedSecret>>();
  /** Per target, what its last successful sync applied: a change is then applied without listing the cluster. */
  private readonly lastApplied = new Map<string, Applied>();
  /** Targets whose next run lists and compares everything (resyncs, and after a failure). */
  private readonly fullNext = new Set<string>();
  private readonly cipher: SecretCipher;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly logger: ReconcilerLogger;
  private readonly calls: CallOptions;
  private readonly resyncIntervalMs: number;
  private readonly subscription;
  private following: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private caughtUp = false;
  private folded: bigint | undefined;
  private readonly waiters: { position: bigint; resolve: () => void }[] = [];
  private stopped = false;

  constructor(private readonly options: ReconcilerOptions) {
    this.cipher = new SecretCipher(options.keys);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noLogger;
    this.calls = { parallelism: options.parallelism ?? DEFAULTS.parallelism, callTimeoutMs: options.callTimeoutMs ?? DEFAULTS.callTimeoutMs };
    this.resyncIntervalMs = options.resyncIntervalMs ?? DEFAULTS.resyncIntervalMs;
    this.scheduler = new Scheduler((target) => this.runTarget(target), {
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      retry: options.retry ?? DEFAULTS.retry,
      clock: this.clock,
      onError: (target, error) => this.logger.error({ err: error, target: target.replace('\u0000', ' ') }, 'reconciler: a run failed unexpectedly'),
    });
    this.subscription = options.log.store.subscribeToAll({ filter: { streamPrefixes: [WORKSPACE_PREFIX, CLUSTER_STREAM_PREFIX] } });
  }

  async start(): Promise<void> {
    let markCaughtUp!: () => void;
    let fail!: (error: unknown) => void;
    const caughtUp = new Promise<void>((resolve, reject) => {
      markCaughtUp = resolve;
      fail = reject;
    });
    this.following = (async () => {
      try {
        for await (const message of this.subscription) {
          if (message.kind === 'event') {
            this.onEvent(message.event);
            this.advance(message.event.position);
          } else if (message.kind === 'checkpoint') this.advance(message.position);
          else if (message.kind === 'caught-up' && !this.caughtUp) {
            this.caughtUp = true;
            this.initialStatuses();
            for (const target of this.fold.targets()) this.scheduler.schedule(target);
            this.scheduleResync();
            if (message.position !== undefined) this.advance(message.position);
            markCaughtUp();
          }
        }
      } catch (error) {
        this.logger.error({ err: error }, 'reconciler: following the log failed');
        fail(error);
      }
    })();
    await caughtUp;
  }

  get position(): bigint | undefined {
    return this.folded;
  }

  reached(position: bigint | undefined): Promise<void> {
    if (position === undefined || (this.folded !== undefined && this.folded >= position)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ position, resolve }));
  }

  private advance(position: bigint): void {
    if (this.folded === undefined || position > this.folded) this.folded = position;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.position <= position) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }

  status(workspaceId: string): ClusterSyncStatus[] {
    return this.fold
      .attachmentsOf(workspaceId)
      .map((attachment) => this.statuses.get(attachment.clusterId))
      .filter((status): status is ClusterSyncStatus => status !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  clusterStatus(clusterId: string): ClusterSyncStatus | undefined {
    return this.statuses.get(clusterId);
  }

  resync(): void {
    const targets = this.fold.targets();
    for (const target of targets) this.fullNext.add(target);
    this.scheduler.resync(targets);
  }

  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.resyncTimer?.cancel();
    await this.subscription.close();
    await this.following;
    await this.scheduler.stop();
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.resyncTimer = this.clock.setTimer(() => {
      this.resync();
      this.scheduleResync();
    }, this.resyncIntervalMs);
  }

  private onEvent(recorded: Parameters<EventLog['upcast']>[0]): void {
    let event: ReadDomainEvent;
    try {
      event = this.options.log.upcast(recorded);
    } catch (error) {
      this.logger.warn({ err: error, stream: recorded.stream, type: recorded.type }, 'reconciler: skipped an event it cannot read');
      return;
    }
    const workspaceId = this.fold.apply(event);
    if (workspaceId === undefined) return;
    if (event.type === 'SecretDeleted' || event.type === 'WorkspaceClosed') this.forgetSecrets(workspaceId, event);
    if (!this.caughtUp) return;
    for (const attachment of this.fold.attachmentsOf(workspaceId)) {
      if (!attachment.live && this.fold.clusterStream(attachment.clusterId).outcome?.kind === 'released') continue;
      const status = this.statuses.get(attachment.clusterId);
      // An unreachable cluster stays reported so until an attempt reaches it.
      this.setStatus(attachment, status?.state === 'unreachable' ? status : { state: 'out-of-sync', reason: 'pending', message: null });
      this.scheduler.schedule(attachment.target);
    }
  }

  private forgetSecrets(workspaceId: string, event: ReadDomainEvent): void {
    if (event.type === 'WorkspaceClosed') this.openedSecrets.delete(workspaceId);
    else this.openedSecrets.get(workspaceId)?.delete((event.data as { name: string }).name);
  }

  /** After a restart: what the log last recorded, until the first attempt says more. */
  private initialStatuses(): void {
    for (const target of this.fold.targets()) {
      for (const attachment of this.fold.attachmentsAt(target)) {
        const outcome = this.fold.clusterStream(attachment.clusterId).outcome;
        if (outcome?.kind === 'failed') this.setStatus(attachment, { state: stateOf(outcome.reason), reason: outcome.reason, message: outcome.message }, outcome.at);
        else this.setStatus(attachment, { state: 'out-of-sync', reason: 'pending', message: null }, outcome?.at);
      }
    }
  }

  private setStatus(attachment: Attachment, next: Pick<ClusterSyncStatus, 'state' | 'reason' | 'message'> & Partial<ClusterSyncStatus>, at?: string): void {
    const now = new Date(this.clock.now()).toISOString();
    const previous = this.statuses.get(attachment.clusterId);
    const changed = !previous || previous.state !== next.state || previous.reason !== next.reason;
    this.statuses.set(attachment.clusterId, {
      clusterId: attachment.clusterId,
      workspaceId: attachment.workspaceId,
      name: attachment.name,
      attached: attachment.live,
      desiredHash: previous?.desiredHash ?? null,
      lastAttemptAt: previous?.lastAttemptAt ?? null,
      lastSyncedAt: previous?.lastSyncedAt ?? null,
      ...next,
      since: changed ? (at ?? now) : previous.since,
    });
  }

  private identity(workspaceId: string): WorkspaceIdentity {
    let identity = this.identities.get(workspaceId);
    if (!identity) this.identities.set(workspaceId, (identity = workspaceIdentity(workspaceId)));
    return identity;
  }

  /** The workspace's secrets with their values opened (each version opened once). */
  private async secrets(workspaceId: string, state: WorkspaceState): Promise<Map<string, OpenedSecret>> {
    const cache = this.openedSecrets.get(workspaceId) ?? new Map<string, OpenedSecret>();
    this.openedSecrets.set(workspaceId, cache);
    const opened = new Map<string, OpenedSecret>();
    for (const [name, entry] of state.secrets) {
      let secret = cache.get(name);
      if (secret?.version !== entry.version) {
        const values: Record<string, string> = {};
        try {
          for (const [key, sealed] of Object.entries(entry.values)) values[key] = await this.cipher.open(workspaceId, sealed, secretAad(workspaceId, name, entry.version, key));
        } catch (error) {
          const why = isCanopyError(error, ErrorCode.SECRET_KEY_DESTROYED) ? "the workspace's data key is destroyed" : 'a value does not open with the workspace key';
          throw new SyncError({ reason: 'secret-unavailable', message: `secret ${name} version ${entry.version}: ${why}`, failedObjects: 0 });
        }
        secret = { version: entry.version, values };
        cache.set(name, secret);
      }
      opened.set(name, secret);
    }
    return opened;
  }

  /** One run of a target; true when everything it had to do is done. */
  private async runTarget(target: string): Promise<boolean> {
    const attachments = this.fold.attachmentsAt(target);
    const live = attachments.find((a) => a.live);
    const released = attachments.filter((a) => !a.live);
    if (!live && released.length === 0) {
      this.scheduler.forget(target);
      return true;
    }
    const startedAt = new Date(this.clock.now()).toISOString();
    const workspaceId = (live ?? released[0]!).workspaceId;
    const identity = this.identity(workspaceId);
    try {
      const conn = this.options.connector.connect((live ?? released[0]!).address);
      // A live attachment's sync removes what a detached one at the same cluster left, so its release counts nothing of its own.
      let releaseReport: ReleaseReport = { deleted: 0, namespacesReleased: 0 };
      if (live) {
        const state = this.fold.workspace(workspaceId)!;
        const revision = this.fold.workspaceRevision(workspaceId);
        const secrets = await this.secrets(workspaceId, state);
        const build = (clusterNamespaces: readonly string[]) => {
          const objects = desiredObjects({ identity, clusterId: live.clusterId, state, clusterNamespaces, secrets });
          return { objects, hash: desiredHash(objects) };
        };
        const previous = this.fullNext.delete(target) ? undefined : this.lastApplied.get(target);
        this.lastApplied.delete(target);
        const report = previous ? await syncChanges(conn, identity, previous, build, this.calls) : await syncCluster(conn, identity, build, this.calls);
        this.lastApplied.set(target, report.state);
        await this.synced(live, report, startedAt, this.fold.workspaceRevision(workspaceId) !== revision);
      } else {
        releaseReport = await releaseCluster(conn, identity, this.calls);
        this.logger.info({ workspaceId, clusters: released.map((a) => a.clusterId), ...releaseReport }, 'reconciler: released the cluster');
      }
      for (const attachment of released) await this.released(attachment, releaseReport);
      if (!live) {
        this.scheduler.forget(target);
        this.lastApplied.delete(target);
      }
      return true;
    } catch (error) {
      const failure = classify(error, 'the attempt');
      this.fullNext.add(target);
      if (failure.reason === 'error') this.logger.error({ err: error, workspaceId }, 'reconciler: unexpected failure');
      for (const attachment of live ? [live] : released) await this.failed(attachment, failure, startedAt);
      return false;
    }
  }

  /** `stale`: the workspace changed during the run, so the cluster is in sync with a state that is no longer the latest (the next run follows). */
  private async synced(attachment: Attachment, report: SyncReport, at: string, stale: boolean): Promise<void> {
    const previous = this.fold.clusterStream(attachment.clusterId).outcome;
    const data = { workspaceId: attachment.workspaceId, clusterId: attachment.clusterId, desiredHash: report.desiredHash, objects: report.objects, applied: report.applied, deleted: report.deleted };
    if (previous?.kind === 'failed') await this.record(attachment, { type: 'ClusterRecovered', data: { ...data, after: previous.reason } }, { kind: 'synced', desiredHash: report.desiredHash, at });
    else if (previous?.kind !== 'synced' || previous.desiredHash !== report.desiredHash || report.applied > 0 || report.deleted > 0) {
      await this.record(attachment, { type: 'ClusterSynced', data }, { kind: 'synced', desiredHash: report.desiredHash, at });
    }
    if (report.applied > 0 || report.deleted > 0) this.logger.info({ ...data }, 'reconciler: cluster in sync');
    const state = stale ? { state: 'out-of-sync' as const, reason: 'pending' as const } : { state: 'in-sync' as const, reason: null };
    this.setStatus(attachment, { ...state, message: null, desiredHash: report.desiredHash, lastAttemptAt: at, lastSyncedAt: at });
  }

  private async failed(attachment: Attachment, failure: SyncFailure, at: string): Promise<void> {
    const previous = this.fold.clusterStream(attachment.clusterId).outcome;
    const status = this.statuses.get(attachment.clusterId);
    // While a cluster stays unreachable the words vary (a connection reset, then refused): the reason is the outcome.
    const same = previous?.kind === 'failed' && previous.reason === failure.reason && (stateOf(failure.reason) === 'unreachable' || previous.message === failure.message);
    if (!same) {
      const desiredHash = status?.desiredHash ?? null;
      await this.record(
        attachment,
        { type: 'ClusterSyncFailed', data: { workspaceId: attachment.workspaceId, clusterId: attachment.clusterId, desiredHash, reason: failure.reason, message: failure.message, failedObjects: failure.failedObjects } },
        { kind: 'failed', reason: failure.reason, message: failure.message, desiredHash, at },
      );
      this.logger.warn({ workspaceId: attachment.workspaceId, clusterId: attachment.clusterId, reason: failure.reason, message: failure.message }, 'reconciler: cluster out of sync');
    }
    this.setStatus(attachment, { state: stateOf(failure.reason), reason: failure.reason, message: failure.message, lastAttemptAt: at });
  }

  private async released(attachment: Attachment, report: ReleaseReport): Promise<void> {
    const data = { workspaceId: attachment.workspaceId, clusterId: attachment.clusterId, cause: attachment.cause ?? 'detached', ...report };
    await this.record(attachment, { type: 'ClusterReleased', data }, { kind: 'released', at: new Date(this.clock.now()).toISOString() });
    this.statuses.delete(attachment.clusterId);
  }

  /** Appends one outcome to the attachment's stream at the revision folded; another writer in between means reading the stream and deciding again. */
  private async record(attachment: Attachment, event: { type: string; data: object }, outcome: RecordedOutcome): Promise<void> {
    const stream = clusterStream(attachment.clusterId);
    for (let attempt = 1; ; attempt++) {
      const known = this.fold.clusterStream(attachment.clusterId);
      try {
        const result = await this.options.log.append(stream, [event], { expectedRevision: known.revision ?? 'no_stream', context: { actor: this.options.actor ?? 'canopy-reconciler' } });
        this.fold.recorded(attachment.clusterId, result.nextExpectedRevision, outcome);
        return;
      } catch (error) {
        if (!isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION) || attempt >= 3) {
          this.logger.error({ err: error, stream }, 'reconciler: could not record an outcome');
          return;
        }
        const fromRevision = known.revision === undefined ? 0n : known.revision + 1n;
        for await (const recorded of this.options.log.readStream(stream, { fromRevision })) this.fold.apply(recorded);
      }
    }
  }
}

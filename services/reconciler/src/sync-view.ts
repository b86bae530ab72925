import { setTimeout as sleep } from 'node:timers/promises';
import type { EventLog, Subscription } from '@canopy/eventstore';
import { CLUSTER_STREAM_PREFIX } from '@canopy/schema';
import { ReconcilerFold, WORKSPACE_PREFIX } from './fold.js';
import { stateOf, type ClusterSyncStatus } from './status.js';

/** Each cluster's sync state as the log records it. */
export interface SyncView {
  clusterStatus(clusterId: string): ClusterSyncStatus | undefined;
  stop(): Promise<void>;
}

/**
 * The clusters' sync state for a process that does not run the reconciler
 * (it stands by while another leads): the last outcome the reconciler
 * recorded on each attached cluster's stream — in sync, or failed with its
 * reason. Outcomes are recorded when they change, so a change the leader is
 * still applying is not shown as pending here, and a cluster with no
 * outcome yet has no state. Resolves once caught up with the log; if the
 * log fails, follows it again from the last event folded.
 */
export async function startSyncView(log: EventLog, options: { retryMs?: number } = {}): Promise<SyncView> {
  const fold = new ReconcilerFold();
  let subscription: Subscription | undefined;
  let position: bigint | undefined;
  let stopped = false;
  let isCaughtUp = false;
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  // If the log fails once the view is up, it follows the log again from the last event it folded.
  const following = (async () => {
    while (!stopped) {
      subscription = log.store.subscribeToAll({ ...(position === undefined ? {} : { after: position }), filter: { streamPrefixes: [WORKSPACE_PREFIX, CLUSTER_STREAM_PREFIX] } });
      try {
        for await (const message of subscription) {
          if (message.kind === 'caught-up') {
            isCaughtUp = true;
            caughtUp();
          }
          if (message.kind === 'checkpoint') position = message.position;
          if (message.kind !== 'event') continue;
          position = message.event.position;
          try {
            fold.apply(log.upcast(message.event));
          } catch {
            // An event it cannot read tells it nothing about sync state (the reconciler logs it).
          }
        }
        return;
      } catch (error) {
        // Failing before it is up, it fails the start.
        if (!isCaughtUp) throw error;
        if (!stopped) await sleep(options.retryMs ?? 1000);
      }
    }
  })();
  await Promise.race([ready, following]);
  following.catch(() => {});
  return {
    clusterStatus(clusterId) {
      const attachment = fold.attachment(clusterId);
      const outcome = fold.clusterStream(clusterId).outcome;
      if (!attachment || !outcome || outcome.kind === 'released') return undefined;
      const common = { clusterId, workspaceId: attachment.workspaceId, name: attachment.name, attached: attachment.live, since: outcome.at, lastAttemptAt: outcome.at };
      return outcome.kind === 'synced'
        ? { ...common, state: 'in-sync', reason: null, message: null, desiredHash: outcome.desiredHash, lastSyncedAt: outcome.at }
        : { ...common, state: stateOf(outcome.reason), reason: outcome.reason, message: outcome.message, desiredHash: outcome.desiredHash, lastSyncedAt: null };
    },
    async stop() {
      stopped = true;
      await subscription?.close();
      await following.catch(() => {});
    },
  };
}

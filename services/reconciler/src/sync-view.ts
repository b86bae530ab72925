import type { EventLog } from '@canopy/eventstore';
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
 * outcome yet has no state. Resolves once caught up with the log.
 */
export async function startSyncView(log: EventLog): Promise<SyncView> {
  const fold = new ReconcilerFold();
  const subscription = log.store.subscribeToAll({ filter: { streamPrefixes: [WORKSPACE_PREFIX, CLUSTER_STREAM_PREFIX] } });
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  const following = (async () => {
    for await (const message of subscription) {
      if (message.kind === 'caught-up') caughtUp();
      if (message.kind !== 'event') continue;
      try {
        fold.apply(log.upcast(message.event));
      } catch {
        // An event it cannot read tells it nothing about sync state (the reconciler logs it).
      }
    }
  })();
  await Promise.race([ready, following]);
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
      await subscription.close();
      await following.catch(() => {});
    },
  };
}

import type { ClusterSyncFailureReason } from '@canopy/schema';

/**
 * A cluster as the API shows it: in sync (everything desired is there),
 * out of sync (a change not applied yet — reason `pending` — or an attempt
 * that failed), or unreachable (the last attempt could not talk to it),
 * with the reason.
 */
export interface ClusterSyncStatus {
  clusterId: string;
  workspaceId: string;
  name: string;
  state: 'in-sync' | 'out-of-sync' | 'unreachable';
  reason: ClusterSyncFailureReason | 'pending' | null;
  message: string | null;
  /** Whether the cluster is still attached; a detached one is listed until its cleanup is done. */
  attached: boolean;
  /** Digest of the desired objects last applied in full. */
  desiredHash: string | null;
  /** When the state last changed (ISO 8601). */
  since: string;
  lastAttemptAt: string | null;
  lastSyncedAt: string | null;
}

/** The state a failure leaves a cluster in: unreachable when Canopy could not talk to it, else out of sync. */
export function stateOf(reason: ClusterSyncFailureReason): ClusterSyncStatus['state'] {
  return reason === 'unreachable' || reason === 'unauthorized' || reason === 'connection-invalid' ? 'unreachable' : 'out-of-sync';
}

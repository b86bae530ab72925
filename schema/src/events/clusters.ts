import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { Id } from './primitives.js';

/**
 * What the reconciler observed applying a workspace to one attached cluster,
 * on the attachment's stream `cluster-{clusterId}` (a cluster id names one
 * attachment of a cluster to a workspace). Recorded when the outcome
 * changes — a new desired state applied, drift repaired, a failure, a
 * recovery, the cleanup after detaching — never for a resync that found
 * everything as it should be.
 */
export const CLUSTER_STREAM_PREFIX = 'cluster-';
export const clusterStream = (clusterId: string): string => `${CLUSTER_STREAM_PREFIX}${clusterId}`;

/** Why applying failed: the cluster could not be reached (or answered 5xx), refused the credentials, another field manager holds a field, the API server refused an object, the connection cannot be used, a secret could not be opened, or anything else. */
export const ClusterSyncFailureReason = z.enum(['unreachable', 'unauthorized', 'conflict', 'rejected', 'connection-invalid', 'secret-unavailable', 'error']);
export type ClusterSyncFailureReason = z.infer<typeof ClusterSyncFailureReason>;

/** A digest of the desired objects (secret values left out: only their versions count). */
const DesiredHash = z.string().min(1).max(128);
const Count = z.number().int().min(0);

/** Everything desired is on the cluster; `applied` objects were created or changed, `deleted` removed (0 and 0 with a new hash: it was already there). */
export const ClusterSynced = defineEvent({
  type: 'ClusterSynced',
  payload: z.object({ workspaceId: Id, clusterId: Id, desiredHash: DesiredHash, objects: Count, applied: Count, deleted: Count }),
});

export const ClusterSyncFailed = defineEvent({
  type: 'ClusterSyncFailed',
  payload: z.object({
    workspaceId: Id,
    clusterId: Id,
    desiredHash: DesiredHash.nullable(),
    reason: ClusterSyncFailureReason,
    message: z.string().max(2048),
    /** Objects that failed (the whole attempt when the cluster was unreachable: 0). */
    failedObjects: Count,
  }),
});

/** The first full sync after a recorded failure. */
export const ClusterRecovered = defineEvent({
  type: 'ClusterRecovered',
  payload: z.object({ workspaceId: Id, clusterId: Id, desiredHash: DesiredHash, objects: Count, applied: Count, deleted: Count, after: ClusterSyncFailureReason }),
});

/** What the workspace applied there is gone (namespaces and workloads stay); the attachment's stream ends here. */
export const ClusterReleased = defineEvent({
  type: 'ClusterReleased',
  payload: z.object({ workspaceId: Id, clusterId: Id, cause: z.enum(['detached', 'workspace-deleted']), deleted: Count, namespacesReleased: Count }),
});

export const clusterEvents = [ClusterSynced, ClusterSyncFailed, ClusterRecovered, ClusterReleased] as const;

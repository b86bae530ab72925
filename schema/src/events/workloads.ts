import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { Id, KubernetesName, KubernetesSubdomain } from './primitives.js';

/**
 * Live workload status, as the workload watcher observes it on each cluster
 * of a workspace, in the workspace's namespaces. One stream per workspace,
 * `workloads-{workspaceId}`, so that one subscription follows one stream.
 * An event is a change (status, replicas, reason or message), never a
 * heartbeat: a workload observed again as it was writes nothing.
 */

const Timestamp = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0).max(10_000_000);

/** The Kubernetes kinds watched. */
export const WatchedWorkloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);
export type WatchedWorkloadKind = z.infer<typeof WatchedWorkloadKind>;

/**
 * What a UI colours: Pending (not started), Progressing (moving towards what
 * the spec asks: rollout, scaling, a job running), Running (as asked, healthy),
 * Degraded (needs attention: crash loop, image pull failure, unschedulable,
 * rollout past its deadline), Succeeded and Failed (finished), Suspended
 * (suspended, or scaled to zero).
 */
export const WorkloadStatus = z.enum(['Pending', 'Progressing', 'Running', 'Degraded', 'Succeeded', 'Failed', 'Suspended']);
export type WorkloadStatus = z.infer<typeof WorkloadStatus>;

/** Replica counts, for kinds that have replicas (pods: none). */
export const WorkloadReplicas = z.object({ desired: Count, ready: Count, available: Count, updated: Count });
export type WorkloadReplicas = z.infer<typeof WorkloadReplicas>;

/** Longest reason and message kept (longer ones are cut by the watcher). */
export const WORKLOAD_REASON_MAX = 128;
export const WORKLOAD_MESSAGE_MAX = 1024;

const WorkloadKey = {
  workspaceId: Id,
  clusterId: Id,
  namespace: KubernetesName,
  kind: WatchedWorkloadKind,
  name: KubernetesSubdomain,
};

export const WorkloadStatusChanged = defineEvent({
  type: 'WorkloadStatusChanged',
  payload: z.object({
    ...WorkloadKey,
    status: WorkloadStatus,
    /** The status before this change; null when the workload is seen for the first time. */
    previousStatus: WorkloadStatus.nullable(),
    replicas: WorkloadReplicas.nullable(),
    reason: z.string().max(WORKLOAD_REASON_MAX).nullable(),
    message: z.string().max(WORKLOAD_MESSAGE_MAX).nullable(),
    /** When the watcher saw the change. */
    observedAt: Timestamp,
    /** Since when the workload has had this status (equal to observedAt when the status itself changed). */
    since: Timestamp,
  }),
});

/** Why a workload left the workspace's view: deleted on the cluster, or no longer watched (its namespace or cluster left the workspace). */
export const WorkloadRemovalCause = z.enum(['Deleted', 'NamespaceRemoved', 'ClusterDetached']);
export type WorkloadRemovalCause = z.infer<typeof WorkloadRemovalCause>;

export const WorkloadRemoved = defineEvent({
  type: 'WorkloadRemoved',
  payload: z.object({ ...WorkloadKey, cause: WorkloadRemovalCause, previousStatus: WorkloadStatus, observedAt: Timestamp }),
});

export const workloadEvents = [WorkloadStatusChanged, WorkloadRemoved] as const;

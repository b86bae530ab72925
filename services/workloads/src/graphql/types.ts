import { GraphQLDateTime } from 'graphql-scalars';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum WorkloadKindValue {
  DEPLOYMENT = 'Deployment',
  STATEFUL_SET = 'StatefulSet',
  DAEMON_SET = 'DaemonSet',
  JOB = 'Job',
  CRON_JOB = 'CronJob',
  POD = 'Pod',
}
export enum WorkloadStatusValue {
  PENDING = 'Pending',
  PROGRESSING = 'Progressing',
  RUNNING = 'Running',
  DEGRADED = 'Degraded',
  SUCCEEDED = 'Succeeded',
  FAILED = 'Failed',
  SUSPENDED = 'Suspended',
}
export enum WorkloadChangeType {
  STATUS_CHANGED = 'WorkloadStatusChanged',
  REMOVED = 'WorkloadRemoved',
}
export enum WorkloadRemovalCauseValue {
  DELETED = 'Deleted',
  NAMESPACE_REMOVED = 'NamespaceRemoved',
  CLUSTER_DETACHED = 'ClusterDetached',
}

registerEnumType(WorkloadKindValue, { name: 'WorkloadKind', description: 'The Kubernetes kinds whose status is watched.' });
registerEnumType(WorkloadStatusValue, {
  name: 'WorkloadStatus',
  description: 'What a UI colours.',
  valuesConfig: {
    PENDING: { description: 'Not started yet (waiting to be scheduled or created).' },
    PROGRESSING: { description: 'Moving towards what the spec asks: a rollout, scaling, a job running.' },
    RUNNING: { description: 'As the spec asks, healthy (a cron job: scheduled).' },
    DEGRADED: { description: 'Needs attention: crash loop, image pull failure, unschedulable, rollout past its deadline, failed pods retried.' },
    SUCCEEDED: { description: 'Finished successfully (jobs, pods).' },
    FAILED: { description: 'Finished unsuccessfully (jobs, pods).' },
    SUSPENDED: { description: 'Suspended, or scaled to zero.' },
  },
});
registerEnumType(WorkloadChangeType, { name: 'WorkloadChangeType' });
registerEnumType(WorkloadRemovalCauseValue, {
  name: 'WorkloadRemovalCause',
  description: 'Why a workload left the workspace: deleted on the cluster, or its namespace or cluster left the workspace.',
});

/** A cluster of the workspaces subgraph, referenced by key: routers fetch its name and connection there. */
@Directive('@key(fields: "workspaceId id", resolvable: false)')
@ObjectType('Cluster')
export class ClusterReference {
  @Field(() => ID) id!: string;
  @Field(() => ID) workspaceId!: string;
}

@ObjectType({ description: 'Replica counts of a workload that has replicas (a job: desired completions, ready pods, succeeded pods as available, active pods as updated).' })
export class WorkloadReplicas {
  @Field(() => Int) desired!: number;
  @Field(() => Int) ready!: number;
  @Field(() => Int) available!: number;
  @Field(() => Int) updated!: number;
}

@ObjectType({ description: 'A workload on a cluster of the workspace, in one of its namespaces, as last observed.' })
export class Workload {
  @Field(() => ID, { description: 'Opaque, stable: the workspace, cluster, namespace, kind and name.' }) id!: string;
  @Field(() => ID) workspaceId!: string;
  @Field(() => ID) clusterId!: string;
  @Field(() => ClusterReference) cluster!: ClusterReference;
  @Field() namespace!: string;
  @Field(() => WorkloadKindValue) kind!: WorkloadKindValue;
  @Field() name!: string;
  @Field(() => WorkloadStatusValue) status!: WorkloadStatusValue;
  @Field(() => WorkloadStatusValue, { nullable: true, description: 'The status before the last change; null when first seen.' }) previousStatus!: WorkloadStatusValue | null;
  @Field(() => WorkloadReplicas, { nullable: true, description: 'Null for pods and cron jobs.' }) replicas!: WorkloadReplicas | null;
  @Field(() => String, { nullable: true, description: 'A short CamelCase reason (CrashLoopBackOff, ScalingUp, BackoffLimitExceeded…).' }) reason!: string | null;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field(() => GraphQLDateTime, { description: 'When the last change was observed.' }) observedAt!: Date;
  @Field(() => GraphQLDateTime, { description: 'Since when it has had this status.' }) since!: Date;
}

/** Named apart from the workspaces subgraph's `PageInfo` (as the backups subgraph's is): a type two subgraphs define must be @shareable in both. */
@ObjectType({ description: 'Where a page of workloads ends, and whether another follows (Relay cursor connections).' })
export class WorkloadPageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass it as `after` for the next page.' }) endCursor!: string | null;
}

@ObjectType()
export class WorkloadEdge {
  @Field({ description: 'Opaque; pass it as `after` to continue after this one.' }) cursor!: string;
  @Field(() => Workload) node!: Workload;
}

@ObjectType({ description: 'A page of workloads, by cluster id, namespace, kind and name.' })
export class WorkloadConnection {
  @Field(() => [WorkloadEdge]) edges!: WorkloadEdge[];
  @Field(() => [Workload], { description: 'The nodes of `edges`, for callers that need no cursors.' }) nodes!: Workload[];
  @Field(() => WorkloadPageInfo) pageInfo!: WorkloadPageInfo;
  @Field(() => Int, { description: 'How many match the filters, across pages.' }) totalCount!: number;
}

@ObjectType({ description: 'How many workloads of a workspace have one status.' })
export class WorkloadStatusCount {
  @Field(() => WorkloadStatusValue) status!: WorkloadStatusValue;
  @Field(() => Int) count!: number;
}

/** The workspaces subgraph's entity, extended with its workloads. */
@Directive('@key(fields: "id")')
@ObjectType('Workspace')
export class WorkspaceWithWorkloads {
  @Field(() => ID) id!: string;
}

@ObjectType({ description: "One change of a workload's status, or its removal, as it is recorded." })
export class WorkloadStatusChange {
  @Field({ description: 'Its log position: subscribe again with `after: <cursor>` to get what follows it, with no gap and no duplicate.' }) cursor!: string;
  @Field(() => WorkloadChangeType) change!: WorkloadChangeType;
  @Field(() => ID) workspaceId!: string;
  @Field(() => ID) clusterId!: string;
  @Field() namespace!: string;
  @Field(() => WorkloadKindValue) kind!: WorkloadKindValue;
  @Field() name!: string;
  @Field(() => WorkloadStatusValue, { nullable: true, description: 'Null when removed.' }) status!: WorkloadStatusValue | null;
  @Field(() => WorkloadStatusValue, { nullable: true, description: 'Null when first seen.' }) previousStatus!: WorkloadStatusValue | null;
  @Field(() => WorkloadReplicas, { nullable: true }) replicas!: WorkloadReplicas | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field(() => WorkloadRemovalCauseValue, { nullable: true, description: 'Why it was removed; null for a status change.' }) cause!: WorkloadRemovalCauseValue | null;
  @Field(() => GraphQLDateTime) observedAt!: Date;
}

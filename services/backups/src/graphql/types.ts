import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { BackupProgressKind, BackupProviderValue, BackupStatusValue, BackupTriggerValue, ClusterPhaseValue, ClusterResourcesValue, RestoreStatusValue, SkipReasonValue } from './enums.js';

/** The workspaces subgraph's entity, extended here with the workspace's backups; this subgraph knows only its id. */
@Directive('@key(fields: "id")')
@ObjectType('Workspace')
export class WorkspaceRef {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class CredentialsReference {
  @Field() secretName!: string;
  @Field() key!: string;
}

@ObjectType({ description: 'Where backups are written: a bucket of an object store, and the Secret key Velero reads its credentials from.' })
export class BackupLocation {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => BackupProviderValue) provider!: BackupProviderValue;
  @Field() bucket!: string;
  @Field({ description: "A path in the bucket ('' for its root)." }) prefix!: string;
  @Field(() => CredentialsReference) credentials!: CredentialsReference;
  @Field(() => ID, { nullable: true, description: 'The workspace the location belongs to; null: organization-wide.' }) workspaceId!: string | null;
}

@ObjectType({ description: 'A backup schedule of a workspace.' })
export class BackupSchedule {
  @Field(() => ID) id!: string;
  @Field(() => ID) workspaceId!: string;
  @Field() prefix!: string;
  @Field(() => ID) locationId!: string;
  @Field({ description: 'Five fields, in UTC.' }) cron!: string;
  @Field({ description: 'How long each backup is kept, as a duration (30d, 1h30m).' }) expiry!: string;
  @Field(() => Number, { description: "The same, in seconds." }) expirySeconds!: number;
  @Field() paused!: boolean;
  @Field() createdBy!: string;
  @Field() includeAllDisks!: boolean;
  @Field(() => ClusterResourcesValue) includeClusterResources!: ClusterResourcesValue;
  @Field(() => [String], { description: 'Names, /regex/ to include, ~/regex/ to exclude.' }) namespaces!: string[];
  @Field(() => [ID], { nullable: true, description: 'null: every cluster of the workspace.' }) clusters!: string[] | null;
  @Field(() => String, { nullable: true, description: 'When it runs next (UTC); null while paused.' }) nextRunAt!: string | null;
}

@ObjectType({ description: 'The location as it was when the backup was requested.' })
export class RecordedBackupLocation {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => BackupProviderValue) provider!: BackupProviderValue;
  @Field() bucket!: string;
  @Field() prefix!: string;
}

@ObjectType({ description: 'How many clusters a backup or restore planned, and how they ended.' })
export class ClusterCounts {
  @Field(() => Int) planned!: number;
  @Field(() => Int, { description: 'Finished with a file (restored): completed or partially failed.' }) done!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int, { description: 'Not attempted: unhealthy, unreachable, detached, …' }) skipped!: number;
}

@ObjectType()
export class RunClusterCounts extends ClusterCounts {
  @Field(() => Int, { description: 'No report yet.' }) pending!: number;
  @Field(() => Int) running!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) partiallyFailed!: number;
}

@ObjectType({ description: "A backup's or restore's progress over its clusters, at the time of the query (or of the event)." })
export class RunProgress {
  @Field(() => RunClusterCounts) clusters!: RunClusterCounts;
  @Field(() => Int, { description: '0–100: finished clusters count in full, running ones by items done; 100 only once all finished.' }) percent!: number;
  @Field(() => Int) itemsDone!: number;
  @Field(() => Int) totalItems!: number;
  @Field(() => Int) warnings!: number;
  @Field(() => Int) errors!: number;
  @Field(() => Int, { nullable: true, description: 'Seconds until the slowest running cluster finishes at its own rate; 0 when finished; null while unknown.' })
  estimatedSecondsLeft!: number | null;
  @Field(() => String, { nullable: true }) startedAt!: string | null;
  @Field(() => String, { nullable: true }) finishedAt!: string | null;
}

@ObjectType({ description: "One cluster of a restore: its phase and figures, or why it was skipped." })
export class RestoreCluster {
  @Field(() => ID) clusterId!: string;
  @Field(() => String, { nullable: true }) clusterName!: string | null;
  @Field(() => ClusterPhaseValue, { nullable: true, description: 'null for a skipped cluster.' }) phase!: ClusterPhaseValue | null;
  @Field(() => SkipReasonValue, { nullable: true }) skipReason!: SkipReasonValue | null;
  @Field(() => String, { nullable: true, description: "Why it was skipped, failed or partially failed." }) message!: string | null;
  @Field(() => Int) itemsDone!: number;
  @Field(() => Int) totalItems!: number;
  @Field(() => Int) warnings!: number;
  @Field(() => Int) errors!: number;
  @Field(() => String, { nullable: true }) startedAt!: string | null;
  @Field(() => String, { nullable: true, description: 'When the figures were read from the cluster.' }) observedAt!: string | null;
  @Field(() => String, { nullable: true }) completedAt!: string | null;
}

@ObjectType({ description: "One cluster of a backup: its phase and figures (items backed up / total), or why it was skipped." })
export class BackupCluster extends RestoreCluster {
  @Field(() => String, { nullable: true, description: "The path of the cluster's file in the location; null when skipped." }) storagePrefix!: string | null;
}

@ObjectType({ description: 'A workspace backup: one Velero backup per cluster, under one name.' })
export class Backup {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => ID) workspaceId!: string;
  @Field(() => ID) organizationId!: string;
  @Field(() => BackupTriggerValue) trigger!: BackupTriggerValue;
  @Field(() => ID, { nullable: true }) scheduleId!: string | null;
  @Field(() => String, { nullable: true, description: 'Who asked for it; null for a scheduled backup.' }) requestedBy!: string | null;
  @Field() requestedAt!: string;
  @Field() expiresAt!: string;
  @Field(() => RecordedBackupLocation) location!: RecordedBackupLocation;
  @Field() includeAllDisks!: boolean;
  @Field(() => ClusterResourcesValue) includeClusterResources!: ClusterResourcesValue;
  @Field(() => [String], { description: 'The namespaces as chosen: names and patterns.' }) namespaceSelectors!: string[];
  @Field(() => [String], { description: 'The namespaces the choice selected when the backup was requested.' }) namespaces!: string[];
  @Field(() => [ID], { nullable: true, description: 'The clusters chosen; null: every cluster of the workspace.' }) clusterSelection!: string[] | null;
  @Field(() => BackupStatusValue) status!: BackupStatusValue;
  @Field(() => Int) percent!: number;
  @Field(() => ClusterCounts) clusters!: ClusterCounts;
  @Field(() => Int, { description: 'Items backed up so far, across clusters.' }) itemsDone!: number;
  @Field(() => Int) totalItems!: number;
  @Field(() => Int) warnings!: number;
  @Field(() => Int) errors!: number;
  @Field(() => String, { nullable: true }) startedAt!: string | null;
  @Field(() => String, { nullable: true }) finishedAt!: string | null;
  @Field(() => String, { nullable: true, description: 'When it expired or was deleted.' }) goneAt!: string | null;
  @Field(() => String, { nullable: true }) deletedBy!: string | null;
}

@ObjectType({ description: 'A restore of a workspace backup onto the clusters still in the workspace.' })
export class Restore {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => ID) workspaceId!: string;
  @Field(() => ID) backupId!: string;
  @Field() backupName!: string;
  @Field() requestedBy!: string;
  @Field() requestedAt!: string;
  @Field() includeClusterResources!: boolean;
  @Field() preserveNodePorts!: boolean;
  @Field() restorePersistentVolumes!: boolean;
  @Field(() => RestoreStatusValue) status!: RestoreStatusValue;
  @Field(() => Int) percent!: number;
  @Field(() => ClusterCounts) clusters!: ClusterCounts;
  @Field(() => Int) itemsDone!: number;
  @Field(() => Int) totalItems!: number;
  @Field(() => Int) warnings!: number;
  @Field(() => Int) errors!: number;
  @Field(() => String, { nullable: true }) startedAt!: string | null;
  @Field(() => String, { nullable: true }) finishedAt!: string | null;
}

@ObjectType({ description: 'The outcome of a backups mutation.' })
export class BackupsChange {
  @Field(() => ID, { description: 'What the change is about: the location, schedule, backup or restore (new ones included).' }) id!: string;
  @Field({ description: 'False when it already was that way: nothing was recorded.' }) changed!: boolean;
  @Field({ description: 'True when this answers a retry with an idempotency key already used: nothing new was recorded.' }) replayed!: boolean;
  @Field({ description: 'The log position of the change (or of what the answer reflects when nothing was recorded): what `canopy-read-after` takes.' }) position!: string;
}

@ObjectType({ description: "One step of a backup as it runs: the event, the cluster it concerns, and the backup's progress right after it." })
export class BackupProgressItem {
  @Field({ description: 'Its log position: subscribe again with `after: <cursor>` to get what follows, with no gap and no duplicate.' }) cursor!: string;
  @Field(() => BackupProgressKind) kind!: BackupProgressKind;
  @Field(() => ID) backupId!: string;
  @Field() backupName!: string;
  @Field(() => ID) workspaceId!: string;
  @Field() recordedAt!: string;
  @Field(() => BackupCluster, { nullable: true, description: 'The cluster the event concerns, as it is after it; null for the request, expiry and deletion.' }) cluster!: BackupCluster | null;
  @Field(() => BackupStatusValue) status!: BackupStatusValue;
  @Field(() => RunProgress, { description: 'The aggregate right after the event (its estimate counts from the event).' }) progress!: RunProgress;
  @Field({ description: 'The backup has finished (or its files are gone): nothing more will come for it.' }) finished!: boolean;
}

import { Field, ID, InputType } from 'type-graphql';
import { BackupProviderValue, ClusterResourcesValue } from './enums.js';

@InputType({ description: 'A key of a Kubernetes Secret that Velero reads on each cluster: a reference, never the credential itself.' })
export class CredentialsReferenceInput {
  @Field() secretName!: string;
  @Field() key!: string;
}

@InputType()
export class BackupLocationInput {
  @Field({ description: 'A Kubernetes name, unique among the locations the workspace sees.' }) name!: string;
  @Field(() => BackupProviderValue) provider!: BackupProviderValue;
  @Field() bucket!: string;
  @Field(() => String, { nullable: true, description: "A path in the bucket; '' or absent for its root." }) prefix?: string | null;
  @Field(() => CredentialsReferenceInput) credentials!: CredentialsReferenceInput;
}

@InputType({ description: 'The fields to change; absent fields stay as they are.' })
export class BackupLocationChangesInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => BackupProviderValue, { nullable: true }) provider?: BackupProviderValue | null;
  @Field(() => String, { nullable: true }) bucket?: string | null;
  @Field(() => String, { nullable: true }) prefix?: string | null;
  @Field(() => CredentialsReferenceInput, { nullable: true }) credentials?: CredentialsReferenceInput | null;
}

const NAMESPACES = 'At least one, at most 50: namespaces of the workspace by name, /regex/ to include, ~/regex/ to exclude.';
const CLUSTERS = 'Clusters of the workspace to back up; null or absent: every cluster the workspace has when the backup runs.';

@InputType({ description: 'A schedule: the backup options, a five-field cron (UTC) and how long each backup is kept.' })
export class BackupScheduleInput {
  @Field({ description: 'Names the backups (`<prefix>-<time>-<tag>`); unique among the workspace schedules.' }) prefix!: string;
  @Field(() => ID) locationId!: string;
  @Field({ description: 'Five fields, in UTC: minute hour day-of-month month day-of-week.' }) cron!: string;
  @Field({ description: 'A duration such as 720h, 30d or 1h30m.' }) expiry!: string;
  @Field({ defaultValue: false }) includeAllDisks!: boolean;
  @Field(() => ClusterResourcesValue, { defaultValue: ClusterResourcesValue.AUTO }) includeClusterResources!: ClusterResourcesValue;
  @Field(() => [String], { description: NAMESPACES }) namespaces!: string[];
  @Field(() => [ID], { nullable: true, description: CLUSTERS }) clusters?: string[] | null;
}

@InputType({ description: 'The fields to change; absent fields stay as they are (clusters: null means every cluster).' })
export class BackupScheduleChangesInput {
  @Field(() => String, { nullable: true }) prefix?: string | null;
  @Field(() => ID, { nullable: true }) locationId?: string | null;
  @Field(() => String, { nullable: true }) cron?: string | null;
  @Field(() => String, { nullable: true }) expiry?: string | null;
  @Field(() => Boolean, { nullable: true }) includeAllDisks?: boolean | null;
  @Field(() => ClusterResourcesValue, { nullable: true }) includeClusterResources?: ClusterResourcesValue | null;
  @Field(() => [String], { nullable: true, description: NAMESPACES }) namespaces?: string[] | null;
  @Field(() => [ID], { nullable: true, description: CLUSTERS }) clusters?: string[] | null;
}

@InputType({ description: 'An on-demand backup: the options and at most one of expiry or expiresAt (neither: kept 720h).' })
export class BackupNowInput {
  @Field() prefix!: string;
  @Field(() => ID) locationId!: string;
  @Field({ defaultValue: false }) includeAllDisks!: boolean;
  @Field(() => ClusterResourcesValue, { defaultValue: ClusterResourcesValue.AUTO }) includeClusterResources!: ClusterResourcesValue;
  @Field(() => [String], { description: NAMESPACES }) namespaces!: string[];
  @Field(() => [ID], { nullable: true, description: CLUSTERS }) clusters?: string[] | null;
  @Field(() => String, { nullable: true, description: 'A duration such as 720h or 30d.' }) expiry?: string | null;
  @Field(() => String, { nullable: true, description: 'An ISO 8601 date-time, later than now.' }) expiresAt?: string | null;
}

@InputType()
export class RestoreOptionsInput {
  @Field({ description: 'Restore the cluster-scoped resources the backup holds.' }) includeClusterResources!: boolean;
  @Field({ description: "Keep services' node ports as they were backed up." }) preserveNodePorts!: boolean;
  @Field({ description: 'Restore persistent volumes from their snapshots.' }) restorePersistentVolumes!: boolean;
}

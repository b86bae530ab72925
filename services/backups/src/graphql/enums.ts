import { registerEnumType } from 'type-graphql';

/** The enums' values are the domain's strings: a value maps to the domain as it is. */
export enum BackupStatusValue {
  PENDING = 'Pending',
  IN_PROGRESS = 'InProgress',
  COMPLETED = 'Completed',
  PARTIALLY_FAILED = 'PartiallyFailed',
  FAILED = 'Failed',
  EXPIRED = 'Expired',
  DELETED = 'Deleted',
}
export enum RestoreStatusValue {
  PENDING = 'Pending',
  IN_PROGRESS = 'InProgress',
  COMPLETED = 'Completed',
  PARTIALLY_FAILED = 'PartiallyFailed',
  FAILED = 'Failed',
}
export enum ClusterPhaseValue {
  PENDING = 'Pending',
  NEW = 'New',
  IN_PROGRESS = 'InProgress',
  WAITING_FOR_PLUGIN_OPERATIONS = 'WaitingForPluginOperations',
  FINALIZING = 'Finalizing',
  COMPLETED = 'Completed',
  PARTIALLY_FAILED = 'PartiallyFailed',
  FAILED = 'Failed',
  FAILED_VALIDATION = 'FailedValidation',
}
export enum SkipReasonValue {
  UNHEALTHY = 'Unhealthy',
  UNREACHABLE = 'Unreachable',
  DETACHED = 'Detached',
  NO_NAMESPACES = 'NoNamespaces',
  NOT_BACKED_UP = 'NotBackedUp',
  NOT_IN_BACKUP = 'NotInBackup',
}
export enum ClusterResourcesValue {
  YES = 'yes',
  NO = 'no',
  AUTO = 'auto',
}
export enum BackupProviderValue {
  AWS = 'aws',
  GCP = 'gcp',
  AZURE = 'azure',
}
export enum BackupTriggerValue {
  ON_DEMAND = 'onDemand',
  SCHEDULE = 'schedule',
}
export enum BackupProgressKind {
  REQUESTED = 'BackupRequested',
  CLUSTER_PROGRESSED = 'BackupClusterProgressed',
  CLUSTER_COMPLETED = 'BackupClusterCompleted',
  CLUSTER_PARTIALLY_FAILED = 'BackupClusterPartiallyFailed',
  CLUSTER_FAILED = 'BackupClusterFailed',
  EXPIRED = 'BackupExpired',
  DELETED = 'BackupDeleted',
}

registerEnumType(BackupStatusValue, {
  name: 'BackupStatus',
  description: 'PENDING (no cluster reported yet), IN_PROGRESS, then COMPLETED (every cluster, none skipped), PARTIALLY_FAILED or FAILED; EXPIRED or DELETED once its files are gone.',
});
registerEnumType(RestoreStatusValue, { name: 'RestoreStatus' });
registerEnumType(ClusterPhaseValue, { name: 'BackupClusterPhase', description: "PENDING until the cluster's first report, then Velero's phase." });
registerEnumType(SkipReasonValue, { name: 'BackupSkipReason', description: 'Why a cluster was not backed up (or restored).' });
registerEnumType(ClusterResourcesValue, {
  name: 'IncludeClusterResources',
  description: 'YES: all cluster-scoped resources; NO: none; AUTO: the persistent volumes bound to claims in the chosen namespaces and no other cluster-scoped object.',
});
registerEnumType(BackupProviderValue, { name: 'BackupProvider', description: 'AWS also covers any S3-compatible store.' });
registerEnumType(BackupTriggerValue, { name: 'BackupTrigger' });
registerEnumType(BackupProgressKind, { name: 'BackupProgressKind', description: 'What happened: the event of the backup the progress item follows.' });

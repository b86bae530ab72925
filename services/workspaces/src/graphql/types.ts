import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { ClusterConnectionKind, ClusterSyncState, MembershipSource, OrganizationKindValue, RoleKind, SubjectKind, WorkspaceKindValue, WorkspaceRoleValue } from './enums.js';

@ObjectType({ description: 'What the caller may do in a workspace: what the console shows or hides.' })
export class Permissions {
  @Field(() => WorkspaceRoleValue) role!: WorkspaceRoleValue;
  @Field() canRead!: boolean;
  @Field({ description: "Read the workspace's history (who changed what, when)." }) canReadHistory!: boolean;
  @Field({ description: 'Attach and detach clusters, add and remove namespaces.' }) canCreateResources!: boolean;
  @Field({ description: 'Budget, quotas, role bindings and image restrictions.' }) canGovern!: boolean;
  @Field() canManageSecrets!: boolean;
  @Field() canManageMembers!: boolean;
  @Field({ description: 'Rename and describe the workspace.' }) canRename!: boolean;
  @Field() canDelete!: boolean;
}

@ObjectType()
export class Member {
  @Field() userId!: string;
  @Field(() => WorkspaceRoleValue) role!: WorkspaceRoleValue;
  @Field(() => MembershipSource) source!: MembershipSource;
}

@ObjectType({ description: 'How Canopy reaches a cluster: a kubeconfig file (and context) or the built-in simulator.' })
export class ClusterConnection {
  @Field(() => ClusterConnectionKind) kind!: ClusterConnectionKind;
  @Field(() => String, { nullable: true }) kubeconfigPath!: string | null;
  @Field(() => String, { nullable: true }) kubeconfigContext!: string | null;
  @Field(() => String, { nullable: true }) simulator!: string | null;
}

/** An entity: other subgraphs (cluster state, backups, cost) extend it; referenced by workspace and id, since access is decided per workspace. */
@Directive('@key(fields: "workspaceId id")')
@ObjectType()
export class Cluster {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The workspace the cluster is attached to.' }) workspaceId!: string;
  @Field() name!: string;
  @Field(() => ClusterConnection) connection!: ClusterConnection;
}

@ObjectType({ description: "Whether the cluster carries what the workspace governs, as the reconciler last saw it." })
export class ClusterSync {
  @Field(() => ClusterSyncState) state!: ClusterSyncState;
  @Field(() => String, { nullable: true, description: 'Why it is not in sync: pending (a change not applied yet), unreachable, timeout, unauthorized, tls, rejected, conflict, server-error…' })
  reason!: string | null;
  @Field(() => String, { nullable: true }) message!: string | null;
  @Field({ description: 'When the state last changed (ISO 8601).' }) since!: string;
  @Field(() => String, { nullable: true }) lastAttemptAt!: string | null;
  @Field(() => String, { nullable: true }) lastSyncedAt!: string | null;
}

@ObjectType({ description: 'CPU and memory as Kubernetes quantities ("500m", "4Gi") or "unlimited".' })
export class ResourceLimits {
  @Field() cpu!: string;
  @Field() memory!: string;
}

@ObjectType({ description: "A namespace's quota: on every cluster (clusterId null) or its override on one cluster." })
export class NamespaceQuota {
  @Field() namespace!: string;
  @Field(() => ID, { nullable: true }) clusterId!: string | null;
  @Field() cpu!: string;
  @Field() memory!: string;
}

@ObjectType()
export class Subject {
  @Field(() => SubjectKind) kind!: SubjectKind;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) namespace!: string | null;
}

@ObjectType()
export class RoleBinding {
  @Field() name!: string;
  @Field(() => [String], { description: 'Namespaces by name, /regex/ to include, ~/regex/ to exclude.' }) namespaces!: string[];
  @Field(() => RoleKind) roleKind!: RoleKind;
  @Field() roleName!: string;
  @Field(() => [Subject]) subjects!: Subject[];
}

@ObjectType()
export class ClusterRoleBinding {
  @Field() name!: string;
  @Field() clusterRole!: string;
  @Field(() => [Subject]) subjects!: Subject[];
}

@ObjectType()
export class ImageRestriction {
  @Field() namespace!: string;
  @Field() image!: string;
}

@ObjectType({ description: 'A secret as queries show it: names, version and who wrote it, never the values.' })
export class SecretMetadata {
  @Field() name!: string;
  @Field(() => Int) version!: number;
  @Field(() => [String]) keys!: string[];
  @Field() updatedBy!: string;
  @Field(() => String, { nullable: true }) updatedAt!: string | null;
}

/** An entity: other subgraphs extend it by id. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A workspace as the caller sees it; its lists come from the read models, batched across a page.' })
export class Workspace {
  @Field(() => ID) id!: string;
  @Field(() => ID) organizationId!: string;
  @Field() name!: string;
  @Field(() => WorkspaceKindValue) kind!: WorkspaceKindValue;
  @Field(() => String, { nullable: true, description: 'dev, staging, production or a custom stage; environment workspaces only.' }) stage!: string | null;
  @Field() description!: string;
  @Field(() => Int, { description: 'Counts the changes of the workspace; pass it back as expectedVersion.' }) version!: number;
  @Field(() => Int) memberCount!: number;
  @Field(() => Int) clusterCount!: number;
  @Field(() => Int) namespaceCount!: number;
  /** The caller's role: the list fields and `myPermissions` are resolved from it and the read models (workspace-fields-resolver.ts). */
  role!: WorkspaceRoleValue;
}

/** An entity: other subgraphs extend it by id. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Organization {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => OrganizationKindValue) kind!: OrganizationKindValue;
  @Field(() => Int) version!: number;
  @Field(() => [String], { description: 'Owners of the organization own every workspace in it.' }) owners!: string[];
}

@ObjectType({ description: 'The outcome of a workspace mutation.' })
export class WorkspaceChange {
  @Field(() => ID) workspaceId!: string;
  @Field(() => Int, { description: 'The workspace version after the change.' }) version!: number;
  @Field({ description: 'False when the workspace already was that way: nothing was recorded.' }) changed!: boolean;
  @Field({ description: 'True when this answers a retry with an idempotency key already used: nothing new was recorded.' }) replayed!: boolean;
  @Field(() => ID, { nullable: true, description: 'The cluster attached (attachCluster only).' }) clusterId?: string | null;
  @Field({ description: 'The log position of the change (or of what the answer reflects when nothing was recorded): a history cursor.' }) position!: string;
}

@ObjectType({ description: 'The outcome of an organization mutation.' })
export class OrganizationChange {
  @Field(() => ID) organizationId!: string;
  @Field(() => Int) version!: number;
  @Field() changed!: boolean;
  @Field() replayed!: boolean;
  @Field({ description: 'The log position of the change: a history cursor, and what `canopy-read-after` takes.' }) position!: string;
}

import type { WorkspaceRole } from '@canopy/schema';
import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { PageArgs, paginate, type Connection } from './connections.js';
import { AttachedClusterConnection, ClusterRoleBindingConnection, ImageRestrictionConnection, keys, MemberConnection, NamespaceConnection, NamespaceQuotaConnection, RoleBindingConnection, SecretMetadataConnection } from './list-types.js';
import { workspaceNotFound } from '../domain/access.js';
import { formatCpu, formatMemory } from '../domain/quantity.js';
import type { WorkspaceReads } from '../app/reads.js';
import { reflected } from './commanding.js';
import type { WorkspacesContext } from './context.js';
import { ClusterSyncState, MembershipSource, RoleKind, WorkspaceRoleValue } from './enums.js';
import { permissionsOf, toCluster, toLimits, toOrganization, toSubject, toWorkspace } from './mapping.js';
import {
  Cluster,
  ClusterRoleBinding,
  ClusterSync,
  ImageRestriction,
  Member,
  NamespaceQuota,
  Organization,
  OrganizationChange,
  Permissions,
  ResourceLimits,
  RoleBinding,
  SecretMetadata,
  Workspace,
  WorkspaceChange,
} from './types.js';

/**
 * The lists of a workspace, each read through the request's loaders: a page
 * of workspaces selecting members and quotas costs one statement per list,
 * whatever its length. The root was authorized when it was loaded.
 */
@Resolver(() => Workspace)
export class WorkspaceFieldsResolver {
  @FieldResolver(() => MemberConnection, { description: "Explicit members, and the organization's owners, who own every workspace; by user id." })
  async members(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<Member>> {
    const members = await context.reads.members(workspace.id);
    return paginate(members.map((member) => ({ userId: member.userId, role: member.role as WorkspaceRoleValue, source: member.source as MembershipSource })), page, keys.member);
  }

  @FieldResolver(() => AttachedClusterConnection, { description: 'By name.' })
  async clusters(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<Cluster>> {
    const { clusters } = await context.reads.details(workspace.id);
    return paginate(clusters.map((cluster) => toCluster(workspace.id, cluster)), page, keys.cluster);
  }

  @FieldResolver(() => NamespaceConnection, { description: 'By name.' })
  async namespaces(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<string>> {
    return paginate((await context.reads.details(workspace.id)).namespaces, page, keys.namespace);
  }

  @FieldResolver(() => ResourceLimits, { description: 'The most the quotas over namespaces × clusters may add up to.' })
  async budget(@Root() workspace: Workspace, @Ctx() context: WorkspacesContext): Promise<ResourceLimits> {
    return toLimits((await context.reads.quotaSettings(workspace.id)).budget);
  }

  @FieldResolver(() => NamespaceQuotaConnection, { description: 'By namespace, the every-cluster quota before its per-cluster overrides.' })
  async quotas(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<NamespaceQuota>> {
    const { quotas } = await context.reads.quotaSettings(workspace.id);
    return paginate(
      quotas.map((quota) => ({ namespace: quota.namespace, clusterId: quota.clusterId, cpu: formatCpu(quota.cpu), memory: formatMemory(quota.memory) })),
      page,
      keys.quota,
    );
  }

  @FieldResolver(() => RoleBindingConnection, { description: 'By name.' })
  async roleBindings(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<RoleBinding>> {
    const { roleBindings } = await context.reads.details(workspace.id);
    const items = roleBindings.map((binding) => ({
      name: binding.name,
      namespaces: binding.namespaces,
      roleKind: binding.role.kind as RoleKind,
      roleName: binding.role.name,
      subjects: binding.subjects.map(toSubject),
    }));
    return paginate(items, page, keys.named);
  }

  @FieldResolver(() => ClusterRoleBindingConnection, { description: 'By name.' })
  async clusterRoleBindings(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<ClusterRoleBinding>> {
    const { clusterRoleBindings } = await context.reads.details(workspace.id);
    return paginate(
      clusterRoleBindings.map((binding) => ({ name: binding.name, clusterRole: binding.clusterRole, subjects: binding.subjects.map(toSubject) })),
      page,
      keys.named,
    );
  }

  @FieldResolver(() => ImageRestrictionConnection, { description: 'By namespace, then image.' })
  async restrictedImages(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<ImageRestriction>> {
    return paginate((await context.reads.details(workspace.id)).restrictedImages, page, keys.image);
  }

  @FieldResolver(() => SecretMetadataConnection, { description: 'Names, versions and key names, by name: values are never shown back.' })
  async secrets(@Root() workspace: Workspace, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<SecretMetadata>> {
    const { secrets } = await context.reads.details(workspace.id);
    return paginate(
      secrets.map((secret) => ({ name: secret.name, version: secret.version, keys: secret.keys, updatedBy: secret.writtenBy, updatedAt: secret.writtenAt })),
      page,
      keys.named,
    );
  }

  @FieldResolver(() => Permissions)
  myPermissions(@Root() workspace: Workspace): Permissions {
    return permissionsOf(workspace.role);
  }
}

const CONSISTENT =
  "True once queries see the change (asking waits for it, within the server's bound); false when the read models did not catch up in time (they will).";

/** The workspace a mutation answers with, read (only when selected) from the read models once they reflect the change. */
@Resolver(() => WorkspaceChange)
export class WorkspaceChangeResolver {
  @FieldResolver(() => Workspace, { nullable: true, description: 'The workspace now; null once deleted or when the caller left it.' })
  async workspace(@Root() change: WorkspaceChange, @Ctx() context: WorkspacesContext): Promise<Workspace | null> {
    return (await visibleWorkspace(context.reads, change.workspaceId)) ?? null;
  }

  @FieldResolver(() => Boolean, { description: CONSISTENT })
  consistent(@Root() change: WorkspaceChange, @Ctx() context: WorkspacesContext): Promise<boolean> {
    return reflected(context, change);
  }
}

@Resolver(() => OrganizationChange)
export class OrganizationChangeResolver {
  @FieldResolver(() => Organization, { nullable: true, description: 'The organization now; null when the caller no longer belongs to it.' })
  async organization(@Root() change: OrganizationChange, @Ctx() context: WorkspacesContext): Promise<Organization | null> {
    if (!(await context.reads.belongsTo(change.organizationId))) return null;
    const organization = await context.reads.organization(change.organizationId);
    return organization ? toOrganization(organization) : null;
  }

  @FieldResolver(() => Boolean, { description: CONSISTENT })
  consistent(@Root() change: OrganizationChange, @Ctx() context: WorkspacesContext): Promise<boolean> {
    return reflected(context, change);
  }
}

/** The workspace if the caller holds a role in it; undefined otherwise (it does not exist for them). */
export async function visibleWorkspace(reads: WorkspaceReads, workspaceId: string): Promise<Workspace | undefined> {
  const [role, record] = await Promise.all([reads.roleIn(workspaceId), reads.workspace(workspaceId)]);
  return role && record ? toWorkspace(record, role) : undefined;
}

/** The caller's role in the workspace, or NOT_FOUND. */
export async function requireRole(reads: WorkspaceReads, workspaceId: string): Promise<WorkspaceRole> {
  const role = await reads.roleIn(workspaceId);
  if (!role) throw workspaceNotFound(workspaceId);
  return role;
}

/** A cluster's sync state, from the reconciler running in this process (null when none runs here). */
@Resolver(() => Cluster)
export class ClusterFieldsResolver {
  @FieldResolver(() => ClusterSync, { nullable: true, description: 'Whether the cluster carries what the workspace governs (in sync, out of sync, unreachable, with the reason); null where no reconciler runs.' })
  sync(@Root() cluster: Cluster, @Ctx() context: WorkspacesContext): ClusterSync | null {
    const view = context.clusterSync?.(cluster.id);
    return view ? { ...view, state: view.state as ClusterSyncState } : null;
  }
}

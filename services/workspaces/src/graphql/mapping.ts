import type { WorkspaceRole } from '@canopy/schema';
import { can } from '../domain/access.js';
import type { OrganizationState } from '../domain/organization.js';
import { formatCpu, formatMemory } from '../domain/quantity.js';
import type { WorkspaceView } from '../app/directory.js';
import { ClusterConnectionKind, MembershipSource, OrganizationKindValue, RoleKind, SubjectKind, WorkspaceKindValue, WorkspaceRoleValue } from './enums.js';
import type { Member, Organization, Permissions, Workspace } from './types.js';

/** The GraphQL view of a workspace for a caller holding `role` there. Secret values never leave the domain state. */
export function toWorkspace(view: WorkspaceView & { role: WorkspaceRole }): Workspace {
  const { state } = view;
  const members = membersOf(view);
  return {
    id: view.workspaceId,
    organizationId: view.organizationId,
    name: view.name,
    kind: view.kind as WorkspaceKindValue,
    stage: view.stage,
    description: state.description,
    version: view.version,
    memberCount: members.length,
    clusterCount: state.clusters.size,
    namespaceCount: state.namespaces.size,
    members,
    clusters: [...state.clusters].map(([id, cluster]) => ({
      id,
      name: cluster.name,
      connection:
        cluster.connection.kind === 'kubeconfig'
          ? { kind: ClusterConnectionKind.KUBECONFIG, kubeconfigPath: cluster.connection.path, kubeconfigContext: cluster.connection.context, simulator: null }
          : { kind: ClusterConnectionKind.SIMULATOR, kubeconfigPath: null, kubeconfigContext: null, simulator: cluster.connection.simulator },
    })),
    namespaces: [...state.namespaces].sort(),
    budget: { cpu: formatCpu(state.budget.cpu), memory: formatMemory(state.budget.memory) },
    quotas: [...state.quotas].flatMap(([namespace, quota]) => [
      ...(quota.default ? [{ namespace, clusterId: null, cpu: formatCpu(quota.default.cpu), memory: formatMemory(quota.default.memory) }] : []),
      ...[...quota.overrides].map(([clusterId, limits]) => ({ namespace, clusterId, cpu: formatCpu(limits.cpu), memory: formatMemory(limits.memory) })),
    ]),
    roleBindings: [...state.roleBindings].map(([name, binding]) => ({
      name,
      namespaces: [...binding.namespaces],
      roleKind: binding.role.kind as RoleKind,
      roleName: binding.role.name,
      subjects: binding.subjects.map((subject) => ({ ...subject, kind: subject.kind as SubjectKind })),
    })),
    clusterRoleBindings: [...state.clusterRoleBindings].map(([name, binding]) => ({
      name,
      clusterRole: binding.clusterRole,
      subjects: binding.subjects.map((subject) => ({ ...subject, kind: subject.kind as SubjectKind })),
    })),
    restrictedImages: [...state.restrictedImages].flatMap(([namespace, images]) => [...images].sort().map((image) => ({ namespace, image }))),
    secrets: [...state.secrets].map(([name, secret]) => ({
      name,
      version: secret.version,
      keys: Object.keys(secret.values).sort(),
      updatedBy: secret.writtenBy,
      updatedAt: secret.writtenAt ?? null,
    })),
    myPermissions: permissionsOf(view.role),
  };
}

/** Explicit members, and the organization's owners, who own every workspace. */
function membersOf(view: WorkspaceView): Member[] {
  const members: Member[] = [...view.organization.owners].map((userId) => ({ userId, role: WorkspaceRoleValue.OWNER, source: MembershipSource.ORGANIZATION_OWNER }));
  for (const [userId, role] of view.state.members) {
    if (!view.organization.owners.has(userId)) members.push({ userId, role: role as WorkspaceRoleValue, source: MembershipSource.EXPLICIT });
  }
  return members.sort((a, b) => a.userId.localeCompare(b.userId));
}

export function permissionsOf(role: WorkspaceRole): Permissions {
  return {
    role: role as WorkspaceRoleValue,
    canRead: can(role, 'read'),
    canCreateResources: can(role, 'createResources'),
    canGovern: can(role, 'governWorkspace'),
    canManageSecrets: can(role, 'manageSecrets'),
    canManageMembers: can(role, 'manageMembers'),
    canRename: can(role, 'renameWorkspace'),
    canDelete: can(role, 'deleteWorkspace'),
  };
}

export function toOrganization(organization: OrganizationState & { version: number }): Organization {
  return {
    id: organization.organizationId!,
    name: organization.name,
    kind: organization.kind as OrganizationKindValue,
    version: organization.version,
    owners: [...organization.owners].sort(),
  };
}

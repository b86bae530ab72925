import type { WorkspaceRole } from '@canopy/schema';
import { can } from '../domain/access.js';
import { formatCpu, formatMemory } from '../domain/quantity.js';
import type { Limits } from '../domain/quotas.js';
import type { ClusterConnectionRecord, OrganizationRecord, SubjectRecord, WorkspaceDetails, WorkspaceRecord } from '../app/reads.js';
import { ClusterConnectionKind, OrganizationKindValue, SubjectKind, WorkspaceKindValue, WorkspaceRoleValue } from './enums.js';
import type { Cluster, ClusterConnection, Organization, Permissions, ResourceLimits, Subject, Workspace } from './types.js';

/** A workspace as the caller sees it: the summary's fields, and the role the list fields are resolved for. */
export function toWorkspace(record: WorkspaceRecord, role: WorkspaceRole): Workspace {
  return {
    id: record.workspaceId,
    organizationId: record.organizationId,
    name: record.name,
    kind: record.kind as WorkspaceKindValue,
    stage: record.stage,
    description: record.description,
    version: record.version,
    memberCount: record.memberCount,
    clusterCount: record.clusterCount,
    namespaceCount: record.namespaceCount,
    role: role as WorkspaceRoleValue,
  };
}

export function toCluster(workspaceId: string, cluster: WorkspaceDetails['clusters'][number]): Cluster {
  return { id: cluster.id, workspaceId, name: cluster.name, connection: toConnection(cluster.connection) };
}

export function toConnection(connection: ClusterConnectionRecord): ClusterConnection {
  return connection.kind === 'kubeconfig'
    ? { kind: ClusterConnectionKind.KUBECONFIG, kubeconfigPath: connection.path, kubeconfigContext: connection.context, simulator: null }
    : { kind: ClusterConnectionKind.SIMULATOR, kubeconfigPath: null, kubeconfigContext: null, simulator: connection.simulator };
}

export function toSubject(subject: SubjectRecord): Subject {
  return { kind: subject.kind as SubjectKind, name: subject.name, namespace: subject.namespace };
}

export function toLimits(limits: Limits): ResourceLimits {
  return { cpu: formatCpu(limits.cpu), memory: formatMemory(limits.memory) };
}

export function permissionsOf(role: WorkspaceRole): Permissions {
  return {
    role: role as WorkspaceRoleValue,
    canRead: can(role, 'read'),
    canReadHistory: can(role, 'readHistory'),
    canCreateResources: can(role, 'createResources'),
    canGovern: can(role, 'governWorkspace'),
    canManageSecrets: can(role, 'manageSecrets'),
    canManageMembers: can(role, 'manageMembers'),
    canRename: can(role, 'renameWorkspace'),
    canDelete: can(role, 'deleteWorkspace'),
  };
}

export function toOrganization(organization: OrganizationRecord): Organization {
  return {
    id: organization.organizationId,
    name: organization.name,
    kind: organization.kind as OrganizationKindValue,
    version: organization.version,
    owners: organization.owners,
  };
}

import { registerEnumType } from 'type-graphql';

export enum OrganizationKindValue {
  PERSONAL = 'personal',
  TEAM = 'team',
}
export enum WorkspaceKindValue {
  DEFAULT = 'default',
  PROJECT = 'project',
  ENVIRONMENT = 'environment',
}
export enum NewWorkspaceKind {
  PROJECT = 'project',
  ENVIRONMENT = 'environment',
}
export enum WorkspaceRoleValue {
  VIEWER = 'viewer',
  MEMBER = 'member',
  ADMIN = 'admin',
  OWNER = 'owner',
}
export enum MembershipSource {
  EXPLICIT = 'explicit',
  ORGANIZATION_OWNER = 'organization-owner',
}
export enum RoleKind {
  Role = 'Role',
  ClusterRole = 'ClusterRole',
}
export enum SubjectKind {
  User = 'User',
  Group = 'Group',
  ServiceAccount = 'ServiceAccount',
}
export enum ClusterConnectionKind {
  KUBECONFIG = 'kubeconfig',
  SIMULATOR = 'simulator',
}

registerEnumType(OrganizationKindValue, { name: 'OrganizationKind', description: 'A personal organization has one user; a team organization many.' });
registerEnumType(WorkspaceKindValue, { name: 'WorkspaceKind', description: 'DEFAULT is created with the organization and never deleted.' });
registerEnumType(NewWorkspaceKind, { name: 'NewWorkspaceKind', description: 'The kinds of workspace created by hand.' });
registerEnumType(WorkspaceRoleValue, { name: 'WorkspaceRole', description: 'From least to most powerful: VIEWER, MEMBER, ADMIN, OWNER.' });
registerEnumType(MembershipSource, { name: 'MembershipSource', description: 'EXPLICIT: added to the workspace; ORGANIZATION_OWNER: owns every workspace of the organization.' });
registerEnumType(RoleKind, { name: 'RoleKind' });
registerEnumType(SubjectKind, { name: 'SubjectKind' });
registerEnumType(ClusterConnectionKind, { name: 'ClusterConnectionKind' });

export enum ClusterSyncState {
  IN_SYNC = 'in-sync',
  OUT_OF_SYNC = 'out-of-sync',
  UNREACHABLE = 'unreachable',
}
registerEnumType(ClusterSyncState, { name: 'ClusterSyncState', description: 'In sync: every object the workspace governs is on the cluster; out of sync: a change not applied yet or an attempt that failed; unreachable: the last attempt could not reach it.' });

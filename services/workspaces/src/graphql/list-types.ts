import { connectionType } from './connections.js';
import { Cluster, ClusterRoleBinding, ImageRestriction, Member, NamespaceQuota, Organization, RoleBinding, SecretMetadata, Workspace } from './types.js';

/** The connection types of the subgraph's lists (Relay cursor connections; see connections.ts). */
export const WorkspaceConnection = connectionType<Workspace>('Workspace', Workspace);
export const OrganizationConnection = connectionType<Organization>('Organization', Organization);
export const MemberConnection = connectionType<Member>('Member', Member);
/** `ClusterConnection` already names how Canopy reaches a cluster. */
export const AttachedClusterConnection = connectionType<Cluster>('AttachedCluster', Cluster);
export const NamespaceConnection = connectionType<string>('Namespace', String);
export const NamespaceQuotaConnection = connectionType<NamespaceQuota>('NamespaceQuota', NamespaceQuota);
export const RoleBindingConnection = connectionType<RoleBinding>('RoleBinding', RoleBinding);
export const ClusterRoleBindingConnection = connectionType<ClusterRoleBinding>('ClusterRoleBinding', ClusterRoleBinding);
export const ImageRestrictionConnection = connectionType<ImageRestriction>('ImageRestriction', ImageRestriction);
export const SecretMetadataConnection = connectionType<SecretMetadata>('SecretMetadata', SecretMetadata);

/** The keys lists are ordered and paged by: unique per list, NUL-separated so that a shorter part sorts first. */
export const keys = {
  workspace: (w: { organizationId: string; name: string; id: string }) => `${w.organizationId}\u0000${w.name}\u0000${w.id}`,
  organization: (o: { name: string; id: string }) => `${o.name}\u0000${o.id}`,
  member: (m: { userId: string }) => m.userId,
  cluster: (c: { name: string; id: string }) => `${c.name}\u0000${c.id}`,
  namespace: (n: string) => n,
  quota: (q: { namespace: string; clusterId: string | null }) => `${q.namespace}\u0000${q.clusterId ?? ''}`,
  named: (b: { name: string }) => b.name,
  image: (r: { namespace: string; image: string }) => `${r.namespace}\u0000${r.image}`,
};

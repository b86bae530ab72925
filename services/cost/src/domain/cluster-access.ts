import { CanopyError, ErrorCode } from '@canopy/schema';
import { effectiveRole, type OrganizationState, type WorkspaceView } from '@canopy/workspaces';

/** What the pricing commands look workspaces up in: the workspaces service's `Directory` answers it. */
export interface ClusterDirectory {
  allOrganizations(): Iterable<{ state: OrganizationState }>;
  workspace(workspaceId: string): WorkspaceView | undefined;
}

/**
 * Who may set a cluster's prices and idle sharing. There is no registry of
 * clusters: a cluster is known by the live workspaces that have it attached
 * (under this id). Owners of an organization with such a workspace may set
 * them; anyone holding a role in such a workspace is refused (FORBIDDEN);
 * for anyone else the cluster does not exist (NOT_FOUND).
 */
export function authorizePricing(directory: ClusterDirectory, clusterId: string, userId: string): void {
  let known = false;
  for (const organization of directory.allOrganizations()) {
    for (const workspaceId of organization.state.workspaces.keys()) {
      const view = directory.workspace(workspaceId);
      if (!view?.state.clusters.has(clusterId)) continue;
      if (organization.state.owners.has(userId)) return;
      known ||= effectiveRole(view, userId) !== undefined;
    }
  }
  if (known) throw new CanopyError(ErrorCode.FORBIDDEN, `Only owners of an organization the cluster ${clusterId} is attached in set its prices and idle sharing.`, { field: 'clusterId', clusterId });
  throw new CanopyError(ErrorCode.NOT_FOUND, `Cluster ${clusterId} does not exist, or is attached to no workspace you have a role in.`, { field: 'clusterId', clusterId });
}

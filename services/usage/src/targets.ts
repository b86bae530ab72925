import { addressKey, type ClusterAddress } from '@canopy/kube';
import type { Directory } from '@canopy/workspaces';

/** One cluster to sample, however many workspaces attached it. */
export interface ClusterTarget {
  /** The id its usage is recorded under (`usage-{clusterId}`): the smallest id any workspace attached it with. */
  clusterId: string;
  /** Every id workspaces attached it with, sorted. */
  clusterIds: string[];
  address: ClusterAddress;
  /** Namespace → the workspaces that hold it and have this cluster attached, sorted. */
  namespaces: Map<string, string[]>;
}

/**
 * The clusters the live workspaces have attached, one per connection (a
 * cluster attached to several workspaces is sampled once), each with the
 * namespaces the workspaces hold on it. Workspaces attach the same cluster
 * under ids of their own; its usage goes under the smallest of them, so
 * that it is one stream, and its capacity is counted once.
 */
export function clusterTargets(directory: Directory): ClusterTarget[] {
  const byAddress = new Map<string, { address: ClusterAddress; clusterIds: Set<string>; namespaces: Map<string, Set<string>> }>();
  for (const organization of directory.allOrganizations()) {
    for (const workspaceId of organization.state.workspaces.keys()) {
      const workspace = directory.workspace(workspaceId);
      if (!workspace) continue;
      for (const [clusterId, cluster] of workspace.state.clusters) {
        const address = cluster.connection as ClusterAddress;
        const addressId = addressKey(address);
        let target = byAddress.get(addressId);
        if (!target) byAddress.set(addressId, (target = { address, clusterIds: new Set(), namespaces: new Map() }));
        target.clusterIds.add(clusterId);
        for (const namespace of workspace.state.namespaces) {
          let holders = target.namespaces.get(namespace);
          if (!holders) target.namespaces.set(namespace, (holders = new Set()));
          holders.add(workspaceId);
        }
      }
    }
  }
  const targets = [...byAddress.values()].map(({ address, clusterIds, namespaces }) => {
    const ids = [...clusterIds].sort();
    return { clusterId: ids[0]!, clusterIds: ids, address, namespaces: new Map([...namespaces].map(([namespace, holders]) => [namespace, [...holders].sort()])) };
  });
  return targets.sort((a, b) => (a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0));
}

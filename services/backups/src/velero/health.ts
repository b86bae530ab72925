import type { ClusterAddress, ClusterConnection } from '@canopy/kube';
import type { ClusterHealthCheck } from '../app/commands.js';
import type { ClusterHealth } from '../domain/options.js';

/** Turns a cluster's recorded address into a connection (`ClusterConnector` from `@canopy/kube`). */
export interface ClusterConnections {
  connect(address: ClusterAddress): ClusterConnection;
}

/** The workspaces a cluster is looked up in: the workspaces service's directory. */
export interface ClusterDirectory {
  workspace(workspaceId: string): { state: { clusters: ReadonlyMap<string, { name: string; connection: ClusterAddress }> } } | undefined;
}

/**
 * The cluster health the backup commands ask before planning: a probe of the
 * cluster through its recorded connection (`GET /api` and `/version` within
 * `timeoutMs`). Reachable is healthy; refused credentials are unhealthy;
 * anything else (refused connection, timeout, TLS, 5xx) is unreachable. A
 * cluster the workspace no longer has, or a kubeconfig that cannot be used,
 * is unreachable too.
 */
export function probingHealthCheck(options: { workspaces: ClusterDirectory; connector: ClusterConnections; timeoutMs?: number }): ClusterHealthCheck {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async ({ workspaceId, clusterId }): Promise<ClusterHealth> => {
    const entry = options.workspaces.workspace(workspaceId)?.state.clusters.get(clusterId);
    if (!entry) return { status: 'unreachable', message: 'The cluster is not part of the workspace.' };
    let connection: ClusterConnection;
    try {
      connection = options.connector.connect(entry.connection);
    } catch (error) {
      return { status: 'unreachable', message: `The cluster's connection cannot be used: ${error instanceof Error ? error.message : String(error)}` };
    }
    const health = await connection.probe({ timeoutMs });
    switch (health.state) {
      case 'reachable':
        return { status: 'healthy' };
      case 'unauthorized':
        return { status: 'unhealthy', message: `The cluster refused Canopy's credentials (HTTP ${health.httpStatus}): ${health.message}` };
      case 'unreachable':
        return { status: 'unreachable', message: `The cluster cannot be reached (${health.reason}): ${health.message}` };
    }
  };
}

import { ClusterAccessError, connectCluster, type ClusterConnection } from './access.js';

/** How the log says a cluster is reached (the `connection` of `ClusterAttached`). */
export type ClusterAddress = { kind: 'kubeconfig'; path: string; context: string | null } | { kind: 'simulator'; simulator: string };

/** Where the built-in simulated clusters are: their kubeconfig (YAML) by simulator name. */
export type SimulatorDirectory = (simulator: string) => string | undefined;

/**
 * Turns the cluster addresses recorded in the log into client-node
 * connections, one per distinct address (so that every service of a process
 * shares a cluster's clients). A simulator the process does not run, or a
 * kubeconfig it cannot use, is a `ClusterAccessError` with a stable code.
 */
export class ClusterConnector {
  private readonly connections = new Map<string, ClusterConnection>();

  constructor(private readonly simulators: SimulatorDirectory = () => undefined) {}

  connect(address: ClusterAddress): ClusterConnection {
    const key = addressKey(address);
    const known = this.connections.get(key);
    if (known) return known;
    const connection = this.open(address);
    this.connections.set(key, connection);
    return connection;
  }

  /** Forgets a connection (e.g. after its kubeconfig changed on disk). */
  forget(address: ClusterAddress): void {
    this.connections.delete(addressKey(address));
  }

  private open(address: ClusterAddress): ClusterConnection {
    if (address.kind === 'kubeconfig') return connectCluster({ kubeconfigPath: address.path, ...(address.context ? { context: address.context } : {}) });
    const yaml = this.simulators(address.simulator);
    if (yaml === undefined) {
      throw new ClusterAccessError('KUBECONFIG_UNREADABLE', `no simulated cluster ${JSON.stringify(address.simulator)} runs in this process`);
    }
    return connectCluster({ kubeconfigYaml: yaml });
  }
}

export function addressKey(address: ClusterAddress): string {
  return address.kind === 'kubeconfig' ? `kubeconfig:${address.path}#${address.context ?? ''}` : `simulator:${address.simulator}`;
}

/** A simulator directory over running simulated clusters (each handle's kubeconfig YAML by name). */
export function simulatorDirectory(clusters: Iterable<{ name: string; kubeconfig: { yaml: string } }>): SimulatorDirectory {
  const byName = new Map<string, string>();
  for (const cluster of clusters) byName.set(cluster.name, cluster.kubeconfig.yaml);
  return (name) => byName.get(name);
}

import { join } from 'node:path';
import { writeKubeconfigFile } from './kubeconfig.js';
import { startSimulatedCluster, type SimulatedCluster, type SimulatedClusterOptions } from './simulator.js';
import { simulatedVelero } from './velero/index.js';

export type DemoClusters = {
  readonly clusters: readonly SimulatedCluster[];
  /** Kubeconfig file of each cluster, by cluster name (one context, named after the cluster). */
  readonly kubeconfigs: Readonly<Record<string, string>>;
  /** One kubeconfig with every cluster's context. */
  readonly combinedKubeconfig: string;
  /** Lines for the start-up output: each cluster, its address and how to point kubectl at it. */
  describe(): string[];
  stop(): Promise<void>;
};

export const DEMO_CLUSTER_NAMES = ['sim-east', 'sim-west'] as const;

/**
 * The demo's simulated clusters (system clock, with the simulated Velero): started, with a kubeconfig
 * per cluster written to `directory/<name>.kubeconfig` and a combined one
 * to `directory/kubeconfig`, so that `kubectl` can look at them.
 */
export async function startDemoClusters(options: {
  directory: string;
  names?: readonly string[];
  /** Fixed ports, one per cluster (default: free ones picked at start). */
  ports?: readonly number[];
  nodes?: number;
  cluster?: Partial<SimulatedClusterOptions>;
}): Promise<DemoClusters> {
  const names = options.names ?? DEMO_CLUSTER_NAMES;
  const clusters: SimulatedCluster[] = [];
  try {
    for (const [i, name] of names.entries()) {
      clusters.push(await startSimulatedCluster({ nodes: options.nodes ?? 3, ...simulatedVelero(), ...options.cluster, name, port: options.ports?.[i] ?? 0 }));
    }
    const kubeconfigs: Record<string, string> = {};
    for (const cluster of clusters) {
      const path = join(options.directory, `${cluster.name}.kubeconfig`);
      await cluster.writeKubeconfig(path);
      kubeconfigs[cluster.name] = path;
    }
    const combinedKubeconfig = join(options.directory, 'kubeconfig');
    await writeKubeconfigFile(
      combinedKubeconfig,
      clusters.map((c) => c.kubeconfig.entry),
    );
    return {
      clusters,
      kubeconfigs,
      combinedKubeconfig,
      describe: () => clusters.map((c) => `simulated cluster ${c.name} at ${c.url} — kubectl: KUBECONFIG=${kubeconfigs[c.name]} kubectl get nodes`),
      stop: async () => {
        await Promise.all(clusters.map((c) => c.stop()));
      },
    };
  } catch (error) {
    await Promise.all(clusters.map((c) => c.stop()));
    throw error;
  }
}

import { join } from 'node:path';
import type { Logger } from 'pino';
import { ClusterConnector, simulatorDirectory, startDemoClusters, type DemoClusters } from '@canopy/kube';

/** How this process reaches clusters: the connector every service shares, and the simulated clusters it runs itself, if any. */
export interface ClusterAccess {
  connector: ClusterConnector;
  /** The simulated clusters this process runs (CANOPY_SIMULATED_CLUSTERS), undefined when none. */
  simulated: DemoClusters | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the simulated clusters CANOPY_SIMULATED_CLUSTERS names (`npm
 * start` runs two: sim-east and sim-west), each with the simulated Velero,
 * writing a kubeconfig per cluster into `<data dir>/clusters/`; a cluster
 * attached with `simulator: "<name>"` is reached through that kubeconfig,
 * one attached with a kubeconfig file through the file.
 */
export async function openClusterAccess(options: { simulated: readonly string[]; dataDir: string; logger: Logger }): Promise<ClusterAccess> {
  let simulated: DemoClusters | undefined;
  if (options.simulated.length > 0) {
    simulated = await startDemoClusters({ directory: join(options.dataDir, 'clusters'), names: options.simulated });
    for (const line of simulated.describe()) options.logger.info(line);
  }
  return {
    connector: new ClusterConnector(simulatorDirectory(simulated?.clusters ?? [])),
    simulated,
    async stop() {
      await simulated?.stop();
    },
  };
}

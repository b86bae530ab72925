export { connectCluster, probeCluster, ClusterAccessError, type ClusterAccessErrorCode, type ClusterConnection, type ClusterHealth, type ConnectOptions, type ProbeOptions, type UnreachableReason } from './access.js';
export { startDemoClusters, DEMO_CLUSTER_NAMES, type DemoClusters } from './demo.js';
export { startSimulatedCluster, type NodeSpec, type SimulatedCluster, type SimulatedClusterOptions } from './simulator.js';
export type { Fault } from './api/http-server.js';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.js';
export { kubeconfigObject, kubeconfigYaml, writeKubeconfigFile, type KubeconfigEntry } from './kubeconfig.js';
export { SIM_ANNOTATIONS } from './controllers/util.js';
export { DEFAULT_POD_TIMING, type PodTiming } from './controllers/pods.js';
export type { Controller, ReconcileResult } from './controllers/manager.js';
export type { EventRecorder } from './controllers/events.js';
export { BUILTIN_RESOURCES, ResourceRegistry, apiVersionOf, type ResourceType } from './resources.js';
export { ResourceApi, type AdmissionHook, type AdmissionRequest } from './store/resource-api.js';
export { KubeStatusError } from './status.js';

import { writeKubeconfigFile } from './kubeconfig.js';
import type { SimulatedCluster } from './simulator.js';

/** Writes one kubeconfig holding a context per simulated cluster (current context: the first). */
export async function writeKubeconfig(path: string, clusters: readonly SimulatedCluster[]): Promise<void> {
  await writeKubeconfigFile(
    path,
    clusters.map((c) => c.kubeconfig.entry),
  );
}
export { ClusterConnector, addressKey, simulatorDirectory, type ClusterAddress, type SimulatorDirectory } from './connector.js';
export { simulatedVelero, DEFAULT_VELERO_TIMING, VELERO_API_VERSION, VELERO_GROUP, VELERO_NAMESPACE, VELERO_RESOURCES, type SimulatedVelero, type VeleroTiming } from './velero/index.js';
export { applyVeleroObject, httpStatusOf, veleroInformer, type VeleroObject, type VeleroPlural } from './velero/client.js';
export { METRICS_RESOURCES, MetricsApi } from './metrics/metrics-api.js';
export { containerUsage, SCRAPE_INTERVAL_MS, type ResourceAmounts } from './metrics/usage.js';
export type { ComputedResource } from './api/http-server.js';
export { parseQuantity } from './quantity.js';

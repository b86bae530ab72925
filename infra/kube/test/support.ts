import { ApiException } from '@kubernetes/client-node';
import { connectCluster, ManualClock, startSimulatedCluster, type ClusterConnection, type SimulatedCluster, type SimulatedClusterOptions } from '../src/index.js';

export type Harness = { cluster: SimulatedCluster; client: ClusterConnection; clock: ManualClock };

/** A simulated cluster on a manual clock, and the real client-node connected to it over HTTPS with its kubeconfig. */
export async function startHarness(options: Partial<SimulatedClusterOptions> = {}): Promise<Harness> {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const cluster = await startSimulatedCluster({ name: 'test', clock, ...options });
  const client = connectCluster({ kubeconfigYaml: cluster.kubeconfig.yaml });
  return { cluster, client, clock };
}

/** The Kubernetes Status a client-node call failed with. */
export async function statusOf(call: Promise<unknown>): Promise<{ kind: string; apiVersion: string; status: string; code: number; reason: string; message: string; details?: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      return body;
    }
    throw error;
  }
  throw new Error('expected the call to fail with a Kubernetes Status');
}

/** Retries `check` until it stops throwing (watch and informer assertions), or fails with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export const labelled = (name: string, labels: Record<string, string>, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

export function deployment(name: string, replicas: number, image = 'nginx:1.27', annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'main', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
    },
  };
}

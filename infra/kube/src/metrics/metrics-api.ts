import type { ComputedResource } from '../api/http-server.js';
import { timestamp } from '../clock.js';
import { asArray, asObject, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import { parseQuantity } from '../quantity.js';
import type { ResourceType } from '../resources.js';
import { notFound } from '../status.js';
import type { ListOptions, ResourceApi } from '../store/resource-api.js';
import { containerUsage, formatKibibytes, formatNanocores, SCRAPE_INTERVAL_MS, type ResourceAmounts } from './usage.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** Read-only, computed on every request: only `get` and `list` (metrics-server serves no watch). */
export const METRICS_RESOURCES: readonly ResourceType[] = [
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] },
];

/** Per node, what the system (kubelet, runtime, OS) uses beside the pods: a share of the node's capacity. */
const SYSTEM_SHARE = { cpu: 0.04, memory: 0.08 };

/** A container's requests, or its limits where it requests nothing (the API server defaults requests to limits). */
function asked(container: JsonObject): Partial<ResourceAmounts> {
  const resources = asObject(container['resources']);
  const requests = asObject(resources['requests']);
  const limits = asObject(resources['limits']);
  const cpu = parseQuantity(requests['cpu'] ?? limits['cpu']);
  const memory = parseQuantity(requests['memory'] ?? limits['memory']);
  return { ...(cpu !== undefined ? { cpuCores: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) };
}

/**
 * `metrics.k8s.io/v1beta1` as metrics-server serves it, over the simulated
 * pods: a PodMetrics per Running pod (its containers' usage) and a
 * NodeMetrics per node (its pods' usage plus the system's share). Usage is
 * synthetic (see `containerUsage`) and reported as of the last scrape,
 * every 15 s on the cluster's clock, with a 15 s window.
 */
export class MetricsApi {
  private readonly podType: ResourceType;
  private readonly nodeType: ResourceType;

  constructor(private readonly api: ResourceApi) {
    this.podType = api.resource('v1', 'Pod');
    this.nodeType = api.resource('v1', 'Node');
  }

  /** The computed resource serving `type`, if it is one of `METRICS_RESOURCES`. */
  resource(type: ResourceType): ComputedResource | undefined {
    if (type.group !== METRICS_GROUP || type.version !== METRICS_VERSION) return undefined;
    if (type.kind === 'PodMetrics') {
      return {
        get: (namespace, name) => {
          const pod = this.api.store.peek(this.podType, namespace, name);
          if (!pod || !isRunning(pod)) throw notFound(type, name);
          return this.podMetrics(pod);
        },
        list: (options) => this.runningPods(options).map((pod) => this.podMetrics(pod)),
      };
    }
    if (type.kind === 'NodeMetrics') {
      return {
        get: (_namespace, name) => {
          const node = this.api.store.peek(this.nodeType, undefined, name);
          if (!node) throw notFound(type, name);
          return this.nodeMetrics(node, this.runningPods({}));
        },
        list: (options) => {
          const pods = this.runningPods({});
          return this.api.list(this.nodeType, options).items.map((node) => this.nodeMetrics(node, pods));
        },
      };
    }
    return undefined;
  }

  private scrapedAt(): number {
    return Math.floor(this.api.clock.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS;
  }

  private runningPods(options: Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector'>): JsonObject[] {
    return this.api.list(this.podType, options).items.filter(isRunning);
  }

  private containers(pod: JsonObject, at: number): { name: string; usage: ResourceAmounts }[] {
    const namespace = String(getPath(pod, 'metadata.namespace'));
    const podName = String(getPath(pod, 'metadata.name'));
    return asArray(getPath(pod, 'spec.containers'))
      .filter(isObject)
      .map((container) => {
        const name = String(container['name']);
        return { name, usage: containerUsage({ namespace, pod: podName, container: name }, asked(container), at) };
      });
  }

  private podMetrics(pod: JsonObject): JsonObject {
    const at = this.scrapedAt();
    const labels = stringMap(getPath(pod, 'metadata.labels'));
    return {
      kind: 'PodMetrics',
      apiVersion: METRICS_API_VERSION,
      metadata: {
        name: String(getPath(pod, 'metadata.name')),
        namespace: String(getPath(pod, 'metadata.namespace')),
        creationTimestamp: timestamp(this.api.clock.now()),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      },
      timestamp: timestamp(at),
      window: `${SCRAPE_INTERVAL_MS / 1000}s`,
      containers: this.containers(pod, at).map(({ name, usage }) => ({ name, usage: { cpu: formatNanocores(usage.cpuCores), memory: formatKibibytes(usage.memoryBytes) } })),
    };
  }

  private nodeMetrics(node: JsonObject, runningPods: readonly JsonObject[]): JsonObject {
    const at = this.scrapedAt();
    const name = String(getPath(node, 'metadata.name'));
    const capacity = asObject(getPath(node, 'status.capacity'));
    const cpuCapacity = parseQuantity(capacity['cpu']) ?? 0;
    const memoryCapacity = parseQuantity(capacity['memory']) ?? 0;
    const system = containerUsage({ namespace: '', pod: name, container: 'system' }, { cpuCores: cpuCapacity * SYSTEM_SHARE.cpu, memoryBytes: memoryCapacity * SYSTEM_SHARE.memory }, at);
    let cpu = system.cpuCores;
    let memory = system.memoryBytes;
    for (const pod of runningPods) {
      if (getPath(pod, 'spec.nodeName') !== name) continue;
      for (const { usage } of this.containers(pod, at)) {
        cpu += usage.cpuCores;
        memory += usage.memoryBytes;
      }
    }
    const labels = stringMap(getPath(node, 'metadata.labels'));
    return {
      kind: 'NodeMetrics',
      apiVersion: METRICS_API_VERSION,
      metadata: { name, creationTimestamp: timestamp(this.api.clock.now()), ...(Object.keys(labels).length > 0 ? { labels } : {}) },
      timestamp: timestamp(at),
      window: `${SCRAPE_INTERVAL_MS / 1000}s`,
      usage: { cpu: formatNanocores(Math.min(cpu, cpuCapacity || cpu)), memory: formatKibibytes(Math.min(memory, memoryCapacity || memory)) },
    };
  }
}

function isRunning(pod: JsonObject): boolean {
  return getPath(pod, 'status.phase') === 'Running' && !getPath(pod, 'metadata.deletionTimestamp');
}

import { parseQuantity } from '@canopy/kube';
import type { ClusterCapacity, WorkloadUsage } from '@canopy/schema';

/**
 * One cluster's state at a sampling instant, as the Kubernetes API gives it
 * (the fields the aggregation reads, structurally: client-node's objects fit).
 */
export interface ClusterSnapshot {
  nodes: readonly NodeLike[];
  pods: readonly PodLike[];
  /** metrics.k8s.io PodMetrics: each pod's containers' current usage. */
  podMetrics: readonly PodMetricsLike[];
  /** To follow a pod's ReplicaSet to its Deployment. */
  replicaSets: readonly OwnedLike[];
  /** To follow a pod's Job to its CronJob. */
  jobs: readonly OwnedLike[];
}

type Quantities = { [resource: string]: string | number | undefined };
type OwnerReference = { kind?: string; name?: string; controller?: boolean };

export interface NodeLike {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Quantities; capacity?: Quantities };
}

export interface PodLike {
  metadata?: { name?: string; namespace?: string; ownerReferences?: readonly OwnerReference[]; deletionTimestamp?: unknown };
  spec?: { nodeName?: string; containers?: readonly { name?: string; resources?: { requests?: Quantities; limits?: Quantities } }[] };
  status?: { phase?: string };
}

export interface PodMetricsLike {
  metadata?: { name?: string; namespace?: string };
  containers?: readonly { name?: string; usage?: Quantities }[];
}

export interface OwnedLike {
  metadata?: { name?: string; namespace?: string; ownerReferences?: readonly OwnerReference[] };
}

/** The workload a pod belongs to: its controller, followed up to the Deployment or CronJob that made it. */
export interface WorkloadRef {
  kind: string;
  name: string;
}

export const GPU_RESOURCE = 'nvidia.com/gpu';

/** The schema's bounds (`CpuMillicores`, `MemoryBytes`): a figure beyond them is clamped rather than refused. */
const MAX_MILLICORES = 100_000_000;
const MAX_BYTES = 2 ** 50;
const MAX_GPUS = 100_000;

const controllerOf = (object: OwnedLike | PodLike): OwnerReference | undefined => object.metadata?.ownerReferences?.find((ref) => ref.controller === true && ref.kind && ref.name);
const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * Resolves pods to workloads: a ReplicaSet's pod to its Deployment (or the
 * ReplicaSet when no Deployment owns it), a Job's pod to its CronJob (or the
 * Job), a StatefulSet's or DaemonSet's pod to it, a pod without a controller
 * to itself (kind `Pod`), and any other controller (a custom one) to that
 * controller.
 */
export class WorkloadResolver {
  private readonly parents = new Map<string, OwnerReference>();

  constructor(snapshot: Pick<ClusterSnapshot, 'replicaSets' | 'jobs'>) {
    for (const [kind, objects] of [
      ['ReplicaSet', snapshot.replicaSets],
      ['Job', snapshot.jobs],
    ] as const) {
      for (const object of objects) {
        const owner = controllerOf(object);
        if (owner && object.metadata?.name) this.parents.set(`${kind}:${key(object.metadata.namespace ?? '', object.metadata.name)}`, owner);
      }
    }
  }

  workloadOf(pod: PodLike): WorkloadRef {
    const namespace = pod.metadata?.namespace ?? '';
    const owner = controllerOf(pod);
    if (!owner) return { kind: 'Pod', name: pod.metadata?.name ?? '' };
    if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
      const parent = this.parents.get(`${owner.kind}:${key(namespace, owner.name!)}`);
      if (parent && (parent.kind === (owner.kind === 'ReplicaSet' ? 'Deployment' : 'CronJob'))) return { kind: parent.kind, name: parent.name! };
    }
    return { kind: owner.kind!, name: owner.name! };
  }
}

/** A pod counts while it runs: scheduled, started and not being deleted (what holds its requests on a node). */
export function isCounted(pod: PodLike): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

const amount = (quantities: Quantities | undefined, resource: string): number => parseQuantity(quantities?.[resource]) ?? 0;

/** A container's request of a resource; its limit where it requests none (the API server's default). */
function requested(resources: { requests?: Quantities; limits?: Quantities } | undefined, resource: string): number {
  const request = parseQuantity(resources?.requests?.[resource]);
  return request ?? parseQuantity(resources?.limits?.[resource]) ?? 0;
}

/** What the nodes offer: the allocatable CPU (millicores), memory (bytes) and GPUs of the schedulable nodes. */
export function clusterCapacity(nodes: readonly NodeLike[]): ClusterCapacity {
  let cpu = 0;
  let memory = 0;
  let gpus = 0;
  for (const node of nodes) {
    if (node.spec?.unschedulable) continue;
    const offered = node.status?.allocatable ?? node.status?.capacity;
    cpu += amount(offered, 'cpu');
    memory += amount(offered, 'memory');
    gpus += amount(offered, GPU_RESOURCE);
  }
  return { cpu: Math.min(MAX_MILLICORES, Math.round(cpu * 1000)), memory: Math.min(MAX_BYTES, Math.round(memory)), gpus: Math.min(MAX_GPUS, Math.floor(gpus)) };
}

type Totals = { pods: number; cpuUsage: number; cpuRequest: number; memoryUsage: number; memoryRequest: number; gpus: number };

/**
 * One sample of a cluster: its capacity and one row per workspace, namespace
 * and workload, summed over the workload's running pods (usage from
 * metrics.k8s.io, requests from the pod specs; a running pod the metrics do
 * not list yet counts its requests with no usage). `workspacesOf` says which
 * workspaces hold a namespace on this cluster: none gives a row with
 * `workspaceId: null` (allocated, charged to no one); several share the
 * workload's quantities evenly (largest remainder, first workspaces in id
 * order get the extra units), so the cluster's totals stay exact. Rows come
 * in key order: workspace, namespace, kind, name.
 */
export function aggregateUsage(snapshot: ClusterSnapshot, workspacesOf: (namespace: string) => readonly string[]): { capacity: ClusterCapacity; rows: WorkloadUsage[] } {
  const usage = new Map<string, { cpu: number; memory: number }>();
  for (const metrics of snapshot.podMetrics) {
    let cpu = 0;
    let memory = 0;
    for (const container of metrics.containers ?? []) {
      cpu += amount(container.usage, 'cpu');
      memory += amount(container.usage, 'memory');
    }
    usage.set(key(metrics.metadata?.namespace ?? '', metrics.metadata?.name ?? ''), { cpu, memory });
  }
  const resolver = new WorkloadResolver(snapshot);
  const workloads = new Map<string, { namespace: string; workload: WorkloadRef; totals: Totals }>();
  for (const pod of snapshot.pods) {
    if (!isCounted(pod)) continue;
    const namespace = pod.metadata?.namespace ?? '';
    const workload = resolver.workloadOf(pod);
    const id = `${namespace}\u0000${workload.kind}\u0000${workload.name}`;
    let entry = workloads.get(id);
    if (!entry) workloads.set(id, (entry = { namespace, workload, totals: { pods: 0, cpuUsage: 0, cpuRequest: 0, memoryUsage: 0, memoryRequest: 0, gpus: 0 } }));
    const used = usage.get(key(namespace, pod.metadata?.name ?? ''));
    const totals = entry.totals;
    totals.pods += 1;
    totals.cpuUsage += used?.cpu ?? 0;
    totals.memoryUsage += used?.memory ?? 0;
    for (const container of pod.spec?.containers ?? []) {
      totals.cpuRequest += requested(container.resources, 'cpu');
      totals.memoryRequest += requested(container.resources, 'memory');
      totals.gpus += requested(container.resources, GPU_RESOURCE);
    }
  }
  const rows: WorkloadUsage[] = [];
  for (const { namespace, workload, totals } of workloads.values()) {
    const whole = {
      cpuUsage: Math.min(MAX_MILLICORES, Math.round(totals.cpuUsage * 1000)),
      cpuRequest: Math.min(MAX_MILLICORES, Math.round(totals.cpuRequest * 1000)),
      memoryUsage: Math.min(MAX_BYTES, Math.round(totals.memoryUsage)),
      memoryRequest: Math.min(MAX_BYTES, Math.round(totals.memoryRequest)),
      gpus: Math.min(MAX_GPUS, Math.round(totals.gpus)),
    };
    const holders = [...new Set(workspacesOf(namespace))].sort();
    if (holders.length === 0) {
      rows.push({ workspaceId: null, namespace, kind: workload.kind, name: workload.name, pods: totals.pods, ...whole });
      continue;
    }
    const shares = Object.fromEntries(Object.entries(whole).map(([measure, value]) => [measure, evenShares(value, holders.length)])) as Record<keyof typeof whole, number[]>;
    holders.forEach((workspaceId, i) => {
      rows.push({
        workspaceId,
        namespace,
        kind: workload.kind,
        name: workload.name,
        pods: totals.pods,
        cpuUsage: shares.cpuUsage[i]!,
        cpuRequest: shares.cpuRequest[i]!,
        memoryUsage: shares.memoryUsage[i]!,
        memoryRequest: shares.memoryRequest[i]!,
        gpus: shares.gpus[i]!,
      });
    });
  }
  rows.sort(compareRows);
  return { capacity: clusterCapacity(snapshot.nodes), rows };
}

/** `total` split into `parts` integers that sum to it, the first ones one larger when it does not divide. */
export function evenShares(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
function compareRows(a: WorkloadUsage, b: WorkloadUsage): number {
  return compareText(a.workspaceId ?? '', b.workspaceId ?? '') || compareText(a.namespace, b.namespace) || compareText(a.kind, b.kind) || compareText(a.name, b.name);
}

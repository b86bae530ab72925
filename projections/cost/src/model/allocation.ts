import type { PayloadOf, UsageSampled } from '@canopy/schema';
import { apportion, roundHalfEven } from './money.js';
import type { PriceBook, Timeline } from './timeline.js';

/**
 * OpenCost's allocation model over one usage sample: a workload's cost for
 * an interval is max(request, usage) × duration × price, per resource; what
 * the cluster's capacity offers beyond the workloads' allocations is idle,
 * priced the same way and reported per cluster, or shared out to the
 * workloads in proportion to their allocations when the cluster says so.
 *
 * Everything is exact integer arithmetic (bigint). The rounding rule:
 * - a row's cost of one resource over the interval is its exact rational
 *   value (allocation × seconds × price, summed over the interval's price
 *   segments) rounded to micro-units once, half to even;
 * - that rounded amount is split over the hours (and price segments) of the
 *   interval by the largest-remainder method, so the hourly parts sum to it
 *   exactly;
 * - idle cost is rounded the same way, once per cluster, interval and
 *   resource; a shared part is split over the rows by the largest-remainder
 *   method weighted by their allocation, rows in key order (workspace,
 *   namespace, kind, name), so the shares sum to it exactly.
 * Amounts in different currencies are never added: each is rounded on its
 * own (a price book change can switch currency mid-interval).
 */

export type UsageSample = PayloadOf<typeof UsageSampled>;

/** What a workload row accumulates per hour: unit-seconds of usage, requests and allocation, and micro-units of cost. */
export const WORKLOAD_MEASURES = [
  'cpu_usage',
  'cpu_request',
  'cpu_allocated',
  'memory_usage',
  'memory_request',
  'memory_allocated',
  'gpu_allocated',
  'cpu_cost',
  'memory_cost',
  'gpu_cost',
  'idle_cost',
] as const;
export type WorkloadMeasure = (typeof WORKLOAD_MEASURES)[number];
export type WorkloadMeasures = Record<WorkloadMeasure, bigint>;

/** What a cluster accumulates per hour: seconds sampled, unit-seconds of capacity and allocation, micro-units of idle cost (per resource) and of the part shared out. */
export const CLUSTER_MEASURES = [
  'seconds',
  'cpu_capacity',
  'cpu_allocated',
  'memory_capacity',
  'memory_allocated',
  'gpu_capacity',
  'gpu_allocated',
  'cpu_idle_cost',
  'memory_idle_cost',
  'gpu_idle_cost',
  'shared_idle_cost',
] as const;
export type ClusterMeasure = (typeof CLUSTER_MEASURES)[number];
export type ClusterMeasures = Record<ClusterMeasure, bigint>;

/** A workload: its workspace ('' when no workspace holds the namespace), cluster, namespace, kind and name. */
export interface WorkloadKey {
  workspaceId: string;
  clusterId: string;
  namespace: string;
  kind: string;
  name: string;
}

/** Epoch seconds of a UTC hour's start, and the currency its amounts are in. */
export interface Bucket {
  hour: number;
  currency: string;
}

export interface WorkloadHour extends WorkloadKey, Bucket {
  measures: WorkloadMeasures;
}

export interface ClusterHour extends Bucket {
  clusterId: string;
  measures: ClusterMeasures;
}

export interface Allocation {
  workloads: WorkloadHour[];
  clusters: ClusterHour[];
}

/** Unit-seconds × nano-units per unit-hour → micro-units: the divisor per resource (millicores, bytes, GPUs). */
export const DIVISOR = {
  cpu: 1000n * 3600n * 1000n,
  memory: 2n ** 30n * 3600n * 1000n,
  gpu: 3600n * 1000n,
} as const;
export type Resource = keyof typeof DIVISOR;
const RESOURCES: readonly Resource[] = ['cpu', 'memory', 'gpu'];
const PRICE: Record<Resource, (book: PriceBook) => bigint> = { cpu: (b) => b.cpuCoreHour, memory: (b) => b.memoryGiBHour, gpu: (b) => b.gpuHour };
const COST: Record<Resource, 'cpu_cost' | 'memory_cost' | 'gpu_cost'> = { cpu: 'cpu_cost', memory: 'memory_cost', gpu: 'gpu_cost' };
const IDLE: Record<Resource, 'cpu_idle_cost' | 'memory_idle_cost' | 'gpu_idle_cost'> = { cpu: 'cpu_idle_cost', memory: 'memory_idle_cost', gpu: 'gpu_idle_cost' };

/** A stretch of the interval with one hour, one price book and one sharing setting. */
interface Segment {
  seconds: bigint;
  book: PriceBook;
  shared: boolean;
  /** Index into the sample's buckets. */
  bucket: number;
}

/** Epoch seconds of an ISO instant. */
export function epochSeconds(instant: string): number {
  return Date.parse(instant) / 1000;
}

export const HOUR = 3600;

/**
 * The interval [start, end) cut at every hour boundary, price book change
 * and sharing change inside it.
 */
function segmentsOf(start: number, end: number, prices: Timeline<PriceBook>, sharing: Timeline<boolean>): { segments: Segment[]; buckets: Bucket[] } {
  const cuts = new Set<number>([start, end, ...prices.changesIn(start, end), ...sharing.changesIn(start, end)]);
  for (let hour = Math.floor(start / HOUR) * HOUR + HOUR; hour < end; hour += HOUR) cuts.add(hour);
  const sorted = [...cuts].sort((a, b) => a - b);
  const buckets: Bucket[] = [];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const from = sorted[i]!;
    const book = prices.at(from);
    const hour = Math.floor(from / HOUR) * HOUR;
    let bucket = buckets.findIndex((b) => b.hour === hour && b.currency === book.currency);
    if (bucket < 0) bucket = buckets.push({ hour, currency: book.currency }) - 1;
    segments.push({ seconds: BigInt(sorted[i + 1]! - from), book, shared: sharing.at(from), bucket });
  }
  return { segments, buckets };
}

/**
 * The exact cost of `units` (an allocation held over every segment) rounded
 * once per currency, and split over the segments: `parts[i]` is segment i's
 * share, in its currency.
 */
function costPerSegment(units: bigint, resource: Resource, segments: readonly Segment[]): bigint[] {
  // Most intervals are one segment (inside one hour, no price change): nothing to split.
  if (segments.length === 1) return [units === 0n ? 0n : roundHalfEven(units * segments[0]!.seconds * PRICE[resource](segments[0]!.book), DIVISOR[resource])];
  const parts = segments.map(() => 0n);
  if (units === 0n) return parts;
  const currencies = new Set(segments.map((segment) => segment.book.currency));
  for (const currency of currencies) {
    const indices = segments.flatMap((segment, index) => (segment.book.currency === currency ? [index] : []));
    const weights = indices.map((index) => units * segments[index]!.seconds * PRICE[resource](segments[index]!.book));
    const total = roundHalfEven(
      weights.reduce((a, b) => a + b, 0n),
      DIVISOR[resource],
    );
    const split = indices.length === 1 ? [total] : apportion(total, weights);
    indices.forEach((index, i) => (parts[index] = split[i]!));
  }
  return parts;
}

const zeroWorkload = (): WorkloadMeasures => ({
  cpu_usage: 0n,
  cpu_request: 0n,
  cpu_allocated: 0n,
  memory_usage: 0n,
  memory_request: 0n,
  memory_allocated: 0n,
  gpu_allocated: 0n,
  cpu_cost: 0n,
  memory_cost: 0n,
  gpu_cost: 0n,
  idle_cost: 0n,
});

const zeroCluster = (): ClusterMeasures => ({
  seconds: 0n,
  cpu_capacity: 0n,
  cpu_allocated: 0n,
  memory_capacity: 0n,
  memory_allocated: 0n,
  gpu_capacity: 0n,
  gpu_allocated: 0n,
  cpu_idle_cost: 0n,
  memory_idle_cost: 0n,
  gpu_idle_cost: 0n,
  shared_idle_cost: 0n,
});

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Allocates one sample of a cluster: its rows' usage and cost per hour, and
 * the cluster's capacity, allocation and idle cost per hour, under the
 * price books and sharing setting in effect over its interval.
 */
export function allocate(sample: UsageSample, prices: Timeline<PriceBook>, sharing: Timeline<boolean>): Allocation {
  const start = epochSeconds(sample.start);
  const end = epochSeconds(sample.end);
  const { segments, buckets } = segmentsOf(start, end, prices, sharing);
  if (segments.length === 1 && !segments[0]!.shared) return allocateOneSegment(sample, segments[0]!, buckets[0]!);
  const rows = [...sample.rows]
    .map((row) => ({ row, workspaceId: row.workspaceId ?? '' }))
    // Key order, not the event's row order, decides who gets a remainder unit of shared idle cost.
    .sort((a, b) => byCodeUnit(a.workspaceId, b.workspaceId) || byCodeUnit(a.row.namespace, b.row.namespace) || byCodeUnit(a.row.kind, b.row.kind) || byCodeUnit(a.row.name, b.row.name));

  const allocated: Record<Resource, bigint[]> = { cpu: [], memory: [], gpu: [] };
  const workloads = rows.map(({ row, workspaceId }) => {
    const cpu = max(BigInt(row.cpuUsage), BigInt(row.cpuRequest));
    const memory = max(BigInt(row.memoryUsage), BigInt(row.memoryRequest));
    const gpu = BigInt(row.gpus);
    allocated.cpu.push(cpu);
    allocated.memory.push(memory);
    allocated.gpu.push(gpu);
    const perBucket = buckets.map((bucket): WorkloadHour => ({
      workspaceId,
      clusterId: sample.clusterId,
      namespace: row.namespace,
      kind: row.kind,
      name: row.name,
      ...bucket,
      measures: zeroWorkload(),
    }));
    for (const segment of segments) {
      const m = perBucket[segment.bucket]!.measures;
      const s = segment.seconds;
      m.cpu_usage += BigInt(row.cpuUsage) * s;
      m.cpu_request += BigInt(row.cpuRequest) * s;
      m.cpu_allocated += cpu * s;
      m.memory_usage += BigInt(row.memoryUsage) * s;
      m.memory_request += BigInt(row.memoryRequest) * s;
      m.memory_allocated += memory * s;
      m.gpu_allocated += gpu * s;
    }
    for (const resource of RESOURCES) {
      const units = resource === 'cpu' ? cpu : resource === 'memory' ? memory : gpu;
      costPerSegment(units, resource, segments).forEach((part, index) => (perBucket[segments[index]!.bucket]!.measures[COST[resource]] += part));
    }
    return perBucket;
  });

  const clusters = buckets.map((bucket): ClusterHour => ({ clusterId: sample.clusterId, ...bucket, measures: zeroCluster() }));
  const capacity: Record<Resource, bigint> = { cpu: BigInt(sample.capacity.cpu), memory: BigInt(sample.capacity.memory), gpu: BigInt(sample.capacity.gpus) };
  const totalAllocated: Record<Resource, bigint> = {
    cpu: allocated.cpu.reduce((a, b) => a + b, 0n),
    memory: allocated.memory.reduce((a, b) => a + b, 0n),
    gpu: allocated.gpu.reduce((a, b) => a + b, 0n),
  };
  for (const segment of segments) {
    const m = clusters[segment.bucket]!.measures;
    m.seconds += segment.seconds;
    m.cpu_capacity += capacity.cpu * segment.seconds;
    m.cpu_allocated += totalAllocated.cpu * segment.seconds;
    m.memory_capacity += capacity.memory * segment.seconds;
    m.memory_allocated += totalAllocated.memory * segment.seconds;
    m.gpu_capacity += capacity.gpu * segment.seconds;
    m.gpu_allocated += totalAllocated.gpu * segment.seconds;
  }
  for (const resource of RESOURCES) {
    const idle = max(capacity[resource] - totalAllocated[resource], 0n);
    costPerSegment(idle, resource, segments).forEach((part, index) => {
      const segment = segments[index]!;
      const cluster = clusters[segment.bucket]!.measures;
      cluster[IDLE[resource]] += part;
      // Without allocation there is no one to share with: the idle cost stays the cluster's.
      if (!segment.shared || part === 0n || totalAllocated[resource] === 0n) return;
      cluster.shared_idle_cost += part;
      apportion(part, allocated[resource]).forEach((share, row) => (workloads[row]![segment.bucket]!.measures.idle_cost += share));
    });
  }
  return { workloads: workloads.flat(), clusters };
}

/**
 * `allocate` for the usual sample: inside one hour, under one price book,
 * idle cost not shared. The same figures without the general case's splits
 * (there is nothing to split, and no share of idle cost to apportion, so
 * the rows need no ordering either).
 */
function allocateOneSegment(sample: UsageSample, segment: Segment, bucket: Bucket): Allocation {
  const s = segment.seconds;
  const price = { cpu: segment.book.cpuCoreHour, memory: segment.book.memoryGiBHour, gpu: segment.book.gpuHour };
  const cost = (units: bigint, resource: Resource) => (units === 0n ? 0n : roundHalfEven(units * s * price[resource], DIVISOR[resource]));
  let totalCpu = 0n;
  let totalMemory = 0n;
  let totalGpu = 0n;
  const workloads = sample.rows.map((row): WorkloadHour => {
    const cpuUsage = BigInt(row.cpuUsage);
    const cpuRequest = BigInt(row.cpuRequest);
    const memoryUsage = BigInt(row.memoryUsage);
    const memoryRequest = BigInt(row.memoryRequest);
    const cpu = max(cpuUsage, cpuRequest);
    const memory = max(memoryUsage, memoryRequest);
    const gpu = BigInt(row.gpus);
    totalCpu += cpu;
    totalMemory += memory;
    totalGpu += gpu;
    return {
      workspaceId: row.workspaceId ?? '',
      clusterId: sample.clusterId,
      namespace: row.namespace,
      kind: row.kind,
      name: row.name,
      hour: bucket.hour,
      currency: bucket.currency,
      measures: {
        cpu_usage: cpuUsage * s,
        cpu_request: cpuRequest * s,
        cpu_allocated: cpu * s,
        memory_usage: memoryUsage * s,
        memory_request: memoryRequest * s,
        memory_allocated: memory * s,
        gpu_allocated: gpu * s,
        cpu_cost: cost(cpu, 'cpu'),
        memory_cost: cost(memory, 'memory'),
        gpu_cost: cost(gpu, 'gpu'),
        idle_cost: 0n,
      },
    };
  });
  const capacity = { cpu: BigInt(sample.capacity.cpu), memory: BigInt(sample.capacity.memory), gpu: BigInt(sample.capacity.gpus) };
  const idle = (resource: Resource, allocated: bigint) => cost(max(capacity[resource] - allocated, 0n), resource);
  const cluster: ClusterHour = {
    clusterId: sample.clusterId,
    hour: bucket.hour,
    currency: bucket.currency,
    measures: {
      seconds: s,
      cpu_capacity: capacity.cpu * s,
      cpu_allocated: totalCpu * s,
      memory_capacity: capacity.memory * s,
      memory_allocated: totalMemory * s,
      gpu_capacity: capacity.gpu * s,
      gpu_allocated: totalGpu * s,
      cpu_idle_cost: idle('cpu', totalCpu),
      memory_idle_cost: idle('memory', totalMemory),
      gpu_idle_cost: idle('gpu', totalGpu),
      shared_idle_cost: 0n,
    },
  };
  return { workloads, clusters: [cluster] };
}

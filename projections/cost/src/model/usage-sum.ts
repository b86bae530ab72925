import { allocate, CLUSTER_MEASURES, DIVISOR, epochSeconds, HOUR, WORKLOAD_MEASURES, type Allocation, type Bucket, type ClusterMeasure, type Resource, type UsageSample, type WorkloadKey, type WorkloadMeasure } from './allocation.js';
import { gcd, minusOrZero, plus, roundedProduct, times, type Amount } from './money.js';
import type { PriceBook, Timeline } from './timeline.js';

export type WorkloadAmounts = Record<WorkloadMeasure, Amount>;
export type ClusterAmounts = Record<ClusterMeasure, Amount>;

export interface WorkloadTotal extends WorkloadKey, Bucket {
  measures: WorkloadAmounts;
}

export interface ClusterTotal extends Bucket {
  clusterId: string;
  measures: ClusterAmounts;
}

/** Sums per workload-hour and cluster-hour, in the shape `rollUp` takes. */
export interface UsageTotals {
  workloads: WorkloadTotal[];
  clusters: ClusterTotal[];
}

/** One cluster, hour and currency: the cluster's sums and its workloads'. */
interface HourSum {
  cluster: ClusterTotal;
  /**
   * By name, then namespace, then a short list (one per workspace and kind
   * using that name in that namespace): no key strings built per row.
   */
  workloads: Map<string, Map<string, WorkloadTotal[]>>;
}

/** A resource's price over a stretch of `seconds`, as `cost = roundHalfEven(units × multiplier, divisor)` with the terms reduced. */
interface Rate {
  multiplier: bigint;
  divisor: bigint;
  multiplierNumber: number;
  divisorNumber: number;
}

type Rates = Record<Resource, Rate>;

function rateOf(price: bigint, seconds: number, resource: Resource): Rate {
  const numerator = price * BigInt(seconds);
  const common = gcd(numerator, DIVISOR[resource]);
  const multiplier = numerator / common;
  const divisor = DIVISOR[resource] / common;
  return { multiplier, divisor, multiplierNumber: Number(multiplier), divisorNumber: Number(divisor) };
}

const zeroWorkload = (): WorkloadAmounts => ({
  cpu_usage: 0,
  cpu_request: 0,
  cpu_allocated: 0,
  memory_usage: 0,
  memory_request: 0,
  memory_allocated: 0,
  gpu_allocated: 0,
  cpu_cost: 0,
  memory_cost: 0,
  gpu_cost: 0,
  idle_cost: 0,
});

const zeroCluster = (): ClusterAmounts => ({
  seconds: 0,
  cpu_capacity: 0,
  cpu_allocated: 0,
  memory_capacity: 0,
  memory_allocated: 0,
  gpu_capacity: 0,
  gpu_allocated: 0,
  cpu_idle_cost: 0,
  memory_idle_cost: 0,
  gpu_idle_cost: 0,
  shared_idle_cost: 0,
});

/**
 * Usage samples allocated and summed per workload-hour and cluster-hour:
 * rolling the sums up adds what rolling up each sample's `allocate` would
 * (every measure is additive), for a fraction of the work when a batch
 * holds many samples of the same workloads in the same hours.
 *
 * The usual sample (inside one hour, under one price book, idle cost not
 * shared) is allocated here straight into the sums, in float arithmetic
 * while it is exact (see `Amount`): no per-row objects and no bigints, the
 * hot path of a rebuild. Every other sample goes through `allocate`. A
 * property test holds the two to the same figures.
 */
export class UsageSum {
  /** By cluster, hour and currency. */
  private readonly hours = new Map<string, HourSum>();
  /** Per price book, per sample length: its rates. */
  private readonly rates = new WeakMap<PriceBook, Map<number, Rates>>();

  /** Adds a sample, allocated under the cluster's price books and sharing settings. */
  addSample(sample: UsageSample, prices: Timeline<PriceBook>, sharing: Timeline<boolean>): void {
    const start = epochSeconds(sample.start);
    const end = epochSeconds(sample.end);
    const hour = Math.floor(start / HOUR) * HOUR;
    // What `allocate` would cut into one segment: no hour boundary, price change or sharing change inside.
    if (end <= hour + HOUR && !prices.changesWithin(start, end) && !sharing.changesWithin(start, end) && !sharing.at(start)) {
      this.addOneSegment(sample, end - start, hour, prices.at(start));
    } else this.addAllocation(allocate(sample, prices, sharing));
  }

  /** Adds an allocation (bigint measures) as it is. */
  addAllocation(allocation: Allocation): void {
    for (const w of allocation.workloads) {
      const to = this.workload(this.hour(w.clusterId, w.hour, w.currency), w.workspaceId, w.namespace, w.kind, w.name).measures;
      for (const measure of WORKLOAD_MEASURES) to[measure] = plus(to[measure], w.measures[measure]);
    }
    for (const c of allocation.clusters) {
      const to = this.hour(c.clusterId, c.hour, c.currency).cluster.measures;
      for (const measure of CLUSTER_MEASURES) to[measure] = plus(to[measure], c.measures[measure]);
    }
  }

  /** Rows summed so far. */
  get size(): number {
    let size = 0;
    for (const sum of this.hours.values()) {
      size++;
      for (const namespaces of sum.workloads.values()) for (const list of namespaces.values()) size += list.length;
    }
    return size;
  }

  /** The sums. */
  totals(): UsageTotals {
    const workloads: WorkloadTotal[] = [];
    const clusters: ClusterTotal[] = [];
    for (const sum of this.hours.values()) {
      clusters.push(sum.cluster);
      for (const namespaces of sum.workloads.values()) for (const list of namespaces.values()) workloads.push(...list);
    }
    return { workloads, clusters };
  }

  /** `allocateOneSegment` of allocation.ts, added to the sums. */
  private addOneSegment(sample: UsageSample, seconds: number, hour: number, book: PriceBook): void {
    const rates = this.ratesOf(book, seconds);
    const sum = this.hour(sample.clusterId, hour, book.currency);
    let cpuTotal: Amount = 0;
    let memoryTotal: Amount = 0;
    let gpuTotal: Amount = 0;
    for (const row of sample.rows) {
      const cpu = row.cpuUsage > row.cpuRequest ? row.cpuUsage : row.cpuRequest;
      const memory = row.memoryUsage > row.memoryRequest ? row.memoryUsage : row.memoryRequest;
      cpuTotal = plus(cpuTotal, cpu);
      memoryTotal = plus(memoryTotal, memory);
      gpuTotal = plus(gpuTotal, row.gpus);
      const m = this.workload(sum, row.workspaceId ?? '', row.namespace, row.kind, row.name).measures;
      m.cpu_usage = plus(m.cpu_usage, times(row.cpuUsage, seconds));
      m.cpu_request = plus(m.cpu_request, times(row.cpuRequest, seconds));
      m.cpu_allocated = plus(m.cpu_allocated, times(cpu, seconds));
      m.memory_usage = plus(m.memory_usage, times(row.memoryUsage, seconds));
      m.memory_request = plus(m.memory_request, times(row.memoryRequest, seconds));
      m.memory_allocated = plus(m.memory_allocated, times(memory, seconds));
      m.gpu_allocated = plus(m.gpu_allocated, times(row.gpus, seconds));
      m.cpu_cost = plus(m.cpu_cost, cost(cpu, rates.cpu));
      m.memory_cost = plus(m.memory_cost, cost(memory, rates.memory));
      m.gpu_cost = plus(m.gpu_cost, cost(row.gpus, rates.gpu));
    }
    const { capacity } = sample;
    const c = sum.cluster.measures;
    c.seconds = plus(c.seconds, seconds);
    c.cpu_capacity = plus(c.cpu_capacity, times(capacity.cpu, seconds));
    c.cpu_allocated = plus(c.cpu_allocated, times(cpuTotal, seconds));
    c.memory_capacity = plus(c.memory_capacity, times(capacity.memory, seconds));
    c.memory_allocated = plus(c.memory_allocated, times(memoryTotal, seconds));
    c.gpu_capacity = plus(c.gpu_capacity, times(capacity.gpus, seconds));
    c.gpu_allocated = plus(c.gpu_allocated, times(gpuTotal, seconds));
    c.cpu_idle_cost = plus(c.cpu_idle_cost, cost(minusOrZero(capacity.cpu, cpuTotal), rates.cpu));
    c.memory_idle_cost = plus(c.memory_idle_cost, cost(minusOrZero(capacity.memory, memoryTotal), rates.memory));
    c.gpu_idle_cost = plus(c.gpu_idle_cost, cost(minusOrZero(capacity.gpus, gpuTotal), rates.gpu));
  }

  private ratesOf(book: PriceBook, seconds: number): Rates {
    let bySeconds = this.rates.get(book);
    if (!bySeconds) this.rates.set(book, (bySeconds = new Map()));
    let rates = bySeconds.get(seconds);
    if (!rates) {
      rates = { cpu: rateOf(book.cpuCoreHour, seconds, 'cpu'), memory: rateOf(book.memoryGiBHour, seconds, 'memory'), gpu: rateOf(book.gpuHour, seconds, 'gpu') };
      bySeconds.set(seconds, rates);
    }
    return rates;
  }

  private hour(clusterId: string, hour: number, currency: string): HourSum {
    const id = `${clusterId}\u0000${hour}\u0000${currency}`;
    let sum = this.hours.get(id);
    if (!sum) this.hours.set(id, (sum = { cluster: { clusterId, hour, currency, measures: zeroCluster() }, workloads: new Map() }));
    return sum;
  }

  private workload(sum: HourSum, workspaceId: string, namespace: string, kind: string, name: string): WorkloadTotal {
    let namespaces = sum.workloads.get(name);
    if (!namespaces) sum.workloads.set(name, (namespaces = new Map()));
    let list = namespaces.get(namespace);
    if (!list) namespaces.set(namespace, (list = []));
    for (const total of list) if (total.workspaceId === workspaceId && total.kind === kind) return total;
    const { clusterId, hour, currency } = sum.cluster;
    const total: WorkloadTotal = { workspaceId, clusterId, namespace, kind, name, hour, currency, measures: zeroWorkload() };
    list.push(total);
    return total;
  }
}

/** What `units` cost at `rate`, rounded once. */
function cost(units: Amount, rate: Rate): Amount {
  return units === 0 ? 0 : roundedProduct(units, rate.multiplier, rate.divisor, rate.multiplierNumber, rate.divisorNumber);
}

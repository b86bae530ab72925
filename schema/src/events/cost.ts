import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { CpuMillicores, Id, KubernetesName, KubernetesSubdomain, MemoryBytes } from './primitives.js';

/**
 * Resource usage and the prices it is costed at, per cluster. Usage goes to
 * `usage-{clusterId}` (one event per cluster and sampling interval, high
 * volume, appended without expected revision); price books and the idle
 * sharing setting to `pricing-{clusterId}`. Neither prefix overlaps
 * `cluster-`, so a reader of cluster streams never wades through usage.
 */
export const USAGE_STREAM_PREFIX = 'usage-';
export const PRICING_STREAM_PREFIX = 'pricing-';
export const usageStream = (clusterId: string): string => `${USAGE_STREAM_PREFIX}${clusterId}`;
export const pricingStream = (clusterId: string): string => `${PRICING_STREAM_PREFIX}${clusterId}`;

/** A UTC instant in whole seconds, `2026-03-01T10:00:00Z`: what intervals and effective times are cut at. */
export const UtcSecond = z.iso.datetime({ precision: 0 });

/** A Kubernetes kind: `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `Pod` (a pod no controller owns), or a custom controller's kind. */
export const WorkloadKind = z.string().regex(/^[A-Z][A-Za-z0-9]{0,62}$/, 'must be a Kubernetes kind: a capital letter, then letters and digits, at most 63 characters');

/** Whole GPUs (devices are not shared in fractions by the scheduler). */
export const GpuCount = z.number().int().min(0).max(100_000);

/** The longest sampling interval one event may cover. */
export const MAX_USAGE_INTERVAL_SECONDS = 3600;
/** The most workload rows one event may carry (about 1 MiB of JSON, the log's largest append). */
export const MAX_USAGE_ROWS = 5000;

/**
 * One workload's usage over the interval, aggregated over its pods: CPU in
 * millicores and memory in bytes, each the time-weighted average over the
 * interval of what its pods used and requested.
 */
export const WorkloadUsage = z.object({
  /** The workspace the namespace belongs to; null for a namespace no workspace holds (system namespaces): allocated, so not idle, but charged to no one. */
  workspaceId: Id.nullable(),
  namespace: KubernetesName,
  kind: WorkloadKind,
  name: KubernetesSubdomain,
  pods: z.number().int().min(0).max(1_000_000),
  cpuUsage: CpuMillicores,
  cpuRequest: CpuMillicores,
  memoryUsage: MemoryBytes,
  memoryRequest: MemoryBytes,
  /** GPUs requested (allocated whole to the pods that request them). */
  gpus: GpuCount,
});
export type WorkloadUsage = z.infer<typeof WorkloadUsage>;

/** What the cluster's nodes offer over the interval (allocatable), for idle cost. */
export const ClusterCapacity = z.object({ cpu: CpuMillicores, memory: MemoryBytes, gpus: GpuCount });
export type ClusterCapacity = z.infer<typeof ClusterCapacity>;

const seconds = (instant: string): number => Date.parse(instant) / 1000;

/** The collector's sample of one cluster for the interval [start, end). */
export const UsageSampled = defineEvent({
  type: 'UsageSampled',
  payload: z
    .object({
      clusterId: Id,
      start: UtcSecond,
      end: UtcSecond,
      capacity: ClusterCapacity,
      rows: z.array(WorkloadUsage).max(MAX_USAGE_ROWS),
    })
    .superRefine((sample, context) => {
      const length = seconds(sample.end) - seconds(sample.start);
      if (!(length > 0 && length <= MAX_USAGE_INTERVAL_SECONDS)) {
        context.addIssue({ code: 'custom', path: ['end'], message: `must be after start, by at most ${MAX_USAGE_INTERVAL_SECONDS} seconds` });
      }
      const seen = new Set<string>();
      sample.rows.forEach((row, index) => {
        const key = `${row.workspaceId ?? ''}\u0000${row.namespace}\u0000${row.kind}\u0000${row.name}`;
        if (seen.has(key)) context.addIssue({ code: 'custom', path: ['rows', index], message: 'repeats the workspace, namespace, kind and name of an earlier row' });
        seen.add(key);
      });
    }),
});

/** The largest price accepted per unit-hour, in currency units. */
export const MAX_PRICE = 1_000_000;

/**
 * A price per unit-hour in currency units, as a decimal string with at most
 * nine decimals (`"0.031611"`): exact, where a JSON number would be a float.
 */
export const Price = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,6})(\.[0-9]{1,9})?$/, 'must be a decimal number of currency units, at most nine decimals, e.g. "0.031611"')
  .refine((price) => Number(price) <= MAX_PRICE, `must be at most ${MAX_PRICE}`);

/** An ISO 4217 currency code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code, e.g. USD');

/**
 * A cluster's price book from `effectiveFrom` on (until a later one takes
 * over). Setting one with the same `effectiveFrom` replaces it. Usage already
 * costed keeps the prices it was costed at.
 */
export const PriceBookSet = defineEvent({
  type: 'PriceBookSet',
  payload: z.object({
    clusterId: Id,
    effectiveFrom: UtcSecond,
    currency: Currency,
    cpuCoreHour: Price,
    memoryGiBHour: Price,
    /** Null: GPUs cost nothing on this cluster. */
    gpuHour: Price.nullable().default(null),
  }),
});

/**
 * Whether a cluster's idle cost (capacity no workload has allocated) is
 * shared out to the workloads in proportion to their allocation, from
 * `effectiveFrom` on. Not shared, it is reported per cluster only.
 */
export const IdleSharingSet = defineEvent({
  type: 'IdleSharingSet',
  payload: z.object({ clusterId: Id, effectiveFrom: UtcSecond, shared: z.boolean() }),
});

export const costEvents = [UsageSampled, PriceBookSet, IdleSharingSet] as const;

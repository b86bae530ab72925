import { Directive, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { QuotaSource } from './enums.js';
import { DecimalScalar } from './scalars.js';

/** The workspaces subgraph's entity, extended here with the workspace's cost; this subgraph knows only its id. */
@Directive('@key(fields: "id")')
@ObjectType('Workspace')
export class WorkspaceRef {
  @Field(() => ID) id!: string;
}

@ObjectType({ description: 'Costs in one currency, exact decimal strings with six decimals. `idle` is the shared idle cost charged; `total` = cpu + memory + gpu + idle.' })
export class CostAmounts {
  @Field() currency!: string;
  @Field(() => DecimalScalar) cpu!: string;
  @Field(() => DecimalScalar) memory!: string;
  @Field(() => DecimalScalar) gpu!: string;
  @Field(() => DecimalScalar) idle!: string;
  @Field(() => DecimalScalar) total!: string;
}

@ObjectType({ description: "A workspace's cost on one UTC day, in one currency." })
export class DailyCost extends CostAmounts {
  @Field({ description: '2026-03-01' }) day!: string;
}

@ObjectType({ description: 'A workload as usage names it: its cluster, namespace, Kubernetes kind and name.' })
export class CostWorkload {
  @Field(() => ID) clusterId!: string;
  @Field() namespace!: string;
  @Field() kind!: string;
  @Field() name!: string;
}

@ObjectType({ description: 'One group of a breakdown, in one currency: by cluster `clusterId` is set, by namespace `namespace`, by workload `workload`.' })
export class CostBreakdownRow extends CostAmounts {
  @Field(() => ID, { nullable: true }) clusterId!: string | null;
  @Field(() => String, { nullable: true }) namespace!: string | null;
  @Field(() => CostWorkload, { nullable: true }) workload!: CostWorkload | null;
}

@ObjectType({ description: 'A workload among the most expensive, ranked within its currency (1 is the most expensive).' })
export class RankedWorkloadCost extends CostAmounts {
  @Field(() => Int) rank!: number;
  @Field(() => CostWorkload) workload!: CostWorkload;
}

@ObjectType({ description: 'Average CPU and memory used and requested over one bucket, over the time each cluster was sampled in it.' })
export class UtilizationPoint {
  @Field({ description: 'The bucket\'s start: 2026-03-01T10:00:00Z by hour, 2026-03-01 by day.' }) start!: string;
  @Field(() => Float) cpuUsageMillicores!: number;
  @Field(() => Float) cpuRequestMillicores!: number;
  @Field(() => Float) memoryUsageBytes!: number;
  @Field(() => Float) memoryRequestBytes!: number;
}

@ObjectType({ description: "A cluster's capacity, allocation and idle cost over a period, in one currency. Averages are over the time it was sampled." })
export class ClusterIdleCost {
  @Field(() => ID) clusterId!: string;
  @Field() currency!: string;
  @Field(() => Float) cpuCapacityMillicores!: number;
  @Field(() => Float) cpuAllocatedMillicores!: number;
  @Field(() => Float) memoryCapacityBytes!: number;
  @Field(() => Float) memoryAllocatedBytes!: number;
  @Field(() => Float) gpuCapacity!: number;
  @Field(() => Float) gpuAllocated!: number;
  @Field(() => DecimalScalar) cpuIdle!: string;
  @Field(() => DecimalScalar) memoryIdle!: string;
  @Field(() => DecimalScalar) gpuIdle!: string;
  @Field(() => DecimalScalar, { description: 'cpuIdle + memoryIdle + gpuIdle.' }) idle!: string;
  @Field(() => DecimalScalar, { description: "The part of `idle` shared out to workloads (in their `idle` cost)." }) shared!: string;
  @Field(() => DecimalScalar, { description: 'The part of `idle` charged to no one.' }) unshared!: string;
}

@ObjectType({ description: "A cluster's prices from `effectiveFrom` on, per unit-hour." })
export class CostPriceBook {
  @Field(() => String, { description: '2026-03-01T00:00:00Z; null for the default price book.', nullable: true }) effectiveFrom!: string | null;
  @Field() currency!: string;
  @Field(() => DecimalScalar) cpuCoreHour!: string;
  @Field(() => DecimalScalar) memoryGiBHour!: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'Null: GPUs cost nothing.' }) gpuHour!: string | null;
}

@ObjectType()
export class IdleSharingSetting {
  @Field() effectiveFrom!: string;
  @Field() shared!: boolean;
}

@ObjectType({ description: "A cluster's price books and idle-sharing settings, oldest first. Before the first book the default price book applies; before the first setting idle cost is not shared." })
export class CostClusterPricing {
  @Field(() => ID) clusterId!: string;
  @Field(() => [CostPriceBook]) priceBooks!: CostPriceBook[];
  @Field(() => [IdleSharingSetting]) idleSharing!: IdleSharingSetting[];
}

@ObjectType({ description: 'What a price-book or idle-sharing mutation did, and the cluster\'s settings after it.' })
export class PricingChange {
  @Field(() => ID) clusterId!: string;
  @Field({ description: 'false: the same setting was there already; nothing was appended.' }) changed!: boolean;
  @Field(() => String, { nullable: true, description: 'The log position of the change (null when nothing changed); later reads by the caller reflect it.' }) position!: string | null;
  @Field(() => CostClusterPricing) pricing!: CostClusterPricing;
}

@ObjectType({ description: "What a namespace's workloads used and requested on a cluster over its latest sampled hour (averages over the time sampled in it)." })
export class NamespaceUsageSample {
  @Field({ description: 'The hour: 2026-03-01T10:00:00Z.' }) hour!: string;
  @Field(() => Int, { description: 'Seconds of the hour the cluster was sampled (less than 3600 for the current hour).' }) sampledSeconds!: number;
  @Field(() => Float) cpuUsageMillicores!: number;
  @Field(() => Float) cpuRequestMillicores!: number;
  @Field(() => Float) memoryUsageBytes!: number;
  @Field(() => Float) memoryRequestBytes!: number;
}

@ObjectType({ description: "A namespace's quota on one of the workspace's clusters beside its usage there." })
export class QuotaUsage {
  @Field() namespace!: string;
  @Field(() => ID) clusterId!: string;
  @Field() clusterName!: string;
  @Field(() => QuotaSource) source!: QuotaSource;
  @Field({ description: 'The CPU quota is unlimited (source is not NONE, and cpuLimitMillicores is null).' }) cpuUnlimited!: boolean;
  @Field(() => Float, { nullable: true, description: 'Null: unlimited, or no quota.' }) cpuLimitMillicores!: number | null;
  @Field() memoryUnlimited!: boolean;
  @Field(() => Float, { nullable: true, description: 'Null: unlimited, or no quota.' }) memoryLimitBytes!: number | null;
  @Field(() => NamespaceUsageSample, {
    nullable: true,
    description: "The latest sampled hour of the cluster; null when it was never sampled. A namespace that ran nothing then has zero usage.",
  })
  usage!: NamespaceUsageSample | null;
  @Field(() => Float, { nullable: true, description: 'CPU requested over the CPU quota (0.5: half of it); null without a limit or usage.' }) cpuRequestOfQuota!: number | null;
  @Field(() => Float, { nullable: true }) memoryRequestOfQuota!: number | null;
}

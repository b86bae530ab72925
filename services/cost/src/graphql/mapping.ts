import type { BreakdownRow, ClusterPricing, LatestNamespaceUsage } from '@canopy/cost';
import type { DesiredQuota } from '@canopy/workspace-read-models';
import { QuotaSource } from './enums.js';
import type { CostBreakdownRow, CostClusterPricing, QuotaUsage } from './types.js';

export function toBreakdownRow(row: BreakdownRow): CostBreakdownRow {
  const { clusterId, namespace, workload, ...amounts } = row;
  return { ...amounts, clusterId: clusterId ?? null, namespace: namespace ?? null, workload: workload ?? null };
}

export function toPricing(clusterId: string, pricing: ClusterPricing | undefined): CostClusterPricing {
  return { clusterId, priceBooks: pricing?.priceBooks ?? [], idleSharing: pricing?.idleSharing ?? [] };
}

const limit = (value: number | 'unlimited' | null): number | null => (typeof value === 'number' ? value : null);
const share = (request: number | undefined, max: number | null): number | null => (request === undefined || max === null || max === 0 ? null : request / max);

/**
 * Each namespace × cluster's quota beside its usage in the cluster's latest
 * sampled hour (`usage` holds what the namespace ran then; a cluster sampled
 * then without the namespace gives zero usage, a cluster never sampled null).
 */
export function toQuotaUsage(quotas: readonly DesiredQuota[], usage: LatestNamespaceUsage): QuotaUsage[] {
  const byKey = new Map(usage.namespaces.map((u) => [`${u.clusterId}\u0000${u.namespace}`, u]));
  const latestHour = new Map(usage.clusters.map((c) => [c.clusterId, c]));
  const nothing = { cpuUsageMillicores: 0, cpuRequestMillicores: 0, memoryUsageBytes: 0, memoryRequestBytes: 0 };
  return quotas.map((quota) => {
    const hour = latestHour.get(quota.clusterId);
    const sample = hour && { hour: hour.hour, sampledSeconds: hour.sampledSeconds, ...(byKey.get(`${quota.clusterId}\u0000${quota.namespace}`) ?? nothing) };
    const cpu = limit(quota.cpu);
    const memory = limit(quota.memory);
    return {
      namespace: quota.namespace,
      clusterId: quota.clusterId,
      clusterName: quota.clusterName,
      source: quota.source === null ? QuotaSource.NONE : quota.source === 'override' ? QuotaSource.OVERRIDE : QuotaSource.NAMESPACE,
      cpuUnlimited: quota.cpu === 'unlimited',
      cpuLimitMillicores: cpu,
      memoryUnlimited: quota.memory === 'unlimited',
      memoryLimitBytes: memory,
      usage: sample
        ? {
            hour: sample.hour,
            sampledSeconds: sample.sampledSeconds,
            cpuUsageMillicores: sample.cpuUsageMillicores,
            cpuRequestMillicores: sample.cpuRequestMillicores,
            memoryUsageBytes: sample.memoryUsageBytes,
            memoryRequestBytes: sample.memoryRequestBytes,
          }
        : null,
      cpuRequestOfQuota: share(sample?.cpuRequestMillicores, cpu),
      memoryRequestOfQuota: share(sample?.memoryRequestBytes, memory),
    };
  });
}

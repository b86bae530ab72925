import { CanopyError, ErrorCode, type CpuLimit, type MemoryLimit } from '@canopy/schema';
import { formatCpu, formatMemory } from './quantity.js';

export interface Limits {
  cpu: CpuLimit;
  memory: MemoryLimit;
}

/** A namespace's quota on every cluster, and its overrides per cluster id. */
export interface NamespaceQuota {
  default: Limits | undefined;
  overrides: ReadonlyMap<string, Limits>;
}

export const UNLIMITED: Limits = { cpu: 'unlimited', memory: 'unlimited' };

/** The quota that holds for a namespace on one cluster; undefined when none is set there. */
export function effectiveQuota(quota: NamespaceQuota | undefined, clusterId: string): Limits | undefined {
  return quota?.overrides.get(clusterId) ?? quota?.default;
}

function add<T extends number | 'unlimited'>(a: T, b: T): T {
  return (a === 'unlimited' || b === 'unlimited' ? 'unlimited' : (a as number) + (b as number)) as T;
}

/**
 * What the quotas add up to over namespaces × clusters. A namespace without
 * a quota on a cluster has no ResourceQuota there and adds nothing: the
 * budget bounds the quotas that are set.
 */
export function quotaTotal(namespaces: Iterable<string>, clusterIds: readonly string[], quotas: ReadonlyMap<string, NamespaceQuota>): Limits {
  let total: Limits = { cpu: 0, memory: 0 };
  for (const namespace of namespaces) {
    for (const clusterId of clusterIds) {
      const quota = effectiveQuota(quotas.get(namespace), clusterId);
      if (quota) total = { cpu: add(total.cpu, quota.cpu), memory: add(total.memory, quota.memory) };
    }
  }
  return total;
}

function exceeds(total: number | 'unlimited', budget: number | 'unlimited'): boolean {
  return budget !== 'unlimited' && (total === 'unlimited' || total > budget);
}

/** Throws QUOTA_EXCEEDS_BUDGET when the quotas' total is over the budget for CPU or memory. */
export function assertWithinBudget(total: Limits, budget: Limits): void {
  const over = [
    exceeds(total.cpu, budget.cpu) ? { resource: 'cpu', total: formatCpu(total.cpu), budget: formatCpu(budget.cpu) } : undefined,
    exceeds(total.memory, budget.memory) ? { resource: 'memory', total: formatMemory(total.memory), budget: formatMemory(budget.memory) } : undefined,
  ].find((entry) => entry !== undefined);
  if (over) {
    throw new CanopyError(
      ErrorCode.QUOTA_EXCEEDS_BUDGET,
      `The ${over.resource} quotas over namespaces × clusters would add up to ${over.total}, over the workspace budget of ${over.budget}.`,
      over,
    );
  }
}

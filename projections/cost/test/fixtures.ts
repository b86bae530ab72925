import type { WorkloadUsage } from '@canopy/schema';
import type { CostEvent, UsageSample } from '../src/index.js';

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

/** A workload row: workspace `ws-a`, namespace `shop`, Deployment `api`, nothing used or requested unless given. */
export function row(over: Partial<WorkloadUsage> = {}): WorkloadUsage {
  return { workspaceId: 'ws-a', namespace: 'shop', kind: 'Deployment', name: 'api', pods: 1, cpuUsage: 0, cpuRequest: 0, memoryUsage: 0, memoryRequest: 0, gpus: 0, ...over };
}

/** `2026-03-01T<time>Z`. */
export const at = (time: string, day = '2026-03-01'): string => `${day}T${time}Z`;

export function sample(start: string, end: string, rows: WorkloadUsage[], options: { clusterId?: string; capacity?: UsageSample['capacity'] } = {}): UsageSample {
  return { clusterId: options.clusterId ?? 'c1', start, end, capacity: options.capacity ?? { cpu: 0, memory: 0, gpus: 0 }, rows };
}

export const usage = (data: UsageSample): CostEvent => ({ type: 'UsageSampled', data });

export function priceBook(
  effectiveFrom: string,
  prices: { cpuCoreHour: string; memoryGiBHour: string; gpuHour?: string | null; currency?: string },
  clusterId = 'c1',
): Extract<CostEvent, { type: 'PriceBookSet' }> {
  return {
    type: 'PriceBookSet',
    data: { clusterId, effectiveFrom, currency: prices.currency ?? 'USD', cpuCoreHour: prices.cpuCoreHour, memoryGiBHour: prices.memoryGiBHour, gpuHour: prices.gpuHour ?? null },
  };
}

export function idleSharing(effectiveFrom: string, shared: boolean, clusterId = 'c1'): Extract<CostEvent, { type: 'IdleSharingSet' }> {
  return { type: 'IdleSharingSet', data: { clusterId, effectiveFrom, shared } };
}

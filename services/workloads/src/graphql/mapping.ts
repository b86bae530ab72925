import { CanopyError, ErrorCode } from '@canopy/schema';
import { workspaceNotFound } from '@canopy/workspaces';
import type { WorkloadRecord } from '../read-model/queries.js';
import type { WorkloadReads } from './context.js';
import { WorkloadKindValue, WorkloadStatusValue, type Workload } from './types.js';

/** Any role may read a workspace's workloads; no role: NOT_FOUND, as if it did not exist. */
export async function requireMember(reads: Pick<WorkloadReads, 'roleIn'>, workspaceId: string): Promise<void> {
  if ((await reads.roleIn(workspaceId)) === undefined) throw workspaceNotFound(workspaceId);
}

export function workloadId(record: Pick<WorkloadRecord, 'workspaceId' | 'clusterId' | 'namespace' | 'kind' | 'name'>): string {
  return Buffer.from(JSON.stringify(['w1', record.workspaceId, record.clusterId, record.namespace, record.kind, record.name])).toString('base64url');
}

export function toWorkload(record: WorkloadRecord): Workload {
  return {
    id: workloadId(record),
    workspaceId: record.workspaceId,
    clusterId: record.clusterId,
    cluster: { id: record.clusterId, workspaceId: record.workspaceId },
    namespace: record.namespace,
    kind: record.kind as WorkloadKindValue,
    name: record.name,
    status: record.status as WorkloadStatusValue,
    previousStatus: record.previousStatus as WorkloadStatusValue | null,
    replicas: record.replicas,
    reason: record.reason,
    message: record.message,
    observedAt: record.observedAt,
    since: record.since,
  };
}

export function badInput(field: string, message: string): CanopyError {
  return new CanopyError(ErrorCode.BAD_USER_INPUT, message, { field });
}

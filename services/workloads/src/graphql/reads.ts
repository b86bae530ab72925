import DataLoader from 'dataloader';
import type { ReadModelTx } from '@canopy/projections';
import type { WorkspaceRole } from '@canopy/schema';
import { workloadByKey, workloadsPage, workloadStatusCounts, type StatusCounts } from '../read-model/queries.js';
import type { WorkloadReads } from './context.js';

export interface WorkloadReadsOptions {
  db: ReadModelTx;
  /** The workloads read model's active schema (`runner.activeSchema('workloads')`, or `readActiveSchema`). */
  schema(): string;
  /** The caller's role, from the membership read model (the workspaces subgraph's reads). */
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
}

/** The workloads reads of one request: status counts of any number of workspaces in one statement (a DataLoader). */
export function workloadReads(options: WorkloadReadsOptions): WorkloadReads {
  const counts = new DataLoader<string, StatusCounts>(async (workspaceIds) => {
    const found = await workloadStatusCounts(options.db, options.schema(), workspaceIds);
    return workspaceIds.map((id) => found.get(id)!);
  });
  return {
    roleIn: (workspaceId) => options.roleIn(workspaceId),
    workloads: (query) => workloadsPage(options.db, options.schema(), query),
    workload: (workspaceId, ref) => workloadByKey(options.db, options.schema(), workspaceId, ref),
    statusCounts: (workspaceId) => counts.load(workspaceId),
  };
}

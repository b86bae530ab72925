import type { WorkspaceRole } from '@canopy/schema';
import type { EventFeed } from '@canopy/workspaces';
import type { StatusCounts, WorkloadPage, WorkloadRecord, WorkloadsQuery } from '../read-model/queries.js';
import type { WorkloadRef } from '../watch/changes.js';

/** What the workloads queries read, for one caller (made per request: implementations batch and cache its lookups). */
export interface WorkloadReads {
  /** The caller's effective role in the live workspace; undefined when none, or no such workspace. */
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
  workloads(query: WorkloadsQuery): Promise<WorkloadPage>;
  workload(workspaceId: string, ref: WorkloadRef): Promise<WorkloadRecord | undefined>;
  statusCounts(workspaceId: string): Promise<StatusCounts>;
}

/** What a subscription reads when it (re)checks the caller's access: fresh each call, no request cache. */
export interface LiveWorkloadReads {
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** The organization of the workspace (live or deleted): its stream says when the caller stops owning it. */
  organizationOf(workspaceId: string): Promise<string | undefined>;
}

/** What the workloads subgraph's resolvers get; the process serving GraphQL fills it. */
export interface WorkloadsContext {
  caller: { userId: string };
  reads: WorkloadReads;
  /** Subscriptions only (served over graphql-ws). */
  live?: {
    events: EventFeed;
    reads(): LiveWorkloadReads;
    /** Waits until the read models that `reads()` answers from (and those only) reflect the log up to `position` (false: not in time). Default: no wait. */
    waitFor?(position: bigint | undefined): Promise<boolean>;
  };
}

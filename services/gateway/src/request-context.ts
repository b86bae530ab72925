import type { BackupsContext } from '@canopy/backups';
import type { CostContext } from '@canopy/cost-api';
import type { WorkloadsContext } from '@canopy/workloads';
import type { WorkspacesContext } from '@canopy/workspaces';

/**
 * Who is asking, made once per request before anything runs: the caller
 * the token names, the correlation id (the client's `x-correlation-id` or
 * a generated one), the `canopy-read-after` position, and the
 * Authorization header itself, which remote subgraphs get to authenticate
 * the caller again.
 */
export interface CallerRequest {
  caller: { userId: string };
  correlationId: string;
  readAfter: bigint | undefined;
  authorization: string;
}

/**
 * The context of a GraphQL request. With the workspaces subgraph in this
 * process it is a full `WorkspacesContext` (the same object reaches the
 * subgraph's resolvers through the gateway's in-process data source);
 * when every subgraph is remote it is only the caller's request.
 */
export type RequestContext = CallerRequest & Partial<WorkspacesContext> & { backups?: BackupsContext; workloads?: WorkloadsContext; cost?: CostContext };

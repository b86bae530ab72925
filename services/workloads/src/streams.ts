/** One stream per workspace holds its workloads' status changes, so that one subscription follows one stream. */
export const WORKLOADS_PREFIX = 'workloads-';
export const workloadsStream = (workspaceId: string): string => `${WORKLOADS_PREFIX}${workspaceId}`;

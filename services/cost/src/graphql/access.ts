import type { WorkspaceRole } from '@canopy/schema';
import { workspaceNotFound } from '@canopy/workspaces';
import type { CostReads } from './context.js';

/** The caller's role in the workspace; NOT_FOUND when they hold none (every role may read the workspace's cost). */
export async function requireRole(reads: CostReads, workspaceId: string): Promise<WorkspaceRole> {
  const role = await reads.roleIn(workspaceId);
  if (!role) throw workspaceNotFound(workspaceId);
  return role;
}

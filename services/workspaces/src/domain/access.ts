import { CanopyError, ErrorCode, type WorkspaceRole } from '@canopy/schema';

/** What a role may do in a workspace (PRODUCT.md's role table). Every role can read. */
/**
 * `createResources`: clusters and namespaces. `governWorkspace`: budget,
 * quotas, role bindings and image restrictions, admin's because they
 * grant access or bound everyone's resources. `manageBackups`: backup
 * locations, schedules, backups and restores (a restore overwrites what runs).
 */
export type WorkspaceAction = 'read' | 'readHistory' | 'createResources' | 'governWorkspace' | 'manageSecrets' | 'manageMembers' | 'manageBackups' | 'renameWorkspace' | 'deleteWorkspace';

const RANK: Record<WorkspaceRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

const LEAST_ROLE: Record<WorkspaceAction, WorkspaceRole> = {
  read: 'viewer',
  /** The audit trail names every actor and change: admins' and owners' (and organization auditors'). */
  readHistory: 'admin',
  createResources: 'member',
  governWorkspace: 'admin',
  manageSecrets: 'admin',
  manageMembers: 'admin',
  manageBackups: 'admin',
  renameWorkspace: 'admin',
  deleteWorkspace: 'owner',
};

export function atLeast(role: WorkspaceRole, least: WorkspaceRole): boolean {
  return RANK[role] >= RANK[least];
}

export function can(role: WorkspaceRole | undefined, action: WorkspaceAction): boolean {
  return role !== undefined && atLeast(role, LEAST_ROLE[action]);
}

/** Who is acting, and their effective role in the workspace at hand (undefined: none). */
export interface Actor {
  userId: string;
  role: WorkspaceRole | undefined;
}

/**
 * Throws unless the actor may do `action`. A caller with no role at all is
 * told the workspace does not exist, so workspaces never leak across teams.
 */
export function authorize(actor: Actor, action: WorkspaceAction, workspaceId: string): void {
  if (actor.role === undefined) throw workspaceNotFound(workspaceId);
  if (!can(actor.role, action)) {
    throw new CanopyError(ErrorCode.FORBIDDEN, `Your role ${actor.role} in this workspace does not allow ${action}; ask an ${LEAST_ROLE[action]} or owner.`, {
      action,
      role: actor.role,
      required: LEAST_ROLE[action],
    });
  }
}

export function workspaceNotFound(workspaceId: string): CanopyError {
  return new CanopyError(ErrorCode.NOT_FOUND, `Workspace ${workspaceId} does not exist or you have no role in it.`, { workspaceId });
}

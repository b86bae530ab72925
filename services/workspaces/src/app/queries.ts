import { CanopyError, ErrorCode, type WorkspaceRole } from '@canopy/schema';
import { workspaceNotFound } from '../domain/access.js';
import type { OrganizationState } from '../domain/organization.js';
import { effectiveRole, type Directory, type WorkspaceView } from './directory.js';

/**
 * The read side's rules: a caller sees the workspaces they have a role in
 * (an organization owner sees all of that organization's), and the
 * organizations they own or hold a role in. Everything else does not exist
 * for them.
 */
export class WorkspaceQueries {
  constructor(private readonly directory: Directory) {}

  workspace(workspaceId: string, userId: string): WorkspaceView & { role: WorkspaceRole } {
    const view = this.directory.workspace(workspaceId);
    const role = view && effectiveRole(view, userId);
    if (!view || !role) throw workspaceNotFound(workspaceId);
    return { ...view, role };
  }

  /** The caller's workspaces, in an organization or in all of them, by organization then name. */
  workspaces(userId: string, organizationId?: string): (WorkspaceView & { role: WorkspaceRole })[] {
    const organizations = organizationId === undefined ? [...this.directory.allOrganizations()] : [this.directory.organization(organizationId)];
    const visible: (WorkspaceView & { role: WorkspaceRole })[] = [];
    for (const organization of organizations) {
      for (const workspaceId of organization?.state.workspaces.keys() ?? []) {
        const view = this.directory.workspace(workspaceId);
        const role = view && effectiveRole(view, userId);
        if (view && role) visible.push({ ...view, role });
      }
    }
    return visible.sort((a, b) => a.organizationId.localeCompare(b.organizationId) || a.name.localeCompare(b.name));
  }

  organization(organizationId: string, userId: string): OrganizationState & { version: number } {
    const folded = this.directory.organization(organizationId);
    if (!folded || !this.belongsTo(folded.state, userId)) {
      throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist or you have no role in it.`, { organizationId });
    }
    return { ...folded.state, version: folded.revision === undefined ? 0 : Number(folded.revision) + 1 };
  }

  organizations(userId: string): (OrganizationState & { version: number })[] {
    return [...this.directory.allOrganizations()]
      .filter((folded) => this.belongsTo(folded.state, userId))
      .map((folded) => ({ ...folded.state, version: folded.revision === undefined ? 0 : Number(folded.revision) + 1 }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private belongsTo(organization: OrganizationState, userId: string): boolean {
    if (organization.owners.has(userId)) return true;
    for (const workspaceId of organization.workspaces.keys()) {
      const view = this.directory.workspace(workspaceId);
      if (view && effectiveRole(view, userId)) return true;
    }
    return false;
  }
}

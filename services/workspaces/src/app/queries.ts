import { CanopyError, ErrorCode, type WorkspaceRole } from '@canopy/schema';
import { workspaceNotFound } from '../domain/access.js';
import type { OrganizationState } from '../domain/organization.js';
import { effectiveRole, type Directory, type WorkspaceView } from './directory.js';
import { versionOf } from './streams.js';

/**
 * The read side's rules: a caller sees the workspaces they have a role in
 * (an organization owner sees all of that organization's), and the
 * organizations they own or hold a role in. Everything else does not exist
 * for them.
 */
export class WorkspaceQueries {
  constructor(private readonly directory: Directory) {}

  workspace(workspaceId: string, userId: string): WorkspaceView & { role: WorkspaceRole } {
    const found = this.findWorkspace(workspaceId, userId);
    if (!found) throw workspaceNotFound(workspaceId);
    return found;
  }

  /** The workspace if the caller holds a role in it (after leaving it, they do not). */
  findWorkspace(workspaceId: string, userId: string): (WorkspaceView & { role: WorkspaceRole }) | undefined {
    const view = this.directory.workspace(workspaceId);
    const role = view && effectiveRole(view, userId);
    return view && role ? { ...view, role } : undefined;
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
    const found = this.findOrganization(organizationId, userId);
    if (!found) throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist or you have no role in it.`, { organizationId });
    return found;
  }

  /** The organization if the caller owns it or holds a role in one of its workspaces. */
  findOrganization(organizationId: string, userId: string): (OrganizationState & { version: number }) | undefined {
    const folded = this.directory.organization(organizationId);
    return folded && this.belongsTo(folded.state, userId) ? { ...folded.state, version: versionOf(folded.revision) } : undefined;
  }

  organizations(userId: string): (OrganizationState & { version: number })[] {
    return [...this.directory.allOrganizations()]
      .filter((folded) => this.belongsTo(folded.state, userId))
      .map((folded) => ({ ...folded.state, version: versionOf(folded.revision) }))
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

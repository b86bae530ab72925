import type { Projector } from '@canopy/projections';
import { auditProjector } from './audit.js';
import { membershipProjector } from './membership.js';
import { quotasProjector } from './quotas.js';
import { workspaceSummaryProjector } from './workspace-summary.js';

export { auditEntries, auditProjector, type AuditEntry, type AuditPage, type AuditQuery } from './audit.js';
export { decode, workspaceStreams, type DecodedEvent } from './events.js';
export { auditedOrganizationIds, isAuditor } from './organizations.js';
export {
  effectiveRoles,
  membersOf,
  membershipProjector,
  organizationIdsOf,
  organizationsOfWorkspaces,
  workspacesOf,
  type MembershipWorkspace,
  type WorkspaceMember,
} from './membership.js';
export { desiredQuotas, quotaSettings, quotasProjector, workspaceBudget, type DesiredQuota, type QuotaSetting, type QuotaSettings } from './quotas.js';
export {
  organizationsById,
  summaries,
  workspaceDetails,
  workspaceSummaryProjector,
  type OrganizationSummary,
  type WorkspaceDetails,
  type WorkspaceSecret,
  type WorkspaceSummary,
} from './workspace-summary.js';
export { workspaceReads, type ReadModelSource } from './reader.js';

/** The read models of organizations and workspaces, for a `ProjectionRunner`. */
export const workspaceProjectors: readonly Projector[] = [membershipProjector, quotasProjector, workspaceSummaryProjector, auditProjector];

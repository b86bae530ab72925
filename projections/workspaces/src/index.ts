import type { Projector } from '@canopy/projections';
import { membershipProjector } from './membership.js';
import { quotasProjector } from './quotas.js';
import { workspaceSummaryProjector } from './workspace-summary.js';

export { decode, workspaceStreams, type DecodedEvent } from './events.js';
export { effectiveRoles, membershipProjector, workspacesOf, type MembershipWorkspace } from './membership.js';
export { desiredQuotas, quotasProjector, workspaceBudget, type DesiredQuota } from './quotas.js';
export { summaries, workspaceSummaryProjector, type WorkspaceSummary } from './workspace-summary.js';

/** The three read models of organizations and workspaces, for a `ProjectionRunner`. */
export const workspaceProjectors: readonly Projector[] = [membershipProjector, quotasProjector, workspaceSummaryProjector];

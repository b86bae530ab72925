import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { governanceEvents } from './governance.js';
import { Description, Id, UserId, WorkspaceRole } from './primitives.js';

/** The workspace stream (`workspace-{id}`): its description, members and governance (governance.ts). */
export const WorkspaceDescribed = defineEvent({
  type: 'WorkspaceDescribed',
  payload: z.object({ workspaceId: Id, description: Description }),
});

export const MemberAdded = defineEvent({
  type: 'MemberAdded',
  payload: z.object({ workspaceId: Id, userId: UserId, role: WorkspaceRole }),
});

export const MemberRoleChanged = defineEvent({
  type: 'MemberRoleChanged',
  payload: z.object({ workspaceId: Id, userId: UserId, role: WorkspaceRole, previousRole: WorkspaceRole }),
});

export const MemberRemoved = defineEvent({
  type: 'MemberRemoved',
  payload: z.object({ workspaceId: Id, userId: UserId, previousRole: WorkspaceRole }),
});

/**
 * The first step of deleting a workspace: from here on nothing changes it.
 * `WorkspaceDeleted` on the organization stream follows and frees its name.
 */
export const WorkspaceClosed = defineEvent({
  type: 'WorkspaceClosed',
  payload: z.object({ workspaceId: Id, organizationId: Id }),
});

export const workspaceEvents = [WorkspaceDescribed, MemberAdded, MemberRoleChanged, MemberRemoved, WorkspaceClosed, ...governanceEvents] as const;

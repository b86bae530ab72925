import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { Description, Id, UserId, WorkspaceRole } from './primitives.js';

/** The workspace stream (`workspace-{id}`): its description, members and (next) governance. */
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

export const workspaceEvents = [WorkspaceDescribed, MemberAdded, MemberRoleChanged, MemberRemoved] as const;

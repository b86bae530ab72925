import { CanopyError, Description, ErrorCode, UserId, WorkspaceRole, type EventOf, type workspaceEvents } from '@canopy/schema';
import { authorize, type Actor } from './access.js';
import { parseField } from './input.js';

/** The workspace stream's events, as its decider emits and folds them. */
export type WorkspaceEvent = EventOf<(typeof workspaceEvents)[number]>;

export interface WorkspaceState {
  description: string;
  /** Explicit members; organization owners own the workspace on top of these. */
  members: ReadonlyMap<string, WorkspaceRole>;
}

export const initialWorkspaceState: WorkspaceState = { description: '', members: new Map() };

export type WorkspaceCommand =
  | { type: 'DescribeWorkspace'; description: string }
  | { type: 'AddMember'; userId: string; role: WorkspaceRole }
  | { type: 'ChangeMemberRole'; userId: string; role: WorkspaceRole }
  | { type: 'RemoveMember'; userId: string };

/**
 * Decides a command on one workspace. `actor.role` is the actor's effective
 * role there. Rules: admins manage members, but only owners grant, change
 * or take away the owner role; the last explicit owner can be neither
 * removed nor demoted; anyone may leave a workspace they are a member of.
 */
export function decideWorkspace(workspaceId: string, command: WorkspaceCommand, state: WorkspaceState, actor: Actor): WorkspaceEvent[] {
  switch (command.type) {
    case 'DescribeWorkspace': {
      authorize(actor, 'renameWorkspace', workspaceId);
      const description = parseField('description', Description, command.description);
      if (description === state.description) return [];
      return [{ type: 'WorkspaceDescribed', data: { workspaceId, description } }];
    }

    case 'AddMember': {
      authorize(actor, 'manageMembers', workspaceId);
      const userId = parseField('userId', UserId, command.userId);
      const role = parseField('role', WorkspaceRole, command.role);
      if (role === 'owner') requireOwner(actor);
      if (state.members.has(userId)) {
        throw new CanopyError(ErrorCode.CONFLICT, `${userId} is already a member (${state.members.get(userId)}); change their role instead.`, { field: 'userId', userId });
      }
      return [{ type: 'MemberAdded', data: { workspaceId, userId, role } }];
    }

    case 'ChangeMemberRole': {
      authorize(actor, 'manageMembers', workspaceId);
      const role = parseField('role', WorkspaceRole, command.role);
      const previousRole = memberRole(state, command.userId);
      if (role === previousRole) return [];
      if (role === 'owner' || previousRole === 'owner') requireOwner(actor);
      if (previousRole === 'owner') assertNotLastOwner(state, command.userId);
      return [{ type: 'MemberRoleChanged', data: { workspaceId, userId: command.userId, role, previousRole } }];
    }

    case 'RemoveMember': {
      const leaving = command.userId === actor.userId;
      authorize(actor, leaving ? 'read' : 'manageMembers', workspaceId);
      const previousRole = memberRole(state, command.userId);
      if (previousRole === 'owner') {
        if (!leaving) requireOwner(actor);
        assertNotLastOwner(state, command.userId);
      }
      return [{ type: 'MemberRemoved', data: { workspaceId, userId: command.userId, previousRole } }];
    }
  }
}

function memberRole(state: WorkspaceState, userId: string): WorkspaceRole {
  const role = state.members.get(userId);
  if (!role) throw new CanopyError(ErrorCode.NOT_FOUND, `${userId} is not a member of this workspace.`, { field: 'userId', userId });
  return role;
}

function requireOwner(actor: Actor): void {
  if (actor.role !== 'owner') {
    throw new CanopyError(ErrorCode.FORBIDDEN, 'Only an owner can grant, change or take away the owner role.', { role: actor.role, required: 'owner' });
  }
}

function assertNotLastOwner(state: WorkspaceState, userId: string): void {
  const owners = [...state.members.values()].filter((role) => role === 'owner').length;
  if (owners <= 1) {
    throw new CanopyError(ErrorCode.LAST_OWNER, `${userId} is the last owner of this workspace; make someone else owner first.`, { field: 'userId', userId });
  }
}

export function evolveWorkspace(state: WorkspaceState, event: WorkspaceEvent): WorkspaceState {
  switch (event.type) {
    case 'WorkspaceDescribed':
      return { ...state, description: event.data.description };
    case 'MemberAdded':
    case 'MemberRoleChanged':
      return { ...state, members: new Map([...state.members, [event.data.userId, event.data.role]]) };
    case 'MemberRemoved': {
      const members = new Map(state.members);
      members.delete(event.data.userId);
      return { ...state, members };
    }
  }
}

import type { WorkspaceRole } from '@canopy/schema';
import { decideWorkspace, evolveWorkspace, initialWorkspaceState, type Actor, type WorkspaceCommand, type WorkspaceEvent } from '../src/index.js';
import { decider } from './decider.js';

/** The workspace the workspace-stream decider tests run on. */
export const W = 'ws-web';

export const as = (userId: string, role: WorkspaceRole | undefined): Actor => ({ userId, role });

/** Given events, when a command from `actor`, then events or an error: the workspace decider. */
export const given = (actor: Actor) =>
  decider<typeof initialWorkspaceState, WorkspaceCommand, WorkspaceEvent>(
    (command, state) => decideWorkspace(W, command, state, actor),
    evolveWorkspace,
    initialWorkspaceState,
  );

export const added = (userId: string, role: WorkspaceRole): WorkspaceEvent => ({ type: 'MemberAdded', data: { workspaceId: W, userId, role } });

/** ada owns the workspace; bob is an admin, carol a member, dan a viewer. */
export const team = [added('ada', 'owner'), added('bob', 'admin'), added('carol', 'member'), added('dan', 'viewer')];
export const actors = { owner: as('ada', 'owner'), admin: as('bob', 'admin'), member: as('carol', 'member'), viewer: as('dan', 'viewer') };

import {
  CanopyError,
  Description,
  ErrorCode,
  KubernetesName,
  Stage,
  UserId,
  type EventOf,
  type OrganizationKind,
  type organizationEvents,
  type WorkspaceKind,
} from '@canopy/schema';
import { z } from 'zod';
import { authorize, workspaceNotFound, type Actor } from './access.js';
import { parseField } from './input.js';

/** The organization stream's events, as its decider emits and folds them. */
export type OrganizationEvent = EventOf<(typeof organizationEvents)[number]>;

export interface WorkspaceEntry {
  name: string;
  kind: WorkspaceKind;
  stage: string | null;
  /** How often it was renamed: renames count into the workspace's version, though they live on this stream. */
  renames: number;
}

export interface OrganizationState {
  organizationId: string | undefined;
  name: string;
  kind: OrganizationKind | undefined;
  owners: ReadonlySet<string>;
  /** Who may read every workspace's history (deleted ones too) and change nothing; auditing grants no workspace role. */
  auditors: ReadonlySet<string>;
  /** Live workspaces by id; deleted ones are gone, and their names free. */
  workspaces: ReadonlyMap<string, WorkspaceEntry>;
}

export const initialOrganizationState: OrganizationState = { organizationId: undefined, name: '', kind: undefined, owners: new Set(), auditors: new Set(), workspaces: new Map() };

export type OrganizationCommand =
  | { type: 'CreateOrganization'; organizationId: string; name: string; kind: OrganizationKind; defaultWorkspaceId: string }
  | { type: 'AddOrganizationOwner'; userId: string }
  | { type: 'RemoveOrganizationOwner'; userId: string }
  | { type: 'AddOrganizationAuditor'; userId: string }
  | { type: 'RemoveOrganizationAuditor'; userId: string }
  | { type: 'CreateWorkspace'; workspaceId: string; name: string; kind: 'project' | 'environment'; stage?: string | null; description?: string }
  | { type: 'RenameWorkspace'; workspaceId: string; name: string }
  /** `clusterCount` comes from the workspace stream: a workspace holding clusters cannot be deleted. */
  | { type: 'DeleteWorkspace'; workspaceId: string; clusterCount: number };

/** The default workspace's name: "personal" in a personal organization, "default" in a team one (Kubernetes names are lower-case). */
export function defaultWorkspaceName(kind: OrganizationKind): string {
  return kind === 'personal' ? 'personal' : 'default';
}

const OrganizationName = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

/**
 * For RenameWorkspace and DeleteWorkspace, `actor.role` is the actor's
 * effective role in that workspace (an organization owner owns every one).
 */
export function decideOrganization(command: OrganizationCommand, state: OrganizationState, actor: Actor): OrganizationEvent[] {
  if (command.type === 'CreateOrganization') {
    if (state.organizationId !== undefined) {
      throw new CanopyError(ErrorCode.CONFLICT, `Organization ${state.organizationId} already exists.`, { organizationId: state.organizationId });
    }
    const name = parseField('name', OrganizationName, command.name);
    return [
      {
        type: 'OrganizationCreated',
        data: {
          organizationId: command.organizationId,
          name,
          kind: command.kind,
          ownerId: actor.userId,
          defaultWorkspace: { workspaceId: command.defaultWorkspaceId, name: defaultWorkspaceName(command.kind) },
        },
      },
    ];
  }

  const organizationId = state.organizationId;
  if (organizationId === undefined) throw new CanopyError(ErrorCode.NOT_FOUND, 'This organization does not exist.', {});
  const isOwner = state.owners.has(actor.userId);
  const requireOwner = () => {
    if (!isOwner) throw new CanopyError(ErrorCode.FORBIDDEN, 'Only an owner of the organization can do this.', { organizationId });
  };

  switch (command.type) {
    case 'AddOrganizationOwner':
      requireOwner();
      if (state.owners.has(command.userId)) return [];
      return [{ type: 'OrganizationOwnerAdded', data: { organizationId, userId: command.userId } }];

    case 'RemoveOrganizationOwner':
      requireOwner();
      if (!state.owners.has(command.userId)) return [];
      if (state.owners.size === 1) {
        throw new CanopyError(ErrorCode.LAST_OWNER, `${command.userId} is the last owner of the organization; add another owner first.`, { userId: command.userId });
      }
      return [{ type: 'OrganizationOwnerRemoved', data: { organizationId, userId: command.userId } }];

    case 'AddOrganizationAuditor': {
      requireOwner();
      const userId = parseField('userId', UserId, command.userId);
      if (state.auditors.has(userId)) return [];
      return [{ type: 'OrganizationAuditorAdded', data: { organizationId, userId } }];
    }

    case 'RemoveOrganizationAuditor':
      requireOwner();
      if (!state.auditors.has(command.userId)) return [];
      return [{ type: 'OrganizationAuditorRemoved', data: { organizationId, userId: command.userId } }];

    case 'CreateWorkspace': {
      requireOwner();
      const name = parseField('name', KubernetesName, command.name);
      const description = parseField('description', Description, command.description ?? '');
      const stage = command.kind === 'environment' ? parseField('stage', Stage, command.stage) : null;
      if (command.kind === 'project' && command.stage) {
        throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'stage is for environment workspaces only.', { field: 'stage' });
      }
      assertNameFree(state, name);
      if (state.workspaces.has(command.workspaceId)) {
        throw new CanopyError(ErrorCode.CONFLICT, `Workspace ${command.workspaceId} already exists.`, { workspaceId: command.workspaceId });
      }
      return [
        { type: 'WorkspaceCreated', data: { organizationId, workspaceId: command.workspaceId, name, kind: command.kind, stage, description, createdBy: actor.userId } },
      ];
    }

    case 'RenameWorkspace': {
      const workspace = liveWorkspace(state, command.workspaceId);
      authorize(actor, 'renameWorkspace', command.workspaceId);
      if (workspace.kind === 'default' && state.kind === 'personal') {
        throw new CanopyError(ErrorCode.PROTECTED_WORKSPACE, 'The default workspace of a personal organization cannot be renamed.', { workspaceId: command.workspaceId });
      }
      const name = parseField('name', KubernetesName, command.name);
      if (name === workspace.name) return [];
      assertNameFree(state, name);
      return [{ type: 'WorkspaceRenamed', data: { organizationId, workspaceId: command.workspaceId, name, previousName: workspace.name } }];
    }

    case 'DeleteWorkspace': {
      const workspace = liveWorkspace(state, command.workspaceId);
      authorize(actor, 'deleteWorkspace', command.workspaceId);
      if (workspace.kind === 'default') {
        throw new CanopyError(ErrorCode.PROTECTED_WORKSPACE, 'The default workspace cannot be deleted.', { workspaceId: command.workspaceId });
      }
      if (command.clusterCount > 0) {
        throw new CanopyError(
          ErrorCode.WORKSPACE_NOT_EMPTY,
          `The workspace still has ${command.clusterCount} cluster(s); detach them before deleting it.`,
          { workspaceId: command.workspaceId, clusters: command.clusterCount },
        );
      }
      return [{ type: 'WorkspaceDeleted', data: { organizationId, workspaceId: command.workspaceId, name: workspace.name } }];
    }
  }
}

function liveWorkspace(state: OrganizationState, workspaceId: string): WorkspaceEntry {
  const workspace = state.workspaces.get(workspaceId);
  if (!workspace) throw workspaceNotFound(workspaceId);
  return workspace;
}

function assertNameFree(state: OrganizationState, name: string): void {
  for (const [workspaceId, workspace] of state.workspaces) {
    if (workspace.name === name) {
      throw new CanopyError(ErrorCode.NAME_TAKEN, `The organization already has a workspace named ${name}.`, { field: 'name', workspaceId });
    }
  }
}

export function evolveOrganization(state: OrganizationState, event: OrganizationEvent): OrganizationState {
  switch (event.type) {
    case 'OrganizationCreated': {
      const { workspaceId, name } = event.data.defaultWorkspace;
      return {
        organizationId: event.data.organizationId,
        name: event.data.name,
        kind: event.data.kind,
        owners: new Set([event.data.ownerId]),
        auditors: new Set(),
        workspaces: new Map([[workspaceId, { name, kind: 'default', stage: null, renames: 0 }]]),
      };
    }
    case 'OrganizationOwnerAdded':
      return { ...state, owners: new Set([...state.owners, event.data.userId]) };
    case 'OrganizationOwnerRemoved':
      return { ...state, owners: new Set([...state.owners].filter((owner) => owner !== event.data.userId)) };
    case 'OrganizationAuditorAdded':
      return { ...state, auditors: new Set([...state.auditors, event.data.userId]) };
    case 'OrganizationAuditorRemoved':
      return { ...state, auditors: new Set([...state.auditors].filter((auditor) => auditor !== event.data.userId)) };
    case 'WorkspaceCreated':
      return { ...state, workspaces: new Map([...state.workspaces, [event.data.workspaceId, { name: event.data.name, kind: event.data.kind, stage: event.data.stage, renames: 0 }]]) };
    case 'WorkspaceRenamed': {
      const workspaces = new Map(state.workspaces);
      const entry = workspaces.get(event.data.workspaceId)!;
      workspaces.set(event.data.workspaceId, { ...entry, name: event.data.name, renames: entry.renames + 1 });
      return { ...state, workspaces };
    }
    case 'WorkspaceDeleted': {
      const workspaces = new Map(state.workspaces);
      workspaces.delete(event.data.workspaceId);
      return { ...state, workspaces };
    }
  }
}

import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { Description, Id, KubernetesName, OrganizationKind, Stage, UserId, WorkspaceKind } from './primitives.js';

/**
 * The organization stream (`organization-{id}`) is the registry of its
 * workspaces: creating, renaming and deleting a workspace happen here, so a
 * name is unique in its organization by optimistic concurrency on one stream.
 */
export const OrganizationCreated = defineEvent({
  type: 'OrganizationCreated',
  payload: z.object({
    organizationId: Id,
    name: z.string().min(1).max(256),
    kind: OrganizationKind,
    ownerId: UserId,
    defaultWorkspace: z.object({ workspaceId: Id, name: KubernetesName }),
  }),
});

export const OrganizationOwnerAdded = defineEvent({
  type: 'OrganizationOwnerAdded',
  payload: z.object({ organizationId: Id, userId: UserId }),
});

export const OrganizationOwnerRemoved = defineEvent({
  type: 'OrganizationOwnerRemoved',
  payload: z.object({ organizationId: Id, userId: UserId }),
});

/**
 * Auditors read every workspace's history in the organization, deleted
 * workspaces included, and change nothing: auditing grants no workspace role.
 */
export const OrganizationAuditorAdded = defineEvent({
  type: 'OrganizationAuditorAdded',
  payload: z.object({ organizationId: Id, userId: UserId }),
});

export const OrganizationAuditorRemoved = defineEvent({
  type: 'OrganizationAuditorRemoved',
  payload: z.object({ organizationId: Id, userId: UserId }),
});

export const WorkspaceCreated = defineEvent({
  type: 'WorkspaceCreated',
  payload: z.object({
    organizationId: Id,
    workspaceId: Id,
    name: KubernetesName,
    kind: WorkspaceKind.exclude(['default']),
    stage: Stage.nullable(),
    description: Description,
    createdBy: UserId,
  }),
});

export const WorkspaceRenamed = defineEvent({
  type: 'WorkspaceRenamed',
  payload: z.object({ organizationId: Id, workspaceId: Id, name: KubernetesName, previousName: KubernetesName }),
});

export const WorkspaceDeleted = defineEvent({
  type: 'WorkspaceDeleted',
  payload: z.object({ organizationId: Id, workspaceId: Id, name: KubernetesName }),
});

export const organizationEvents = [
  OrganizationCreated,
  OrganizationOwnerAdded,
  OrganizationOwnerRemoved,
  OrganizationAuditorAdded,
  OrganizationAuditorRemoved,
  WorkspaceCreated,
  WorkspaceRenamed,
  WorkspaceDeleted,
] as const;

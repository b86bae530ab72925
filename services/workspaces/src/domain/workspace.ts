import {
  CanopyError,
  ClusterConnection,
  Description,
  ErrorCode,
  ImagePattern,
  KubernetesName,
  KubernetesSubdomain,
  RbacRoleName,
  SecretKeyName,
  Subject,
  UserId,
  WorkspaceRole,
} from '@canopy/schema';
import { z } from 'zod';
import { authorize, workspaceNotFound, type Actor } from './access.js';
import { parseField } from './input.js';
import { parseSelectors } from './namespace-selector.js';
import { CpuQuantity, MemoryQuantity } from './quantity.js';
import { assertWithinBudget, quotaTotal, type Limits, type NamespaceQuota } from './quotas.js';
import type { SealedValue, WorkspaceEvent, WorkspaceState } from './workspace-state.js';

export type WorkspaceCommand =
  | { type: 'DescribeWorkspace'; description: string }
  | { type: 'AddMember'; userId: string; role: WorkspaceRole }
  | { type: 'ChangeMemberRole'; userId: string; role: WorkspaceRole }
  | { type: 'RemoveMember'; userId: string }
  /** The workspace stream's part of deleting a workspace; the organization's part follows. */
  | { type: 'CloseWorkspace'; organizationId: string }
  | { type: 'AttachCluster'; clusterId: string; name: string; connection: unknown }
  | { type: 'DetachCluster'; clusterId: string }
  | { type: 'AddNamespace'; namespace: string }
  | { type: 'RemoveNamespace'; namespace: string }
  /** Quantities as users write them: "500m", "2", "4Gi", "unlimited". */
  | { type: 'SetWorkspaceBudget'; cpu: string; memory: string }
  | { type: 'SetNamespaceQuota'; namespace: string; clusterId: string | null; cpu: string; memory: string }
  | { type: 'RemoveNamespaceQuota'; namespace: string; clusterId: string | null }
  | { type: 'AddRoleBinding'; name: string; namespaces: readonly string[]; role: { kind: string; name: string }; subjects: readonly unknown[] }
  | { type: 'RemoveRoleBinding'; name: string }
  | { type: 'AddClusterRoleBinding'; name: string; clusterRole: string; subjects: readonly unknown[] }
  | { type: 'RemoveClusterRoleBinding'; name: string }
  | { type: 'RestrictImage'; namespace: string; image: string }
  | { type: 'LiftImageRestriction'; namespace: string; image: string }
  /** Values are sealed by the command handler before deciding; `version` is the one they were sealed for. */
  | { type: 'WriteSecret'; name: string; version: number; values: Readonly<Record<string, SealedValue>> }
  | { type: 'DeleteSecret'; name: string };

const Subjects = z
  .array(Subject)
  .min(1, 'must name at least one subject')
  .max(100, 'must name at most 100 subjects')
  .superRefine((subjects, ctx) => {
    subjects.forEach((subject, index) => {
      if ((subject.kind === 'ServiceAccount') !== (subject.namespace !== null)) {
        ctx.addIssue({ code: 'custom', path: [index, 'namespace'], message: 'is required for a ServiceAccount and must be null for users and groups' });
      }
    });
  });

const Selectors = z.array(z.string().max(256, 'must be at most 256 characters')).min(1, 'must select at least one namespace').max(50, 'must have at most 50 entries');
const RoleKind = z.enum(['Role', 'ClusterRole']);

/**
 * Decides a command on one workspace. `actor.role` is the actor's effective
 * role there. Member rules: admins manage members, but only owners grant,
 * change or take away the owner role; the last explicit owner can be neither
 * removed nor demoted; anyone may leave. Governance rules: see README.
 */
export function decideWorkspace(workspaceId: string, command: WorkspaceCommand, state: WorkspaceState, actor: Actor): WorkspaceEvent[] {
  if (state.closed) throw workspaceNotFound(workspaceId);
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

    case 'CloseWorkspace': {
      authorize(actor, 'deleteWorkspace', workspaceId);
      if (state.clusters.size > 0) {
        throw new CanopyError(ErrorCode.WORKSPACE_NOT_EMPTY, `The workspace still has ${state.clusters.size} cluster(s); detach them before deleting it.`, {
          workspaceId,
          clusters: state.clusters.size,
        });
      }
      return [{ type: 'WorkspaceClosed', data: { workspaceId, organizationId: command.organizationId } }];
    }

    case 'AttachCluster': {
      authorize(actor, 'createResources', workspaceId);
      const name = parseField('name', KubernetesName, command.name);
      const connection = parseField('connection', ClusterConnection, command.connection);
      if (state.clusters.has(command.clusterId)) {
        throw new CanopyError(ErrorCode.CONFLICT, `Cluster id ${command.clusterId} is already attached to this workspace.`, { field: 'clusterId', clusterId: command.clusterId });
      }
      for (const [clusterId, cluster] of state.clusters) {
        if (cluster.name === name) throw new CanopyError(ErrorCode.NAME_TAKEN, `The workspace already has a cluster named ${name}.`, { field: 'name', clusterId });
        if (sameConnection(cluster.connection, connection)) {
          throw new CanopyError(ErrorCode.CONFLICT, `That cluster is already attached to this workspace as ${cluster.name}.`, { field: 'connection', clusterId });
        }
      }
      assertWithinBudget(quotaTotal(state.namespaces, [...state.clusters.keys(), command.clusterId], state.quotas), state.budget);
      return [{ type: 'ClusterAttached', data: { workspaceId, clusterId: command.clusterId, name, connection } }];
    }

    case 'DetachCluster': {
      authorize(actor, 'createResources', workspaceId);
      const cluster = state.clusters.get(command.clusterId);
      if (!cluster) throw notFound('clusterId', `The workspace has no cluster ${command.clusterId}.`);
      return [{ type: 'ClusterDetached', data: { workspaceId, clusterId: command.clusterId, name: cluster.name } }];
    }

    case 'AddNamespace': {
      authorize(actor, 'createResources', workspaceId);
      const namespace = parseField('namespace', KubernetesName, command.namespace);
      if (state.namespaces.has(namespace)) return [];
      return [{ type: 'NamespaceAdded', data: { workspaceId, namespace } }];
    }

    case 'RemoveNamespace': {
      authorize(actor, 'createResources', workspaceId);
      const namespace = existingNamespace(state, command.namespace);
      for (const [name, binding] of state.roleBindings) {
        if (binding.namespaces.includes(namespace)) {
          throw new CanopyError(ErrorCode.CONFLICT, `Role binding ${name} names namespace ${namespace}; change or remove it first.`, { field: 'namespace', roleBinding: name });
        }
      }
      return [{ type: 'NamespaceRemoved', data: { workspaceId, namespace } }];
    }

    case 'SetWorkspaceBudget': {
      authorize(actor, 'governWorkspace', workspaceId);
      const budget: Limits = { cpu: parseField('cpu', CpuQuantity, command.cpu), memory: parseField('memory', MemoryQuantity, command.memory) };
      if (budget.cpu === state.budget.cpu && budget.memory === state.budget.memory) return [];
      assertWithinBudget(quotaTotal(state.namespaces, [...state.clusters.keys()], state.quotas), budget);
      return [{ type: 'WorkspaceBudgetSet', data: { workspaceId, ...budget } }];
    }

    case 'SetNamespaceQuota': {
      authorize(actor, 'governWorkspace', workspaceId);
      const namespace = existingNamespace(state, command.namespace);
      const clusterId = command.clusterId === null ? null : existingCluster(state, command.clusterId);
      const limits: Limits = { cpu: parseField('cpu', CpuQuantity, command.cpu), memory: parseField('memory', MemoryQuantity, command.memory) };
      const current = state.quotas.get(namespace) ?? { default: undefined, overrides: new Map<string, Limits>() };
      const previous = clusterId === null ? current.default : current.overrides.get(clusterId);
      if (previous?.cpu === limits.cpu && previous.memory === limits.memory) return [];
      const next: NamespaceQuota = clusterId === null ? { ...current, default: limits } : { ...current, overrides: new Map(current.overrides).set(clusterId, limits) };
      assertWithinBudget(quotaTotal(state.namespaces, [...state.clusters.keys()], new Map(state.quotas).set(namespace, next)), state.budget);
      return [{ type: 'NamespaceQuotaSet', data: { workspaceId, namespace, clusterId, ...limits } }];
    }

    case 'RemoveNamespaceQuota': {
      authorize(actor, 'governWorkspace', workspaceId);
      const namespace = existingNamespace(state, command.namespace);
      const quota = state.quotas.get(namespace);
      const present = command.clusterId === null ? quota?.default !== undefined : quota?.overrides.has(command.clusterId) === true;
      if (!present) throw notFound('namespace', `Namespace ${namespace} has no quota ${command.clusterId === null ? 'for every cluster' : `on cluster ${command.clusterId}`}.`);
      if (command.clusterId !== null) {
        // Without its override, the namespace's default holds on that cluster again, and it may be larger.
        const overrides = new Map(quota!.overrides);
        overrides.delete(command.clusterId);
        assertWithinBudget(quotaTotal(state.namespaces, [...state.clusters.keys()], new Map(state.quotas).set(namespace, { ...quota!, overrides })), state.budget);
      }
      return [{ type: 'NamespaceQuotaRemoved', data: { workspaceId, namespace, clusterId: command.clusterId } }];
    }

    case 'AddRoleBinding': {
      authorize(actor, 'governWorkspace', workspaceId);
      const name = parseField('name', KubernetesName, command.name);
      const namespaces = parseField('namespaces', Selectors, command.namespaces);
      parseSelectors(namespaces, 'namespaces').forEach((selector, index) => {
        if (selector.kind === 'name' && !state.namespaces.has(selector.name)) {
          throw notFound(`namespaces.${index}`, `Namespace ${selector.name} is not part of this workspace; add it first or use a /pattern/.`);
        }
      });
      const role = { kind: parseField('role.kind', RoleKind, command.role.kind), name: parseField('role.name', RbacRoleName, command.role.name) };
      const subjects = parseField('subjects', Subjects, command.subjects);
      if (state.roleBindings.has(name)) throw new CanopyError(ErrorCode.NAME_TAKEN, `The workspace already has a role binding named ${name}.`, { field: 'name' });
      return [{ type: 'RoleBindingAdded', data: { workspaceId, name, namespaces, role, subjects } }];
    }

    case 'RemoveRoleBinding': {
      authorize(actor, 'governWorkspace', workspaceId);
      if (!state.roleBindings.has(command.name)) throw notFound('name', `The workspace has no role binding ${command.name}.`);
      return [{ type: 'RoleBindingRemoved', data: { workspaceId, name: command.name } }];
    }

    case 'AddClusterRoleBinding': {
      authorize(actor, 'governWorkspace', workspaceId);
      const name = parseField('name', KubernetesName, command.name);
      const clusterRole = parseField('clusterRole', RbacRoleName, command.clusterRole);
      const subjects = parseField('subjects', Subjects, command.subjects);
      if (state.clusterRoleBindings.has(name)) throw new CanopyError(ErrorCode.NAME_TAKEN, `The workspace already has a cluster role binding named ${name}.`, { field: 'name' });
      return [{ type: 'ClusterRoleBindingAdded', data: { workspaceId, name, clusterRole, subjects } }];
    }

    case 'RemoveClusterRoleBinding': {
      authorize(actor, 'governWorkspace', workspaceId);
      if (!state.clusterRoleBindings.has(command.name)) throw notFound('name', `The workspace has no cluster role binding ${command.name}.`);
      return [{ type: 'ClusterRoleBindingRemoved', data: { workspaceId, name: command.name } }];
    }

    case 'RestrictImage': {
      authorize(actor, 'governWorkspace', workspaceId);
      const namespace = existingNamespace(state, command.namespace);
      const image = parseField('image', ImagePattern, command.image);
      if (state.restrictedImages.get(namespace)?.has(image)) return [];
      return [{ type: 'ImageRestricted', data: { workspaceId, namespace, image } }];
    }

    case 'LiftImageRestriction': {
      authorize(actor, 'governWorkspace', workspaceId);
      const namespace = existingNamespace(state, command.namespace);
      if (!state.restrictedImages.get(namespace)?.has(command.image)) throw notFound('image', `${command.image} is not restricted in namespace ${namespace}.`);
      return [{ type: 'ImageRestrictionLifted', data: { workspaceId, namespace, image: command.image } }];
    }

    case 'WriteSecret': {
      authorize(actor, 'manageSecrets', workspaceId);
      const name = parseField('name', KubernetesSubdomain, command.name);
      const expected = nextSecretVersion(state, name);
      if (command.version !== expected) {
        throw new CanopyError(ErrorCode.CONFLICT, `Secret ${name} changed meanwhile; its next version is ${expected}.`, { field: 'name', nextVersion: expected });
      }
      return [{ type: 'SecretWritten', data: { workspaceId, name, version: command.version, values: { ...command.values }, writtenBy: actor.userId } }];
    }

    case 'DeleteSecret': {
      authorize(actor, 'manageSecrets', workspaceId);
      if (!state.secrets.has(command.name)) throw notFound('name', `The workspace has no secret ${command.name}.`);
      return [{ type: 'SecretDeleted', data: { workspaceId, name: command.name } }];
    }
  }
}

/** The version a write of secret `name` gets: 1 when new, the current one plus 1 otherwise. */
export function nextSecretVersion(state: WorkspaceState, name: string): number {
  return (state.secrets.get(name)?.version ?? 0) + 1;
}

export const SecretValues = z
  .array(
    z.object({
      // Kubernetes also refuses '.', '..' and keys starting with '..' (IsConfigMapKey): the reconciler could not apply them.
      key: SecretKeyName.refine((key) => key !== '.' && !key.startsWith('..'), "must not be '.' nor start with '..'"),
      // Bytes, as the total below: a string's length counts UTF-16 units, and 64 Ki of them can be 192 KiB.
      value: z.string().refine((value) => Buffer.byteLength(value) <= 65_536, 'must be at most 64 KiB'),
    }),
  )
  .min(1, 'must hold at least one key')
  .max(50, 'must hold at most 50 keys')
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    let total = 0;
    entries.forEach((entry, index) => {
      if (seen.has(entry.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `repeats key ${entry.key}` });
      seen.add(entry.key);
      total += Buffer.byteLength(entry.value);
    });
    if (total > 262_144) ctx.addIssue({ code: 'custom', message: 'must be at most 256 KiB in all' });
  });

function sameConnection(a: ClusterConnection, b: ClusterConnection): boolean {
  if (a.kind === 'simulator' && b.kind === 'simulator') return a.simulator === b.simulator;
  if (a.kind === 'kubeconfig' && b.kind === 'kubeconfig') return a.path === b.path && a.context === b.context;
  return false;
}

function notFound(field: string, message: string): CanopyError {
  return new CanopyError(ErrorCode.NOT_FOUND, message, { field });
}

function existingNamespace(state: WorkspaceState, namespace: string): string {
  if (!state.namespaces.has(namespace)) throw notFound('namespace', `Namespace ${namespace} is not part of this workspace.`);
  return namespace;
}

function existingCluster(state: WorkspaceState, clusterId: string): string {
  if (!state.clusters.has(clusterId)) throw notFound('clusterId', `The workspace has no cluster ${clusterId}.`);
  return clusterId;
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

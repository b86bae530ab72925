import { CanopyError, ErrorCode } from '@canopy/schema';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { WorkspaceCommand } from '../domain/workspace.js';
import type { CommandResult } from '../app/commands.js';
import type { WorkspacesContext } from './context.js';
import { WorkspaceRoleValue } from './enums.js';
import { ClusterRoleBindingInput, KubeconfigInput, RoleBindingInput, SecretValueInput } from './inputs.js';
import { permissionsOf, toWorkspace } from './mapping.js';
import { commandContext, IdempotencyKey } from './organization-resolver.js';
import { Permissions, Workspace, WorkspaceChange } from './types.js';

const ExpectedVersion = { description: 'The workspace version the change is based on; a stale one is refused with CONFLICT and the current version.' } as const;

/** Queries and mutations of one workspace: description, members and governance. */
@Resolver(() => Workspace)
export class WorkspaceResolver {
  @Query(() => [Workspace], { description: 'The workspaces the caller holds a role in, in one organization or all.' })
  workspaces(@Arg('organizationId', () => ID, { nullable: true, defaultValue: null }) organizationId: string | null, @Ctx() context: WorkspacesContext): Workspace[] {
    return context.queries.workspaces(context.caller.userId, organizationId ?? undefined).map(toWorkspace);
  }

  @Query(() => Workspace, { description: 'NOT_FOUND unless the caller holds a role in it.' })
  workspace(@Arg('id', () => ID) id: string, @Ctx() context: WorkspacesContext): Workspace {
    return toWorkspace(context.queries.workspace(id, context.caller.userId));
  }

  @Query(() => Permissions, { description: "The caller's role in the workspace and what it allows." })
  myPermissions(@Arg('workspaceId', () => ID) workspaceId: string, @Ctx() context: WorkspacesContext): Permissions {
    return permissionsOf(context.queries.workspace(workspaceId, context.caller.userId).role);
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins and owners; the default workspace of a personal organization keeps its name.' })
  async renameWorkspace(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.renameWorkspace(commandContext(context, idempotencyKey), workspaceId, expectedVersion, name);
    return this.change(context, workspaceId, result);
  }

  @Mutation(() => WorkspaceChange, { description: 'Owners only; the workspace must hold no clusters; the default workspace is never deleted.' })
  async deleteWorkspace(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.deleteWorkspace(commandContext(context, idempotencyKey), workspaceId, expectedVersion);
    return { workspaceId, ...result, workspace: null };
  }

  @Mutation(() => WorkspaceChange)
  describeWorkspace(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('description') description: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'DescribeWorkspace', description });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins add members; only owners grant the owner role.' })
  addMember(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('userId') userId: string,
    @Arg('role', () => WorkspaceRoleValue) role: WorkspaceRoleValue,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'AddMember', userId, role });
  }

  @Mutation(() => WorkspaceChange, { description: 'The last owner cannot be demoted.' })
  changeMemberRole(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('userId') userId: string,
    @Arg('role', () => WorkspaceRoleValue) role: WorkspaceRoleValue,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'ChangeMemberRole', userId, role });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins remove members, anyone may leave; the last owner cannot be removed.' })
  removeMember(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('userId') userId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RemoveMember', userId });
  }

  @Mutation(() => WorkspaceChange, { description: 'Registers a cluster with how to reach it: exactly one of kubeconfig or simulator.' })
  async attachCluster(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('kubeconfig', () => KubeconfigInput, { nullable: true, defaultValue: null }) kubeconfig: KubeconfigInput | null,
    @Arg('simulator', () => String, { nullable: true, defaultValue: null, description: 'The name of a built-in simulated cluster.' }) simulator: string | null,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const connection = connectionInput(kubeconfig, simulator);
    const clusterId = context.commands.newClusterId(commandContext(context, idempotencyKey), workspaceId);
    const change = await this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'AttachCluster', clusterId, name, connection });
    return { ...change, clusterId };
  }

  @Mutation(() => WorkspaceChange, { description: 'Removes what the workspace applied there; never the namespaces or workloads.' })
  detachCluster(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('clusterId', () => ID) clusterId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'DetachCluster', clusterId });
  }

  @Mutation(() => WorkspaceChange, { description: 'Created on every cluster of the workspace that lacks it.' })
  addNamespace(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'AddNamespace', namespace });
  }

  @Mutation(() => WorkspaceChange, { description: 'Also ends its quotas and image restrictions; refused while a role binding names it.' })
  removeNamespace(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RemoveNamespace', namespace });
  }

  @Mutation(() => WorkspaceChange, { description: 'Quantities such as "8", "500m", "64Gi", or "unlimited".' })
  setWorkspaceBudget(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('cpu') cpu: string,
    @Arg('memory') memory: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'SetWorkspaceBudget', cpu, memory });
  }

  @Mutation(() => WorkspaceChange, { description: "A namespace's quota on every cluster, or (with clusterId) its override on one cluster." })
  setNamespaceQuota(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('clusterId', () => ID, { nullable: true, defaultValue: null }) clusterId: string | null,
    @Arg('cpu') cpu: string,
    @Arg('memory') memory: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'SetNamespaceQuota', namespace, clusterId, cpu, memory });
  }

  @Mutation(() => WorkspaceChange)
  removeNamespaceQuota(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('clusterId', () => ID, { nullable: true, defaultValue: null }) clusterId: string | null,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RemoveNamespaceQuota', namespace, clusterId });
  }

  @Mutation(() => WorkspaceChange)
  addRoleBinding(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('binding', () => RoleBindingInput) binding: RoleBindingInput,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, {
      type: 'AddRoleBinding',
      name: binding.name,
      namespaces: binding.namespaces,
      role: { kind: binding.roleKind, name: binding.roleName },
      subjects: subjectsInput(binding.subjects),
    });
  }

  @Mutation(() => WorkspaceChange)
  removeRoleBinding(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RemoveRoleBinding', name });
  }

  @Mutation(() => WorkspaceChange)
  addClusterRoleBinding(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('binding', () => ClusterRoleBindingInput) binding: ClusterRoleBindingInput,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, {
      type: 'AddClusterRoleBinding',
      name: binding.name,
      clusterRole: binding.clusterRole,
      subjects: subjectsInput(binding.subjects),
    });
  }

  @Mutation(() => WorkspaceChange)
  removeClusterRoleBinding(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RemoveClusterRoleBinding', name });
  }

  @Mutation(() => WorkspaceChange, { description: 'An image that may not run in the namespace, on every cluster; a trailing * matches a prefix.' })
  restrictImage(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('image') image: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'RestrictImage', namespace, image });
  }

  @Mutation(() => WorkspaceChange)
  liftImageRestriction(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('namespace') namespace: string,
    @Arg('image') image: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'LiftImageRestriction', namespace, image });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins and owners. Values are encrypted before they are recorded and never shown back.' })
  async writeSecret(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('values', () => [SecretValueInput]) values: SecretValueInput[],
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.writeSecret(commandContext(context, idempotencyKey), workspaceId, expectedVersion, name, values);
    return this.change(context, workspaceId, result);
  }

  @Mutation(() => WorkspaceChange)
  deleteSecret(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('expectedVersion', () => Int, ExpectedVersion) expectedVersion: number,
    @Arg('name') name: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, workspaceId, expectedVersion, idempotencyKey, { type: 'DeleteSecret', name });
  }

  private async run(context: WorkspacesContext, workspaceId: string, expectedVersion: number, idempotencyKey: string | null, command: WorkspaceCommand): Promise<WorkspaceChange> {
    const fingerprint = command.type === 'AttachCluster' ? { ...command, clusterId: undefined } : command;
    const result = await context.commands.workspaceCommand(commandContext(context, idempotencyKey), workspaceId, expectedVersion, fingerprint, () => command);
    return this.change(context, workspaceId, result);
  }

  /** The workspace is mapped only when the client selects it, from the view taken right after the change. */
  private change(context: WorkspacesContext, workspaceId: string, result: CommandResult): WorkspaceChange {
    const view = context.queries.findWorkspace(workspaceId, context.caller.userId);
    let workspace: Workspace | null | undefined;
    return {
      workspaceId,
      ...result,
      get workspace() {
        return (workspace ??= view ? toWorkspace(view) : null);
      },
    };
  }
}

function connectionInput(kubeconfig: KubeconfigInput | null, simulator: string | null): Record<string, unknown> {
  if (kubeconfig && simulator === null) return { kind: 'kubeconfig', path: kubeconfig.path, context: kubeconfig.context ?? null };
  if (simulator !== null && !kubeconfig) return { kind: 'simulator', simulator };
  throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'Give exactly one of kubeconfig or simulator: how Canopy reaches the cluster.', { field: 'connection' });
}

function subjectsInput(subjects: readonly { kind: string; name: string; namespace?: string | null }[]): unknown[] {
  return subjects.map((subject) => ({ kind: subject.kind, name: subject.name, namespace: subject.namespace ?? null }));
}

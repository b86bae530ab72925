import { CanopyError, ErrorCode } from '@canopy/schema';
import { workspaceNotFound } from '../domain/access.js';
import { Arg, Args, ArgsType, Ctx, Field, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { WorkspaceCommand } from '../domain/workspace.js';
import type { CommandResult } from '../app/commands.js';
import type { WorkspacesContext } from './context.js';
import { WorkspaceRoleValue } from './enums.js';
import { ClusterRoleBindingInput, KubeconfigInput, RoleBindingInput, SecretValueInput } from './inputs.js';
import { answer, commandContext, IdempotencyKey } from './commanding.js';
import { permissionsOf, toWorkspace } from './mapping.js';
import { requireRole, visibleWorkspace } from './workspace-fields-resolver.js';
import { Permissions, Workspace, WorkspaceChange } from './types.js';
import { PageArgs, pageSize, paginate, type Connection } from './connections.js';
import { keys, WorkspaceConnection } from './list-types.js';

/** What every workspace mutation takes: which workspace, the version the change is based on, and an optional idempotency key. */
@ArgsType()
class WorkspaceChangeArgs {
  @Field(() => ID) workspaceId!: string;
  @Field(() => Int, { description: 'The workspace version the change is based on; a stale one is refused with CONFLICT and the current version.' })
  expectedVersion!: number;
  @Field(() => String, IdempotencyKey) idempotencyKey!: string | null;
}

/** Queries and mutations of one workspace: description, members and governance. */
@Resolver(() => Workspace)
export class WorkspaceResolver {
  @Query(() => WorkspaceConnection, { description: 'The workspaces the caller holds a role in, in one organization or all; by organization id, then name.' })
  async workspaces(
    @Arg('organizationId', () => ID, { nullable: true, defaultValue: null }) organizationId: string | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() context: WorkspacesContext,
  ): Promise<Connection<Workspace>> {
    pageSize(page.first);
    const visible = await context.reads.workspacesOf(organizationId ?? undefined);
    return paginate(visible.map((record) => toWorkspace(record, record.role)), page, keys.workspace);
  }

  @Query(() => Workspace, { description: 'NOT_FOUND unless the caller holds a role in it.' })
  async workspace(@Arg('id', () => ID) id: string, @Ctx() context: WorkspacesContext): Promise<Workspace> {
    const found = await visibleWorkspace(context.reads, id);
    if (!found) throw workspaceNotFound(id);
    return found;
  }

  @Query(() => Permissions, { description: "The caller's role in the workspace and what it allows." })
  async myPermissions(@Arg('workspaceId', () => ID) workspaceId: string, @Ctx() context: WorkspacesContext): Promise<Permissions> {
    return permissionsOf(await requireRole(context.reads, workspaceId));
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins and owners; the default workspace of a personal organization keeps its name.' })
  async renameWorkspace(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.renameWorkspace(commandContext(context, base.idempotencyKey), base.workspaceId, base.expectedVersion, name);
    return this.change(context, base.workspaceId, result);
  }

  @Mutation(() => WorkspaceChange, { description: 'Owners only; the workspace must hold no clusters; the default workspace is never deleted.' })
  async deleteWorkspace(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.deleteWorkspace(commandContext(context, base.idempotencyKey), base.workspaceId, base.expectedVersion);
    return this.change(context, base.workspaceId, result);
  }

  @Mutation(() => WorkspaceChange)
  describeWorkspace(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('description') description: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'DescribeWorkspace', description });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins add members; only owners grant the owner role.' })
  addMember(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('userId') userId: string,
    @Arg('role', () => WorkspaceRoleValue) role: WorkspaceRoleValue,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'AddMember', userId, role });
  }

  @Mutation(() => WorkspaceChange, { description: 'The last owner cannot be demoted.' })
  changeMemberRole(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('userId') userId: string,
    @Arg('role', () => WorkspaceRoleValue) role: WorkspaceRoleValue,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'ChangeMemberRole', userId, role });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins remove members, anyone may leave; the last owner cannot be removed.' })
  removeMember(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('userId') userId: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RemoveMember', userId });
  }

  @Mutation(() => WorkspaceChange, { description: 'Registers a cluster with how to reach it: exactly one of kubeconfig or simulator.' })
  async attachCluster(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Arg('kubeconfig', () => KubeconfigInput, { nullable: true, defaultValue: null }) kubeconfig: KubeconfigInput | null,
    @Arg('simulator', () => String, { nullable: true, defaultValue: null, description: 'The name of a built-in simulated cluster.' }) simulator: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const connection = connectionInput(kubeconfig, simulator);
    const clusterId = context.commands.newClusterId(commandContext(context, base.idempotencyKey), base.workspaceId);
    const change = await this.run(context, base, { type: 'AttachCluster', clusterId, name, connection });
    return { ...change, clusterId };
  }

  @Mutation(() => WorkspaceChange, { description: 'Removes what the workspace applied there; never the namespaces or workloads.' })
  detachCluster(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('clusterId', () => ID) clusterId: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'DetachCluster', clusterId });
  }

  @Mutation(() => WorkspaceChange, { description: 'Created on every cluster of the workspace that lacks it.' })
  addNamespace(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'AddNamespace', namespace });
  }

  @Mutation(() => WorkspaceChange, { description: 'Also ends its quotas and image restrictions; refused while a role binding names it.' })
  removeNamespace(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RemoveNamespace', namespace });
  }

  @Mutation(() => WorkspaceChange, { description: 'Quantities such as "8", "500m", "64Gi", or "unlimited".' })
  setWorkspaceBudget(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('cpu') cpu: string,
    @Arg('memory') memory: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'SetWorkspaceBudget', cpu, memory });
  }

  @Mutation(() => WorkspaceChange, { description: "A namespace's quota on every cluster, or (with clusterId) its override on one cluster." })
  setNamespaceQuota(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Arg('clusterId', () => ID, { nullable: true, defaultValue: null }) clusterId: string | null,
    @Arg('cpu') cpu: string,
    @Arg('memory') memory: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'SetNamespaceQuota', namespace, clusterId, cpu, memory });
  }

  @Mutation(() => WorkspaceChange)
  removeNamespaceQuota(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Arg('clusterId', () => ID, { nullable: true, defaultValue: null }) clusterId: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RemoveNamespaceQuota', namespace, clusterId });
  }

  @Mutation(() => WorkspaceChange)
  addRoleBinding(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('binding', () => RoleBindingInput) binding: RoleBindingInput,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, {
      type: 'AddRoleBinding',
      name: binding.name,
      namespaces: binding.namespaces,
      role: { kind: binding.roleKind, name: binding.roleName },
      subjects: subjectsInput(binding.subjects),
    });
  }

  @Mutation(() => WorkspaceChange)
  removeRoleBinding(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RemoveRoleBinding', name });
  }

  @Mutation(() => WorkspaceChange)
  addClusterRoleBinding(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('binding', () => ClusterRoleBindingInput) binding: ClusterRoleBindingInput,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, {
      type: 'AddClusterRoleBinding',
      name: binding.name,
      clusterRole: binding.clusterRole,
      subjects: subjectsInput(binding.subjects),
    });
  }

  @Mutation(() => WorkspaceChange)
  removeClusterRoleBinding(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RemoveClusterRoleBinding', name });
  }

  @Mutation(() => WorkspaceChange, { description: 'An image that may not run in the namespace, on every cluster; a trailing * matches a prefix.' })
  restrictImage(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Arg('image') image: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'RestrictImage', namespace, image });
  }

  @Mutation(() => WorkspaceChange)
  liftImageRestriction(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('namespace') namespace: string,
    @Arg('image') image: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'LiftImageRestriction', namespace, image });
  }

  @Mutation(() => WorkspaceChange, { description: 'Admins and owners. Values are encrypted before they are recorded and never shown back.' })
  async writeSecret(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Arg('values', () => [SecretValueInput]) values: SecretValueInput[],
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.writeSecret(commandContext(context, base.idempotencyKey), base.workspaceId, base.expectedVersion, name, values);
    return this.change(context, base.workspaceId, result);
  }

  @Mutation(() => WorkspaceChange)
  deleteSecret(
    @Args(() => WorkspaceChangeArgs) base: WorkspaceChangeArgs,
    @Arg('name') name: string,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    return this.run(context, base, { type: 'DeleteSecret', name });
  }

  private async run(context: WorkspacesContext, base: WorkspaceChangeArgs, command: WorkspaceCommand): Promise<WorkspaceChange> {
    const fingerprint = command.type === 'AttachCluster' ? { ...command, clusterId: undefined } : command;
    const result = await context.commands.workspaceCommand(commandContext(context, base.idempotencyKey), base.workspaceId, base.expectedVersion, fingerprint, () => command);
    return this.change(context, base.workspaceId, result);
  }

  private async change(context: WorkspacesContext, workspaceId: string, result: CommandResult): Promise<WorkspaceChange> {
    return { workspaceId, ...answer(context, result) };
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

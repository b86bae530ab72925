import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { WorkspacesContext } from './context.js';
import { NewWorkspaceKind, OrganizationKindValue } from './enums.js';
import { toOrganization, toWorkspace } from './mapping.js';
import { Organization, OrganizationChange, Workspace, WorkspaceChange } from './types.js';

const IdempotencyKey = { nullable: true, defaultValue: null, description: 'Retrying with the same key returns the first result and records nothing new.' } as const;

function commandContext(context: WorkspacesContext, idempotencyKey: string | null | undefined) {
  return { userId: context.caller.userId, correlationId: context.correlationId, ...(idempotencyKey ? { idempotencyKey } : {}) };
}

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => [Organization], { description: 'The organizations the caller owns or holds a role in.' })
  organizations(@Ctx() context: WorkspacesContext): Organization[] {
    return context.queries.organizations(context.caller.userId).map(toOrganization);
  }

  @Query(() => Organization)
  organization(@Arg('id', () => ID) id: string, @Ctx() context: WorkspacesContext): Organization {
    return toOrganization(context.queries.organization(id, context.caller.userId));
  }

  @FieldResolver(() => [Workspace], { description: "The organization's workspaces the caller holds a role in." })
  workspaces(@Root() organization: Organization, @Ctx() context: WorkspacesContext): Workspace[] {
    return context.queries.workspaces(context.caller.userId, organization.id).map(toWorkspace);
  }

  @Mutation(() => OrganizationChange, { description: 'Creates an organization, owned by the caller, with its default workspace.' })
  async createOrganization(
    @Arg('name') name: string,
    @Arg('kind', () => OrganizationKindValue) kind: OrganizationKindValue,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<OrganizationChange> {
    const result = await context.commands.createOrganization(commandContext(context, idempotencyKey), { name, kind });
    return this.change(context, result.organizationId, result);
  }

  @Mutation(() => OrganizationChange, { description: 'Owners of an organization own every workspace in it.' })
  async addOrganizationOwner(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId') userId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<OrganizationChange> {
    return this.change(context, organizationId, await context.commands.addOrganizationOwner(commandContext(context, idempotencyKey), organizationId, userId));
  }

  @Mutation(() => OrganizationChange)
  async removeOrganizationOwner(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId') userId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<OrganizationChange> {
    return this.change(context, organizationId, await context.commands.removeOrganizationOwner(commandContext(context, idempotencyKey), organizationId, userId));
  }

  @Mutation(() => WorkspaceChange, { description: 'Creates a project or environment workspace; organization owners only.' })
  async createWorkspace(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('name') name: string,
    @Arg('kind', () => NewWorkspaceKind) kind: NewWorkspaceKind,
    @Arg('stage', () => String, { nullable: true, defaultValue: null, description: 'dev, staging, production or a custom stage; environment workspaces only.' }) stage: string | null,
    @Arg('description', () => String, { nullable: true, defaultValue: null }) description: string | null,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<WorkspaceChange> {
    const result = await context.commands.createWorkspace(commandContext(context, idempotencyKey), {
      organizationId,
      name,
      kind,
      stage,
      ...(description === null ? {} : { description }),
    });
    const view = context.queries.workspace(result.workspaceId, context.caller.userId);
    return { workspaceId: result.workspaceId, version: view.version, changed: result.changed, replayed: result.replayed, workspace: toWorkspace(view) };
  }

  private change(context: WorkspacesContext, organizationId: string, result: { version: number; changed: boolean; replayed: boolean }): OrganizationChange {
    const organization = context.queries.findOrganization(organizationId, context.caller.userId);
    return { organizationId, ...result, organization: organization ? toOrganization(organization) : null };
  }
}

export { commandContext, IdempotencyKey };

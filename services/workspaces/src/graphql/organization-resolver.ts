import { CanopyError, ErrorCode } from '@canopy/schema';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { PageArgs, pageSize, paginate, type Connection } from './connections.js';
import { keys, OrganizationConnection, WorkspaceConnection } from './list-types.js';
import type { CommandResult } from '../app/commands.js';
import { answer, commandContext, IdempotencyKey } from './commanding.js';
import type { WorkspacesContext } from './context.js';
import { NewWorkspaceKind, OrganizationKindValue } from './enums.js';
import { toOrganization, toWorkspace } from './mapping.js';
import { Organization, OrganizationChange, Workspace, WorkspaceChange } from './types.js';

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => OrganizationConnection, { description: 'The organizations the caller owns, audits, or holds a role in; by name.' })
  async organizations(@Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<Organization>> {
    pageSize(page.first);
    return paginate((await context.reads.organizations()).map(toOrganization), page, keys.organization);
  }

  @Query(() => Organization)
  async organization(@Arg('id', () => ID) id: string, @Ctx() context: WorkspacesContext): Promise<Organization> {
    const [belongs, organization] = await Promise.all([context.reads.belongsTo(id), context.reads.organization(id)]);
    if (!belongs || !organization) throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${id} does not exist or you have no role in it.`, { organizationId: id });
    return toOrganization(organization);
  }

  @FieldResolver(() => WorkspaceConnection, { description: "The organization's workspaces the caller holds a role in; by name." })
  async workspaces(@Root() organization: Organization, @Args(() => PageArgs) page: PageArgs, @Ctx() context: WorkspacesContext): Promise<Connection<Workspace>> {
    pageSize(page.first);
    return paginate((await context.reads.workspacesOf(organization.id)).map((record) => toWorkspace(record, record.role)), page, keys.workspace);
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

  @Mutation(() => OrganizationChange, { description: "Owners only. An auditor reads the history of every workspace of the organization (deleted ones too) and changes nothing." })
  async addOrganizationAuditor(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId') userId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<OrganizationChange> {
    return this.change(context, organizationId, await context.commands.addOrganizationAuditor(commandContext(context, idempotencyKey), organizationId, userId));
  }

  @Mutation(() => OrganizationChange, { description: 'Owners only.' })
  async removeOrganizationAuditor(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId') userId: string,
    @Arg('idempotencyKey', () => String, IdempotencyKey) idempotencyKey: string | null,
    @Ctx() context: WorkspacesContext,
  ): Promise<OrganizationChange> {
    return this.change(context, organizationId, await context.commands.removeOrganizationAuditor(commandContext(context, idempotencyKey), organizationId, userId));
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
    return { workspaceId: result.workspaceId, ...answer(context, result) };
  }

  private async change(context: WorkspacesContext, organizationId: string, result: CommandResult): Promise<OrganizationChange> {
    return { organizationId, ...answer(context, result) };
  }
}

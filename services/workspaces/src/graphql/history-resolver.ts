import { CanopyError, ErrorCode } from '@canopy/schema';
import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';
import { Arg, Args, ArgsType, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { JsonValue } from '@canopy/eventstore';
import { can, workspaceNotFound } from '../domain/access.js';
import type { HistoryPage, HistoryQuery, WorkspaceReads } from '../app/reads.js';
import type { WorkspacesContext } from './context.js';
import { PageInfo } from './connections.js';

const MAX_PAGE = 500;

@ObjectType({ description: 'One recorded change: who made it, when, and what it says (secret values are shown as [sealed]).' })
export class HistoryEntry {
  @Field({ description: 'The log position: unique, ordered, the cursor of this entry.' }) position!: string;
  @Field() stream!: string;
  @Field() revision!: string;
  @Field(() => ID) organizationId!: string;
  @Field(() => ID, { nullable: true, description: 'The workspace it concerns; null for organization-level changes.' }) workspaceId!: string | null;
  @Field() type!: string;
  @Field(() => String, { nullable: true }) actor!: string | null;
  @Field(() => String, { nullable: true, description: 'The request that made the change.' }) correlationId!: string | null;
  @Field(() => GraphQLDateTime) recordedAt!: Date;
  @Field(() => GraphQLJSON) data!: JsonValue;
}

@ObjectType()
export class HistoryEdge {
  @Field() cursor!: string;
  @Field(() => HistoryEntry) node!: HistoryEntry;
}

@ObjectType({ description: 'A page of history, oldest first unless newestFirst.' })
export class HistoryConnection {
  @Field(() => [HistoryEdge]) edges!: HistoryEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ArgsType()
class HistoryArgs {
  @Field(() => Int, { defaultValue: 50, description: `At most ${MAX_PAGE}.` }) first!: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Recorded at or after.' }) since?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Recorded before.' }) until?: Date | null;
  @Field(() => String, { nullable: true }) actor?: string | null;
  @Field(() => [String], { nullable: true, description: 'Event types, e.g. MemberAdded.' }) types?: string[] | null;
  @Field({ defaultValue: false }) newestFirst!: boolean;
}

/**
 * The audit trail, from the audit read model. A workspace's history is for
 * its admins and owners, and for the organization's owners and auditors
 * (also once the workspace is deleted); an organization's, for its owners
 * and auditors. Auditors read and change nothing.
 */
@Resolver()
export class HistoryResolver {
  @Query(() => HistoryConnection, { description: "A workspace's changes, its creation, renames and deletion included." })
  async workspaceHistory(@Arg('workspaceId', () => ID) workspaceId: string, @Args(() => HistoryArgs) args: HistoryArgs, @Ctx() context: WorkspacesContext): Promise<HistoryConnection> {
    const query = historyQuery(args);
    await authorizeWorkspaceHistory(context.reads, workspaceId, context.caller.userId);
    return connection(await context.reads.history({ ...query, workspaceId }));
  }

  @Query(() => HistoryConnection, { description: "An organization's changes and those of all its workspaces, deleted ones included." })
  async organizationHistory(
    @Arg('organizationId', () => ID) organizationId: string,
    @Args(() => HistoryArgs) args: HistoryArgs,
    @Ctx() context: WorkspacesContext,
  ): Promise<HistoryConnection> {
    const query = historyQuery(args);
    if (!(await ownsOrAudits(context.reads, organizationId, context.caller.userId))) {
      if (await context.reads.belongsTo(organizationId)) {
        throw new CanopyError(ErrorCode.FORBIDDEN, "An organization's history is for its owners and auditors.", { organizationId, action: 'readHistory' });
      }
      throw new CanopyError(ErrorCode.NOT_FOUND, `Organization ${organizationId} does not exist or you have no role in it.`, { organizationId });
    }
    return connection(await context.reads.history({ ...query, organizationId }));
  }
}

/** Throws unless the caller may read the workspace's history: FORBIDDEN for a role below admin, NOT_FOUND for no tie at all. */
export async function authorizeWorkspaceHistory(reads: WorkspaceReads, workspaceId: string, userId: string): Promise<void> {
  const [role, organizationId] = await Promise.all([reads.roleIn(workspaceId), reads.organizationOfWorkspace(workspaceId)]);
  if (can(role, 'readHistory')) return;
  if (organizationId !== undefined && (await ownsOrAudits(reads, organizationId, userId))) return;
  if (role === undefined) throw workspaceNotFound(workspaceId);
  throw new CanopyError(ErrorCode.FORBIDDEN, `Your role ${role} in this workspace does not allow readHistory; ask an admin or owner.`, {
    workspaceId,
    action: 'readHistory',
    role,
  });
}

async function ownsOrAudits(reads: WorkspaceReads, organizationId: string, userId: string): Promise<boolean> {
  if (await reads.audits(organizationId)) return true;
  const organization = await reads.organization(organizationId);
  return organization?.owners.includes(userId) ?? false;
}

function historyQuery(args: HistoryArgs): Omit<HistoryQuery, 'workspaceId' | 'organizationId'> {
  if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_PAGE) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, `first must be between 1 and ${MAX_PAGE}.`, { field: 'first' });
  }
  if (args.after != null && !/^\d{1,19}$/.test(args.after)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be an endCursor from a previous page.', { field: 'after' });
  }
  if (args.since && args.until && args.since >= args.until) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'since must be before until.', { field: 'until' });
  }
  return {
    first: args.first,
    newestFirst: args.newestFirst,
    ...(args.after == null ? {} : { after: BigInt(args.after) }),
    ...(args.since ? { since: args.since } : {}),
    ...(args.until ? { until: args.until } : {}),
    ...(args.actor == null ? {} : { actor: args.actor }),
    ...(args.types == null ? {} : { types: args.types }),
  };
}

function connection(page: HistoryPage): HistoryConnection {
  const edges = page.entries.map((entry) => {
    const position = entry.position.toString();
    return { cursor: position, node: { ...entry, position, revision: entry.revision.toString() } };
  });
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}

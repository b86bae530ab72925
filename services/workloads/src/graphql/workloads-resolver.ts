import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { WorkloadsContext } from './context.js';
import { requireMember, toWorkload } from './mapping.js';
import { Workload, WorkloadConnection, WorkloadKindValue, WorkloadStatusCount, WorkloadStatusValue, WorkspaceWithWorkloads } from './types.js';

@ArgsType()
class WorkloadsArgs {
  @Field(() => Int, { defaultValue: 50, description: 'How many, 1 to 500.' }) first!: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
  @Field(() => ID, { nullable: true, description: 'Only this cluster of the workspace.' }) clusterId?: string | null;
  @Field(() => String, { nullable: true, description: 'Only this namespace.' }) namespace?: string | null;
  @Field(() => [WorkloadKindValue], { nullable: true, description: 'Only these kinds.' }) kind?: WorkloadKindValue[] | null;
  @Field(() => [WorkloadStatusValue], { nullable: true, description: 'Only workloads in one of these statuses.' }) status?: WorkloadStatusValue[] | null;
}

/**
 * What a workload browser shows: a workspace's workloads (any member may
 * read them), paged and filtered, and how many are in each status.
 */
@Resolver(() => WorkspaceWithWorkloads)
export class WorkloadsResolver {
  @FieldResolver(() => WorkloadConnection, { description: 'Workloads on the clusters of the workspace, in its namespaces, by cluster id, namespace, kind and name.' })
  async workloads(@Root() workspace: WorkspaceWithWorkloads, @Args(() => WorkloadsArgs) args: WorkloadsArgs, @Ctx() context: WorkloadsContext): Promise<WorkloadConnection> {
    await requireMember(context.reads, workspace.id);
    const page = await context.reads.workloads({
      workspaceId: workspace.id,
      first: args.first,
      ...(args.after == null ? {} : { after: args.after }),
      ...(args.clusterId == null ? {} : { clusterId: args.clusterId }),
      ...(args.namespace == null ? {} : { namespace: args.namespace }),
      ...(args.kind == null ? {} : { kinds: args.kind }),
      ...(args.status == null ? {} : { statuses: args.status }),
    });
    const nodes = page.nodes.map(toWorkload);
    return {
      edges: nodes.map((node, index) => ({ cursor: page.cursors[index]!, node })),
      nodes,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      totalCount: page.totalCount,
    };
  }

  @FieldResolver(() => [WorkloadStatusCount], { description: 'How many workloads are in each status (every status, 0 included).' })
  async workloadStatusCounts(@Root() workspace: WorkspaceWithWorkloads, @Ctx() context: WorkloadsContext): Promise<WorkloadStatusCount[]> {
    await requireMember(context.reads, workspace.id);
    const counts = await context.reads.statusCounts(workspace.id);
    return Object.values(WorkloadStatusValue).map((status) => ({ status, count: counts[status] }));
  }

  @Query(() => Workload, { nullable: true, description: 'One workload of a workspace; null when there is none by that key. NOT_FOUND unless the caller holds a role in the workspace.' })
  async workload(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('clusterId', () => ID) clusterId: string,
    @Arg('namespace') namespace: string,
    @Arg('kind', () => WorkloadKindValue) kind: WorkloadKindValue,
    @Arg('name') name: string,
    @Ctx() context: WorkloadsContext,
  ): Promise<Workload | null> {
    await requireMember(context.reads, workspaceId);
    const record = await context.reads.workload(workspaceId, { clusterId, namespace, kind, name });
    return record ? toWorkload(record) : null;
  }
}

import type { ReadDomainEvent } from '@canopy/eventstore';
import { CanopyError, ErrorCode, isCanopyError, type PayloadOf, type WorkloadRemoved, type WorkloadStatusChanged } from '@canopy/schema';
import { organizationStream, workspaceNotFound, workspaceStream } from '@canopy/workspaces';
import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { workloadsStream } from '../streams.js';
import type { WorkloadsContext } from './context.js';
import { badInput } from './mapping.js';
import { WorkloadChangeType, WorkloadKindValue, WorkloadRemovalCauseValue, WorkloadStatusChange, WorkloadStatusValue } from './types.js';

/** What the subscription's source yields: a change, or the error that ends it (delivered as the last result, then the subscription completes). */
export type Delivery = { change: WorkloadStatusChange } | { end: CanopyError };

interface WorkloadStatusArgs {
  workspaceId: string;
  clusterId?: string | null;
  namespace?: string | null;
  after?: string | null;
}

/** Changes that can take away the caller's role in the workspace. */
const ROLE_CHANGES = new Set(['MemberRoleChanged', 'MemberRemoved', 'OrganizationOwnerRemoved']);
const WORKLOAD_EVENTS = new Set(['WorkloadStatusChanged', 'WorkloadRemoved']);

/**
 * `workloadStatus`: a workspace's workload status changes as they are
 * recorded, optionally of one cluster or namespace. Any member may
 * subscribe; others get NOT_FOUND. The caller's role is checked again
 * whenever it changes: the subscription ends with FORBIDDEN when it is gone,
 * and with NOT_FOUND when the workspace is deleted.
 */
@Resolver()
export class WorkloadStatusResolver {
  @Subscription(() => WorkloadStatusChange, {
    description:
      "A workspace's workload status changes and removals as they are recorded, in order. With `after` (a cursor), first every change after it, then live: " +
      'resume after a reconnect with the cursor of the last change received, with no gap and no duplicate. Ends with FORBIDDEN when the caller loses their role, NOT_FOUND when the workspace is deleted.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, WorkloadStatusArgs, WorkloadsContext>) => subscribeWorkloadStatus(args, context),
  })
  workloadStatus(
    @Arg('workspaceId', () => ID) _workspaceId: string,
    @Arg('clusterId', () => ID, { nullable: true, description: 'Only this cluster of the workspace.' }) _clusterId: string | null,
    @Arg('namespace', () => String, { nullable: true, description: 'Only this namespace.' }) _namespace: string | null,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last change received: resume right after it.' }) _after: string | null,
    @Root() delivery: Delivery,
  ): WorkloadStatusChange {
    return deliveredChange(delivery);
  }
}

/**
 * Each event's result: the change, or the error that ends the subscription.
 * The subgraph resolves its events with this function itself
 * (`buildWorkloadsSubgraph`): through the method above, type-graphql would
 * convert and check the subscription's arguments, fixed for its life, again
 * for every event.
 */
export function deliveredChange(delivery: Delivery): WorkloadStatusChange {
  if ('end' in delivery) throw delivery.end;
  return delivery.change;
}

export async function subscribeWorkloadStatus(args: WorkloadStatusArgs, context: WorkloadsContext): Promise<AsyncIterableIterator<Delivery>> {
  const live = context.live;
  if (!live) throw badInput('operation', 'Subscriptions are served over WebSocket (graphql-ws) on /graphql.');
  const { workspaceId } = args;
  const after = cursor(args.after);
  const userId = context.caller.userId;
  const organizationId = await live.reads().organizationOf(workspaceId);
  if (organizationId === undefined) throw workspaceNotFound(workspaceId);
  const workloads = workloadsStream(workspaceId);
  const own = workspaceStream(workspaceId);
  let started = false;
  let deleted = false;
  const feed = await live.events.follow({
    streams: [workloads, own, organizationStream(organizationId)],
    ...(after === undefined ? {} : { after }),
    keep: (event) => {
      if (event.stream !== workloads || !WORKLOAD_EVENTS.has(event.type)) return false;
      const data = event.data as { clusterId: string; namespace: string };
      return (args.clusterId == null || data.clusterId === args.clusterId) && (args.namespace == null || data.namespace === args.namespace);
    },
    recheck: (event) => {
      const data = event.data as { userId?: unknown; workspaceId?: unknown };
      if ((event.type === 'WorkspaceClosed' && event.stream === own) || (event.type === 'WorkspaceDeleted' && data.workspaceId === workspaceId)) {
        deleted = true;
        return true;
      }
      return ROLE_CHANGES.has(event.type) && data.userId === userId;
    },
    authorize: async (position) => {
      const first = !started;
      started = true;
      if (live.waitFor && !(await live.waitFor(position))) throw accessNotChecked(workspaceId);
      if ((await live.reads().roleIn(workspaceId)) !== undefined) return;
      if (first || deleted) throw deleted ? workspaceDeleted(workspaceId) : workspaceNotFound(workspaceId);
      throw new CanopyError(ErrorCode.FORBIDDEN, `Your access to the workloads of workspace ${workspaceId} was revoked: you no longer hold a role in it.`, {
        workspaceId,
        action: 'read',
        revoked: true,
      });
    },
  });
  return deliveries(feed);
}

/**
 * The feed's events, ended by an error result when the feed throws a
 * CanopyError (access revoked, workspace deleted). A plain iterator, not a
 * generator: `return` must close the feed even before the first `next`.
 */
function deliveries(feed: AsyncIterableIterator<ReadDomainEvent>): AsyncIterableIterator<Delivery> {
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await feed.return?.();
  };
  const done = { done: true, value: undefined } as const;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<Delivery>> {
      if (finished) return done;
      try {
        const step = await feed.next();
        if (step.done) {
          await finish();
          return done;
        }
        return { done: false, value: sharedDelivery(step.value) };
      } catch (error) {
        await finish();
        if (!isCanopyError(error)) throw error;
        return { done: false, value: { end: error } };
      }
    },
    async return(): Promise<IteratorResult<Delivery>> {
      await finish();
      return done;
    },
  };
}

/**
 * Every subscriber of a workspace gets the same event object from the hub,
 * and so the same delivery: the change is mapped once per event, and the
 * server may execute the selection once for all the subscriptions that ask
 * the same (nothing in a change depends on the caller, whose access was
 * checked before the event was let through).
 */
const deliveriesByEvent = new WeakMap<ReadDomainEvent, Delivery>();

function sharedDelivery(event: ReadDomainEvent): Delivery {
  let delivery = deliveriesByEvent.get(event);
  if (!delivery) deliveriesByEvent.set(event, (delivery = { change: toChange(event) }));
  return delivery;
}

/** One object literal per kind of change, every field set in one order: mapped once per event, for every subscriber. */
function toChange(event: ReadDomainEvent): WorkloadStatusChange {
  if (event.type === 'WorkloadRemoved') {
    const removed = event.data as PayloadOf<typeof WorkloadRemoved>;
    return {
      cursor: event.position.toString(),
      change: WorkloadChangeType.REMOVED,
      workspaceId: removed.workspaceId,
      clusterId: removed.clusterId,
      namespace: removed.namespace,
      kind: removed.kind as WorkloadKindValue,
      name: removed.name,
      status: null,
      previousStatus: (removed.previousStatus ?? null) as WorkloadStatusValue | null,
      replicas: null,
      reason: null,
      message: null,
      cause: removed.cause as WorkloadRemovalCauseValue,
      observedAt: new Date(removed.observedAt),
    };
  }
  const changed = event.data as PayloadOf<typeof WorkloadStatusChanged>;
  return {
    cursor: event.position.toString(),
    change: WorkloadChangeType.STATUS_CHANGED,
    workspaceId: changed.workspaceId,
    clusterId: changed.clusterId,
    namespace: changed.namespace,
    kind: changed.kind as WorkloadKindValue,
    name: changed.name,
    status: changed.status as WorkloadStatusValue,
    previousStatus: (changed.previousStatus ?? null) as WorkloadStatusValue | null,
    replicas: changed.replicas,
    reason: changed.reason,
    message: changed.message,
    cause: null,
    observedAt: new Date(changed.observedAt),
  };
}

function cursor(after: string | null | undefined): bigint | undefined {
  if (after == null) return undefined;
  if (!/^\d{1,19}$/.test(after)) throw badInput('after', 'after must be the cursor of a change you received (a log position).');
  return BigInt(after);
}

function workspaceDeleted(workspaceId: string): CanopyError {
  return new CanopyError(ErrorCode.NOT_FOUND, `Workspace ${workspaceId} was deleted: its workloads are no longer watched.`, { workspaceId, deleted: true });
}

function accessNotChecked(workspaceId: string): CanopyError {
  return new CanopyError(
    ErrorCode.SUBSCRIPTION_DROPPED,
    'The read models did not catch up with the log in time to check your access; subscribe again with the cursor of the last change you received.',
    { workspaceId, reason: 'access_check_timeout' },
  );
}

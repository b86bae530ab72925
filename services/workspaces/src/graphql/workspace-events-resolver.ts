import { CanopyError, ErrorCode, isCanopyError } from '@canopy/schema';
import type { ReadDomainEvent } from '@canopy/eventstore';
import { Arg, Field, ID, ObjectType, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { EventFeed } from '../app/event-feed.js';
import { concerns, redacted } from '../app/history.js';
import { organizationStream, workspaceStream } from '../app/streams.js';
import { workspaceNotFound } from '../domain/access.js';
import type { WorkspacesContext } from './context.js';
import { authorizeWorkspaceHistory, HistoryEntry } from './history-resolver.js';

@ObjectType({ description: "One change of a workspace as its history shows it (secret values as [sealed]), delivered as it is appended." })
export class WorkspaceEvent extends HistoryEntry {
  @Field({ description: 'Its log position, as a cursor: subscribe again with `after: <cursor>` to get what follows it, with no gap and no duplicate.' })
  cursor!: string;
}

/** What the subscription's source yields: an event, or the error that ends it (delivered as the last result, then the subscription completes). */
type Delivery = { event: ReadDomainEvent; organizationId: string } | { end: CanopyError };

interface WorkspaceEventsArgs {
  workspaceId: string;
  after?: string | null;
}

/** Changes that can take away the caller's right to read the workspace's history: their role changed or was removed, or they stopped owning or auditing its organization. */
const ACCESS_CHANGES = new Set(['MemberRoleChanged', 'MemberRemoved', 'OrganizationOwnerRemoved', 'OrganizationAuditorRemoved']);

/**
 * `workspaceEvents`: a workspace's history as it happens, for dashboards
 * and auditors. The same people as `workspaceHistory` may subscribe
 * (admins and owners, the organization's owners and auditors); their access
 * is checked again whenever their role in the workspace or organization
 * changes, and the subscription ends with FORBIDDEN when it is gone.
 */
@Resolver()
export class WorkspaceEventsResolver {
  @Subscription(() => WorkspaceEvent, {
    description:
      "A workspace's events as they are appended: its own stream, and its creation, renames and deletion. With `after` (a cursor), first every event after it, then live. " +
      'Ends with FORBIDDEN when the caller loses access, and with NOT_FOUND after the workspace is deleted.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, WorkspaceEventsArgs, WorkspacesContext>) => subscribeWorkspaceEvents(args, context),
  })
  workspaceEvents(
    @Arg('workspaceId', () => ID) workspaceId: string,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last event received: resume right after it.' }) _after: string | null,
    @Root() delivery: Delivery,
  ): WorkspaceEvent {
    if ('end' in delivery) throw delivery.end;
    return toWorkspaceEvent(delivery.event, delivery.organizationId, workspaceId);
  }
}

async function subscribeWorkspaceEvents(args: WorkspaceEventsArgs, context: WorkspacesContext): Promise<AsyncIterableIterator<Delivery>> {
  const live = context.live;
  if (!live) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) on /graphql.', { field: 'operation' });
  }
  const { workspaceId } = args;
  const after = cursor(args.after);
  const userId = context.caller.userId;
  const organizationId = await live.reads().organizationOfWorkspace(workspaceId);
  if (organizationId === undefined) throw workspaceNotFound(workspaceId);
  const own = workspaceStream(workspaceId);
  let deleted = false;
  let started = false;
  const feed = await live.events.follow({
    streams: [own, organizationStream(organizationId)],
    ...(after === undefined ? {} : { after }),
    keep: (event) => event.stream === own || concerns(event.data, workspaceId),
    recheck: (event) => ACCESS_CHANGES.has(event.type) && (event.data as { userId?: unknown }).userId === userId,
    authorize: async (position) => {
      const first = !started;
      started = true;
      if (!(await context.consistency.waitForAccess(position))) throw accessNotChecked(workspaceId);
      const reads = live.reads();
      if (first) {
        await authorizeWorkspaceHistory(reads, workspaceId, userId);
        deleted = (await reads.workspace(workspaceId)) === undefined;
        if (deleted && after === undefined) throw workspaceDeleted(workspaceId);
        return;
      }
      try {
        await authorizeWorkspaceHistory(reads, workspaceId, userId);
      } catch (error) {
        if (!isCanopyError(error)) throw error;
        throw new CanopyError(ErrorCode.FORBIDDEN, `Your access to the events of workspace ${workspaceId} was revoked: you no longer hold a role that may read its history.`, {
          workspaceId,
          action: 'readHistory',
          revoked: true,
        });
      }
    },
    live: () => !deleted,
  });
  return deliveries(feed, workspaceId, organizationId, () => deleted);
}

/**
 * The feed's events, ended by an error result: after the workspace's
 * deletion (its last event), and when the feed throws a CanopyError (access
 * revoked). Written as a plain iterator, not a generator: `return` must
 * close the feed even before the first `next`.
 */
function deliveries(
  feed: Awaited<ReturnType<EventFeed['follow']>>,
  workspaceId: string,
  organizationId: string,
  replayOnly: () => boolean,
): AsyncIterableIterator<Delivery> {
  let ending: CanopyError | undefined;
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
      if (ending) {
        const end = ending;
        ending = undefined;
        return { done: false, value: { end } };
      }
      if (finished) return done;
      let step: IteratorResult<ReadDomainEvent>;
      try {
        step = await feed.next();
      } catch (error) {
        await finish();
        if (!isCanopyError(error)) throw error;
        return { done: false, value: { end: error } };
      }
      if (step.done) {
        // A live feed ends only when the server closes it (the connection is going); a replay of a deleted workspace ends at the log's end.
        const wasReplay = replayOnly();
        await finish();
        return wasReplay ? { done: false, value: { end: workspaceDeleted(workspaceId) } } : done;
      }
      const event = step.value;
      if (event.type === 'WorkspaceDeleted' && concerns(event.data, workspaceId)) {
        ending = workspaceDeleted(workspaceId);
        await finish();
      }
      return { done: false, value: sharedDelivery(event, organizationId) };
    },
    async return(): Promise<IteratorResult<Delivery>> {
      ending = undefined;
      await finish();
      return done;
    },
  };
}

/**
 * Every subscriber of a workspace gets the same event object from the hub,
 * and so the same delivery: the server may then execute the selection once
 * for all the subscriptions that ask the same (nothing below depends on the
 * caller, whose access was checked before the event was let through).
 */
const deliveriesByEvent = new WeakMap<ReadDomainEvent, { event: ReadDomainEvent; organizationId: string }>();

function sharedDelivery(event: ReadDomainEvent, organizationId: string): Delivery {
  const known = deliveriesByEvent.get(event);
  if (known && known.organizationId === organizationId) return known;
  const delivery = { event, organizationId };
  deliveriesByEvent.set(event, delivery);
  return delivery;
}

function toWorkspaceEvent(event: ReadDomainEvent, organizationId: string, workspaceId: string): WorkspaceEvent {
  const position = event.position.toString();
  const { actor, correlationId } = event.metadata;
  return {
    cursor: position,
    position,
    stream: event.stream,
    revision: event.revision.toString(),
    organizationId,
    workspaceId,
    type: event.type,
    actor: typeof actor === 'string' ? actor : null,
    correlationId: typeof correlationId === 'string' ? correlationId : null,
    recordedAt: event.createdAt,
    data: redacted(event),
  };
}

function cursor(after: string | null | undefined): bigint | undefined {
  if (after == null) return undefined;
  if (!/^\d{1,19}$/.test(after)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be the cursor of an event you received (a log position).', { field: 'after' });
  }
  return BigInt(after);
}

function workspaceDeleted(workspaceId: string): CanopyError {
  return new CanopyError(ErrorCode.NOT_FOUND, `Workspace ${workspaceId} was deleted: it has no more events.`, { workspaceId, deleted: true });
}

function accessNotChecked(workspaceId: string): CanopyError {
  return new CanopyError(
    ErrorCode.SUBSCRIPTION_DROPPED,
    'The read models did not catch up with the log in time to check your access; subscribe again with the cursor of the last event you received.',
    { workspaceId, reason: 'access_check_timeout' },
  );
}

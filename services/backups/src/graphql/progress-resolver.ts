import type { ReadDomainEvent } from '@canopy/eventstore';
import { CanopyError, ErrorCode, isCanopyError } from '@canopy/schema';
import { organizationStream, workspaceNotFound, workspaceStream } from '@canopy/workspaces';
import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { BACKUP_PREFIX, backupStream, streamOf } from '../app/streams.js';
import { initialBackupState, type BackupState } from '../domain/backup.js';
import type { BackupsContext, BackupsLive } from './context.js';
import { fold, isBackupEvent, isOver, progressItem } from './progress-items.js';
import { BackupProgressItem } from './types.js';

interface ProgressArgs {
  workspaceId: string;
  backupId?: string | null;
  after?: string | null;
}

/** What the subscription's source yields: an item, or the error that ends it (delivered as the last result, then the subscription completes). */
type Delivery = { item: BackupProgressItem } | { end: CanopyError };

/** Events that can take the caller's role in the workspace away. */
const ACCESS_CHANGES = new Set(['MemberRoleChanged', 'MemberRemoved', 'OrganizationOwnerRemoved', 'WorkspaceDeleted']);

@Resolver()
export class BackupProgressResolver {
  @Subscription(() => BackupProgressItem, {
    description:
      "A backup's progress as its clusters report it, in log order; with backupId, that backup (from its request, or after `after`) until it finishes; " +
      "without, every backup of the workspace from now (or after `after`). Every role in the workspace may subscribe; it ends with FORBIDDEN when the caller's role goes.",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, ProgressArgs, BackupsContext>) => subscribeProgress(args, context),
  })
  backupProgress(
    @Arg('workspaceId', () => ID) _workspaceId: string,
    @Arg('backupId', () => ID, { nullable: true, description: 'One backup: the subscription completes after its last event.' }) _backupId: string | null,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last item received: resume right after it.' }) _after: string | null,
    @Root() delivery: Delivery,
  ): BackupProgressItem {
    if ('end' in delivery) throw delivery.end;
    return delivery.item;
  }
}

async function subscribeProgress(args: ProgressArgs, context: BackupsContext): Promise<AsyncIterableIterator<Delivery>> {
  const live = context.live;
  if (!live) throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-ws) on /graphql.', { field: 'operation' });
  const after = cursor(args.after);
  const { workspaceId } = args;
  const reads = live.reads();
  const organizationId = await reads.organizationOf(workspaceId);
  if (organizationId === undefined || !(await reads.roleIn(workspaceId))) throw workspaceNotFound(workspaceId);
  const access = new AccessCheck(context, live, workspaceId);
  return args.backupId == null ? followWorkspace(live, workspaceId, organizationId, after, access) : followBackup(live, workspaceId, organizationId, args.backupId, after, access);
}

/** The caller's role in the workspace, checked as of a log position: at the start, then after every event that may change it. */
class AccessCheck {
  constructor(
    private readonly context: BackupsContext,
    private readonly live: BackupsLive,
    private readonly workspaceId: string,
  ) {}

  concerns(event: ReadDomainEvent): boolean {
    if (!ACCESS_CHANGES.has(event.type)) return false;
    const data = event.data as { userId?: unknown; workspaceId?: unknown };
    return event.type === 'WorkspaceDeleted' ? data.workspaceId === this.workspaceId : data.userId === this.context.caller.userId;
  }

  async check(position: bigint | undefined, first: boolean): Promise<void> {
    if (position !== undefined && this.context.consistency && !(await this.context.consistency.waitForAccess(position))) {
      throw new CanopyError(ErrorCode.SUBSCRIPTION_DROPPED, 'Your access could not be checked in time; subscribe again with the cursor of the last item you received.', {
        workspaceId: this.workspaceId,
        reason: 'access_check_timeout',
      });
    }
    if (await this.live.reads().roleIn(this.workspaceId)) return;
    if (first) throw workspaceNotFound(this.workspaceId);
    throw new CanopyError(ErrorCode.FORBIDDEN, `Your access to the backups of workspace ${this.workspaceId} was revoked: you no longer hold a role in it.`, {
      workspaceId: this.workspaceId,
      revoked: true,
    });
  }
}

/**
 * One backup, on the process's event feed: the backup's state is folded
 * from its stream up to the cursor (its request when there is none), then
 * every later event is an item, until the one after which the backup is over.
 */
async function followBackup(
  live: BackupsLive,
  workspaceId: string,
  organizationId: string,
  backupId: string,
  after: bigint | undefined,
  access: AccessCheck,
): Promise<AsyncIterableIterator<Delivery>> {
  const stream = backupStream(backupId);
  const history: ReadDomainEvent[] = [];
  for await (const event of live.log.readStream(stream)) history.push(event);
  const requested = history[0];
  if (!requested || (requested.data as { workspaceId?: unknown }).workspaceId !== workspaceId) {
    throw new CanopyError(ErrorCode.NOT_FOUND, `Backup ${backupId} does not exist in workspace ${workspaceId}.`, { field: 'backupId', backupId });
  }
  const start = after ?? requested.position - 1n;
  let state: BackupState = initialBackupState;
  for (const event of history) if (event.position <= start) state = fold(state, event);
  if (isOver(state)) return deliveries(empty(), async () => {});
  let started = false;
  const feed = await live.events.follow({
    streams: [stream, workspaceStream(workspaceId), organizationStream(organizationId)],
    after: start,
    keep: (event) => event.stream === stream,
    recheck: (event) => access.concerns(event),
    authorize: async (position) => {
      const first = !started;
      started = true;
      await access.check(position, first);
    },
  });
  async function* items(): AsyncGenerator<Delivery> {
    for await (const event of feed) {
      if (!isBackupEvent(event)) continue;
      const next = advance(event, () => state);
      state = next.state;
      yield next.delivery;
      if (isOver(state)) return;
    }
  }
  return deliveries(items(), async () => {
    await feed.return?.();
  });
}

/**
 * Every backup of a workspace, on the process's event feed: a workspace's
 * backups have no common stream, and backups requested later have streams
 * nobody knows yet, so this follows the `backup-` streams by prefix and
 * keeps the workspace's (every backup event names its workspace). A backup
 * first met past its request is folded from its stream up to there.
 */
async function followWorkspace(
  live: BackupsLive,
  workspaceId: string,
  organizationId: string,
  after: bigint | undefined,
  access: AccessCheck,
): Promise<AsyncIterableIterator<Delivery>> {
  let started = false;
  const feed = await live.events.follow({
    streams: [workspaceStream(workspaceId), organizationStream(organizationId)],
    streamPrefixes: [BACKUP_PREFIX],
    ...(after === undefined ? {} : { after }),
    keep: (event) => isWorkspaceBackupEvent(event, workspaceId),
    recheck: (event) => access.concerns(event),
    authorize: async (position) => {
      const first = !started;
      started = true;
      await access.check(position, first);
    },
  });
  /** By backup id: its state as of the last item. */
  const backups = new Map<string, BackupState>();
  /** A backup first met past its request: folded from its stream up to the event. */
  const history = async (backupId: string, event: ReadDomainEvent): Promise<BackupState> => {
    let state: BackupState = initialBackupState;
    for await (const earlier of live.log.readStream(backupStream(backupId), { maxCount: Number(event.revision) })) state = fold(state, earlier);
    return state;
  };
  async function* items(): AsyncGenerator<Delivery> {
    for await (const event of feed) {
      const target = streamOf(event.stream);
      if (target?.kind !== 'backup') continue;
      const known = backups.get(target.id);
      // When another subscription has mapped this very event, its state after it is taken as is: no history to read.
      const before = known ?? (event.revision === 0n || stepped.has(event) ? initialBackupState : await history(target.id, event));
      const next = advance(event, () => before);
      backups.set(target.id, next.state);
      yield next.delivery;
    }
  }
  return deliveries(items(), async () => {
    await feed.return?.();
  });
}

/** An event of one of the workspace's backups (not of the locations' stream, which shares the prefix). */
function isWorkspaceBackupEvent(event: ReadDomainEvent, workspaceId: string): boolean {
  return isBackupEvent(event) && streamOf(event.stream)?.kind === 'backup' && (event.data as { workspaceId?: unknown }).workspaceId === workspaceId;
}

async function* empty(): AsyncGenerator<Delivery> {}

/**
 * A backup's state after an event and the event's delivery, by event. The
 * state after an event is the fold of its stream up to it, whoever folds
 * it, and the hub hands every subscriber the same event object: the first
 * subscriber to reach it folds and maps it for all, and the gateway, given
 * the same delivery object, executes it once for alike subscriptions.
 * Events replayed from the log are each follower's own objects.
 */
const stepped = new WeakMap<ReadDomainEvent, { state: BackupState; delivery: Delivery }>();

function advance(event: ReadDomainEvent, before: () => BackupState): { state: BackupState; delivery: Delivery } {
  let known = stepped.get(event);
  if (!known) {
    const state = fold(before(), event);
    known = { state, delivery: { item: progressItem(event, state) } };
    stepped.set(event, known);
  }
  return known;
}

/**
 * The items, ended by an error result when the source throws a CanopyError
 * (access revoked). A plain iterator, not a generator: `return` must close
 * the source even before the first `next`.
 */
function deliveries(source: AsyncGenerator<Delivery>, close: () => Promise<unknown>): AsyncIterableIterator<Delivery> {
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await close();
    await source.return(undefined).catch(() => {});
  };
  const done = { done: true, value: undefined } as const;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<Delivery>> {
      if (finished) return done;
      try {
        const step = await source.next();
        if (!step.done) return { done: false, value: step.value };
      } catch (error) {
        await finish();
        if (!isCanopyError(error)) throw error;
        return { done: false, value: { end: error } };
      }
      await finish();
      return done;
    },
    async return(): Promise<IteratorResult<Delivery>> {
      await finish();
      return done;
    },
  };
}

function cursor(after: string | null | undefined): bigint | undefined {
  if (after == null) return undefined;
  if (!/^\d{1,19}$/.test(after)) {
    throw new CanopyError(ErrorCode.BAD_USER_INPUT, 'after must be the cursor of an item you received (a log position).', { field: 'after' });
  }
  return BigInt(after);
}
